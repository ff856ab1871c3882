"""What a save killed part-way leaves in a run folder: removed when its writer is gone, kept while it writes."""
import os
import re
import time

import pytest

from translation.checkpoint import resolve_checkpoint_path
from translation.cli import main
from translation.utils import files
from translation.utils.files import atomic_path, clear_unfinished_writes

from conftest import killed_mid_save


@pytest.fixture
def run(tmp_path):
    folder = tmp_path / "runs" / "x"
    folder.mkdir(parents=True)
    (folder / "latest.pt").write_bytes(b"the last complete save")
    return folder


def test_a_killed_save_is_removed_and_named_when_the_run_folder_is_opened(run, capsys):
    leftover = killed_mid_save(run / "latest.pt", size=2_500_000)
    image = killed_mid_save(run / "samples" / "step_00000010.png")  # any atomic write, in a sub-folder too
    assert re.fullmatch(r"\.latest\.pt\.\d+@[\w-]+\.\w{8}\.tmp", leftover.name) and leftover.exists()
    assert resolve_checkpoint_path(run) == run / "latest.pt"
    notes = capsys.readouterr().err.splitlines()
    assert notes == [f"note: removed {leftover} (2.5 MB), left by a save that did not finish (process "
                     f"{leftover.name.split('.')[3].split('@')[0]} has ended)",
                     f"note: removed {image} (1 kB), left by a save that did not finish (process "
                     f"{image.name.split('.')[3].split('@')[0]} has ended)"]
    assert not leftover.exists() and not image.exists()
    assert (run / "latest.pt").read_bytes() == b"the last complete save"


def test_a_leftover_that_cannot_be_removed_is_named_and_the_folder_still_opens(run, monkeypatch):
    leftover = killed_mid_save(run / "latest.pt")

    def refuse(self, missing_ok=False):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(type(leftover), "unlink", refuse)  # a run folder of someone else's
    [line] = clear_unfinished_writes(run)
    assert line.startswith(f"kept {leftover} (1 kB), left by a save that did not finish (process ")
    assert line.endswith("has ended): cannot remove it (Permission denied)")


def test_a_live_save_keeps_its_temporary_and_completes(run, capsys):
    with atomic_path(run / "latest.pt") as tmp:  # this process is the live writer
        tmp.write_bytes(b"half of a new")
        resolve_checkpoint_path(run)  # as `translate` would, reading the folder while training saves
        assert tmp.exists()
        tmp.write_bytes(b"a new complete save")
    assert (run / "latest.pt").read_bytes() == b"a new complete save"
    assert capsys.readouterr().err == ""  # a save in progress is nothing to report


def test_another_machines_temporary_is_kept_with_the_command_that_removes_it(run):
    other = run / ".latest.pt.4242@node-7.abcd1234.tmp"
    other.write_bytes(bytes(3000))
    assert clear_unfinished_writes(run) == [
        f"kept {other} (3 kB): a save by process 4242 on node-7, which cannot be checked from this machine; "
        f"if nothing is saving there, remove it: rm {other}"]
    assert other.exists()


@pytest.mark.skipif(not os.path.exists(f"/proc/{os.getpid()}/stat"), reason="process start times need Linux /proc")
def test_a_reused_process_number_does_not_keep_a_dead_saves_temporary(run):
    # this process's own number, on a file last written before this process started: as after a restart
    # (a container's process 1) the number is the same but the writer is gone
    mine = run / f".latest.pt.{os.getpid()}@{files._host()}.abcd1234.tmp"
    mine.write_bytes(b"x")
    before_start = files._start_time(os.getpid()) - 60
    os.utime(mine, (before_start, before_start))
    assert clear_unfinished_writes(run) == [
        f"removed {mine} (1 bytes), left by a save that did not finish (process {os.getpid()} has ended)"]


def test_temporaries_of_earlier_versions_go_once_nothing_has_written_them_for_an_hour(run):
    old, recent = run / ".latest.pt.k3j9x0qz.tmp", run / ".best.pt.a8b7c6d5.tmp"
    old.write_bytes(b"x")
    recent.write_bytes(b"y")
    hours_ago = time.time() - 2 * 3600
    os.utime(old, (hours_ago, hours_ago))
    not_ours = run / ".notes.tmp"
    not_ours.write_text("someone else's")
    lines = clear_unfinished_writes(run)
    assert lines[0] == f"kept {recent} (1 bytes): written 0 s ago by an earlier version of translation, which " \
                       f"did not record its process; if nothing is saving there, remove it: rm {recent}"
    assert lines[1:] == [f"removed {old} (1 bytes), left by a save that did not finish (not written for 2 h)"]
    assert recent.exists() and not old.exists() and not_ours.exists()


def test_translate_names_what_it_removed_from_the_run_folder(run, tmp_path, capsys):
    leftover = killed_mid_save(run / "latest.pt")
    (run / "latest.pt").write_text("not weights")
    assert main(["translate", str(run), str(tmp_path), str(tmp_path / "out"), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert f"note: removed {leftover} (1 kB), left by a save that did not finish" in err
    assert "latest.pt: not a checkpoint: it is a text file ('not weights')" in err
