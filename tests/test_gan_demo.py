
from translation.data.io import read_image
from translation.demo.gan_demo import run_demo


def test_demo_runs_end_to_end_and_scores_what_it_drew(tmp_path, monkeypatch):
    result = run_demo(tmp_path, steps=2)
    grid = read_image(result["grid"])
    assert grid.shape[:2] == (10 * 32 + 9 * 2, 10 * 32 + 9 * 2)  # a row per digit, ten samples each
    assert 0.0 <= result["accuracy"] <= 1.0 and result["real_accuracy"] > 0.9


def test_an_interrupted_gan_demo_says_so(tmp_path, capsys, monkeypatch):
    from translation.training.trainer import Trainer

    real_fit = Trainer.fit
    monkeypatch.setattr(Trainer, "fit", lambda self: real_fit(self, until_step=1))
    assert run_demo(tmp_path, steps=5) == {"interrupted": True, "step": 1}
    assert "interrupted at step 1 of 5" in capsys.readouterr().err
    assert not (tmp_path / "gan_digits.png").exists()
