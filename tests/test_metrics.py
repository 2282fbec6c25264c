"""Metrics against small cases worked by hand."""

from __future__ import annotations

import numpy as np
import pytest

from nnrun.model.metrics import METRICS


def score(name, target, probs):
    return METRICS[name].fn(np.asarray(target), np.asarray(probs, dtype=float))


# Three classes; predictions argmax: 0, 1, 1, 2, 0, 2 against labels 0, 1, 2, 2, 1, 0.
LABELS = [0, 1, 2, 2, 1, 0]
PROBS = [[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.5, 0.3], [0.1, 0.2, 0.7], [0.6, 0.3, 0.1], [0.3, 0.1, 0.6]]


def test_accuracy_and_top_k():
    assert score("accuracy", LABELS, PROBS) == pytest.approx(3 / 6)
    # k = 5 covers all three classes.
    assert score("top_k_accuracy", LABELS, PROBS) == 1.0


def test_top_k_of_one_sigmoid_output_is_that_of_two_classes():
    # It read as plain accuracy (0.0 here); two softmax units over the same classes give 1.
    assert score("top_k_accuracy", [0, 1], np.array([[0.9], [0.2]], np.float32)) == 1.0
    assert score("top_k_accuracy", [0, 1], np.array([[0.1, 0.9], [0.8, 0.2]], np.float32)) == 1.0


def test_top_k_counts_classes_ranked_above_the_true_one():
    probs = np.eye(7)[[0, 0]] * 0.5 + np.arange(7) / 100  # each row: 0.5, 0.01, 0.02, ..., 0.06
    # Label 0 scores highest -> hit; label 1 has classes 0, 2, 3, 4, 5, 6 above it -> rank 7 -> miss.
    assert score("top_k_accuracy", [0, 1], probs) == 0.5


def test_macro_precision_recall_f1():
    # Per class: tp = 1, 1, 1; predicted = 2, 2, 2; actual = 2, 2, 2.
    assert score("precision", LABELS, PROBS) == pytest.approx(0.5)
    assert score("recall", LABELS, PROBS) == pytest.approx(0.5)
    assert score("f1", LABELS, PROBS) == pytest.approx(0.5)


def test_a_class_in_neither_targets_nor_predictions_is_left_out_of_the_macro_mean():
    # Four classes; class 3 (a rare one that missed this split) is neither a label nor
    # predicted. Per class 0-2 as above: 0.5 each, so the mean is 0.5, not 1.5 / 4.
    probs = np.hstack([np.asarray(PROBS), np.zeros((6, 1))])
    for name in ("precision", "recall", "f1", "f1_macro"):
        assert score(name, LABELS, probs) == pytest.approx(0.5), name
    # A class that is predicted but absent from the targets still counts, as 0 recall.
    probs[0] = [0, 0, 0, 1]  # sample 0 (label 0) now predicted as class 3
    # Class 0: tp 0 of 1 predicted, 2 actual: 0; class 1: 1/2, 1/2; 2: 1/2, 1/2; 3: 0/1, 0/0.
    assert score("recall", LABELS, probs) == pytest.approx((0 + 0.5 + 0.5 + 0) / 4)
    sklearn = pytest.importorskip("sklearn.metrics")
    predicted = probs.argmax(axis=1)
    for name, average in (("precision", "macro"), ("recall", "macro"), ("f1_macro", "macro")):
        reference = {"precision": sklearn.precision_score, "recall": sklearn.recall_score,
                     "f1_macro": sklearn.f1_score}[name](LABELS, predicted, average=average, zero_division=0)
        assert score(name, LABELS, probs) == pytest.approx(reference), name


def test_evaluate_macro_average_leaves_out_a_class_the_split_lacks():
    from nnrun.model.diagnostics import classification_report

    probs = np.hstack([np.asarray(PROBS), np.zeros((6, 1))])
    report = classification_report(np.asarray(LABELS), probs, ["a", "b", "c", "rare"])
    assert report["per_class"][3]["support"] == 0
    assert report["macro_average"] == pytest.approx({"precision": 0.5, "recall": 0.5, "f1": 0.5})


def test_binary_metrics_score_the_positive_class():
    labels = [1, 1, 1, 0, 0]
    probs = [[0.9], [0.6], [0.2], [0.7], [0.1]]  # predicted 1, 1, 0, 1, 0
    # tp = 2, predicted positives 3, actual positives 3.
    assert score("precision", labels, probs) == pytest.approx(2 / 3)
    assert score("recall", labels, probs) == pytest.approx(2 / 3)
    assert score("f1", labels, probs) == pytest.approx(2 / 3)
    # Macro f1: class 0 has tp 1, predicted 2, actual 2 -> 0.5; class 1 -> 2/3.
    assert score("f1_macro", labels, probs) == pytest.approx((0.5 + 2 / 3) / 2)
    # AUC: of the 6 positive/negative pairs, 0.6 < 0.7 and 0.2 < 0.7 are ordered wrong.
    assert score("auc", labels, probs) == pytest.approx(4 / 6)


def test_a_binary_probability_of_exactly_one_half_is_class_0():
    # As Keras's binary_accuracy (p > 0.5) and the argmax of the columns [1 - p, p].
    from nnrun.model.metrics import predicted_labels

    assert predicted_labels(np.array([[0.5], [0.5000001], [0.4999999]])).tolist() == [0, 1, 0]
    assert score("accuracy", [1, 0], [[0.5], [0.5]]) == 0.5
    assert score("precision", [1, 0], [[0.5], [0.5]]) == 0.0 and score("recall", [1, 0], [[0.5], [0.5]]) == 0.0


def test_auc_counts_ties_as_half_and_reads_two_column_softmax():
    probs = [[0.5, 0.5], [0.5, 0.5], [0.9, 0.1]]
    assert score("auc", [1, 0, 0], probs) == pytest.approx((0.5 + 1) / 2)


def test_pr_auc_is_average_precision_over_the_distinct_scores():
    # Scores 0.9 (pos), 0.8 (neg), 0.7 (pos), 0.6 (neg), 0.5 (pos): precision at each positive's
    # threshold 1, 2/3, 3/5, each gaining a third of the recall.
    target, probs = [1, 0, 1, 0, 1], [[0.9], [0.8], [0.7], [0.6], [0.5]]
    assert score("pr_auc", target, probs) == pytest.approx((1 + 2 / 3 + 3 / 5) / 3)
    # Tied scores are one threshold: both rows at 0.7 come in together (precision 1/2 there).
    assert score("pr_auc", [0, 1, 1], [[0.7], [0.7], [0.2]]) == pytest.approx(0.5 * 0.5 + 0.5 * 2 / 3)
    softmax = [[0.1, 0.9], [0.2, 0.8], [0.3, 0.7], [0.4, 0.6], [0.5, 0.5]]  # class 1's column
    assert score("pr_auc", target, softmax) == score("pr_auc", target, probs)
    assert np.isnan(score("pr_auc", [0, 0], [[0.2], [0.4]]))  # no positive: no recall to gain
    # With 1% positives ranked at random, ROC AUC is near 0.5 and average precision near 0.01.
    rng = np.random.default_rng(0)
    labels, random_scores = (rng.random(20_000) < 0.01).astype(int), rng.random((20_000, 1))
    assert score("pr_auc", labels, random_scores) < 0.02 < 0.4 < score("auc", labels, random_scores)


def test_balanced_accuracy_is_the_mean_recall_of_the_classes_present():
    # Always "class 0" on 9 negatives and 1 positive: accuracy 0.9, balanced accuracy 0.5.
    target, probs = [0] * 9 + [1], [[0.1]] * 10
    assert score("accuracy", target, probs) == pytest.approx(0.9)
    assert score("balanced_accuracy", target, probs) == pytest.approx(0.5)
    # Three classes: recalls 1/2 (class 0), 1/2 (class 1), 1/2 (class 2).
    assert score("balanced_accuracy", LABELS, PROBS) == pytest.approx(0.5)


def test_a_class_never_predicted_has_zero_precision():
    assert score("precision", [0, 1], [[0.9, 0.1], [0.8, 0.2]]) == 0.0


def test_regression_metrics():
    target = np.array([1.0, 2.0, 3.0, 4.0])
    out = np.array([[1.5], [2.0], [2.0], [5.0]])  # residuals 0.5, 0, -1, 1
    assert score("mae", target, out) == pytest.approx(2.5 / 4)
    assert score("rmse", target, out) == pytest.approx(np.sqrt(2.25 / 4))
    # SS_res = 2.25; SS_tot = 2.25 + 0.25 + 0.25 + 2.25 = 5.
    assert score("r2", target, out) == pytest.approx(1 - 2.25 / 5)
    # Keras's MAPE, in percent: 100 * mean(0.5/1, 0/2, 1/3, 1/4).
    assert score("mape", target, out) == pytest.approx(100 * (0.5 + 0 + 1 / 3 + 1 / 4) / 4)
    # A target of 0 divides by Keras's epsilon, as Keras's does.
    assert score("mape", np.array([0.0, 2.0]), np.array([[1e-7], [2.0]])) == pytest.approx(50.0)


def test_every_metric_says_which_task_it_needs():
    assert {m.task for m in METRICS.values()} == {"classification", "regression"}


def test_pr_auc_and_balanced_accuracy_equal_values_scikit_learn_gave():
    # Computed once with scikit-learn 1.x (average_precision_score, balanced_accuracy_score),
    # kept here so that the check runs where scikit-learn is not installed.
    scores = [0.9, 0.9, 0.8, 0.4, 0.4, 0.4, 0.3, 0.2, 0.2, 0.1]  # ties across the classes
    assert score("pr_auc", [1, 0, 1, 1, 0, 0, 1, 0, 0, 0], [[v] for v in scores]) == pytest.approx(0.5595238095238095)
    assert score("pr_auc", [0, 0, 0, 1], [[0.1], [0.5], [0.5], [0.5]]) == pytest.approx(1 / 3)
    predicted = [0, 2, 2, 2, 1, 1, 0, 2]
    assert score("balanced_accuracy", [0, 1, 2, 2, 1, 0, 2, 2], np.eye(3)[predicted]) == pytest.approx(0.5833333333333334)
    assert np.isnan(score("pr_auc", [1, 0, 1], [[0.9], [np.nan], [0.2]]))  # a NaN score ranks nowhere


def test_pr_auc_and_balanced_accuracy_agree_with_scikit_learn():
    sklearn = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(1)
    for _ in range(50):
        n = int(rng.integers(2, 300))
        labels = (rng.random(n) < rng.random()).astype(int)
        scores = np.round(rng.random(n), int(rng.integers(1, 4)))  # ties, as rounded scores give
        if labels.sum():
            assert score("pr_auc", labels, scores[:, None]) == pytest.approx(
                sklearn.average_precision_score(labels, scores), abs=1e-12)
        classes = rng.random((n, 4))
        many = rng.integers(0, 4, n)
        assert score("balanced_accuracy", many, classes) == pytest.approx(
            sklearn.balanced_accuracy_score(many, classes.argmax(axis=1)), abs=1e-12)
