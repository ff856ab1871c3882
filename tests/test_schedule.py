import pytest

from translation.training.schedule import Schedule, TrainingOrder, linear_decay_factor


def test_official_linear_decay_rule():
    # 100 constant + 100 decay epochs: epoch index 99 still at 1, then 1 - k/101
    assert linear_decay_factor(0, 100, 100) == 1.0
    assert linear_decay_factor(99, 100, 100) == 1.0
    assert linear_decay_factor(100, 100, 100) == pytest.approx(1 - 1 / 101)
    assert linear_decay_factor(199, 100, 100) == pytest.approx(1 / 101)


def test_epoch_schedule_steps_once_per_epoch():
    s = Schedule(dataset_size=10, batch_size=4, epochs=2, epochs_decay=2)
    assert s.steps_per_epoch == 3 and s.total_steps == 12
    assert [s.lr_factor(i) for i in (0, 5, 6, 8, 9, 11)] == pytest.approx([1, 1, 2 / 3, 2 / 3, 1 / 3, 1 / 3])


def test_step_schedule_keeps_the_paper_proportion():
    s = Schedule(dataset_size=10, batch_size=1, epochs=100, epochs_decay=100, steps=10)
    assert s.total_steps == 10 and s.constant_units == 5
    assert s.lr_factor(4) == 1.0 and s.lr_factor(5) < 1.0 and s.lr_factor(9) > 0


def test_training_order_covers_each_epoch_and_resumes_exactly():
    full = list(TrainingOrder(10, 4, seed=1, start_step=0, total_steps=9))
    assert [len(b) for b in full] == [4, 4, 2] * 3
    for epoch in range(3):
        indices = sorted(i for batch in full[epoch * 3:(epoch + 1) * 3] for i, _ in batch)
        assert indices == list(range(10))
    assert full[0] != full[3]  # a fresh permutation each epoch
    assert list(TrainingOrder(10, 4, seed=1, start_step=4, total_steps=9)) == full[4:]
    assert list(TrainingOrder(10, 4, seed=2, start_step=0, total_steps=9)) != full
