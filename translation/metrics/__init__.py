"""Quality metrics for translated images."""
