"""Sub-commands of the `translation` CLI; see translation/cli.py."""
