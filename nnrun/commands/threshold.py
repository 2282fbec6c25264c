"""A decision threshold chosen after training (``nnrun predict --threshold``, ``nnrun
evaluate --threshold``, ``threshold=`` in Python): of two classes, class 1 (the second,
as ``data.classes`` orders them) is predicted where its probability is above it, in
place of 0.5, as a rare class often wants (0.2: more of it found, more false alarms).

Training is untouched: the loss, early stopping and the epochs' metrics stay at 0.5;
``evaluate`` at a threshold shows what the decisions then are, ``pr_auc`` and ``auc``
how well the probabilities rank, whatever the threshold.
"""

from __future__ import annotations

import math
import numbers

from nnrun.errors import UserError


def checked_threshold(threshold, task: str, classes: list[str] | None, named: str = "--threshold") -> float | None:
    """``threshold`` as a float, after checking it is a probability strictly between 0
    and 1 and the run a classifier of two classes; None stays None (0.5)."""
    if threshold is None:
        return None
    if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real):  # numpy's floats are Real too
        raise UserError(f"{named}: expected a number, got {threshold!r}",
                        hint=f"{named} 0.3 predicts the second class where its probability is above 0.3")
    if not math.isfinite(threshold) or not 0 < threshold < 1:
        raise UserError(f"{named} {float(threshold)!r}: a threshold is a probability between 0 and 1 (not either "
                        "end)", hint=f"{named} 0.3 predicts the second class where its probability is above 0.3")
    if task != "classification" or len(classes or ()) != 2:
        what = "a regression" if task != "classification" else f"a classification of {len(classes or ())} classes"
        raise UserError(f"{named}: a threshold decides between two classes, and this run is {what}",
                        hint="leave it out" + (": each sample is predicted as its most probable class"
                                               if task == "classification" else ""))
    return float(threshold)
