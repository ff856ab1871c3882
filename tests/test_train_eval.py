"""`train --eval-every N --eval-data DIR`: metrics during training equal `translation evaluate` on the same
images, best.pt is the best step's checkpoint and survives resume, evaluation leaves training unchanged, and
bad options stop the run before anything is written."""
import json

import numpy as np
import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from translation.checkpoint import read_checkpoint
from translation.cli import main
from translation.data.io import list_images, read_image, write_image

from conftest import make_paired_set
from test_unpaired import make_unpaired_set
from tiny_configs import tiny_flags

PIX2PIX = [*tiny_flags("pix2pix"), "--no-progress", "--seed", "3"]
CYCLEGAN = ["--netG", "resnet_6blocks", "--ngf", "4", "--ndf", "4", "--load-size", "32", "--crop-size", "32",
            "--num-workers", "0", "--no-progress", "--device", "cpu", "--pool-size", "0"]


@pytest.fixture
def weights(inception_weights):
    return inception_weights  # the real file's format, random values (conftest.py): fast to make, slow to run


@pytest.fixture
def paired(tmp_path):
    data = make_paired_set(tmp_path / "data", n=4, size=32)
    return make_paired_set(data, n=3, size=32, phase="test", seed=1)


def scalars(run, tag: str) -> dict[int, float]:
    events = EventAccumulator(str(run / "logs"))
    events.Reload()
    return {event.step: event.value for event in events.Scalars(tag)}


def evaluate_json(*argv) -> dict:
    return {name: r["value"] for name, r in json.loads(_run_evaluate(*argv))["results"].items()}


def _run_evaluate(*argv) -> str:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["evaluate", *argv, "--json"]) == 0
    return out.getvalue()


def test_pix2pix_logs_the_numbers_evaluate_gives_and_keeps_the_best_step(paired, weights, tmp_path, capsys):
    runs = tmp_path / "runs"
    assert main(["train", "pix2pix", "--data", str(paired), "--checkpoints-dir", str(runs), "--name", "p", *PIX2PIX,
                 "--steps", "6", "--eval-every", "3", "--eval-data", str(paired / "test"), "--eval-metrics",
                 "kid,psnr,l1", "--inception-weights", str(weights)]) == 0
    err = capsys.readouterr().err
    run = runs / "p"
    kid, psnr = scalars(run, "eval/kid"), scalars(run, "eval/psnr")
    assert set(kid) == set(psnr) == {3, 6} and "eval step 6: kid" in err
    # the last evaluation's images are on disk: `translation evaluate` on them gives the logged numbers
    latest, real = run / "eval" / "latest", run / "eval" / "real"
    assert sorted(p.name for p in latest.iterdir()) == ["000.png", "001.png", "002.png"]
    unpaired = evaluate_json(str(real), str(latest), "--metrics", "kid", "--inception-weights", str(weights))
    assert kid[6] == pytest.approx(unpaired["kid"], rel=1e-5)
    assert psnr[6] == pytest.approx(evaluate_json(str(real), str(latest), "--paired")["psnr"], rel=1e-5)
    # eval/real holds the B halves of the test files, eval/latest what `translate` makes of the A halves
    for i, path in enumerate(sorted((paired / "test").iterdir())):
        both = read_image(path)
        assert np.array_equal(read_image(real / path.name), both[:, 32:])
        write_image(tmp_path / "inputs" / path.name, both[:, :32])
    assert main(["translate", str(run / "latest.pt"), str(tmp_path / "inputs"), str(tmp_path / "out"),
                 "--no-progress", "--num-workers", "0"]) == 0
    for path in list_images(latest):
        assert np.array_equal(read_image(path), read_image(tmp_path / "out" / path.name))
    # best.pt is the checkpoint of the step with the lowest KID, and says so
    step = min(kid, key=lambda s: (kid[s], s))
    best = read_checkpoint(run / "best.pt")
    assert best["step"] == step and best["best"] == {"metric": "kid", "value": pytest.approx(kid[step]), "step": step}
    assert read_checkpoint(run / "latest.pt")["best"]["step"] == step
    assert main(["translate", str(run / "best.pt"), str(tmp_path / "inputs"), str(tmp_path / "from_best"),
                 "--no-progress", "--num-workers", "0"]) == 0


def _train_pix2pix(data, runs, *extra):
    assert main(["train", "pix2pix", "--data", str(data), "--checkpoints-dir", str(runs), "--name", "p", *PIX2PIX,
                 "--steps", "6", "--ema-decay", "0.9", *extra]) == 0
    return torch.load(runs / "p" / "latest.pt", weights_only=True)


def test_evaluation_leaves_training_bit_identical(paired, tmp_path):
    # pix2pix's paper test mode draws dropout masks from seeded RNGs and uses batch statistics: evaluating
    # with the training net, or without restoring the random states, would change the later steps
    plain = _train_pix2pix(paired, tmp_path / "plain")
    evaluated = _train_pix2pix(paired, tmp_path / "evaluated", "--eval-every", "2", "--eval-data",
                               str(paired / "test"), "--eval-metrics", "psnr")
    assert scalars(tmp_path / "evaluated" / "p", "eval/psnr").keys() == {2, 4, 6}
    for part in ("nets", "ema", "optimizers"):
        flat_a, flat_b = _tensors(plain[part]), _tensors(evaluated[part])
        assert flat_a.keys() == flat_b.keys()
        assert all(torch.equal(flat_a[k], flat_b[k]) for k in flat_a), part
    assert torch.equal(plain["rng"]["torch"], evaluated["rng"]["torch"])


def _tensors(tree, prefix=""):
    if isinstance(tree, torch.Tensor):
        return {prefix: tree}
    if isinstance(tree, dict):
        return {k: v for key, value in tree.items() for k, v in _tensors(value, f"{prefix}/{key}").items()}
    if isinstance(tree, (list, tuple)):
        return {k: v for i, value in enumerate(tree) for k, v in _tensors(value, f"{prefix}/{i}").items()}
    return {}


def test_resume_keeps_the_best_so_far(paired, tmp_path):
    from translation.models import model_class
    from translation.models.configs import Pix2PixConfig
    from translation.training.trainer import Trainer

    runs = tmp_path / "runs"
    config = Pix2PixConfig(data=str(paired), name="p", checkpoints_dir=str(runs), netG="unet_32", ngf=8, ndf=8,
                           load_size=32, crop_size=32, batch_size=2, num_workers=0, device="cpu", steps=6,
                           eval_every=2, eval_data=str(paired / "test"), eval_metrics="psnr")
    Trainer(model_class("pix2pix"), config, progress=False).fit(until_step=4)
    before = read_checkpoint(runs / "p" / "best.pt")["best"]
    assert before["metric"] == "psnr" and before["step"] in (2, 4)
    # resumed against targets no output resembles (noise): step 6 scores worse and must not take best.pt
    rng = np.random.default_rng(9)
    for path in (paired / "test").iterdir():
        both = read_image(path)
        write_image(tmp_path / "noise" / path.name, np.concatenate([both[:, :32], rng.random((32, 32, 3))], 1))
    assert main(["train", "pix2pix", "--resume", "--checkpoints-dir", str(runs), "--name", "p", "--no-progress",
                 "--eval-data", str(tmp_path / "noise")]) == 0
    psnr = scalars(runs / "p", "eval/psnr")
    assert psnr.keys() == {2, 4, 6} and psnr[6] < before["value"]
    for name in ("best.pt", "latest.pt"):
        assert read_checkpoint(runs / "p" / name)["best"] == before
    assert read_checkpoint(runs / "p" / "best.pt")["step"] == before["step"]


def test_cyclegan_testb_scores_g_a_on_the_sibling_testa(tmp_path, weights):
    data = make_unpaired_set(tmp_path / "data", n_a=3, n_b=3)
    make_unpaired_set(data, n_a=2, n_b=3, phase="test", seed=1)
    runs = tmp_path / "runs"
    assert main(["train", "cyclegan", "--data", str(data), "--checkpoints-dir", str(runs), "--name", "c", *CYCLEGAN,
                 "--steps", "2", "--eval-every", "2", "--eval-data", str(data / "testB"), "--eval-metrics", "kid",
                 "--inception-weights", str(weights)]) == 0
    latest = runs / "c" / "eval" / "latest"
    assert sorted(p.name for p in latest.iterdir()) == ["a0.png", "a1.png"]  # testA's files, through G_A
    assert main(["translate", str(runs / "c"), str(data / "testA"), str(tmp_path / "out"), "--direction", "AtoB",
                 "--no-progress", "--num-workers", "0"]) == 0
    for path in latest.iterdir():
        assert np.array_equal(read_image(path), read_image(tmp_path / "out" / path.name))
    kid = scalars(runs / "c", "eval/kid")
    expected = evaluate_json(str(data / "testB"), str(latest), "--metrics", "kid", "--inception-weights", str(weights))
    assert kid[2] == pytest.approx(expected["kid"], rel=1e-5)


@pytest.mark.usefixtures("digits_classifier")  # trained once a run (conftest.py)
def test_noise_gan_scores_the_samples_translation_sample_draws(tmp_path):
    from translation.data.image_sets import open_image_set

    digits = open_image_set("digits", 16)
    for i in range(0, 40, 2):
        write_image(tmp_path / "real" / f"{i}.png", (digits[i]["image"].numpy().transpose(1, 2, 0) + 1) / 2)
    runs = tmp_path / "runs"
    assert main(["train", "dcgan", "--data", "digits", "--image-size", "16", "--ngf", "4", "--ndf", "4", "--z-dim",
                 "8", "--steps", "4", "--batch-size", "8", "--num-workers", "0", "--no-progress", "--device", "cpu",
                 "--checkpoints-dir", str(runs), "--name", "g", "--ema-decay", "0.9", "--eval-every", "2",
                 "--eval-data", str(tmp_path / "real"), "--eval-features", "digits", "--eval-metrics", "fid,is"]) == 0
    fid = scalars(runs / "g", "eval/fid_digits")
    assert fid.keys() == {2, 4} and scalars(runs / "g", "eval/is_digits").keys() == {2, 4}
    latest = runs / "g" / "eval" / "latest"
    assert len(list(latest.iterdir())) == 20  # as many as the real set
    assert main(["sample", str(runs / "g"), str(tmp_path / "sampled"), "-n", "20", "--seed", "0"]) == 0
    for path in latest.iterdir():
        assert np.array_equal(read_image(path), read_image(tmp_path / "sampled" / path.name))
    expected = evaluate_json(str(tmp_path / "real"), str(latest), "--features", "digits", "--metrics", "fid")
    assert fid[4] == pytest.approx(expected["fid_digits"], rel=1e-6)
    assert read_checkpoint(runs / "g" / "best.pt")["best"]["metric"] == "fid_digits"


@pytest.mark.parametrize("flags,message", [
    (["--eval-every", "5", "--eval-data", ""], "--eval-every 5 needs --eval-data"),
    (["--eval-metrics", "fdi"], "--eval-metrics fdi: unknown metric 'fdi'"),
    (["--eval-data", "{tmp}/missing"], "--eval-data {tmp}/missing: no such folder"),
    (["--eval-data", "{tmp}/empty"], "holds no images"),
    (["--eval-metrics", "kid,psnr"], "psnr compare outputs with their targets, which only paired data"),
    (["--eval-data", "{tmp}/data/trainB", "--eval-metrics", "fid"], "--inception-weights"),
    (["--eval-data", "{tmp}/empty/real"], "give the images to translate with --eval-inputs"),
])
def test_bad_evaluation_options_stop_before_anything_is_written(flags, message, tmp_path, weights, monkeypatch,
                                                                 capsys):
    data = make_unpaired_set(tmp_path / "data", n_a=2, n_b=2)
    make_unpaired_set(data, n_a=2, n_b=2, phase="test")
    (tmp_path / "empty").mkdir()
    write_image(tmp_path / "empty" / "real" / "0.png", np.zeros((8, 8, 3), np.float32))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "hub"))  # no Inception weights anywhere
    monkeypatch.delenv("TRANSLATION_INCEPTION_WEIGHTS", raising=False)
    defaults = ["--eval-every", "2", "--eval-data", str(data / "testB"), "--eval-metrics", "kid",
                "--inception-weights", str(weights)]
    given = [flag.format(tmp=tmp_path) for flag in flags]
    if "--inception-weights" in message:  # the one case without the file
        defaults = defaults[:-2]
    merged = dict(zip(defaults[::2], defaults[1::2])) | dict(zip(given[::2], given[1::2]))
    runs = tmp_path / "runs"
    argv = ["train", "cyclegan", "--data", str(data), "--checkpoints-dir", str(runs), *CYCLEGAN, "--steps", "2",
            *[word for pair in merged.items() for word in pair]]
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert message.format(tmp=tmp_path) in err and len(err.splitlines()) == 1, err
    assert not runs.exists()


@pytest.mark.usefixtures("digits_classifier")  # trained once a run (conftest.py)
def test_stargan_translates_its_test_split_to_every_domain(tmp_path):
    from conftest import make_domain_set

    data = make_domain_set(tmp_path / "data", n=2, height=32, width=32)
    make_domain_set(data, n=2, height=32, width=32, split="test", seed=1)
    runs = tmp_path / "runs"
    assert main(["train", "stargan", "--data", str(data), "--checkpoints-dir", str(runs), "--name", "s",
                 "--image-size", "32", "--crop-size", "32", "--ngf", "4", "--ndf", "4", "--g-blocks", "1",
                 "--d-layers", "2", "--batch-size", "2", "--num-workers", "0", "--steps", "2", "--no-progress",
                 "--device", "cpu", "--eval-every", "2", "--eval-data", str(data / "test" / "happy"),
                 "--eval-features", "digits", "--eval-metrics", "kid"]) == 0
    latest = runs / "s" / "eval" / "latest"
    names = sorted(p.name for p in latest.iterdir())
    assert names == sorted(f"{d}_{i}_{to}.png" for d in ("angry", "happy", "sad") for i in (0, 1)
                           for to in ("angry", "happy", "sad"))
    assert main(["translate", str(runs / "s"), str(data / "test" / "angry"), str(tmp_path / "out"), "--to", "happy",
                 "--no-progress", "--num-workers", "0"]) == 0
    for i in (0, 1):  # what `translate --to happy` makes of the same images (batched alone: last bits may differ)
        assert np.abs(read_image(latest / f"angry_{i}_happy.png") - read_image(tmp_path / "out" / f"angry_{i}.png")
                      ).max() <= 1 / 255
    assert scalars(runs / "s", "eval/kid_digits").keys() == {2}


def test_every_metric_knows_which_way_is_better():
    from translation.metrics.formulas import BETTER, PAIRED_METRICS, UNPAIRED_METRICS, improves

    assert set(BETTER) == set(UNPAIRED_METRICS) | set(PAIRED_METRICS)
    assert improves("fid", 10.0, 12.0) and not improves("fid", 12.0, 10.0) and not improves("kid", 1.0, 1.0)
    assert improves("is_digits", 3.0, 2.0) and improves("psnr", 30.0, 20.0) and not improves("l1", 0.3, 0.2)
    assert improves("1nn", 0.45, 0.7) and not improves("1nn", 0.9, 0.4) and improves("ssim", 0.1, None)


def test_a_lone_generator_trained_without_pairs_is_evaluated_as_unpaired(tmp_path):
    """Paired or unpaired is what the generators declare (pix2pix's record says paired), not their count."""
    from translation.checkpoint import translates
    from translation.models.cyclegan import CycleGANModel
    from translation.training.periodic_eval import PeriodicEvaluation

    from tiny_configs import tiny_config

    class OneWay(CycleGANModel):  # one generator, from unpaired data (as CUT's)
        def generators(self):
            return {"G_A": translates("AtoB")}

    data = make_unpaired_set(tmp_path / "data", n_a=2, n_b=2)
    make_unpaired_set(data, n_a=2, n_b=2, phase="test")
    config = tiny_config("cyclegan", data, tmp_path / "runs", eval_every=2, eval_data=str(data / "testB"),
                         eval_metrics="psnr")
    with pytest.raises(ValueError, match="psnr compare outputs with their targets, which only paired data"):
        PeriodicEvaluation(config, OneWay(config, torch.device("cpu")), None, torch.device("cpu"), tmp_path / "run")
