import numpy as np
import pytest
import torch

from translation.data.io import read_image
from translation.demo.gan_demo import PER_CLASS, RUN_NAME, run_demo
from translation.inference.sampling import grid, load_sampler
from translation.metrics.digits import digit_features


@pytest.mark.usefixtures("digits_classifier")  # trained once a run (conftest.py)
def test_demo_runs_end_to_end_and_scores_what_it_drew(tmp_path):
    result = run_demo(tmp_path, steps=2)
    drawn = read_image(result["grid"])
    assert drawn.shape[:2] == (10 * 32 + 9 * 2, 10 * 32 + 9 * 2)  # a row per digit, ten samples each
    # the samples the saved checkpoint draws for seed 0, a row per digit: they are the grid's pictures, and the
    # accuracy is the share the digits classifier reads as the row's digit (not the chance a 2-step GAN scores)
    sampler = load_sampler(tmp_path / "checkpoints" / RUN_NAME)
    labels = torch.arange(10).repeat_interleave(PER_CLASS)
    images = sampler.generate(sampler.noise(len(labels), seed=0), labels)
    assert np.abs(grid(images, columns=PER_CLASS) - drawn).max() <= 0.5 / 255 + 1e-6
    read_as = digit_features(images)[1].argmax(1)
    assert result["accuracy"] == np.mean(read_as == labels.numpy()) and result["real_accuracy"] > 0.9


def test_an_interrupted_gan_demo_says_so(tmp_path, capsys, monkeypatch):
    from translation.training.trainer import Trainer

    real_fit = Trainer.fit
    monkeypatch.setattr(Trainer, "fit", lambda self: real_fit(self, until_step=1))
    assert run_demo(tmp_path, steps=5) == {"interrupted": True, "step": 1}
    assert "interrupted at step 1 of 5" in capsys.readouterr().err
    assert not (tmp_path / "gan_digits.png").exists()
