"""The pix2pixhd model (translation/models/pix2pixhd.py): coarse-to-fine training with the global part held
back for --niter-fix-global epochs, label-map runs, the official step order, and a tiny run translated at odd
sizes and exported. The contract test (test_contract.py) covers one step, the config file, checkpoints and
resume."""
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from translation.checkpoint import read_checkpoint
from translation.cli import main
from translation.config import from_dict
from translation.data.arrays import to_image
from translation.data.io import read_image, write_image
from translation.data.label_maps import one_hot, read_id_map
from translation.inference.translator import load_translator
from translation.models import CONFIGS, model_class
from translation.training.engine import Engine
from translation.training.trainer import Trainer

from test_label_maps import official_set, save_ids
from tiny_configs import tiny_config, tiny_data, tiny_flags

CPU = torch.device("cpu")
RUN = dict(log_every=1000, image_every=1000, save_every=1000, seed=1)


def global_part(model) -> dict:
    return {k: v.clone() for k, v in model.nets["G"].state_dict().items() if k.startswith("model.")}


def local_part(model) -> dict:
    return {k: v.clone() for k, v in model.nets["G"].state_dict().items() if not k.startswith("model.")}


def same(a: dict, b: dict) -> bool:
    return all(torch.equal(a[k], b[k]) for k in a)


def test_local_starts_from_the_global_run_and_trains_it_only_after_niter_fix_global(tmp_path):
    data = tiny_data("pix2pixhd", tmp_path / "data")  # 4 pairs: 2 steps an epoch at batch 2
    coarse = tiny_config("pix2pixhd", data, tmp_path / "coarse", ngf=8, steps=2, **RUN)
    Trainer(model_class("pix2pixhd"), coarse, progress=False).fit()
    trained_global = read_checkpoint(coarse.run_dir)["nets"]["G"]

    fine = tiny_config("pix2pixhd", data, tmp_path / "fine", netG="local", ngf=4,
                       init_from=str(coarse.run_dir), niter_fix_global=1)
    cls = model_class("pix2pixhd")
    dataset = cls.build_dataset(fine)
    model = cls(fine, CPU, dataset)
    start = global_part(model)
    assert start and all(torch.equal(v, trained_global[k]) for k, v in start.items() if k in trained_global)
    assert len([k for k in start if k in trained_global]) == len(start)

    engine = Engine(model)
    batch = next(iter(DataLoader(dataset, batch_size=2)))
    for step in (0, 1):  # epoch 0: only the local enhancer learns
        before_local = local_part(model)
        engine.step(batch, step)
        assert same(global_part(model), start), f"step {step}: the global part moved while it is held"
        assert not same(local_part(model), before_local)
    engine.step(batch, 2)  # epoch 1: all of G
    assert not same(global_part(model), start)


def test_a_fine_run_resumes_after_its_init_from_run_is_gone(tmp_path):
    """--init-from gives the weights at the start; a resume takes them from its own checkpoint and does not
    read the earlier run again (which may have moved)."""
    import dataclasses
    import shutil

    data = tiny_data("pix2pixhd", tmp_path / "data")
    coarse = tiny_config("pix2pixhd", data, tmp_path / "coarse", ngf=8, steps=1, **RUN)
    Trainer(model_class("pix2pixhd"), coarse, progress=False).fit()
    fine = tiny_config("pix2pixhd", data, tmp_path / "fine", netG="local", ngf=4, steps=1,
                       init_from=str(coarse.run_dir), **RUN)
    Trainer(model_class("pix2pixhd"), fine, progress=False).fit()
    shutil.rmtree(coarse.run_dir)
    Trainer(model_class("pix2pixhd"), dataclasses.replace(fine, steps=2), resume=True, progress=False).fit()
    state = read_checkpoint(fine.run_dir)
    assert state["step"] == 2 and state["config"]["init_from"] == str(coarse.run_dir)


def test_coarse_to_fine_options_are_checked_before_anything_runs(tmp_path):
    values = dict(data=str(tmp_path), name="x", checkpoints_dir=str(tmp_path))
    with pytest.raises(ValueError, match="--init-from and --niter-fix-global start and freeze the global part of"):
        from_dict(CONFIGS["pix2pixhd"], dict(values, init_from="run"))
    with pytest.raises(ValueError, match="--niter-fix-global freezes a global part trained before"):
        from_dict(CONFIGS["pix2pixhd"], dict(values, netG="local", niter_fix_global=3))
    with pytest.raises(ValueError, match="--crop-size 48 is not a multiple of 32, which --netG local needs"):
        from_dict(CONFIGS["pix2pixhd"], dict(values, netG="local", crop_size=48, load_size=64,
                                             preprocess="resize_and_crop"))
    with pytest.raises(ValueError, match="not a pix2pixhd --netG global run"):
        run = tmp_path / "p2p"
        config = tiny_config("pix2pix", tiny_data("pix2pix", tmp_path / "d"), run, steps=1, **RUN)
        Trainer(model_class("pix2pix"), config, progress=False).fit()
        fine = tiny_config("pix2pixhd", tmp_path / "d", tmp_path / "runs", netG="local", init_from=str(config.run_dir))
        model_class("pix2pixhd")(fine, CPU, None)


def test_the_generator_steps_before_the_discriminator_as_the_official_and_d_is_halved(tmp_path):
    config = tiny_config("pix2pixhd", tiny_data("pix2pixhd", tmp_path / "data"), tmp_path / "runs")
    model = model_class("pix2pixhd")(config, CPU, None)
    phases = model.phases()
    assert [(p.name, p.weight) for p in phases] == [("G", 1.0), ("D", 0.5)]


def test_label_maps_with_instances_train_and_a_bad_label_stops_the_run_before_it_starts(tmp_path, capsys):
    root = official_set(tmp_path / "data", n=2, n_labels=5, instance=True)
    for kind in ("label", "img", "inst"):  # a test split of one pair, for the evaluation during training
        (root / f"test_{kind}").mkdir()
        first = sorted((root / f"train_{kind}").iterdir())[0]
        (root / f"test_{kind}" / first.name).write_bytes(first.read_bytes())
    label_file = sorted((root / "test_label").iterdir())[0].name
    flags = tiny_flags("pix2pixhd") + ["--label-nc", "5", "--instance", "--steps", "2", "--no-progress",
                                       "--checkpoints-dir", str(tmp_path / "runs"), "--data", str(root)]
    assert main(["train", "pix2pixhd", *flags, "--name", "labels", "--eval-every", "2", "--eval-data", str(root),
                 "--eval-metrics", "psnr"]) == 0
    spec = read_checkpoint(tmp_path / "runs" / "labels")["net_specs"]
    assert spec["G"]["kwargs"]["in_channels"] == 6 and spec["D"]["kwargs"]["in_channels"] == 9
    assert (tmp_path / "runs" / "labels" / "samples").is_dir()
    # the evaluation read the test split's label and instance maps (it fed G photos before, and the train split)
    assert [p.name for p in (tmp_path / "runs" / "labels" / "eval" / "latest").iterdir()] == [label_file]
    assert "eval step 2: psnr" in capsys.readouterr().err

    # translate asks for its instance maps (test_hd_inference.py translates with them); without --instance a
    # folder of label maps translates
    assert main(["translate", str(tmp_path / "runs" / "labels"), str(root / "train_label"), str(tmp_path / "o"),
                 "--no-progress", "--num-workers", "0"]) == 1
    assert "trained with --instance: it reads an instance map with each input" in capsys.readouterr().err
    no_instance = [flag for flag in flags if flag != "--instance"]
    assert main(["train", "pix2pixhd", *no_instance, "--name", "plain"]) == 0
    rng = np.random.default_rng(0)
    maps = tmp_path / "maps"
    for name, (h, w) in {"a": (37, 23), "b": (20, 45)}.items():
        save_ids(maps / f"{name}.png", rng.integers(0, 5, (h, w)))
    save_ids(maps / "bad.png", np.full((8, 8), 5))
    assert main(["translate", str(tmp_path / "runs" / "plain"), str(maps), str(tmp_path / "out"), "--no-progress",
                 "--num-workers", "0"]) == 1  # one file failed
    assert "bad.png: label value 5 is outside 0..4" in capsys.readouterr().err
    translator = load_translator(tmp_path / "runs" / "plain")
    for name, (h, w) in {"a": (37, 23), "b": (20, 45)}.items():
        out = read_image(tmp_path / "out" / f"{name}.png")
        assert out.shape == (h, w, 3)
        ids = torch.from_numpy(read_id_map(maps / f"{name}.png")[..., 0]).long()
        padded = torch.nn.functional.pad(ids[None, None].float(), (0, -w % 4, 0, -h % 4), mode="reflect").long()
        with torch.no_grad():
            expected = translator.net(one_hot(padded[0], 5)[None])[0, :, :h, :w]
        assert np.abs(out - to_image(expected)).max() <= 1 / 255 + 1e-6

    write_image(root / "train_label" / "city_1_gtFine_labelIds.png", np.full((32, 32, 1), 7 / 255, np.float32))
    assert main(["train", "pix2pixhd", *flags, "--name", "bad"]) == 1
    err = capsys.readouterr().err
    assert "city_1_gtFine_labelIds.png: label value 7 is outside 0..4 (--label-nc 5)" in err
    assert not (tmp_path / "runs" / "bad").exists()


def test_a_tiny_run_translates_odd_sizes_and_exports(tmp_path):
    data = tiny_data("pix2pixhd", tmp_path / "data")
    flags = tiny_flags("pix2pixhd") + ["--steps", "2", "--no-progress", "--checkpoints-dir", str(tmp_path / "runs"),
                                       "--data", data, "--name", "tiny"]
    assert main(["train", "pix2pixhd", *flags]) == 0
    run = tmp_path / "runs" / "tiny"
    rng = np.random.default_rng(0)
    for name, (h, w) in {"a": (37, 23), "b": (50, 65), "c": (9, 17)}.items():
        write_image(tmp_path / "in" / f"{name}.png", rng.random((h, w, 3)).astype(np.float32))
    assert main(["translate", str(run), str(tmp_path / "in"), str(tmp_path / "out"), "--no-progress",
                 "--device", "cpu", "--num-workers", "0"]) == 0
    for name, (h, w) in {"a": (37, 23), "b": (50, 65), "c": (9, 17)}.items():
        assert read_image(tmp_path / "out" / f"{name}.png").shape == (h, w, 3)
    assert main(["export", str(run), "-o", str(tmp_path / "g.onnx")]) == 0
    from translation.inference.onnx_translator import load_onnx_translator

    onnx, torch_net = load_onnx_translator(tmp_path / "g.onnx"), load_translator(run)
    image = rng.random((36, 44, 3)).astype(np.float32)
    assert np.abs(onnx.translate(image) - torch_net.translate(image)).max() < 1e-4


def test_the_vgg_loss_without_its_weights_file_stops_at_start_up_naming_file_and_command(tmp_path, monkeypatch,
                                                                                          capsys):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty_cache"))
    data = tiny_data("pix2pixhd", tmp_path / "data")
    flags = tiny_flags("pix2pixhd", lambda_vgg=10.0) + ["--steps", "1", "--no-progress", "--data", data,
                                                         "--checkpoints-dir", str(tmp_path / "runs")]
    assert main(["train", "pix2pixhd", *flags]) == 1
    err = capsys.readouterr().err
    assert "vgg19-dcbbe1a8.pth" in err and "translation download vgg19-weights" in err and "--lambda-vgg 0" in err
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("name", ["pix2pix", "cyclegan"])
def test_pix2pix_and_cyclegan_take_the_multiscale_d_and_feature_matching_off_by_default(name, tmp_path):
    data = tiny_data(name, tmp_path / "data")
    cls = model_class(name)
    plain = tiny_config(name, data, tmp_path / "plain")
    assert (plain.multiscale_D, plain.lambda_feat, plain.lambda_vgg) == (0, 0.0, 0.0)
    model = cls(plain, CPU, None)
    assert {spec["name"] for key, spec in model.net_specs.items() if key.startswith("D")} == {"basic"}

    config = tiny_config(name, data, tmp_path / "hd", multiscale_D=2, lambda_feat=10.0, n_layers_D=2, netD="n_layers")
    dataset = cls.build_dataset(config)
    model = cls(config, CPU, dataset)
    assert {spec["name"] for key, spec in model.net_specs.items() if key.startswith("D")} == {"multiscale"}
    engine = Engine(model)
    engine.step(next(iter(DataLoader(dataset, batch_size=2))), 0)
    losses = engine.losses.pop_means()
    feature_terms = {"G_GAN_Feat"} if name == "pix2pix" else {"feat_A", "feat_B"}
    assert feature_terms <= set(losses) and all(losses[t] > 0 for t in feature_terms)
    with pytest.raises(ValueError, match="--lambda-feat matches the features of pix2pixHD's multi-scale"):
        tiny_config(name, data, tmp_path / "x", lambda_feat=10.0)
