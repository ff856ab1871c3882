"""`translation import`: official weight files become checkpoints that translate with no flags."""
import torch

from translation.cli import main
from translation.inference.translator import load_translator
from translation.nets import create_generator
from translation.checkpoint import read_checkpoint as load_checkpoint

from conftest import FIXTURES

RESNET6 = ["--netG", "resnet_6blocks", "--norm", "instance", "--ngf", "8"]


def official_file(path, netG="resnet_6blocks", seed=0, **kwargs):
    """A bare state dict as the official code saves it (torch.save(net.state_dict()))."""
    torch.manual_seed(seed)
    net = create_generator(netG, ngf=8, norm=kwargs.pop("norm", "instance"), **kwargs)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(net.state_dict(), path)
    return net.eval()


def test_imported_checkpoint_needs_no_flags_and_matches_the_official_output(tmp_path, capsys):
    assert main(["import", str(FIXTURES / "cyclegan_resnet9_ngf8_oldIN.pth"), "--netG", "resnet_9blocks",
                 "--norm", "instance", "--ngf", "8", "-o", "h2z_official", "--checkpoints-dir", str(tmp_path)]) == 0
    assert "translate with: translation translate" in capsys.readouterr().err
    state = load_checkpoint(tmp_path / "h2z_official")
    assert state["generators"] == {"G_A": {"task": "translate", "direction": "AtoB", "paired": False, "weights": "raw"}}
    assert state["test_mode"] == "eval"
    assert state["net_specs"]["G_A"]["kwargs"]["dropout"] is False  # read from the file's keys
    io = torch.load(FIXTURES / "cyclegan_resnet9_ngf8_oldIN.io.pt", weights_only=True)
    translator = load_translator(tmp_path / "h2z_official")
    with torch.no_grad():
        assert (translator.net(io["input"]) - io["output"]).abs().max() <= 1e-5


def test_cyclegan_pair_translates_both_ways(tmp_path, capsys):
    g_a = official_file(tmp_path / "latest_net_G_A.pth", seed=1)
    g_b = official_file(tmp_path / "latest_net_G_B.pth", seed=2)
    out = tmp_path / "runs" / "pair"
    assert main(["import", str(tmp_path / "latest_net_G_A.pth"), "--also", str(tmp_path / "latest_net_G_B.pth"),
                 *RESNET6, "--no-dropout", "-o", str(out)]) == 0
    x = torch.rand(1, 3, 16, 16) * 2 - 1
    for direction, net in (("AtoB", g_a), ("BtoA", g_b)):
        with torch.no_grad():
            assert torch.equal(load_translator(out, direction).net(x), net(x))
    assert {k: r["direction"] for k, r in load_checkpoint(out)["generators"].items()} == {"G_A": "AtoB",
                                                                                        "G_B": "BtoA"}


def test_single_g_a_points_at_its_g_b_sibling(tmp_path, capsys):
    official_file(tmp_path / "latest_net_G_A.pth")
    official_file(tmp_path / "latest_net_G_B.pth")
    assert main(["import", str(tmp_path / "latest_net_G_A.pth"), *RESNET6, "-o", str(tmp_path / "one.pt")]) == 0
    assert "add --also" in capsys.readouterr().err and (tmp_path / "one.pt").is_file()


def test_pix2pix_generator_keeps_the_papers_test_mode_and_direction(tmp_path):
    official_file(tmp_path / "latest_net_G.pth", netG="unet_32", norm="batch", dropout=True)
    assert main(["import", str(tmp_path / "latest_net_G.pth"), "--netG", "unet_32", "--norm", "batch", "--ngf", "8",
                 "--direction", "BtoA", "-o", str(tmp_path / "p2p")]) == 0
    state = load_checkpoint(tmp_path / "p2p")
    assert {k: r["direction"] for k, r in state["generators"].items()} == {"G_B": "BtoA"}
    assert state["test_mode"] == "paper"
    assert load_translator(tmp_path / "p2p").direction == "BtoA"  # its only direction is the default


def test_wrong_flags_exit_1_with_the_mismatch_and_write_nothing(tmp_path, capsys):
    official_file(tmp_path / "g.pth")
    code = main(["import", str(tmp_path / "g.pth"), "--netG", "resnet_9blocks", "--norm", "instance", "--ngf", "8",
                 "-o", str(tmp_path / "bad")])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    assert "does not fit" in err and "--netG resnet_6blocks --ngf 8 --norm instance" in err
    assert not (tmp_path / "bad").exists()


def test_refuses_to_overwrite_or_reimport(tmp_path, capsys):
    official_file(tmp_path / "g.pth")
    args = ["import", str(tmp_path / "g.pth"), *RESNET6, "-o", str(tmp_path / "run")]
    assert main(args) == 0
    assert main(args) == 1 and "already exists (use --overwrite" in capsys.readouterr().err
    assert main(args + ["--overwrite"]) == 0
    assert main(["import", str(tmp_path / "run" / "latest.pt"), *RESNET6, "-o", str(tmp_path / "again")]) == 1
    assert "already a translation checkpoint" in capsys.readouterr().err


HD_TINY = ["--netG", "local", "--ngf", "8", "--n-downsample-global", "3", "--n-blocks-global", "3",
           "--n-blocks-local", "2"]


def test_official_pix2pixhd_generator_imports_with_its_flags_and_translates_label_maps(tmp_path, capsys):
    """A LocalEnhancer saved as the official pix2pixHD saves it (latest_net_G.pth, keys model.*, model1_1.*,
    model1_2.*): imported with the official option names, it reads label maps one-hot and gives the net's
    own output; norm defaults to pix2pixHD's instance norm, not pix2pix's batch norm."""
    import numpy as np

    from translation.data.label_maps import one_hot

    torch.manual_seed(0)
    net = create_generator("local", in_channels=5, ngf=8, n_downsample_global=3, n_blocks_global=3,
                           n_blocks_local=2).eval()
    torch.save(net.state_dict(), tmp_path / "latest_net_G.pth")
    assert main(["import", str(tmp_path / "latest_net_G.pth"), *HD_TINY, "--label-nc", "5", "--no-instance",
                 "-o", str(tmp_path / "hd")]) == 0
    assert "pix2pixHD local ngf 8 norm instance, reads label maps of 5 classes" in capsys.readouterr().err
    state = load_checkpoint(tmp_path / "hd")
    assert state["generators"]["G_A"]["label_nc"] == 5 and "instance" not in state["generators"]["G_A"]
    ids = np.random.default_rng(1).integers(0, 5, (32, 32, 1))
    translator = load_translator(tmp_path / "hd")
    with torch.no_grad():
        expected = net(one_hot(torch.from_numpy(ids).permute(2, 0, 1), 5)[None])[0]
    got = torch.from_numpy(translator.translate(ids.astype(np.float32))).permute(2, 0, 1) * 2 - 1
    assert (got - expected).abs().max() < 1e-4


def test_pix2pixhd_official_defaults_instance_maps_and_a_mismatch_names_the_right_flags(tmp_path, capsys):
    torch.manual_seed(0)
    weights = tmp_path / "latest_net_G.pth"
    # label2city's input: 35 classes + the instance edge map (the official defaults)
    torch.save(create_generator("local", in_channels=36, ngf=8, n_downsample_global=3, n_blocks_global=3,
                                n_blocks_local=2).state_dict(), weights)
    assert main(["import", str(weights), *HD_TINY, "-o", str(tmp_path / "city")]) == 0
    assert "--instance INSTANCE_MAPS" in capsys.readouterr().err
    record = load_checkpoint(tmp_path / "city")["generators"]["G_A"]
    assert (record["label_nc"], record["instance"]) == (35, True)
    assert main(["import", str(weights), "--netG", "global", "--label-nc", "35", "-o", str(tmp_path / "x")]) == 1
    err = capsys.readouterr().err
    assert ("looks like a generator saved with: --netG local --ngf 8 --norm instance --n-downsample-global 3 "
            "--n-blocks-global 3 --n-local-enhancers 1 --n-blocks-local 2") in err
    assert "36 input channels" in err and not (tmp_path / "x").exists()


def test_translate_sends_a_bare_pix2pixhd_file_to_import(tmp_path, capsys):
    torch.save(create_generator("global", ngf=8, n_downsample_global=3, n_blocks_global=1).state_dict(),
               tmp_path / "latest_net_G.pth")
    assert main(["translate", str(tmp_path / "latest_net_G.pth"), str(tmp_path), str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "is an official pix2pixHD generator (--netG global --ngf 8" in err and "translation import" in err
