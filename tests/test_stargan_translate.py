"""Translating to named domains: official StarGAN files, --to / --from, and sheets."""
import shutil

import numpy as np
import pytest
import torch

from translation.checkpoint import CheckpointError
from translation.cli import main
from translation.data.io import read_image, write_image
from translation.inference.domain_translator import DomainRequest, OfficialStarGAN, load_domain_translator

from conftest import FIXTURES

ATTRS = ["Black_Hair", "Blond_Hair", "Brown_Hair", "Male", "Young"]
OFFICIAL = FIXTURES / "stargan_G_conv8_c5.ckpt"


def official(to, **flags):
    return load_domain_translator(OFFICIAL, DomainRequest(to), official=OfficialStarGAN(**{"attrs": ATTRS, **flags}))


@pytest.mark.parametrize("row,to", [(0, ["Black_Hair", "Male"]), (1, ["Blond_Hair", "Young"])])
def test_official_generator_file_gives_the_official_outputs(row, to):
    """The fixture's labels are exactly what --to asks for when nothing is known about the input."""
    io = torch.load(FIXTURES / "stargan_G_conv8_c5.io.pt", weights_only=True)
    translator = official(to)
    assert translator.test_mode == "paper"  # the official solver tests in train mode: instance statistics
    image = ((io["input"][row] + 1) / 2).permute(1, 2, 0).numpy()
    out = translator.translate_batch([image], [0])[0]
    expected = ((io["output"][row].clamp(-1, 1) + 1) / 2).permute(1, 2, 0).numpy()
    assert np.abs(out - expected).max() < 1e-5
    # and the file's running statistics are left as they were
    state = torch.load(OFFICIAL, weights_only=True)
    for key, value in translator.net.state_dict().items():
        assert torch.equal(value.cpu(), state[key]), key


def test_official_files_need_their_names_and_say_so():
    with pytest.raises(CheckpointError, match="5 labels and no names: give them with --attrs"):
        load_domain_translator(OFFICIAL, DomainRequest(["Male"]))
    with pytest.raises(CheckpointError, match="--c-dim 4: .* was trained with 5 labels"):
        official(["Male"], c_dim=4)
    with pytest.raises(CheckpointError, match="trained with 5 labels, but 2 names"):
        load_domain_translator(OFFICIAL, DomainRequest(["Male"]), official=OfficialStarGAN(attrs=["Male", "Young"]))
    with pytest.raises(ValueError, match="--to: Bald is not a domain of this model; it knows Black_Hair"):
        official(["Bald"])


def test_to_and_from_build_the_labels_the_generator_sees(monkeypatch):
    translator = load_domain_translator(OFFICIAL, DomainRequest(["Blond_Hair"], source=["Black_Hair", "Young"]),
                                        official=OfficialStarGAN(attrs=ATTRS))
    seen = []
    real_net = translator.net
    monkeypatch.setattr(translator, "net", lambda x, labels: (seen.append(labels.tolist()), real_net(x, labels))[1])
    translator.translate_batch([np.full((20, 24, 3), 0.5, np.float32)], [0])
    assert seen == [[[0, 1, 0, 0, 1]]]  # blond on, black off (same group), young kept, male stays off


def test_to_all_writes_a_sheet_per_image_through_the_cli(tmp_path, capsys):
    inputs = tmp_path / "faces"
    for name in ("a.png", "sub/b.png"):
        write_image(inputs / name, np.random.default_rng(0).random((32, 28, 3)).astype(np.float32))
    code = main(["translate", str(OFFICIAL), str(inputs), str(tmp_path / "out"), "--stargan-official", "--c-dim", "5",
                 "--attrs", ",".join(ATTRS), "--to", "all", "--no-progress"])
    assert code == 0, capsys.readouterr().err
    sheet = read_image(tmp_path / "out" / "sub" / "b.png")
    assert sheet.shape[1] >= 6 * 28  # input + one column per attribute, side by side
    assert "translated 2" in capsys.readouterr().err


def test_domain_flags_without_to_are_refused_before_loading(tmp_path, capsys):
    code = main(["translate", str(OFFICIAL), str(tmp_path), str(tmp_path / "out"), "--attrs", "Male"])
    assert code == 1 and "--attrs goes with --to" in capsys.readouterr().err
    shutil.rmtree(tmp_path / "out", ignore_errors=True)
