"""What a failed run's meta.json says of its failure, read by whoever must not resume or
overwrite it blindly (``nnrun train --resume``, a train into its folder); and how to go on
after a run could not write its files."""

from __future__ import annotations

from nnrun.errors import resume_command

DIVERGED_REMEDY = "change the config so that it does not diverge"


def diverged_in(meta: dict | None) -> int | None:
    """The epoch a failed run's loss, gradients or weights became NaN or infinite in, as
    meta.json records it; None for a run that did not diverge. Resumed from its
    checkpoint with its config, it would diverge there again, batch for batch."""
    failure = meta.get("failure") if isinstance(meta, dict) else None
    if not isinstance(meta, dict) or meta.get("status") != "failed" or not isinstance(failure, dict):
        return None
    epoch = failure.get("epoch")
    return epoch if failure.get("type") == "NonFiniteError" and isinstance(epoch, int) else None


def free_space_hint(run_path, newest) -> str:
    """How to go on after a run could not write its files: resume from ``newest`` (its
    newest checkpoint), or, with none saved, train again."""
    if newest is None:
        return "free some disk space, then train again: the run saved no checkpoint to resume from"
    return f"free some disk space, then resume from {newest.name} with: {resume_command(run_path)}"
