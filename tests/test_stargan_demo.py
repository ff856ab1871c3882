import numpy as np
import pytest

from translation.data.io import list_images, read_image
from translation.demo import graded_photos, stargan_demo
from translation.demo.graded_photos import GRADES, build_graded_photos
from translation.demo.styles import TEST_COLUMNS, warm_toned

H, W = 400, 500  # the coordinate photo below


def coordinate_photo() -> np.ndarray:
    """Red = x, green = y (0-1): every pixel of a crop says where in the photo it came from."""
    y, x = np.mgrid[0:H, 0:W].astype(np.float32)
    return np.stack([x / (W - 1), y / (H - 1), np.zeros_like(x)], axis=2)


@pytest.fixture(scope="module")
def real_set(tmp_path_factory):
    root = tmp_path_factory.mktemp("graded")
    counts, n_test = build_graded_photos(root, size=32, crops_per_cell=1, test_per_photo=1)
    return root, counts, n_test


def boxes(folder) -> list[tuple[float, float, float, float]]:
    """(x0, x1, y0, y1) in pixels of the photo area each crop under `folder` shows."""
    found = []
    for path in list_images(folder):
        image = read_image(path)
        found.append((image[..., 0].min() * (W - 1), image[..., 0].max() * (W - 1),
                      image[..., 1].min() * (H - 1), image[..., 1].max() * (H - 1)))
    return found


def test_no_pixel_is_in_two_grades_every_grade_covers_the_photo_and_test_crops_are_held_out(tmp_path, monkeypatch):
    monkeypatch.setattr(graded_photos, "load_photos", lambda: {"grid": coordinate_photo()})
    monkeypatch.setattr(graded_photos, "GRADES", {name: graded_photos.plain for name in GRADES})  # keep positions
    counts, n_test = build_graded_photos(tmp_path, size=16, crops_per_cell=3, test_per_photo=5)
    assert counts == {name: 12 for name in GRADES} and n_test == 5  # 4 cells of the 4 x 4 grid each, 3 crops
    tolerance = 2.0  # pixels: 8-bit files and area-averaged edges
    train_end = TEST_COLUMNS[0] * W
    by_grade = {name: boxes(tmp_path / "train" / name) for name in GRADES}
    for name, own in by_grade.items():
        assert all(x1 <= train_end + tolerance for _, x1, _, _ in own)
        # cells in every row and every column of the grid: where a crop is says nothing of its grade
        rows = {int((y0 + y1) / 2 // (H / 4)) for _, _, y0, y1 in own}
        cols = {int((x0 + x1) / 2 // (train_end / 4)) for x0, x1, _, _ in own}
        assert rows == cols == {0, 1, 2, 3}, name
        for other, theirs in by_grade.items():
            if other == name:
                continue
            for a in own:
                for b in theirs:
                    overlap_x = min(a[1], b[1]) - max(a[0], b[0])
                    overlap_y = min(a[3], b[3]) - max(a[2], b[2])
                    assert overlap_x < tolerance or overlap_y < tolerance, (name, a, other, b)
    for name in GRADES:
        assert all(x0 >= train_end - tolerance for x0, _, _, _ in boxes(tmp_path / "test" / name))


def test_each_held_out_crop_is_in_every_grade_and_the_grades_differ(real_set):
    root, counts, n_test = real_set
    assert counts == {name: 7 * 4 for name in GRADES} and n_test == 7  # 7 photos, 4 cells per grade each
    names = [p.name for p in list_images(root / "test" / "plain")]
    assert len(names) == n_test
    for name in names:
        graded = {grade: read_image(root / "test" / grade / name) for grade in GRADES}
        # the same crop: each grade is its grading of the plain one (up to the 8-bit files)
        for grade, look in GRADES.items():
            assert np.abs(look(graded["plain"]) - graded[grade]).max() < 3 / 255, (grade, name)
        for a in GRADES:
            for b in GRADES:
                if a < b:
                    assert np.abs(graded[a] - graded[b]).mean() > 0.02, (a, b, name)
    assert GRADES["warm"] is warm_toned  # the CycleGAN demo's style, not a copy of it


def test_the_set_is_determined_by_its_seed(real_set, tmp_path):
    root, _, _ = real_set
    build_graded_photos(tmp_path, size=32, crops_per_cell=1, test_per_photo=1)
    for path in list_images(root):
        assert (tmp_path / path.relative_to(root)).read_bytes() == path.read_bytes()


def small_set(monkeypatch):
    real = stargan_demo.build_graded_photos
    monkeypatch.setattr(stargan_demo, "build_graded_photos",
                        lambda root, **kw: real(root, **{**kw, "crops_per_cell": 1, "test_per_photo": 1}))


def test_demo_runs_end_to_end_and_reports_the_scores_of_its_files(tmp_path, monkeypatch, capsys):
    small_set(monkeypatch)
    result = stargan_demo.run_demo(tmp_path, steps=2, sheet_rows=3)
    test, out = tmp_path / "graded_photos" / "test", tmp_path / "stargan_translated"
    names = [p.name for p in list_images(test / "plain")]
    assert len(names) == 7 and result["pairs"] == 7 * 4 * 3
    errors = {"mae": [], "baseline_mae": [], "colour_mae": [], "baseline_colour_mae": []}
    for target in GRADES:
        for source in GRADES:
            outputs = list_images(out / target / source)
            assert [p.name for p in outputs] == names  # every held-out crop translated to every grade
            if source == target:
                continue
            for name in names:
                truth = read_image(test / target / name)
                output, given = read_image(out / target / source / name), read_image(test / source / name)
                errors["mae"].append(np.abs(output - truth).mean())
                errors["baseline_mae"].append(np.abs(given - truth).mean())
                errors["colour_mae"].append(np.abs(output.mean((0, 1)) - truth.mean((0, 1))).mean())
                errors["baseline_colour_mae"].append(np.abs(given.mean((0, 1)) - truth.mean((0, 1))).mean())
    for key, values in errors.items():
        assert result[key] == pytest.approx(np.mean(values)), key
    assert result["baseline_colour_mae"] > 0.03  # the grades differ in tone, not only in detail
    sheets = list_images(out / "all")
    assert len(sheets) == 7 * 4 and read_image(sheets[0]).shape[1] >= 5 * 32  # --to all: input + 4 grades
    sheet = read_image(result["sheet"])
    assert sheet.shape[1] >= 9 * 128 and sheet.shape[0] >= 3 * 128  # input, then output | truth per grade
    err = capsys.readouterr().err
    assert all(f"{result[key]:.3f}" in err for key in errors) and result["sheet"] in err


def test_an_interrupted_demo_says_so_and_exits_130(tmp_path, monkeypatch, capsys):
    from translation.cli import main
    from translation.training.trainer import Trainer

    small_set(monkeypatch)
    real_fit = Trainer.fit
    monkeypatch.setattr(Trainer, "fit", lambda self: real_fit(self, until_step=1))  # as a signal would stop it
    assert main(["demo", "stargan", "--workdir", str(tmp_path), "--steps", "5"]) == 130
    assert "interrupted at step 1 of 5" in capsys.readouterr().err
    assert not (tmp_path / "stargan_translated").exists() and not (tmp_path / "stargan_sheet.png").exists()
