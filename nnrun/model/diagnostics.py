"""Per-class and per-sample diagnostics of a split's predictions, for ``nnrun evaluate``.

Computed from the targets and the model's outputs (after its output activation):

- classifiers: the confusion matrix ``M[i, j]`` = samples of true class ``i`` predicted
  as ``j``, and per class ``precision = M[c, c] / sum_i M[i, c]``,
  ``recall = M[c, c] / sum_j M[c, j]``, ``F1 = 2 P R / (P + R)`` (0 where undefined);
- regressors: the residuals ``r = prediction - target`` over every output: mean, std,
  MAE, RMSE, median and largest absolute residual, and R^2 (the ``r2`` metric: the
  outputs' R^2 averaged); with several outputs, the same for each.
"""

from __future__ import annotations

import numpy as np

from nnrun.model.metrics import (class_labels, macro_mean, per_class_f1, predicted_labels, r2, ratio,
                                 scored_classes)


def confusion_matrix(true: np.ndarray, predicted: np.ndarray, classes: int) -> np.ndarray:
    """(classes, classes) counts; rows are true classes, columns predicted ones."""
    matrix = np.zeros((classes, classes), np.int64)
    np.add.at(matrix, (true, predicted), 1)
    return matrix


def classification_report(target: np.ndarray, probs: np.ndarray, class_names: list[str],
                          threshold: float | None = None) -> dict:
    """Confusion matrix plus per-class precision, recall, F1 and support (of two
    classes, decided at ``threshold`` where given)."""
    classes = max(len(class_names), 2 if probs.shape[-1] == 1 else probs.shape[-1])
    names = list(class_names) + [str(c) for c in range(len(class_names), classes)]
    matrix = confusion_matrix(class_labels(target), predicted_labels(probs, threshold), classes)
    hits = np.diag(matrix).astype(np.float64)
    predicted, actual = matrix.sum(axis=0), matrix.sum(axis=1)  # actual: each class's support
    precision, recall = ratio(hits, predicted), ratio(hits, actual)
    f1 = per_class_f1(hits, predicted, actual)
    # A class the macro average leaves out has no scores (None): a 0 would not agree with it.
    per_class = [
        {"class": name, **{k: float(v) if seen else None for k, v in (("precision", p), ("recall", r), ("f1", f))},
         "support": int(s)}
        for name, p, r, f, s, seen in zip(names, precision, recall, f1, actual, scored_classes(predicted, actual))
    ]
    macro = {name: macro_mean(values, predicted, actual)
             for name, values in (("precision", precision), ("recall", recall), ("f1", f1))}
    return {"classes": names, "confusion_matrix": matrix.tolist(), "per_class": per_class, "macro_average": macro}


def residual_report(target: np.ndarray, predictions: np.ndarray) -> dict:
    """Statistics of ``prediction - target`` over every sample and output; with several
    outputs also each output's own (``per_output``): pooled, outputs in different units
    (a price and a rate) tell little of any one of them."""
    predicted = predictions.reshape(len(predictions), -1).astype(np.float64)
    actual = target.reshape(len(target), -1).astype(np.float64)
    report = _residuals(actual, predicted)
    if predicted.shape[1] > 1:
        report["per_output"] = [_residuals(actual[:, [k]], predicted[:, [k]]) for k in range(predicted.shape[1])]
    return report


def _residuals(actual: np.ndarray, predicted: np.ndarray) -> dict:
    residual = predicted - actual
    absolute = np.abs(residual)
    return {
        "mean": float(residual.mean()),
        "std": float(residual.std()),
        "mae": float(absolute.mean()),
        "rmse": float(np.sqrt(np.mean(residual**2))),
        "median_abs": float(np.median(absolute)),
        "max_abs": float(absolute.max()),
        "r2": r2(actual, predicted),  # the r2 metric's definition, so eval.json holds one R^2
    }
