"""StarGAN from the command line: train on both layouts, resume exactly, translate --to."""
import random

import numpy as np
import torch

from translation.checkpoint import read_checkpoint
from translation.cli import main
from translation.data.io import list_images, read_image, write_image
from translation.training.trainer import Trainer

from conftest import make_domain_set
from tiny_configs import tiny_flags

TINY = [*tiny_flags("stargan"), "--no-progress", "--log-every", "2", "--image-every", "2", "--save-every", "2"]


def train(data, runs, name, *extra):
    return main(["train", "stargan", "--data", str(data), "--checkpoints-dir", str(runs), "--name", name,
                 *TINY, *extra])


def test_domain_folders_train_resume_exactly_and_translate(tmp_path, capsys, monkeypatch):
    data = make_domain_set(tmp_path / "seasons", domains=("autumn", "spring", "winter"), n=3)
    runs = tmp_path / "runs"
    assert train(data, runs, "straight", "--steps", "4") == 0
    state = read_checkpoint(runs / "straight")
    assert state["generators"]["G"] == {"task": "translate_to_domain", "domains": ["autumn", "spring", "winter"],
                                        "label_kind": "single_label", "exclusive": [], "weights": "raw"}
    assert state["net_specs"]["G"]["kwargs"]["n_labels"] == 3 and state["step"] == 4

    # stopped at step 2 (as by Ctrl-C) and resumed: the same weights as the straight run
    real_fit = Trainer.fit
    monkeypatch.setattr(Trainer, "fit", lambda self: real_fit(self, until_step=2))
    assert train(data, runs, "resumed", "--steps", "4") == 130
    monkeypatch.setattr(Trainer, "fit", real_fit)
    assert read_checkpoint(runs / "resumed")["step"] == 2
    assert main(["train", "stargan", "--checkpoints-dir", str(runs), "--name", "resumed", "--resume",
                 "--no-progress"]) == 0
    resumed = read_checkpoint(runs / "resumed")
    for key in ("G", "D"):
        for name, value in state["nets"][key].items():
            assert torch.equal(value, resumed["nets"][key][name]), f"{key}.{name}"

    photos = tmp_path / "photos"
    write_image(photos / "p.png", np.random.default_rng(1).random((20, 24, 3)).astype(np.float32))
    capsys.readouterr()
    assert main(["translate", str(runs / "straight"), str(photos), str(tmp_path / "out"), "--to", "winter",
                 "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert "to winter" in err and "what the discriminator read in the 1 inputs" in err
    assert read_image(tmp_path / "out" / "p.png").shape == (20, 24, 3)
    assert main(["translate", str(runs / "straight"), str(photos), str(tmp_path / "out"), "--to", "summer",
                 "--no-progress"]) == 1
    assert "--to: summer is not a domain of this model; it knows autumn, spring, winter" in capsys.readouterr().err
    assert main(["translate", str(runs / "straight"), str(photos), str(tmp_path / "plain"), "--no-progress"]) == 1
    assert "translates to named domains (autumn, spring, winter): say which with --to" in capsys.readouterr().err


def test_celeba_attributes_train_with_the_official_split(tmp_path, capsys):
    names = ["Bald", "Black_Hair", "Blond_Hair", "Male"]
    rng = np.random.default_rng(0)
    rows = [(f"{i:06d}.jpg", rng.choice([1, -1], size=len(names))) for i in range(1, 2004)]
    (tmp_path / "celeba").mkdir()
    (tmp_path / "celeba" / "list_attr_celeba.txt").write_text(
        f"{len(rows)}\n{' '.join(names)}\n" + "\n".join(f"{f} " + " ".join(f"{v:2d}" for v in values)
                                                          for f, values in rows) + "\n")
    # the official split keeps 1,999 of these 2,003 lines for test: only the 4 training images need to exist
    order = list(range(len(rows)))
    random.Random(1234).shuffle(order)
    for i in order[1999:]:
        write_image(tmp_path / "celeba" / "images" / rows[i][0], rng.random((40, 36, 3)).astype(np.float32))
    runs = tmp_path / "runs"
    assert train(tmp_path / "celeba", runs, "celeba", "--attrs", "Black_Hair,Blond_Hair,Male", "--steps", "2") == 0
    record = read_checkpoint(runs / "celeba")["generators"]["G"]
    assert record["domains"] == ["Black_Hair", "Blond_Hair", "Male"] and record["label_kind"] == "multi_label"
    assert record["exclusive"] == [["Black_Hair", "Blond_Hair"]]
    samples = list_images(runs / "celeba" / "samples")
    assert samples and read_image(samples[-1]).shape[1] > 4 * 16  # input + one column per attribute
