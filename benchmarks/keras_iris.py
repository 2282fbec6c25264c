"""The classic Keras Iris script nnrun grew from, as a start-up reference for run.py.

    KERAS_BACKEND=torch python benchmarks/keras_iris.py

The same model and training as configs/iris.yaml: Dense 64 relu, Dense 3 softmax,
categorical cross-entropy, Adam (0.001), 100 epochs of batch 32 on a stratified 80/20
split of the bundled iris CSV, standardized; then evaluate on the held-out fifth. The
original script loaded a dataset Keras does not ship (``keras.datasets.iris``), so the
data is read here with NumPy. Keras is a benchmark reference only, never an nnrun
dependency; run.py skips it when Keras is not installed.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

CSV = Path(__file__).resolve().parent.parent / "nnrun" / "data" / "builtin" / "iris.csv.gz"


def load_iris() -> tuple[np.ndarray, np.ndarray]:
    with gzip.open(CSV, "rt") as handle:
        rows = [line.strip().split(",") for line in handle][1:]
    names = sorted({row[-1] for row in rows})
    x = np.array([[float(v) for v in row[:-1]] for row in rows], np.float32)
    y = np.array([names.index(row[-1]) for row in rows])
    return x, y


def main() -> None:
    from keras.layers import Dense, Input
    from keras.models import Sequential
    from keras.utils import to_categorical

    x, y = load_iris()
    rng = np.random.default_rng(42)
    test = np.concatenate([rng.permutation(np.flatnonzero(y == c))[:10] for c in range(3)])
    train = np.setdiff1d(np.arange(len(y)), test)
    mean, std = x[train].mean(axis=0), x[train].std(axis=0)
    x = (x - mean) / std

    model = Sequential([Input((4,)), Dense(64, activation="relu"), Dense(3, activation="softmax")])
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    model.fit(x[train], to_categorical(y[train], 3), epochs=100, batch_size=32, verbose=0)
    loss, accuracy = model.evaluate(x[test], to_categorical(y[test], 3), verbose=0)
    print("Loss:", loss)
    print("Accuracy:", accuracy)


if __name__ == "__main__":
    main()
