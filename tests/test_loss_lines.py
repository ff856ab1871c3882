"""Training progress where no bar is drawn (a log file, a pipe, --no-progress): plain lines and loss_log.txt."""
import os
import pty
import subprocess
import sys

from translation.models.pix2pix import Pix2PixModel
from translation.training.health import TrainingHealth
from translation.training.loss_lines import duration
from translation.training.trainer import Trainer

from conftest import REPO, tiny_pix2pix_config


def _cli(data, runs, steps, *extra):
    return [sys.executable, "-m", "translation", "train", "pix2pix", "--data", str(data), "--checkpoints-dir",
            str(runs), "--name", "log", "--netG", "unet_32", "--ngf", "8", "--ndf", "8", "--load-size", "32",
            "--crop-size", "32", "--batch-size", "2", "--num-workers", "0", "--device", "cpu", "--steps", str(steps),
            "--log-every", "2", *extra]


def _run_on_a_terminal(command) -> str:
    """What `command` draws on stderr when that is a terminal, as when a person runs it."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=follower)
    os.close(follower)
    seen = b""
    while True:  # until the child closes the terminal (it exits)
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    assert proc.wait(timeout=120) == 0, seen
    return seen.decode(errors="replace")


def test_a_terminal_gets_the_bar_a_pipe_plain_lines_and_loss_log_txt_the_whole_run(paired_set, tmp_path):
    drawn = _run_on_a_terminal(_cli(paired_set, tmp_path, 4))
    assert "\r" in drawn and "4/4" in drawn and "step 2/4 epoch" not in drawn
    piped = subprocess.run(_cli(paired_set, tmp_path, 8, "--resume"), cwd=REPO, capture_output=True, text=True,
                           timeout=120)
    assert piped.returncode == 0, piped.stderr
    assert "\r" not in piped.stderr  # no progress-bar frames in a log
    lines = [line for line in piped.stderr.splitlines() if line.startswith("step ")]
    assert [line.split(" | ")[0] for line in lines] == ["step 6/8 epoch 1", "step 8/8 epoch 2"]
    terms, speed, eta = lines[-1].split(" | ")[1:]
    assert sorted(terms.split()[::2]) == ["D_fake", "D_real", "G_GAN", "G_L1"]
    assert all(float(value) >= 0 for value in terms.split()[1::2])
    assert speed.endswith(" it/s") and float(speed.split()[0]) > 0 and eta == "ETA 0:00:00"
    log = (tmp_path / "log" / "loss_log.txt").read_text().splitlines()
    # one header per start of the process, then the lines of every log: the file has the whole run
    assert [line.split(" | ")[0] for line in log if not line.startswith("=")] == [
        "step 2/4 epoch 0", "step 4/4 epoch 1", "step 6/8 epoch 1", "step 8/8 epoch 2"]
    assert [line.split("(")[0] for line in log if line.startswith("=")] == [
        "================ pix2pix log: from step 0 of 4 ", "================ pix2pix log: from step 4 of 8 "]


def test_the_diversity_probe_runs_at_scheduled_sheets_only(paired_set, tmp_path, monkeypatch):
    probed = []
    original = TrainingHealth.samples
    monkeypatch.setattr(TrainingHealth, "samples", lambda self, step: probed.append(step) or original(self, step))
    config = tiny_pix2pix_config(paired_set, tmp_path, steps=5, image_every=2, log_every=5)
    Trainer(Pix2PixModel, config, progress=False).fit()
    assert probed == [2, 4]  # not again at step 5, the run's end, which still gets its sheet
    assert sorted(p.name for p in (tmp_path / "tiny" / "samples").iterdir())[-1] == "step_00000005.png"


def test_durations_read_as_hours_minutes_seconds():
    assert [duration(s) for s in (0, 59.6, 61, 3600 * 25 + 62)] == ["0:00:00", "0:01:00", "0:01:01", "25:01:02"]
