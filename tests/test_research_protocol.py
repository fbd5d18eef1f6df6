"""Splits, weighted F1 and mean ± std of the research protocol."""

from __future__ import annotations

import numpy as np
import pytest

from eczema_tracker.research import protocol

LABELS = np.array([0] * 8 + [1] * 6 + [2] * 4 + [3] * 2)


def test_splits_are_reproducible_disjoint_and_cover_everything():
    has_mask = np.arange(len(LABELS)) % 2 == 0
    first = protocol.make_splits(LABELS, n_splits=5, seed=3, has_mask=has_mask)
    again = protocol.make_splits(LABELS, n_splits=5, seed=3, has_mask=has_mask)
    other = protocol.make_splits(LABELS, n_splits=5, seed=4, has_mask=has_mask)
    assert first == again
    assert [s.validation for s in first] != [s.validation for s in other]
    assert len({s.validation for s in first}) > 1  # the splits differ from each other
    for split in first:
        assert not set(split.train) & set(split.validation)
        assert sorted(split.train + split.validation) == list(range(len(LABELS)))
        assert len(split.validation) == 4  # 20 % of 20


def test_splits_are_stratified_by_label():
    for split in protocol.make_splits(LABELS, n_splits=5, seed=0):
        assert split.stratified_by == "label"
        # every class keeps its share of the training fold within one image
        counts = np.bincount(LABELS[list(split.train)], minlength=4)
        assert np.all(np.abs(counts - np.bincount(LABELS) * 0.8) <= 1)


def test_singleton_class_falls_back_to_unstratified():
    labels = np.array([0] * 9 + [1])
    splits = protocol.make_splits(labels, n_splits=2, seed=0)
    assert {s.stratified_by for s in splits} == {"none"}


def test_too_few_images_is_refused():
    with pytest.raises(ValueError, match="too few"):
        protocol.make_splits([0, 1], n_splits=1)


def test_weighted_f1_matches_a_hand_computed_example():
    y_true = [0, 0, 0, 1, 1, 2]
    y_pred = [0, 0, 1, 1, 2, 2]
    # class 0: P=2/2, R=2/3 -> F1 0.8 (support 3); class 1: P=1/2, R=1/2 -> 0.5 (support 2);
    # class 2: P=1/2, R=1/1 -> 2/3 (support 1). Weighted: (3*0.8 + 2*0.5 + 1*2/3) / 6
    expected = (3 * 0.8 + 2 * 0.5 + 2 / 3) / 6
    assert protocol.weighted_f1(y_true, y_pred) == pytest.approx(expected)
    assert protocol.weighted_f1(y_true, y_true) == 1.0


def test_weighted_f1_ignores_classes_only_predicted_and_matches_sklearn():
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(0)
    y_true, y_pred = rng.integers(0, 3, 40), rng.integers(0, 4, 40)
    assert protocol.weighted_f1(y_true, y_pred) == pytest.approx(
        f1_score(y_true, y_pred, average="weighted")
    )


def test_confusion_matrix_and_per_class_f1():
    matrix = protocol.confusion_matrix([0, 0, 1, 3], [0, 1, 1, 3])
    assert matrix.tolist() == [[1, 1, 0, 0], [0, 1, 0, 0], [0, 0, 0, 0], [0, 0, 0, 1]]
    assert protocol.per_class_f1(matrix).tolist() == pytest.approx([2 / 3, 2 / 3, 0.0, 1.0])


def test_mean_std_is_the_sample_std():
    mean, std = protocol.mean_std([0.6, 0.7, 0.8])
    assert mean == pytest.approx(0.7)
    assert std == pytest.approx(0.1)  # ddof=1; population std would be 0.0816
    assert protocol.mean_std([0.5]) == (0.5, 0.0)


def test_training_subsets_are_nested_balanced_and_seeded():
    train = list(range(len(LABELS)))
    subsets = [protocol.training_subset(train, LABELS, f, seed=1) for f in (0.2, 0.4, 0.6, 1.0)]
    for small, large in zip(subsets, subsets[1:], strict=False):
        assert set(small) <= set(large)
    assert subsets[-1] == train
    assert np.bincount(LABELS[subsets[0]], minlength=4).tolist() == [2, 1, 1, 1]  # round, >= 1
    assert protocol.training_subset(train, LABELS, 0.4, seed=1) == subsets[1]
