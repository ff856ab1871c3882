"""What to say about a flag a command does not have: the official programs' name for one of ours, an
underscore spelling of a dashed flag, or a typo.

Users of the official pix2pix/CycleGAN code (train.py, test.py) and StarGAN (main.py) type its flags.
OFFICIAL_FLAGS is the one table of those whose name differs here by more than `_` for `-` (those are found
without a table: --batch_size is --batch-size). A hint is a flag of ours (it starts with --, maybe followed
by a value or a note in parentheses) or a sentence; every flag a hint names outside `quoted commands` is an
option of the command the hint is given for (tests/test_cli_options.py holds the table to that).
"""
from __future__ import annotations

import difflib

_RUN_FOLDER = "everything goes to --checkpoints-dir/--name (latest.pt, logs/, samples/)"
_NO_DISPLAY = "none needed: losses and image sheets go to TensorBoard (--checkpoints-dir/--name/logs) and samples/"
_SCHEDULE = ("the learning rate stays at --lr for --epochs, then decays linearly to 0 over --epochs-decay (the "
             "official default policy, the only one here)")
_CHECKPOINT = "give CHECKPOINT, the first argument: a run folder (checkpoints/NAME) or a weights file"
_MODE = "training is `translation train stargan`, testing `translation translate CHECKPOINT INPUT OUTPUT --to NAMES`"

# Keyed by command ("train" holds for every model; the longest key that starts the command line wins).
OFFICIAL_FLAGS = {
    "train": {
        "--dataroot": "--data",
        "--continue_train": "--resume",
        "--epoch_count": "--resume (it continues from the saved step)",
        "--n_epochs": "--epochs", "--niter": "--epochs",
        "--n_epochs_decay": "--epochs-decay", "--niter_decay": "--epochs-decay",
        "--gpu_ids": "--device (several GPUs: start the command with torchrun)",
        "--num_threads": "--num-workers",
        "--init_type": "--init",
        "--print_freq": "--log-every",
        "--display_freq": "--image-every",
        "--save_latest_freq": "--save-every",
        "--save_epoch_freq": "--keep-every (in iterations)", "--save_by_iter": "--keep-every",
        "--lr_policy": _SCHEDULE, "--lr_decay_iters": _SCHEDULE,
        "--model": "the MODEL word: translation train pix2pix (or cyclegan, stargan, ...)",
        "--dataset_mode": "the layout is read from the --data folder (`translation data check FOLDER` shows it)",
        **{flag: _NO_DISPLAY for flag in ("--display_id", "--display_server", "--display_port", "--display_env",
                                          "--display_ncols", "--display_winsize", "--update_html_freq",
                                          "--no_html", "--use_wandb", "--wandb_project_name")},
    },
    "train stargan": {  # StarGAN's main.py --mode train
        "--selected_attrs": "--attrs",
        "--num_iters": "--steps",
        "--num_iters_decay": "--steps (split between constant and decaying learning rate as --epochs : "
                             "--epochs-decay)",
        "--resume_iters": "--resume",
        "--celeba_image_dir": "--data (the folder with list_attr_celeba.txt beside images/ or img_align_celeba/)",
        "--attr_path": "--data (list_attr_celeba.txt is read from that folder)",
        "--rafd_image_dir": "--data (one sub-folder per domain)",
        "--dataset": "the --data folder's layout says: CelebA attributes or one folder per domain",
        "--c_dim": "the label count follows --attrs (CelebA) or the domain folders",
        "--celeba_crop_size": "--crop-size", "--rafd_crop_size": "--crop-size",
        "--g_conv_dim": "--ngf", "--d_conv_dim": "--ndf",
        "--g_repeat_num": "--g-blocks", "--d_repeat_num": "--d-layers",
        "--g_lr": "--lr", "--d_lr": "--lr-D",
        "--log_step": "--log-every", "--sample_step": "--image-every", "--model_save_step": "--save-every",
        "--use_tensorboard": _NO_DISPLAY,
        "--mode": _MODE,
        **{flag: _RUN_FOLDER for flag in ("--log_dir", "--model_save_dir", "--sample_dir")},
    },
    "translate": {  # pix2pix/CycleGAN's test.py, StarGAN's main.py --mode test
        "--dataroot": "INPUT, the second argument (an image or a folder)",
        "--celeba_image_dir": "INPUT, the second argument (an image or a folder)",
        "--rafd_image_dir": "INPUT, the second argument (an image or a folder)",
        "--results_dir": "OUTPUT, the third argument", "--result_dir": "OUTPUT, the third argument",
        **{flag: _CHECKPOINT for flag in ("--checkpoints_dir", "--name", "--model_save_dir")},
        "--epoch": "give the weights file itself as CHECKPOINT (checkpoints/NAME/latest_net_G.pth)",
        "--load_iter": "give the weights file itself as CHECKPOINT (checkpoints/NAME/latest_net_G.pth)",
        "--test_iters": "give the generator file itself as CHECKPOINT (200000-G.ckpt)",
        "--model": "our checkpoints say what they hold; an official .pth needs --netG (and --norm, --no-dropout)",
        "--gpu_ids": "--device",
        "--num_threads": "--num-workers",
        "--eval": "--test-mode eval",
        "--num_test": "every image under INPUT is translated (the official test.py stops at 50)",
        "--load_size": "--resize (every image at N x N)", "--crop_size": "--resize (every image at N x N)",
        "--selected_attrs": "--attrs",
        "--mode": _MODE,
    },
    "sample": {"--gpu_ids": "--device"},
    "evaluate": {"--gpu_ids": "--device"},
}


def hints(command: list[str], options: list[str], unknown: list[str]) -> list[str]:
    """One line part per flag in `unknown` that this command (`command`: its words after `translation`,
    `options`: its option strings) can say something about."""
    table = {}
    for end in range(1, len(command) + 1):  # the longer key wins
        table.update(OFFICIAL_FLAGS.get(" ".join(command[:end]), {}))
    long_options = [option for option in options if option.startswith("--")]
    by_spelling = {option.lower(): option for option in long_options}
    said = []
    for flag in dict.fromkeys(word.split("=", 1)[0] for word in unknown if word.startswith("--")):
        if flag in table:
            hint = table[flag]
            ours, paren, note = hint.partition(" (")
            said.append(f"{flag} is {ours} here{paren}{note}" if hint.startswith("--") else f"{flag}: {hint}")
        elif flag.replace("_", "-").lower() in by_spelling:
            said.append(f"{flag} is {by_spelling[flag.replace('_', '-').lower()]} here")
        else:
            close = difflib.get_close_matches(flag, long_options, n=1, cutoff=0.8)
            if close:
                said.append(f"{flag}: did you mean {close[0]}?")
    return said
