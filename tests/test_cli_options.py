"""Every option of every command is checked before any work starts, and parsing never loads torch."""
import argparse
import json
import re
import subprocess
import sys

import pytest
from conftest import REPO, make_paired_set

import translation.cli
from translation.cli import build_parser, main
from translation.commands.flag_hints import OFFICIAL_FLAGS

HEAVY = ("torch", "cv2", "albumentations", "kornia", "tensorboard", "skimage")


def leaf_commands(parser, words=()):
    """(words, parser) for every runnable command, e.g. (("train", "pix2pix"), its parser)."""
    subparsers = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subparsers:
        yield words, parser
        return
    for name, sub in subparsers[0].choices.items():
        yield from leaf_commands(sub, (*words, name))


def required_arguments(parser, tmp_path) -> list[str]:
    """Placeholders for positionals and required options, none of which exists on disk."""
    argv = []
    for action in parser._actions:
        if action.option_strings and not action.required:
            continue
        if isinstance(action, argparse._HelpAction) or action.nargs in ("*", "?"):
            continue
        value = str(action.choices[0] if action.choices else tmp_path / f"missing_{action.dest}")
        argv += [action.option_strings[0], value] if action.option_strings else [value]
    return argv


def is_number_type(action) -> bool:
    return getattr(action.type, "__name__", None) in ("int", "float")


def bad_values(action) -> list[str]:
    if action.choices is not None:
        return ["no-such-choice"]
    if is_number_type(action):
        return ["-5", "not-a-number"]
    return []


def sweep_cases():
    cases = []
    for words, parser in leaf_commands(build_parser()):
        for action in parser._actions:
            if not action.option_strings or action.nargs == 0:  # positionals and on/off switches
                continue
            for value in bad_values(action):
                cases.append((words, action.option_strings[-1], value))
    # text options whose bad values are known
    cases += [(("train", "pix2pix"), "--name", ".."), (("train", "cyclegan"), "--name", "")]
    return cases


CASES = sweep_cases()
# The command line's parser, built once for the sweep's ~1,200 cases: building it adds ~700 flags (~0.1 s),
# while parsing one command line takes a millisecond; parsing leaves the parser as it was.
PARSER = build_parser()
COMMANDS = dict(leaf_commands(PARSER))


def test_the_sweep_covers_every_command_and_every_number():
    assert {words for words, _, _ in CASES} == {words for words, _ in leaf_commands(build_parser())}
    swept = {(words, flag) for words, flag, _ in CASES}
    for words, parser in leaf_commands(build_parser()):
        for action in parser._actions:
            if action.option_strings and (is_number_type(action) or action.choices is not None):
                assert (words, action.option_strings[-1]) in swept
    assert len(CASES) > 150  # all commands together: a drop here means options went missing from the sweep


@pytest.mark.parametrize("words,flag,value", CASES, ids=[" ".join((*w, f, v)) for w, f, v in CASES])
def test_a_bad_value_stops_with_one_line_naming_the_flag_and_nothing_written(words, flag, value, tmp_path,
                                                                            monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # default output folders (checkpoints/, data/, demo_output/) would land here
    monkeypatch.setattr(translation.cli, "build_parser", lambda: PARSER)  # main() runs as it is, on PARSER
    argv = [*words, *required_arguments(COMMANDS[words], tmp_path), f"{flag}={value}"]
    try:
        code = main(argv)
    except SystemExit as exit:  # argparse's own checks
        code = exit.code
    err = capsys.readouterr().err.strip()
    assert code not in (0, None), argv
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert flag in err or flag.lstrip("-").replace("-", "_") in err, err
    assert list(tmp_path.iterdir()) == [], "a rejected command wrote something"


def test_parsing_help_and_argument_errors_load_no_heavy_library():
    calls = [["--help"], ["--version"], ["train", "--help"], ["train", "pix2pix", "--help"],
             ["train", "cyclegan", "--help"], ["translate", "--help"], ["import", "--help"], ["prepare", "--help"],
             ["prepare", "edges", "--help"], ["data", "check", "--help"], ["download", "--help"], ["demo", "--help"],
             ["train", "pix2pix", "--batch-size", "0"], ["train", "pix2pix", "--netG", "unet_999"],
             ["train", "pix2pix", "--crop-size", "300"], ["translate", "a", "b", "c", "--batch-size", "-1"],
             ["train", "pix2pix", "--dataroot", "d"]]
    code = ("import json, sys\nfrom translation.cli import main\nloaded = []\n"
            f"for argv in {calls!r}:\n"
            "    try:\n        main(argv)\n    except SystemExit:\n        pass\n"
            f"    loaded.append([m for m in {HEAVY!r} if m in sys.modules])\n"
            "print(json.dumps(loaded))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120,
                         check=False)
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert all(not heavy for heavy in loaded), dict(zip(map(" ".join, calls), loaded))


@pytest.mark.parametrize("scope", sorted(OFFICIAL_FLAGS))
def test_every_flag_an_official_flag_hint_names_is_an_option_of_its_command(scope):
    commands = [(words, parser) for words, parser in COMMANDS.items()
                if list(words[:len(scope.split())]) == scope.split()]
    assert commands, f"{scope!r} is not a command"
    for words, parser in commands:
        for official, hint in OFFICIAL_FLAGS[scope].items():
            assert official not in parser._option_string_actions, (words, official)  # else it is never hinted
            named = re.findall(r"--[A-Za-z][\w-]*", re.sub(r"`[^`]*`", "", hint))  # not in `quoted commands`
            missing = [flag for flag in named if flag not in parser._option_string_actions]
            assert not missing, f"{' '.join(words)}: {official}'s hint names {missing}, which it does not have"


@pytest.mark.parametrize("argv,said", [
    (["train", "pix2pix", "--dataroot", "d", "--n_epochs", "5", "--n_epochs_decay", "5", "--continue_train"],
     ("--dataroot is --data here; --n_epochs is --epochs here; --n_epochs_decay is --epochs-decay here; "
      "--continue_train is --resume here")),
    (["train", "cyclegan", "--batch_size=4", "--lambda_identity", "0.5", "--netG", "resnet_9blocks"],
     "--batch_size is --batch-size here; --lambda_identity is --lambda-identity here"),
    (["train", "pix2pix", "--lambda_L1", "100", "--no_flip", "--display_id", "0", "--stpes", "3"],
     ("--lambda_L1 is --lambda-l1 here; --no_flip is --no-flip here; --display_id: none needed: losses and image "
      "sheets go to TensorBoard")),
    (["train", "stargan", "--selected_attrs", "Male", "--num_iters", "9", "--g_repeat_num", "6"],
     "--selected_attrs is --attrs here; --num_iters is --steps here; --g_repeat_num is --g-blocks here"),
    (["translate", "run", "in", "out", "--results_dir", "r", "--eval", "--c_dim", "5"],
     "--results_dir: OUTPUT, the third argument; --eval is --test-mode eval here; --c_dim is --c-dim here"),
])
def test_official_flags_get_ours_named_by_the_command_that_was_given_them(argv, said, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    err = capsys.readouterr().err
    assert stopped.value.code == 2 and len(err.splitlines()) == 1
    command = "translation " + " ".join(argv[:1 if argv[0] == "translate" else 2])
    assert err.startswith(f"{command}: error: unrecognized arguments: ") and err.endswith(f" (see {command} --help)\n")
    assert said in err


def test_a_mistyped_flag_gets_the_nearest_one_and_an_unknown_one_no_guess(capsys):
    with pytest.raises(SystemExit):
        main(["train", "pix2pix", "--stpes", "3"])
    assert "unrecognized arguments: --stpes 3; --stpes: did you mean --steps? (see" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["sample", "run", "out", "--zzz"])
    assert capsys.readouterr().err == ("translation sample: error: unrecognized arguments: --zzz "
                                       "(see translation sample --help)\n")


def test_a_data_error_on_the_first_batch_leaves_no_run_folder(tmp_path, capsys):
    data = make_paired_set(tmp_path / "data", n=2, size=32)
    runs = tmp_path / "runs"
    # --preprocess crop takes the crop from the image as it is: 64 px out of 32 px images cannot work
    code = main(["train", "pix2pix", "--data", str(data), "--checkpoints-dir", str(runs), "--netG", "unet_64",
                 "--preprocess", "crop", "--crop-size", "64", "--num-workers", "0", "--no-progress",
                 "--steps", "3"])
    err = capsys.readouterr().err
    assert code == 1 and "--crop-size" in err and "Nothing was trained and nothing was written" in err
    assert not runs.exists()
