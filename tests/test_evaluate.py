"""`translation evaluate` as a user runs it: unpaired metrics, saved statistics, the cache, paired scores."""
import json

import numpy as np
import pytest

from translation.cli import main
from translation.data.io import write_image

from test_inception import fid as fid_by_definition


@pytest.fixture(scope="module")
def sets(tmp_path_factory, inception_weights):
    root = tmp_path_factory.mktemp("eval")
    (root / "weights.pth").symlink_to(inception_weights)  # the real file's format, random values
    rng = np.random.default_rng(0)
    for i in range(12):  # the Inception Score's 10 splits need 10 images
        write_image(root / "real" / f"{i}.png", rng.random((32, 40, 3)).astype(np.float32))
        write_image(root / "fake" / f"{i}.png", (rng.random((32, 40, 3)) * 0.5).astype(np.float32))
    return root


def evaluate(sets, *argv):
    return main(["evaluate", *argv, "--inception-weights", str(sets / "weights.pth"), "--batch-size", "12"])


def test_unpaired_metrics_saved_statistics_and_the_cache(sets, tmp_path, capsys):
    assert evaluate(sets, str(sets / "real"), str(sets / "fake"), "--metrics", "fid,kid,is", "--json") == 0
    out = capsys.readouterr()
    results = json.loads(out.out)["results"]
    assert set(results) == {"fid", "kid", "is"}
    assert "not pytorch-fid's weights" in out.err
    assert any("rank" in w.lower() or "kid" in w.lower() for w in results["fid"]["warnings"])  # 12 < 2048 images
    # the real set's features were cached: saving their statistics reuses them; the FID printed (scipy's
    # 2048-d matrix square root, as pytorch-fid) is the distance by definition between the saved features
    saved = {}
    for name in ("real", "fake"):
        saved[name] = tmp_path / f"{name}_stats.npz"
        assert evaluate(sets, str(sets / name), "--save-stats", str(saved[name])) == 0
        err = capsys.readouterr().err
        assert "saved the statistics of 12 images" in err and ("reused from the cache" in err) == (name == "real")
    features = {name: np.load(path)["features"] for name, path in saved.items()}
    assert results["fid"]["value"] == pytest.approx(fid_by_definition(features["real"], features["fake"]), rel=1e-4)
    # statistics saved from REAL stand in for it: the same numbers (KID reads every kept feature; FID from
    # them is the same computation on the same features, and a second 2048-d square root would only add time)
    assert evaluate(sets, str(saved["real"]), str(sets / "fake"), "--metrics", "kid", "--json") == 0
    from_stats = json.loads(capsys.readouterr().out)["results"]
    assert from_stats["kid"]["value"] == pytest.approx(results["kid"]["value"], rel=1e-9)


def test_a_table_for_people_and_clear_errors(sets, capsys, monkeypatch, tmp_path):
    assert evaluate(sets, str(sets / "real"), str(sets / "fake"), "--metrics", "kid,1nn") == 0
    table = capsys.readouterr().out
    assert "KID" in table and "1-NN accuracy" in table
    assert evaluate(sets, str(sets / "real"), str(sets / "fake"), "--metrics", "fdi") == 1
    assert "unknown metric 'fdi'" in capsys.readouterr().err
    assert evaluate(sets, str(tmp_path), str(sets / "fake")) == 1
    assert "no images" in capsys.readouterr().err.lower()
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "hub"))
    monkeypatch.delenv("TRANSLATION_INCEPTION_WEIGHTS", raising=False)
    assert main(["evaluate", str(sets / "real"), str(sets / "fake")]) == 1
    assert "translation download inception-weights" in capsys.readouterr().err


def test_a_wrong_path_is_named_before_the_weights_are_looked_for(sets, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "hub"))  # no weights anywhere: they must not be the message
    monkeypatch.delenv("TRANSLATION_INCEPTION_WEIGHTS", raising=False)
    for real, fake, message in [(tmp_path / "nonexistent", sets / "fake", "nonexistent: no such folder"),
                                (sets / "real", tmp_path / "samples", "samples: no such folder"),
                                (tmp_path / "stats.npz", sets / "fake", "stats.npz: no such statistics file"),
                                (sets / "weights.pth", sets / "fake", "weights.pth is not a folder")]:
        assert main(["evaluate", str(real), str(fake)]) == 1
        err = capsys.readouterr().err
        assert message in err and "inception" not in err.lower(), err
    for flags in (["--paired"], ["--features", "digits"]):
        assert main(["evaluate", str(sets / "real"), str(tmp_path / "samples"), *flags]) == 1
        assert "samples: no such folder" in capsys.readouterr().err


def test_paired_scores_match_by_name(tmp_path, capsys):
    image = np.random.default_rng(1).random((16, 16, 3)).astype(np.float32)
    for name in ("a", "sub/b"):
        write_image(tmp_path / "targets" / f"{name}.png", image)
        write_image(tmp_path / "outputs" / f"{name}.png", image * 0.5)
    assert main(["evaluate", str(tmp_path / "targets"), str(tmp_path / "outputs"), "--paired", "--json"]) == 0
    results = json.loads(capsys.readouterr().out)["results"]
    assert results["l1"]["value"] == pytest.approx(float(np.abs(image - np.round(image * 0.5 * 255) / 255).mean()),
                                                   abs=2e-3)
    assert results["psnr"]["details"]["images"] == 2 and results["ssim"]["value"] < 1
    write_image(tmp_path / "outputs" / "extra.png", image)
    assert main(["evaluate", str(tmp_path / "targets"), str(tmp_path / "outputs"), "--paired"]) == 1
    assert "names are in only one of the folders (extra)" in capsys.readouterr().err


@pytest.mark.usefixtures("digits_classifier")  # trained once a run (conftest.py)
def test_digits_space_needs_no_weights_and_names_its_scores(tmp_path, capsys):
    from translation.data.image_sets import open_image_set

    digits = open_image_set("digits", 32, labels=True)
    for i in range(0, 60, 3):
        write_image(tmp_path / "real" / f"{i}.png", (digits[i]["image"].numpy().transpose(1, 2, 0) + 1) / 2)
        write_image(tmp_path / "other" / f"{i}.png", (digits[i + 1]["image"].numpy().transpose(1, 2, 0) + 1) / 2)
        write_image(tmp_path / "noise" / f"{i}.png", np.random.default_rng(i).random((32, 32, 1)).astype(np.float32))
    assert main(["evaluate", str(tmp_path / "real"), str(tmp_path / "noise"), "--features", "digits",
                 "--metrics", "fid,is", "--json"]) == 0
    results = json.loads(capsys.readouterr().out)["results"]
    assert set(results) == {"fid_digits", "is_digits"}
    assert main(["evaluate", str(tmp_path / "real"), str(tmp_path / "other"), "--features", "digits",
                 "--metrics", "fid", "--json"]) == 0
    # other real digits are far closer to the real ones than noise is: the space tells digits from noise
    assert json.loads(capsys.readouterr().out)["results"]["fid_digits"]["value"] < results["fid_digits"]["value"] / 4


def test_all_leaves_out_what_the_sets_cannot_give_and_says_why():
    from translation.metrics import evaluation

    rng = np.random.default_rng(0)

    def features(n):  # 6 images: too few for the Inception Score's 10 splits, enough for KID
        return evaluation.FeatureSet("set", rng.random((n, 16)), rng.random((n, 10)), count=n)

    real, fake = features(6), features(6)
    skipped: list[str] = []
    results = evaluation.unpaired(real, fake, ["kid", "is", "mmd"], skipped=skipped)
    assert [r.name for r in results] == ["kid", "mmd"]
    assert skipped == ["is left out: 10 splits need at least 10 samples, got 6"]
    with pytest.raises(ValueError, match="10 splits"):  # a metric asked for by name must give its number
        evaluation.unpaired(real, fake, ["kid", "is"])
