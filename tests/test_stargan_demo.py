import numpy as np
import pytest

from translation.data.io import list_images, read_image
from translation.demo import stargan_demo
from translation.demo.colour_scores import painted, scores
from translation.demo.coloured_objects import COLOURS, build_coloured_objects
from translation.demo.shading import BACKGROUND
from translation.demo.still_life import KINDS, render

SIZE = 16  # the smallest size the demo's nets take (3 critic layers: a multiple of 8)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("coloured")
    counts, n_test = build_coloured_objects(root, size=SIZE, train_count=24, test_count=6)
    assert counts == {name: 6 for name in COLOURS} and n_test == 6
    return root


def test_each_training_object_is_in_one_colour_and_every_kind_in_every_colour(data):
    seen = {}
    for colour in COLOURS:
        names = [p.name for p in list_images(data / "train" / colour)]
        assert sorted(name.split("_")[0] for name in names) == sorted(KINDS)
        for name in names:
            assert name not in seen, f"{name} in {seen.get(name)} and {colour}"
            seen[name] = colour


def test_a_held_out_object_differs_between_colours_only_in_the_paint_of_its_body(data):
    names = [p.name for p in list_images(data / "test" / "red")]
    assert sorted(name.split("_")[0] for name in names) == sorted(KINDS)
    for name in names:
        renderings = {colour: read_image(data / "test" / colour / name) for colour in COLOURS}
        body = painted(list(renderings.values()))
        assert 0.03 < body.mean() < 0.6, name
        # the same pose and outline: the backdrop (the corners) is alike, and so is all but the body
        assert not body[[0, 0, -1, -1], [0, -1, 0, -1]].any(), name
        for colour, image in renderings.items():
            assert np.abs(image - renderings["red"])[~body].max() <= PAINT_SLACK, (name, colour)
            # and the body shows its paint (highlights whiten it a little): red and green for yellow
            r, g, b = image[body].mean(axis=0)
            expected = {"blue": b > max(r, g), "green": g > max(r, b), "red": r > max(g, b),
                        "yellow": min(r, g) > b + 0.15}[colour]
            assert expected, (name, colour, (r, g, b))


PAINT_SLACK = 0.03  # the body's anti-aliased rim, where paint and backdrop blend, stays under the threshold


def test_the_default_colour_renders_the_pix2pix_objects_unchanged():
    for kind, colour in (("apple", (0.75, 0.1, 0.08)), ("bottle", (0.08, 0.38, 0.14))):
        plain, painted_as_default = (render(kind, SIZE, np.random.default_rng(5), **extra)
                                     for extra in ({}, {"colour": colour}))
        assert np.array_equal(plain, painted_as_default)
    assert np.abs(render("vase", SIZE, np.random.default_rng(5), colour=(0.9, 0.1, 0.1))
                  - render("vase", SIZE, np.random.default_rng(5))).max() > 0.3


def test_the_set_is_determined_by_its_seed(data, tmp_path):
    build_coloured_objects(tmp_path, size=SIZE, train_count=24, test_count=6)
    for path in list_images(data):
        assert (tmp_path / path.relative_to(data)).read_bytes() == path.read_bytes()


def test_scores_by_hand():
    grey = np.full((2, 2, 3), 0.9, np.float32)
    red, blue = grey.copy(), grey.copy()
    red[0, 0], blue[0, 0] = (1.0, 0.0, 0.0), (0.0, 0.0, 1.0)
    truths = {"red": red, "blue": blue}
    assert scores([(red, "blue", truths)]) == pytest.approx(  # the input unchanged
        {"mae": (2 / 3) / 4, "body_mae": 2 / 3, "paint_error": 2 / 3, "became_target": 0.0, "pairs": 1})
    bluish = grey.copy()
    bluish[0, 0] = (0.1, 0.0, 0.8)
    assert scores([(bluish, "blue", truths), (blue, "blue", truths)]) == pytest.approx(
        {"mae": (0.1 / 4 + 0) / 2, "body_mae": (0.1 + 0) / 2, "paint_error": (0.1 + 0) / 2, "became_target": 1.0,
         "pairs": 2})


def small(monkeypatch):
    real = stargan_demo.build_coloured_objects
    monkeypatch.setattr(stargan_demo, "build_coloured_objects",
                        lambda root, **kw: real(root, **{**kw, "train_count": 24, "test_count": 6}))


def test_demo_runs_end_to_end_and_reports_the_scores_of_its_files(tmp_path, monkeypatch, capsys):
    small(monkeypatch)
    result = stargan_demo.run_demo(tmp_path, steps=2, size=SIZE)
    test, out = tmp_path / "coloured_objects" / "test", tmp_path / "stargan_translated"
    names = [p.name for p in list_images(test / "red")]
    assert len(names) == 6 and result["pairs"] == 6 * 4 * 3
    model, unchanged = [], []
    for name in names:
        truths = {colour: read_image(test / colour / name) for colour in COLOURS}
        for target in COLOURS:
            for source in COLOURS:
                assert (out / target / source / name).exists()  # every held-out object to every colour
                if source != target:
                    model.append((read_image(out / target / source / name), target, truths))
                    unchanged.append((truths[source], target, truths))
    for prefix, pairs in (("", model), ("baseline_", unchanged)):
        for key, value in scores(pairs).items():
            if key != "pairs":
                assert result[prefix + key] == pytest.approx(value), prefix + key
    assert result["baseline_became_target"] == 0 and result["baseline_paint_error"] > 0.15
    assert len(list_images(out / "all")) == 6 * 4  # --to all: a sheet per input
    sheet = read_image(result["sheet"])
    assert sheet.shape[1] >= 9 * 128 and sheet.shape[0] >= 6 * 128  # input, output | truth per colour; each kind
    err = capsys.readouterr().err
    assert all(f"{result[key]:.3f}" in err for key in ("mae", "body_mae", "paint_error", "baseline_mae"))
    assert result["sheet"] in err


def test_an_interrupted_demo_says_so_and_exits_130(tmp_path, monkeypatch, capsys):
    from translation.cli import main
    from translation.training.trainer import Trainer

    small(monkeypatch)
    real_fit = Trainer.fit
    monkeypatch.setattr(Trainer, "fit", lambda self: real_fit(self, until_step=1))  # as a signal would stop it
    assert main(["demo", "stargan", "--workdir", str(tmp_path), "--steps", "5"]) == 130
    assert "interrupted at step 1 of 5" in capsys.readouterr().err
    assert not (tmp_path / "stargan_translated").exists() and not (tmp_path / "stargan_sheet.png").exists()
