"""Data: sources, splits and preprocessing, in the order training uses them.

Owns reading every kind of source (bundled sets, CSV, NPZ, IDX, synthetic), the
seeded train/validation/test split, the column encoding of tables and the
preprocessing steps fitted on the training split.

May import: the leaves and ``nnrun.model``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np

from nnrun.data.base import TEST, VALIDATION
from nnrun.data.labels import category_warnings
from nnrun.data.dataset import Dataset
from nnrun.data.sources import BUILTIN, SourceSpec
from nnrun.data.split import SPLITS, SplitConfig, held_out_class_warnings, split_indices
from nnrun.seeding import stream

__all__ = ["BUILTIN", "Dataset", "SPLITS", "SourceSpec", "SplitConfig", "Splits", "load_splits"]


@dataclass(frozen=True)
class Splits:
    # "train", "validation", "test" (empty ones left out), columns encoded. Each part's
    # samples are the run's own to overwrite: a source's fresh arrays, or copies.
    parts: dict[str, Dataset]
    columns: dict | None = None  # the fitted column encoding of a table source (see .table)
    warnings: tuple[str, ...] = ()  # shown by validate and train: single-row classes, odd categories, ...
    fingerprints: dict[str, str] | None = None  # of each raw split (see Dataset.fingerprint)


def load_splits(data_config, seed: int, columns: dict | None = None) -> Splits:
    """Load the source and cut it into splits, seeded so evaluate rebuilds the same.

    A table source's columns are encoded after the split, with the categories, fill
    values and text vocabulary learned on the training rows (or the saved ``columns``
    state)."""
    source = data_config.source
    full = source.load(seed)
    rng = stream(seed, "split")
    indices = split_indices(full, data_config.split, rng)
    warnings, table = list(full.warnings), full.table is not None
    # The splits a source gave as files or arrays of their own (test_path, x_test).
    given = {name for code, name in ((VALIDATION, "validation"), (TEST, "test"))
             if full.assigned is not None and (full.assigned == code).any()}
    warnings += held_out_class_warnings(full, indices, given, ordered=not data_config.split.shuffle)
    drawn = [name for name in ("validation", "test") if len(indices.get(name, ())) and name not in given]
    if not data_config.split.shuffle and table and drawn:  # held out from the rows, in their order
        warnings += _newest_first(full, getattr(data_config.source, "dates", None) or {})
    parts = full.split(indices, keep="train")
    del full  # the unsplit set is dropped before encoding: it would double the peak memory
    if data_config.classes is not None:  # after the split: its stratified rows are those of the classes sorted
        parts = {name: in_order(part, data_config.classes) for name, part in parts.items()}
    fingerprints = _fingerprints_aside(parts)
    if table:
        from nnrun.data.encoding import fit_columns  # only a table source needs the column encoding

        if columns is None:
            columns = fit_columns(parts["train"].table, source.missing, source.text, source.dates,
                                  thousands=source.thousands,
                                  delimiter=source.delimiter, decimal=source.decimal,
                                  text_encoding=source.encoding,
                                  unknown=source.unknown, ids=list(source.id), ignored=list(source.ignore),
                                  missing_values=list(source.missing_values), strip_signs=list(source.strip_signs),
                                  missing_category=source.missing_category, fold_case=source.fold_case)
            warnings += _column_warnings(parts, columns)
        for name in list(parts):  # one split at a time, its raw table dropped once encoded
            parts[name] = _encoded(parts.pop(name), columns)
    warnings += _held_out_copies(parts, given)
    return Splits(parts, columns, tuple(warnings), fingerprints())


def in_order(data: Dataset, classes: list[str]) -> Dataset:
    """``data`` with its classes numbered in the order ``classes`` (data.classes) lists
    them, instead of sorted; every class of the data must be listed, and only those."""
    from nnrun.data.cells import is_boolean
    from nnrun.errors import ConfigError, Problem

    found = data.class_names
    if found is not None and is_boolean(found):  # True and False, in any case, as a boolean target's classes read
        classes = [next((f for f in found if f.casefold() == c.casefold()), c) for c in classes]
    if data.task != "classification" or found is None:
        raise ConfigError("", [Problem("data.classes", f"the data is a {data.task}, which has no classes to order; "
                                                        "remove data.classes")])
    missing, unknown = [c for c in found if c not in classes], [c for c in classes if c not in found]
    if missing or unknown:
        said = [f"the data has {'the classes' if len(missing) > 1 else 'the class'} {', '.join(map(repr, missing))} "
                "too"] * bool(missing) + [f"no row is of {', '.join(map(repr, unknown))}"] * bool(unknown)
        raise ConfigError("", [Problem("data.classes", f"{'; '.join(said)}; list each class of the data once, in "
                                                        f"the order wanted (as found: [{', '.join(found)}])")])
    new_index = np.array([classes.index(name) for name in found], np.int64)
    return replace(data, y=new_index[data.y], class_names=list(classes))


LEAK_SHARE = 0.25  # of a held-out split's rows found in training, above which it is told


def _held_out_copies(parts: dict[str, Dataset], given: set[str]) -> list[str]:
    """Held-out data given apart (a test file, x_test) whose rows are largely training
    rows, copied from the training data by mistake: their scores would be optimistic,
    and nothing else says so. Rows are compared exactly, by their bytes. Not told where
    the training rows repeat among themselves (inputs of few values: chance repeats
    across files), nor for a random split, whose twins are the data's own."""
    train = parts.get("train")
    if train is None or not len(train) or not given:
        return []
    seen = _row_keys(train.x)
    if len(np.unique(seen)) < (1 - LEAK_SHARE) * len(seen):
        return []
    order = np.argsort(seen, kind="stable")
    sorted_keys, train_rows = seen[order], train.x.reshape(len(train), -1)
    warnings = []
    for name in sorted(given & parts.keys()):
        part = parts[name]
        if not len(part):
            continue
        keys, rows = _row_keys(part.x), part.x.reshape(len(part), -1)
        at = np.minimum(np.searchsorted(sorted_keys, keys), len(seen) - 1)
        candidates = np.flatnonzero(sorted_keys[at] == keys)  # then compared value by value
        copies = int(np.all(rows[candidates] == train_rows[order[at[candidates]]], axis=1).sum())
        if copies >= max(LEAK_SHARE * len(part), 2):
            warnings.append(f"{copies} of the {len(part)} {name} rows are also training rows (the same values): "
                            f"the {name} scores will be optimistic; hold out rows the model does not train on")
    return warnings


def _row_keys(x: np.ndarray, block: int = 2048) -> np.ndarray:
    """A key per sample from its bytes: the same values give the same key, whichever
    array they sit in (integer sums wrap, so their order does not matter; a float
    product would not promise that)."""
    raw = np.ascontiguousarray(x.reshape(len(x), -1)).view(np.uint8)
    words = raw.view(np.uint32) if raw.shape[1] % 4 == 0 else raw
    weights = np.random.default_rng(0).integers(1, 2**63, words.shape[1], dtype=np.uint64) | np.uint64(1)
    keys = np.empty(len(words), np.uint64)
    for start in range(0, len(words), block):  # in blocks: the products of all rows at once would be 8x the data
        keys[start:start + block] = (words[start:start + block] * weights).sum(axis=1)
    return keys


def _fingerprints_aside(parts: dict[str, Dataset]) -> Callable[[], dict[str, str]]:
    """Fingerprint the raw splits on a second thread; the returned call waits for them.

    Hashing every raw cell takes tens of milliseconds for a large file, and hashlib
    lets go of the interpreter while it hashes, so it runs beside the fitting and
    encoding that follow. Each split is let go of once hashed, so no raw split lives
    longer than its encoding would keep it."""
    pending, found, failed = list(parts.items()), {}, []

    def work():
        try:
            while pending:
                name, part = pending.pop(0)
                found[name] = part.fingerprint()
                del part
        except BaseException as exc:  # handed to the waiting call
            failed.append(exc)

    thread = threading.Thread(target=work, name="fingerprints", daemon=True)
    thread.start()

    def wait() -> dict[str, str]:
        thread.join()
        if failed:
            raise failed[0]
        return found

    return wait


CUT_SHARE = 0.1  # of the training texts cut to ``length``, above which it is a warning
UNKNOWN_SHARE = 0.2  # of the training tokens read as [UNK] for want of room, above which it is a warning


def text_warnings(name: str, texts, state: dict) -> list[str]:
    """Training texts longer than ``length`` tokens lose their ends: said when more than
    ``CUT_SHARE`` of them do, with the length that would keep 95% whole. A vocabulary
    too small for the training split's words reads the rest as one token, [UNK]: said
    when they are more than ``UNKNOWN_SHARE`` of its tokens, with the size that keeps all."""
    import math
    from collections import Counter

    import numpy as np

    from nnrun.data.text import MAX_TOKENS, OOV, tokenize

    counts: Counter = Counter()
    tokens = np.empty(len(texts), np.int64)
    for i, text in enumerate(texts):  # one pass, no text's tokens kept: a large corpus fits as it did
        words = tokenize(text, state)
        tokens[i] = len(words)
        counts.update(words)
    warnings = []
    length, cut = state["length"], int((tokens > state["length"]).sum()) if len(tokens) else 0
    if cut > CUT_SHARE * len(tokens):
        keeps = int(np.sort(tokens)[math.ceil(0.95 * len(tokens)) - 1])  # at least 95% of them at most this long
        warnings.append(f"column '{name}': {cut:,} of {len(tokens):,} training texts ({cut / len(tokens):.0%}) have "
                        f"more than length: {length} tokens and are cut to their first {length} (the longest has "
                        f"{tokens.max():,}); data.source.text.length: {keeps} keeps 95% of them whole")
    counts.pop(OOV, None)
    kept = set(state["vocabulary"][2:])
    unknown = sum(n for token, n in counts.items() if token not in kept)
    if len(kept) == state["max_tokens"] - 2 and unknown > UNKNOWN_SHARE * max(sum(counts.values()), 1):
        warnings.append(f"column '{name}': data.source.text.max_tokens: {state['max_tokens']:,} keeps the "
                        f"{len(kept):,} most frequent of the training split's {len(counts):,} distinct tokens; the "
                        f"rest, {unknown / sum(counts.values()):.0%} of its tokens, all read as [UNK], one input for "
                        f"all of them: max_tokens: {min(len(counts) + 2, MAX_TOKENS):,} keeps "
                        f"{'every one' if len(counts) + 2 <= MAX_TOKENS else 'the most it may'} (an embedding's "
                        "input_dim at least that reads them all)")
    return warnings


def _newest_first(full: Dataset, dates: dict[str, str]) -> list[str]:
    """A split in the rows' order holds out the last rows: the days after the ones the
    model learns from, unless the file runs newest first, where they are the oldest."""
    from nnrun.data.dates import time_order

    for name, form in dates.items():
        codes, words = full.table.codes(name)
        sample = [words[code] for code in codes[np.linspace(0, len(codes) - 1, min(len(codes), 500)).astype(int)]]
        sample = [word for word in sample if word]  # an empty cell has no time
        if time_order(sample, name, None if form == "auto" else form) == "backward":
            return [f"data.split: shuffle: false holds out the last rows, but '{name}' runs backward in time (newest "
                    "first), so the held-out rows are the oldest days, before every day the model learns from; "
                    "sort the rows oldest first"]
    return []


def _column_warnings(parts: dict[str, Dataset], columns: dict) -> list[str]:
    """Categorical columns with too many values, and categories the training split lacks."""
    from nnrun.data.encoding import unseen_categories

    categories = {c["name"]: c["categories"] for c in columns["columns"] if c["kind"] == "categorical"}
    train = parts["train"].table
    counts = {name: train.counts(name) for name, values in categories.items()
              if any(str(v).strip().casefold() == "none" for v in values)}
    warnings = category_warnings(categories, len(parts["train"]), counts)
    for column in (c for c in columns["columns"] if c["kind"] == "text"):
        warnings += text_warnings(column["name"], train.strings[:, train.categorical.index(column["name"])],
                                  column["text"])
    for name, part in parts.items():
        if name == "train":
            continue
        for column, values in unseen_categories(part.table, columns).items():
            listing = ", ".join(f"'{v}' ({n} row{'s' if n != 1 else ''})" for v, n in list(values.items())[:5])
            more = f" and {len(values) - 5} more" if len(values) > 5 else ""
            warnings.append(f"column '{column}': {listing}{more} only in the {name} split, not in training; "
                            "encoded as all zeros there")
    return warnings


def _encoded(part: Dataset, columns: dict) -> Dataset:
    """Features from the raw columns; the names become the encoded ones (city=Paris)."""
    from nnrun.data.encoding import encode_columns
    from nnrun.data.features import encoded_names

    x = encode_columns(part.table, columns)
    return replace(part, x=x, feature_names=encoded_names(columns), table=None)
