"""Writes reviews.csv and reviews_new.csv, the generated movie reviews of
configs/text_lstm.yaml and configs/tiny_transformer.yaml (see nnrun/data/sequences.py):

    python configs/data/make_reviews.py
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np

from nnrun.data.sequences import reviews

HERE = Path(__file__).resolve().parent


def write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def main() -> None:
    texts, labels = reviews(np.random.default_rng(2026), 2000)
    write(HERE / "reviews.csv", ["review", "sentiment"], [[t, label] for t, label in zip(texts, labels)])
    new, _ = reviews(np.random.default_rng(7), 5)
    write(HERE / "reviews_new.csv", ["review"], [[t] for t in new])


if __name__ == "__main__":
    main()
