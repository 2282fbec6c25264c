"""What a loaded model's ``predict`` and ``evaluate`` return: :class:`Prediction` and
:class:`Evaluation`, which read as a Keras user takes them (a pair of predictions and
probabilities, an array of probabilities; the loss and metrics in order)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nnrun.errors import UserError


@dataclass(frozen=True, eq=False)  # arrays inside: == would raise, so two are the same only when one
class Prediction:
    """Predictions for N samples; unpacks (and iterates) as the pair ``predictions,
    probabilities``, and as an array (``np.asarray``, indexing, ``len``, ``shape``) is what
    Keras's ``predict`` returns for a softmax: ``p[0]`` is the first sample's
    probabilities, never the pair's first item. Of two classes both columns are there,
    so that ``np.argmax(p, axis=1)`` reads the classes; Keras's one sigmoid column is
    ``p[:, 1]``. ``to_frame()`` gives the table ``nnrun predict`` writes."""

    predictions: np.ndarray  # (N,) class names for a classifier; values (N,) or (N, k) for a regressor
    probabilities: np.ndarray | None  # (N, classes) in the order of ``classes``; None for a regressor
    classes: list[str] | None = None
    notes: tuple[str, ...] = ()  # what the encoding could not keep: unseen categories, texts cut or of unknown words
    value_columns: tuple[str, ...] = ("prediction",)  # a regression's columns in to_frame, one per output
    index: object = None  # of a pandas DataFrame given, for to_frame

    def __iter__(self):  # predictions, probabilities = model.predict(x)
        return iter((self.predictions, self.probabilities))

    def __getitem__(self, index):  # p[0][1]: the first sample's probability of the second class, as in Keras
        return np.asarray(self)[index]

    def __len__(self) -> int:
        return len(self.predictions)

    @property
    def shape(self) -> tuple[int, ...]:
        return np.asarray(self).shape

    def __getattr__(self, name: str):
        # Only for names it does not have: an array's methods (p.max(axis=1)) are said to be the array's
        if not name.startswith("_") and hasattr(np.ndarray, name):
            arrays = f"prediction.probabilities.{name} (the classes predicted are prediction.predictions)" \
                if self.probabilities is not None else f"prediction.predictions.{name}"
            raise AttributeError(f"'Prediction' object has no attribute '{name}'; it is the array's: "
                                 f"np.asarray(prediction).{name}, or {arrays}")
        raise AttributeError(f"'Prediction' object has no attribute '{name}'")

    def __array__(self, dtype=None, copy=None):
        """As an array, what Keras's predict returns: the probabilities of a classifier
        (``np.argmax(model.predict(x), axis=1)``), the values of a regressor."""
        values = self.predictions if self.probabilities is None else self.probabilities
        return np.asarray(values, dtype=dtype)

    def to_frame(self):
        """A pandas DataFrame with the columns ``nnrun predict --proba`` writes after the
        copied ones: ``prediction`` (one column per output of several,
        ``prediction_<target>``), then ``proba_<class>`` for a classifier; indexed as the
        input DataFrame was, so ``df.join(p.to_frame())`` lines up (the run's id columns
        are the input's own, there)."""
        try:
            import pandas as pd
        except ImportError:
            raise UserError("Prediction.to_frame needs pandas, which is not installed", hint="pip install pandas; "
                            "or take the arrays themselves: predictions, probabilities = prediction") from None
        values = np.asarray(self.predictions)
        columns = {"prediction": values} if values.ndim == 1 else \
            {name: values[:, i] for i, name in enumerate(self.value_columns)}
        if self.probabilities is not None:
            columns.update({f"proba_{name}": self.probabilities[:, i] for i, name in enumerate(self.classes or [])})
        return pd.DataFrame(columns, index=self.index)


@dataclass(frozen=True)
class Evaluation:
    """Scores of the model on labelled samples, as ``nnrun evaluate`` reports them."""

    samples: int
    metrics: dict[str, float]  # "loss" and each configured metric
    details: dict = field(default_factory=dict)  # {"classification": ...} or {"regression": ...}
    notes: tuple[str, ...] = ()  # as Prediction's

    def __iter__(self):  # loss, accuracy = model.evaluate(x, y), as Keras's list: the loss, then each metric
        return iter(self.metrics.values())
