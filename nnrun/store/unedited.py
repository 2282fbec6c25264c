"""Whether a run's own files still describe its weights: ``config.yaml`` and
``preprocess.json`` as the run wrote them (meta.json keeps their hashes). An edited
activation would load the weights into another model, an edited mean read new data
otherwise, and both would score as if nothing had changed. The labels (``tags``,
``notes``) may be edited: they change nothing trained.

May import: the leaves, ``nnrun.config`` and the modules of ``nnrun.store`` before it.
"""

from __future__ import annotations

import json

from nnrun.config import (LABELS, Config, anchored, load_config, portable, resolved, run_config_hash,
                          trained_config_hash, with_defaults)
from nnrun.config.diff import describe_changes, listed
from nnrun.errors import UserError, train_command
from nnrun.store import checkpoints, files
from nnrun.store.rundir import RunDir
from nnrun.store.tensorfile import read


def check_unedited(run: RunDir, config: Config) -> None:
    """The run's config.yaml is the one its weights trained with (meta.json keeps the
    hash of the file's bytes): edited (another activation, another seed), it would load
    the weights into another model, or rebuild other splits, and score them as if nothing
    had changed. A file rewritten to the same settings (its comments, its layout) is
    taken, by the hash of the settings. The changes are listed from the newest
    checkpoint's copy of the config, where one is readable. A run without the file's
    hash (an older nnrun's, whose settings' hash a newer schema's defaults would change)
    is taken as it is."""
    if _unedited(run, config):
        return
    changes = _changes(run, config)
    raise UserError(f"{run.config}: changed since the run wrote it (meta.json's config_hash is another), so it no "
                    f"longer describes the run's weights{':' + listed(changes) if changes else ''}",
                    hint=f"undo the edit; to train with the new settings, start a new run from it: "
                    f"{train_command(run.config)}")


def unedited(run: RunDir) -> bool:
    """Whether the run's config.yaml still describes it, as :func:`check_unedited`
    judges (a file that no longer reads as a config does not); read only where its hash differs."""
    meta = run.read_meta_or_none()
    written = meta.get("config_file_hash") if isinstance(meta, dict) else None
    try:
        return not isinstance(written, str) or files.file_hash(run.config) == written or \
            _unedited(run, anchored(load_config(run.config).config, run.path))
    except UserError:
        return False


def _unedited(run: RunDir, config: Config) -> bool:
    # Its labels (tags, notes) may be edited: they change nothing trained. A run older than
    # meta.json's trained_config_hash is taken where its checkpoint shows they alone changed.
    meta = run.read_meta_or_none()
    written = meta.get("config_file_hash") if isinstance(meta, dict) else None
    if not isinstance(written, str) or files.file_hash(run.config) == written or \
            meta.get("config_hash") == run_config_hash(config, run.path) or \
            meta.get("trained_config_hash") == trained_config_hash(config, run.path):
        return True
    changes = _changes(run, config) if "trained_config_hash" not in meta else []
    return bool(changes) and all(change.startswith(tuple(f"{label} " for label in LABELS)) for change in changes)


def _changes(run: RunDir, config: Config) -> list[str]:
    """How ``config`` differs from the newest checkpoint's copy, where one is readable."""
    for path in checkpoints.candidates(run.path)[:1]:
        try:
            saved = json.loads(read(path)[1]["config"])
            return describe_changes(with_defaults(saved, run.path), resolved(portable(config, run.path)))
        except (UserError, KeyError, ValueError, TypeError):
            pass
    return []


def check_preprocessing_unedited(run: RunDir) -> None:
    """The run's preprocess.json, read and found sound, is the one it wrote (meta.json
    keeps its hash): an edited mean or category would read new data otherwise than the
    weights trained on, with no word of it. A run without the hash is taken as it is."""
    if run.preprocess_edited(run.read_meta_or_none()):
        raise UserError(f"{run.preprocess}: changed since the run wrote it (meta.json's preprocess_hash is another), "
                        "so new data would be read otherwise than the weights were trained on",
                        hint="put back the file the run wrote; to change how data is read, train a new run")
