import numpy as np

from translation.data.image_sets import open_image_set
from translation.data.io import read_image
from translation.demo.gan_demo import as_digit_features, digit_classifier, run_demo


def test_the_digit_score_reads_real_digits_through_the_same_pipeline():
    """The classifier that scores the demo's samples must read real 32 px digits as digits."""
    digits = open_image_set("digits", 32, labels=True)
    classifier, held_out = digit_classifier()
    picks = np.arange(0, len(digits), 17)
    images = [(digits[int(i)]["image"].numpy().transpose(1, 2, 0) + 1) / 2 for i in picks]
    assert held_out > 0.9
    assert np.mean(classifier.predict(as_digit_features(images)) == digits.labels[picks]) > 0.9
    noise = [np.random.default_rng(i).random((32, 32, 1)).astype(np.float32) for i in range(50)]
    assert np.mean(classifier.predict(as_digit_features(noise)) == np.arange(50) % 10) < 0.4


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
