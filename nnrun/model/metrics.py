"""Metrics: pure functions of the whole split's targets and predictions.

``fn(target, probs) -> float`` where ``probs`` are the model's outputs after its output
activation. They run once per epoch on every sample, so metrics that do not average
over batches (precision, AUC) are exact.

Classification metrics read integer labels (or one-hot rows). ``precision``,
``recall`` and ``f1`` are those of class 1 when there are two classes (binary) and
the unweighted mean over classes otherwise (macro); ``f1_macro`` is always the macro
mean. A class never predicted has precision 0 (and one absent from the targets recall
0), as scikit-learn's ``zero_division=0``; as in scikit-learn, the macro mean is over
the classes in the targets or the predictions, so a class in neither counts for nothing. ``auc`` is the ROC AUC of a binary
classifier, ties counted one half, and ``pr_auc`` its average precision (of class 1).
Regression metrics average over outputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Literal

import numpy as np

TOP_K = 5  # Keras's default k for top_k_accuracy


@dataclass(frozen=True)
class Metric:
    name: str
    fn: Callable[[np.ndarray, np.ndarray], float]
    higher_is_better: bool
    task: str  # "classification" or "regression": the data it needs
    decides: bool = False  # reads only the class each sample is predicted as (a threshold moves it)


def class_labels(target: np.ndarray) -> np.ndarray:
    """Integer labels from integer labels (N,), one-hot rows (N, C) or 0/1 columns."""
    if target.ndim == 2 and target.shape[1] > 1:
        return target.argmax(axis=1)
    return target.reshape(-1).astype(np.int64)


def predicted_labels(probs: np.ndarray, threshold: float | None = None) -> np.ndarray:
    """Argmax over classes; a single output column is a binary probability, class 1
    above 0.5 (as Keras's binary_accuracy and scikit-learn decide; at exactly 0.5 class
    0, the argmax of the two columns [1 - p, p] that predict reports). ``threshold``
    (two classes only): class 1 where its probability is above it, not above 0.5."""
    if probs.shape[-1] == 1:
        return (probs[:, 0] > (0.5 if threshold is None else threshold)).astype(np.int64)
    if threshold is not None:
        return (probs[:, 1] > threshold).astype(np.int64)
    return probs.argmax(axis=-1)


def decided(probs: np.ndarray, threshold: float) -> np.ndarray:
    """Outputs of the shape of ``probs`` whose classes, decided as ever, are those
    ``threshold`` decides (0 and 1, one-hot rows): for the metrics that read the
    decisions only (``Metric.decides``), which then score the thresholded ones."""
    labels = predicted_labels(probs, threshold)
    return labels[:, None].astype(probs.dtype) if probs.shape[-1] == 1 else np.eye(2, dtype=probs.dtype)[labels]


def accuracy(target: np.ndarray, probs: np.ndarray) -> float:
    """Fraction of samples whose most probable class is theirs (above 0.5 for one
    sigmoid unit)."""
    return float(np.mean(predicted_labels(probs) == class_labels(target)))


def top_k_accuracy(target: np.ndarray, probs: np.ndarray) -> float:
    """Fraction of samples whose class is among the k highest scores (k = 5, or every
    class when there are fewer)."""
    labels = class_labels(target)
    if probs.shape[-1] == 1:  # one sigmoid output: two classes, both among the top k, as with two softmax units
        return 1.0 if len(labels) else float("nan")
    # Rank of the true class = number of classes scored strictly higher.
    true_scores = probs[np.arange(len(labels)), labels][:, None]
    return float(np.mean((probs > true_scores).sum(axis=-1) < TOP_K))


def _confusion_counts(target, probs):
    """Per class: true positives, predicted counts, actual counts."""
    labels, predicted = class_labels(target), predicted_labels(probs)
    classes = max(probs.shape[-1], 2)
    tp = np.bincount(labels[labels == predicted], minlength=classes)
    return tp, np.bincount(predicted, minlength=classes), np.bincount(labels, minlength=classes)


def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return np.divide(num, den, out=np.zeros(len(num)), where=den > 0)


def per_class_f1(tp, predicted, actual):
    precision, recall = ratio(tp, predicted), ratio(tp, actual)
    return ratio(2 * precision * recall, precision + recall)


def scored_classes(predicted: np.ndarray, actual: np.ndarray) -> np.ndarray:
    """The classes that are in the targets or the predictions (scikit-learn's labels),
    the only ones scored: a class the split has no row of and the model never predicts
    is not scored 0. That happens whenever a rare class misses a split, and would pull a
    validation F1 of 0.89 down to 0.59."""
    return (predicted + actual) > 0


def macro_mean(per_class: np.ndarray, predicted: np.ndarray, actual: np.ndarray) -> float:
    """The unweighted mean over the :func:`scored_classes`."""
    seen = scored_classes(predicted, actual)
    return float(per_class[seen].mean()) if seen.any() else 0.0


def _binary_or_macro(per_class: np.ndarray, predicted: np.ndarray, actual: np.ndarray) -> float:
    return float(per_class[1]) if len(per_class) == 2 else macro_mean(per_class, predicted, actual)


def precision(target, probs) -> float:
    """Of the samples predicted as a class, the fraction that are: of the second class
    for two classes (class 1, by the names' order), the mean over classes otherwise."""
    tp, predicted, actual = _confusion_counts(target, probs)
    return _binary_or_macro(ratio(tp, predicted), predicted, actual)


def recall(target, probs) -> float:
    """Of a class's samples, the fraction predicted as it: of the second class for two
    classes (class 1, by the names' order), the mean over classes otherwise."""
    tp, predicted, actual = _confusion_counts(target, probs)
    return _binary_or_macro(ratio(tp, actual), predicted, actual)


def f1(target, probs) -> float:
    """The harmonic mean of precision and recall: of the second class for two classes
    (class 1, by the names' order), the mean of each class's F1 otherwise."""
    tp, predicted, actual = _confusion_counts(target, probs)
    return _binary_or_macro(per_class_f1(tp, predicted, actual), predicted, actual)


def f1_macro(target, probs) -> float:
    """The mean of each class's F1, for two classes too (scikit-learn's average='macro')."""
    tp, predicted, actual = _confusion_counts(target, probs)
    return macro_mean(per_class_f1(tp, predicted, actual), predicted, actual)


def auc(target, probs) -> float:
    """ROC AUC = P(score of a random positive > score of a random negative), by ranks
    (the Mann-Whitney U statistic), tied scores sharing their mean rank."""
    labels = class_labels(target)
    scores = probs[:, 0] if probs.shape[-1] == 1 else probs[:, 1]
    positives = int(labels.sum())
    negatives = len(labels) - positives
    if positives == 0 or negatives == 0:
        return float("nan")  # undefined with one class only
    order = np.argsort(scores, kind="mergesort")
    sorted_scores = scores[order]
    ranks = np.empty(len(scores))
    # Average the 1-based ranks over each run of equal scores.
    _, first, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    mean_ranks = first + (counts + 1) / 2
    ranks[order] = np.repeat(mean_ranks, counts)
    u = ranks[labels == 1].sum() - positives * (positives + 1) / 2
    return float(u / (positives * negatives))


def pr_auc(target, probs) -> float:
    """Average precision, the area under the precision-recall curve as a step function:
    sum over the distinct scores, highest first, of the recall gained times the precision
    there (scikit-learn's average_precision_score). Unlike ROC AUC it falls with the
    positives' share: about that share for scores that rank at random."""
    labels = class_labels(target)
    scores = probs[:, 0] if probs.shape[-1] == 1 else probs[:, 1]
    positives = int(labels.sum())
    if positives == 0 or np.isnan(scores).any():
        return float("nan")  # no recall to gain, or a score that ranks nowhere
    order = np.argsort(-scores.astype(np.float64), kind="mergesort")
    sorted_scores, hits = scores[order], labels[order] == 1
    # The last position of each run of equal scores: a threshold takes them all or none.
    last = np.flatnonzero(np.r_[sorted_scores[1:] != sorted_scores[:-1], True])
    true_positives = np.cumsum(hits)[last]
    precision_at = true_positives / (last + 1)
    recall_gained = np.diff(np.r_[0, true_positives]) / positives
    return float(np.sum(recall_gained * precision_at))


def balanced_accuracy(target, probs) -> float:
    """The mean over the classes in the targets of the fraction of each predicted as it
    (scikit-learn's balanced_accuracy_score): 1 / classes for a model that always
    predicts the majority, however rare the others."""
    tp, _, actual = _confusion_counts(target, probs)
    present = actual > 0
    return float(np.mean(tp[present] / actual[present]))


def _residuals(target, out):
    # In float64, as evaluate's residual report takes them: one MAE in both of its tables.
    return out.astype(np.float64) - target.reshape(out.shape).astype(np.float64)


def mae(target, out) -> float:
    """Mean absolute error, in the targets' units, over every output of every sample."""
    return float(np.mean(np.abs(_residuals(target, out))))


def rmse(target, out) -> float:
    """Root mean squared error, in the targets' units, over every output of every sample."""
    return float(np.sqrt(np.mean(_residuals(target, out) ** 2)))


MAPE_FLOOR = 1e-7  # Keras's epsilon: a target of 0 divides by this, not by 0
MAPE_NEAR = 0.01  # of the targets' median size: targets this near 0 are warned of (their errors dominate mape)


def mape(target, out) -> float:
    """Mean absolute percentage error, as Keras's: 100 * mean(|residual| / |target|), each
    target's size at least MAPE_FLOOR (a target near 0 makes it huge, which a warning says)."""
    target64 = target.reshape(out.shape).astype(np.float64)
    residuals = out.astype(np.float64) - target64  # as _residuals, the target cast once
    return float(100 * np.mean(np.abs(residuals) / np.maximum(np.abs(target64), MAPE_FLOOR)))


def r2(target, out) -> float:
    """1 - SS_res / SS_tot per output, averaged over outputs (scikit-learn's default);
    a constant target gives 0 when predicted imperfectly, 1 when exactly."""
    target = target.reshape(out.shape).astype(np.float64)
    ss_res = ((target - out) ** 2).sum(axis=0)
    ss_tot = ((target - target.mean(axis=0)) ** 2).sum(axis=0)
    scores = np.where(ss_tot > 0, 1 - ss_res / np.where(ss_tot > 0, ss_tot, 1), (ss_res == 0).astype(float))
    return float(np.mean(scores))


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("accuracy", accuracy, True, "classification", decides=True),
        Metric("top_k_accuracy", top_k_accuracy, True, "classification"),
        Metric("precision", precision, True, "classification", decides=True),
        Metric("recall", recall, True, "classification", decides=True),
        Metric("f1", f1, True, "classification", decides=True),
        Metric("f1_macro", f1_macro, True, "classification", decides=True),
        Metric("auc", auc, True, "classification"),
        Metric("pr_auc", pr_auc, True, "classification"),
        Metric("balanced_accuracy", balanced_accuracy, True, "classification", decides=True),
        Metric("mae", mae, False, "regression"),
        Metric("rmse", rmse, False, "regression"),
        Metric("mape", mape, False, "regression"),
        Metric("r2", r2, True, "regression"),
    )
}

BINARY_ONLY = ("auc", "pr_auc")  # scores of class 1 against the rest: two classes only
POSITIVE_CLASS_METRICS = ("precision", "recall", "f1", "pr_auc")  # of two classes, the second's alone
MetricName = Literal[tuple(METRICS)]  # type: ignore[valid-type]


def uncomputed(name: str, computed: list[str], task: str | None) -> str | None:
    """Of a metric ``name`` a config does not compute (``computed``: its metrics), what
    nnrun knows: "add" for one of its metrics the task takes (the fix: list it in
    metrics), "other task" for one of the other task's; None for no metric of nnrun's,
    or one computed already. ``task`` None: unknown, taken as the metric's own."""
    if name not in METRICS or name in computed:
        return None
    return "add" if task in (None, METRICS[name].task) else "other task"


def higher_is_better(monitor: str) -> bool:
    """Direction of a monitored quantity such as 'val_loss' or 'accuracy'."""
    name = monitor.removeprefix("val_")
    return METRICS[name].higher_is_better if name in METRICS else False
