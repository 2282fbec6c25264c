"""``nnrun init --data FILE.npz [--target NAME]``: a starter config for an archive of
arrays, its model chosen by the shape of the samples (the array ``x``), as Keras's
tutorials build one:

    (features,)                  a dense network on standardized features
    (steps,) of token ids        an embedding (mask_zero where rows are padded with 0)
                                 and a mean over the tokens, then the dense head: whole
                                 numbers stored as integers, a tenth of the rows or more
                                 padded with 0 at one end, as pad_sequences writes them
    (height, width, channels)    two convolutions with max pooling, then the dense head;
                                 pixels above 1 scaled to 0..1
    (height, width)              the same, after a reshape that adds the channel axis
    (steps, features)            an LSTM, after a masking layer where the sequences look
                                 padded with steps of 0 (at either end; then also
                                 wider than 16 features: no image)

The targets (``y``, or the array ``--target`` names) decide the task as a CSV file's
labels do: texts, booleans, one-hot rows or a few whole numbers are classes; numbers
with fractions or of many values make a regression. The archive is then read by the
npz source itself, so that what training would refuse (a NaN target, an object array)
is said here first.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from nnrun.commands.init_csv import MIN_ROWS, MOST_CLASSES
from nnrun.commands.starter import (HELD_OUT, commented, model_lines, positive_last, scalar, schema_lines,
                                    target_lines, training_lines)
from nnrun.config.run_names import default_name
from nnrun.data.files import NpzSource, probability_rows
from nnrun.data.formats import npz_keys, read_npz
from nnrun.data.ranges import pixel_top
from nnrun.engine.mask_advice import sequence_padding
from nnrun.errors import UserError, did_you_mean, quoted
from nnrun.model.layers.base import looks_channels_first

IMAGE_WIDTH = 16  # samples (a, b) with b above this are images of one channel; up to it, steps of b features


def npz_starter_text(data: Path, target: str | None, path: Path, notes: list[str] | None = None) -> str:
    """The commented YAML for training on the archive ``data``, its targets the array
    ``target`` (default ``y``), written to ``path``."""
    y_name = target or "y"
    arrays = read_npz(data, ["x", y_name])
    for name in ("x", y_name):
        if name not in arrays:
            keys = npz_keys(data)
            raise UserError(f"--data: {data} holds no array named '{name}'{did_you_mean(name, keys, 'the arrays are')}",
                            hint="init --data reads the samples from the array x and the targets from y (or the "
                            "array --target names): numpy.savez(path, x=samples, y=targets)")
    if y_name == "x":
        raise UserError("--target: x holds the samples; name the array of the targets", hint=f"the arrays of {data} "
                        f"are: {', '.join(npz_keys(data))}")
    shape, task = arrays["x"].shape[1:], _task(arrays[y_name])
    if notes is not None and (note := _proportions_note(arrays[y_name], y_name)):
        notes.append(note)
    source = NpzSource(path=str(data), y=y_name, task=task)
    loaded = source.load(0)  # as training reads it: its refusals (soft or several labels a row) first
    if len(loaded.y) < MIN_ROWS:
        raise UserError(f"{data}: {len(loaded.y)} samples; a model learns from more, and the validation and test "
                        f"splits hold some of them out (at least {MIN_ROWS})")
    classes, counts = None, []
    if task == "classification":
        if loaded.num_classes < 2:
            raise UserError(f"{data}: '{y_name}' holds one class ({loaded.class_names[0]}) for every sample: there "
                            "is nothing to predict", hint="name the targets' array with --target")
        counts = np.bincount(np.asarray(loaded.y).reshape(-1), minlength=loaded.num_classes).tolist()
        by_name = dict(zip(loaded.class_names, counts))
        classes = positive_last(loaded.class_names, counts)
        counts = [by_name[c] for c in classes]
    before, flatten, preprocess = _model_for(data, shape, np.asarray(loaded.x), arrays["x"].dtype)
    about = "a regression" if classes is None else f"a classification of {len(classes)} classes"
    lines = [*schema_lines(path),
             f"# Starter config for {data.name}: samples of shape {shape} in 'x', predicting '{y_name}', {about}.",
             f"# Check it against the data:  nnrun validate {quoted(path)}",
             f"# Then train it:              nnrun train {quoted(path)}",
             f"name: {default_name(path)}", "seed: 42", "data:",
             f"  source: {{type: npz, path: {scalar(os.path.relpath(data.resolve(), path.parent.resolve()))}"
             f"{f', y: {scalar(y_name)}' if y_name != 'y' else ''}}}",
             *_split_lines(source.given_splits(), classes is not None)]
    if len(shape) == 2 and not flatten and len(source.given_splits()) < 2:  # sequences, some held out here
        steps = max(shape)  # the window's length, whether its axes are swapped (fewer steps than features) or not
        lines.append(f"  # if the sequences are windows of one series in time order, shuffle: false in split tests on "
                     f"the last ones (and gap: {steps} leaves out the windows of {steps} steps that overlap them); "
                     "drawn at random, held-out windows overlap the ones the model learned from")
    if preprocess:
        lines.append(preprocess)
    lines += target_lines(classes)
    targets = int(np.prod(loaded.y.shape[1:])) if classes is None else 1
    lines += [*model_lines(classes, flatten=flatten, counts=counts, before=before, outputs=targets),
              *training_lines(100)]
    return "\n".join(lines) + "\n"


def _task(y: np.ndarray) -> str:
    """classification for texts, booleans, one-hot rows or a few whole numbers; else regression."""
    if y.dtype.kind in "USb" or y.ndim > 2:
        return "classification"
    if y.ndim == 2 and y.shape[1] > 1:  # rows of 0 and 1 are labels (several 1s a row: refused as training does)
        return "classification" if bool(np.isin(y, (0, 1)).all()) else "regression"
    values = y.reshape(-1)
    if values.dtype.kind == "f" and (not np.isfinite(values).all() or (values != np.round(values)).any()):
        return "regression"  # a NaN is said by the source, as a missing target
    return "classification" if len(np.unique(values)) <= MOST_CLASSES else "regression"


def _proportions_note(y: np.ndarray, name: str) -> str | None:
    """For rows of fractions that sum to 1: the config predicts them as amounts; they may
    be soft labels instead, which a classifier learns as classes."""
    if y.ndim != 2 or y.shape[1] < 2 or y.dtype.kind not in "iuf" or np.isin(y, (0, 1)).all() or \
            not probability_rows(y):
        return None
    return (f"the rows of '{name}' sum to 1: the config predicts them as amounts (a regression); if they are soft "
            "labels of classes, give each sample its class (y.argmax(axis=1)) and set loss.label_smoothing instead")


def _split_lines(given: frozenset[str], stratify: bool) -> list[str]:
    """The held-out fractions of the splits the archive does not hold (x_test, y_test)."""
    held = [f"{name}: {HELD_OUT}" for name in ("validation", "test") if name not in given]
    if not held:
        return ["  # the validation and test splits: the archive's own arrays"]
    own = [name for name in ("validation", "test") if name in given]
    return [commented(f"  split: {{{', '.join(held)}{', stratify: true' if stratify else ''}}}",
                      "held-out fractions; the rest trains" + (f" ({own[0]}: the archive's own)" if own else ""))]


def _model_for(data: Path, shape: tuple[int, ...], x: np.ndarray, stored) -> tuple[tuple[str, ...], bool, str | None]:
    """The layers that read the samples, whether a flatten follows them, and the
    preprocess line, for samples of ``shape`` (``stored``: the archive's dtype)."""
    if len(shape) == 1 and (ids := _token_ids(x, stored)) is not None:
        largest, padded = ids
        embedding = commented(f"    - {{type: embedding, input_dim: {largest + 1}, output_dim: 32"
                              f"{', mask_zero: true' if padded else ''}}}",
                              f"token ids 0 to {largest}: input_dim is the largest + 1 (your vocabulary's size, if "
                              "larger)" + (f"; {padded:.0%} of the rows padded with 0, skipped" if padded else ""))
        return (embedding, commented("    - {type: global_average_pool1d}", "the mean of the tokens' vectors")), \
            False, None
    if len(shape) == 1:
        return (), False, commented("  preprocess: [standardize]", "fitted on the training split only")
    # Sequences padded with steps of 0 at one end; 8-bit values are pixels, however they lie.
    end, padded = sequence_padding(x) if len(shape) == 2 and stored != np.uint8 else (None, 0.0)
    # Two 2x2 poolings need 4 pixels a side at least: narrower samples are sequences, and so
    # are values below 0 (a pixel's brightness is not).
    sampled = x[:: max(1, len(x) // 256)][:256]
    image = len(shape) == 3 or (len(shape) == 2 and (shape[1] > IMAGE_WIDTH or stored == np.uint8) and not padded
                                and min(shape) >= 4 and float(np.min(sampled)) >= 0)
    if image:
        if looks_channels_first(shape) and shape[-1] not in (1, 3, 4):  # as training's own warning reads them
            raise UserError(f"{data}: the samples {shape} look like images stored channels first, (channels, height, "
                            "width); nnrun's images are channels last, (height, width, channels)",
                            hint="save them as x.transpose(0, 2, 3, 1) and run nnrun init again")
        top = float(np.max(sampled))
        top = pixel_top(top)
        reshape = (commented(f"    - {{type: reshape, target_shape: [{shape[0]}, {shape[1]}, 1]}}",
                             "images of one channel: the channel axis added"),) if len(shape) == 2 else ()
        convolutions = (*reshape,
                        commented("    - {type: conv2d, filters: 32, kernel_size: 3, padding: same, activation: relu}",
                                  "32 filters of 3x3 pixels"),
                        commented("    - {type: max_pool2d, pool_size: 2}", "half the height and width"),
                        "    - {type: conv2d, filters: 64, kernel_size: 3, padding: same, activation: relu}",
                        "    - {type: max_pool2d, pool_size: 2}")
        scale = commented(f"  preprocess: [{{type: scale, factor: {1 / top:.6g}}}]", f"pixels 0..{top:g} to 0..1") \
            if top > 1 else None
        return convolutions, True, scale
    if len(shape) == 2:
        masking = (commented("    - {type: masking}", f"{padded:.0%} of the sequences {end.replace('start', 'begin')} "
                             "in steps of 0: padding, skipped"),) if padded else ()
        steps = f"reads the {shape[0]} step{'s' * (shape[0] != 1)} in order"
        if shape[0] < shape[1]:  # fewer steps than features: the axes may be the other way round
            steps += f", of {shape[1]} features each (stored as (samples, features, steps)? save x.transpose(0, 2, 1))"
        lstm = commented("    - {type: lstm, units: 64}", steps)
        # Standardizing would move the padding's zeros, which the masking layer looks for.
        standardize = None if padded else commented("  preprocess: [{type: standardize, per: channel}]",
                                                    "each feature over every step, from the training split")
        return (*masking, lstm), False, standardize
    raise UserError(f"{data}: samples of shape {shape} in 'x' have no starter model (one knows of features, images "
                    "and sequences)", hint="write model.layers yourself: nnrun layers lists them")


def _token_ids(x: np.ndarray, stored) -> tuple[int, float] | None:
    """(largest id, share of rows padded with 0 at one end) for (N, T) samples stored as
    whole numbers that read as token ids, as a tokenizer and pad_sequences write them:
    whole numbers of 0 and up, up to 3 at least, at least a tenth of the rows padded at
    one end, and almost every row holding a 0 padded so (a table of counts or of 0/1 flags
    has its zeros anywhere); else None. Standardized, such ids would mean nothing: an embedding
    reads them."""
    if not np.issubdtype(stored, np.integer) or x.ndim != 2 or x.shape[1] < 4 or not len(x):
        return None
    sampled = x[:: max(1, len(x) // 4096)][:4096]
    if float(np.min(sampled)) < 0:
        return None
    real = sampled != 0
    count = real.sum(axis=1)
    positions = np.arange(x.shape[1])
    cut = count < x.shape[1]  # an empty row (all padding) is padded too
    post = cut & np.all(real == (positions < count[:, None]), axis=1)
    pre = cut & np.all(real == (positions >= x.shape[1] - count[:, None]), axis=1)
    padded = float(max(post.mean(), pre.mean()))
    # A zero is padding and nothing else (a table of 0/1 flags has zeros anywhere), and ids
    # run past a flag's 0 and 1.
    zeros = float((~real).any(axis=1).mean())
    return (int(np.max(x)), padded) if padded >= 0.1 and padded >= 0.9 * zeros and np.max(x) >= 3 else None
