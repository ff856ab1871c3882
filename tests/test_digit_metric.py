"""The digits feature space: a classifier trained once on the built-in digits, cached, for honest scores."""
import numpy as np
import pytest

from translation.data.image_sets import open_image_set
from translation.metrics import digits


@pytest.mark.usefixtures("digits_classifier")  # trained once a run (conftest.py)
def test_the_classifier_reads_digits_and_is_trained_once(monkeypatch):
    _net, accuracy = digits.digit_classifier()
    assert accuracy > 0.95  # held-out real digits
    data = open_image_set("digits", 32, labels=True)
    picks = np.arange(0, len(data), 9)
    images = [(data[int(i)]["image"].numpy().transpose(1, 2, 0) + 1) / 2 for i in picks]
    features, logits = digits.digit_features(images)
    assert features.shape == (len(picks), 64) and logits.shape == (len(picks), 10)
    assert np.mean(logits.argmax(1) == data.labels[picks]) > 0.95
    noise = [np.random.default_rng(i).random((32, 32, 1)).astype(np.float32) for i in range(40)]
    assert np.mean(digits.digit_features(noise)[1].argmax(1) == np.arange(40) % 10) < 0.4
    monkeypatch.setattr(digits, "_train", lambda: pytest.fail("trained again instead of using the cache"))
    assert digits.digit_classifier()[1] == accuracy
