"""What an epoch history's curves say at a glance: a terminal sparkline of one of them,
and whether the run looks like it overfits (validation loss rising from its minimum
while training loss falls)."""

from __future__ import annotations

import math

from nnrun.store.history import best_row

SPARK_BLOCKS = "▁▂▃▄▅▆▇█"
SPARK_ASCII = "_.-~=+*#"  # the same eight levels, for an output that cannot encode the blocks
# Validation loss must end this much above its minimum (relative) to count as rising,
OVERFIT_RISE = 0.05
# and the rise must be this fraction of the curve's whole range: a wobble of 0.0007 near a
# minimum of 0.003 is noise, not overfitting.
OVERFIT_RANGE = 0.02
# ...and at least this many epochs must have passed since the minimum.
OVERFIT_MIN_EPOCHS = 3


def sparkline(values: list[float], width: int = 40, blocks: str = SPARK_BLOCKS) -> str:
    """Values as block characters, lowest ▁ to highest █ (or ``blocks``' first to last);
    long series are averaged down to ``width`` characters."""
    values = [v for v in values if math.isfinite(v)]
    if not values:
        return ""
    if len(values) > width:
        chunks = [values[i * len(values) // width : (i + 1) * len(values) // width] for i in range(width)]
        values = [sum(c) / len(c) for c in chunks]
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    top = len(blocks) - 1
    return "".join(blocks[round((v - low) / span * top)] for v in values)


def overfitting(history: list[dict]) -> str | None:
    """A sentence when validation loss rose from its minimum while training loss kept
    falling, else None. What to do about it depends on the run, so the caller adds it."""
    best = best_row(history, "val_loss") if history and "val_loss" in history[0] else None
    if best is None:
        return None
    last = history[-1]
    span = max(r["val_loss"] for r in history) - best["val_loss"]
    rise = last["val_loss"] - best["val_loss"]
    rose = rise > OVERFIT_RISE * best["val_loss"] and rise > OVERFIT_RANGE * span
    fell = last["loss"] < best["loss"]
    if not (rose and fell and last["epoch"] - best["epoch"] >= OVERFIT_MIN_EPOCHS):
        return None
    return (
        f"validation loss rose from {best['val_loss']:.4f} (epoch {best['epoch']}) to {last['val_loss']:.4f} "
        f"(epoch {last['epoch']}) while training loss fell from {best['loss']:.4f} to {last['loss']:.4f}: "
        "the model is likely overfitting"
    )
