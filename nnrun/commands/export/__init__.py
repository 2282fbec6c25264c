"""``nnrun export``: a trained run as an ONNX model, checked against nnrun.

    nnrun export RUN_DIR [-o FILE.onnx] [--opset 17] [--float16]

writes ``FILE.onnx`` (default ``RUN_DIR/model.onnx``, ``RUN_DIR/model-float16.onnx``
with ``--float16``) and ``FILE.json`` beside it: the model card of
:mod:`nnrun.commands.model_card`, which is also in the model's metadata under the key
``nnrun``, with the fingerprint of the weights exported (``weights_fingerprint``).
Neither file is ever overwritten: an export of the same weights is refused (unless
``--force``), and one of other weights (made before a resumed run trained on) is kept
aside as ``FILE.weights-<fingerprint>.onnx`` and ``.json``, so that the export beside
the run's weights is always of those weights. One of another run (``-o`` a deployment's
path) is refused unless ``--force``, which keeps it aside the same way. The ``onnx`` package (``nnrun[onnx]``) is
imported only here; onnxruntime, when installed, checks the result.

Modules: ``builder`` (names, nodes, weights, layouts), ``activations``, ``layers`` and
``sequences`` (one converter per catalog entry), ``masks`` (padding masks through the
graph), ``convert`` (the whole graph with its preprocessing), ``check`` (onnx.checker,
the runtime comparison, the float16 score).

May import: what ``nnrun.commands`` may, and ``onnx`` / ``onnxruntime`` only inside
the functions that need them.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nnrun.errors import AlreadyDone, ConfigError, UserError
from nnrun.store import files
from nnrun.store.outputs import output_of, record_of

from nnrun.commands.export.check import Comparison, check_model, compare
from nnrun.commands.export.convert import INPUT_NAME, LOWEST_OPSET, check_exportable, output_name, to_onnx

DEFAULT_OPSET = 17
INSTALL_HINT = "install it with: pip install 'nnrun[onnx]'  (or: pip install onnx)"
FLOAT16_MAX = float(np.finfo(np.float16).max)


@dataclass(frozen=True)
class ExportReport:
    model_path: Path
    card_path: Path
    opset: int
    float16: bool
    size_bytes: int
    parameters: int
    comparison: Comparison | None
    skipped: str | None  # why the comparison did not run (the data could not be loaded)
    weights_note: str | None = None  # set when an unfinished run's newest checkpoint was exported
    kept: tuple[Path, ...] = ()  # an earlier export of other weights, moved aside
    task: str = "classification"  # the card holds class names only for a classifier


def export_run(run_dir: str | Path, output: str | Path | None = None, opset: int = DEFAULT_OPSET,
               float16: bool = False, force: bool = False) -> ExportReport:
    """Export the run at ``run_dir``; see the module docstring. An existing export of
    the same weights is replaced only with ``force``; one of other weights is kept aside."""
    onnx = require_onnx()
    _check_opset(onnx, opset)
    from nnrun.commands.model_card import model_card
    from nnrun.store.trained import TrainedRun
    from nnrun.version import __version__

    trained = TrainedRun.load(run_dir)
    trained.require_trained("export")
    graph, saved = trained.graph, trained.preprocessing
    with _naming(trained.run.path):  # what the model cannot be exported as, told of this run
        check_exportable(graph)
        if float16:
            _check_fits_float16(graph)
    card = model_card(trained) | _io_description(graph, saved.task, opset, float16)
    fingerprint = card["weights_fingerprint"]  # hashed once, for the card and the check of an earlier export
    target = _target(trained.run, output, float16)
    other = _other_run(target, card)
    if not force and other is not None:  # a deployment's path switching models
        raise UserError(f"{target}: holds the export of another run ({other}); nnrun export does not replace it",
                        hint="add --force to replace it (it is kept aside, not lost), or choose another name with "
                             "-o FILE.onnx")
    # Kept aside even with --force: nothing of it is lost (another run's, though its weights be the same).
    earlier = _other_weights(target, fingerprint) or (_recorded_weights(target) if other else None)
    _check_free(target, force or earlier is not None, files.json_text(card))
    with _naming(trained.run.path):
        model = to_onnx(onnx, graph, trained.config.data.preprocess, saved.states, saved.task, opset, float16,
                        {"nnrun": files.json_text(card), "task": saved.task}, __version__)
    check_model(onnx, model)
    data = model.SerializeToString()
    comparison, skipped = _compare(data, trained, float16)
    card_path = target.with_suffix(".json")
    kept = _keep_aside(target, earlier) if earlier else ()
    files.atomic_write(target, data)
    files.atomic_write(card_path, files.json_text(card).encode())
    return ExportReport(target, card_path, opset, float16, len(data), graph.parameter_count, comparison, skipped,
                        trained.weights_note, kept, saved.task)


@contextmanager
def _naming(run_path: Path):
    """A refusal of the model itself (a layer, an activation, a weight beyond float16)
    begins with the run directory, as every other message about a run does."""
    try:
        yield
    except UserError as exc:
        raise UserError(f"{run_path}: {exc.message}", hint=exc.hint) from None


def require_onnx():
    try:
        import onnx
    except ImportError:
        raise UserError("nnrun export needs the onnx package, which is not installed", hint=INSTALL_HINT) from None
    return onnx


def _check_opset(onnx, opset: int) -> None:
    newest = onnx.defs.onnx_opset_version()
    if not LOWEST_OPSET <= opset <= newest:
        raise UserError(f"--opset {opset}: choose an opset from {LOWEST_OPSET} to {newest} "
                        f"(the installed onnx {onnx.__version__} knows up to {newest}); the default is {DEFAULT_OPSET}")


def _check_fits_float16(graph) -> None:
    too_large = [name for name, value in graph.params.items() if value.size and np.abs(value).max() > FLOAT16_MAX]
    if too_large:
        raise UserError(f"--float16: the weights {', '.join(too_large)} hold values beyond float16's range "
                        f"(+-{FLOAT16_MAX:g})", hint="export without --float16")


def _target(run, output: str | Path | None, float16: bool) -> Path:
    target = Path(output) if output is not None else run.onnx(float16)
    if target.suffix.lower() != ".onnx":
        raise UserError(f"-o {target}: give a file name ending in .onnx (the model card goes beside it, as .json)")
    if not target.parent.is_dir():
        raise UserError(f"-o {target}: the folder {target.parent} does not exist")
    for existing in (target, target.with_suffix(".json")):
        if existing.is_symlink() or existing.is_dir():
            what = "a symbolic link" if existing.is_symlink() else "a folder"
            raise UserError(f"{existing}: is {what}; nnrun export writes only plain files",
                            hint="choose another name with -o FILE.onnx")
        # -o RUN/meta.onnx would put the model card over the run's meta.json.
        if (owner := record_of(existing)) is not None:
            raise UserError(f"{existing}: is part of the run {owner} (its weights, config or records); nnrun export "
                            "never writes over it, --force or not",
                            hint=f"choose another name with -o, e.g. -o {run.onnx(float16)}")
        output = output_of(existing)
        if output is not None and output[1] != "export":
            raise UserError(f"{existing}: is where nnrun {output[1]} writes for the run {output[0]}; nnrun export never "
                            "writes there, --force or not", hint=f"choose another name with -o, e.g. -o "
                            f"{run.onnx(float16)}")
    return target


def _recorded_weights(target: Path) -> str | None:
    """The weights fingerprint an earlier export at ``target`` records in its model card;
    None when there is no such export, or its card is not one nnrun wrote."""
    try:
        earlier = json.loads(target.with_suffix(".json").read_text(encoding="utf-8")).get("weights_fingerprint")
    except (OSError, ValueError, AttributeError):
        return None
    return earlier if isinstance(earlier, str) else None


def _other_weights(target: Path, fingerprint: str) -> str | None:
    """The earlier export's weights fingerprint when it differs from ``fingerprint`` (the
    run was resumed since, say)."""
    earlier = _recorded_weights(target)
    return earlier if earlier != fingerprint else None


def _other_run(target: Path, card: dict) -> str | None:
    """The run an earlier export at ``target`` came from (its name and start, as its model
    card records them), when that is not the run of ``card``; None when it is the same
    run (its weights may have moved on since: a resume), or there is no nnrun export."""
    try:
        earlier = json.loads(target.with_suffix(".json").read_text(encoding="utf-8")).get("run")
    except (OSError, ValueError, AttributeError):
        return None
    # What a resumed run keeps (its export of earlier weights is no other run's); a card of an
    # older nnrun has no folder, and is judged by the rest.
    same = [key for key in ("name", "created", "folder", "sweep", "trial") if key in earlier or key == "name"] \
        if isinstance(earlier, dict) else []
    if not isinstance(earlier, dict) or all(earlier.get(key) == card["run"].get(key) for key in same):
        return None
    return f"{earlier.get('name') or 'unnamed'}, started {earlier.get('created')}"


def _keep_aside(target: Path, earlier: str) -> tuple[Path, ...]:
    """Move an export of other weights (``earlier``) and its card aside, under names
    that say which weights: it no longer matches the run, and nothing of it is lost."""
    paths = (target, target.with_suffix(".json"))
    base = f"{target.stem}.weights-{earlier[:8]}"
    # One free name for the pair, so a model and its card stay side by side.
    name = next(stem for stem in (base if n == 1 else f"{base}-{n}" for n in range(1, 10_000))
                if not any(target.with_name(stem + path.suffix).exists() for path in paths))
    moved = (files.keep_aside(path, name + path.suffix) for path in paths if path.exists())
    return tuple(path for path in moved if path is not None)


def _check_free(target: Path, force: bool, card_text: str) -> None:
    """An export already there is replaced only with ``force``; one of the same card (the
    same weights, opset and run) is no failure: it is the export asked for."""
    try:
        same = not force and target.is_file() and target.with_suffix(".json").read_text() == card_text
    except (OSError, UnicodeDecodeError):
        same = False
    if same:
        raise AlreadyDone(f"{target}: already exported, from the same weights with the same settings; nothing "
                          "written", hint="add --force to write it again")
    for existing in (target, target.with_suffix(".json")):
        if existing.exists() and not force:
            raise UserError(f"{existing}: already exists; nnrun export does not overwrite it",
                            hint="add --force to replace it, or choose another name with -o FILE.onnx")


def _io_description(graph, task: str, opset: int, float16: bool) -> dict:
    out_shape = list(graph.output_shape)
    if task == "classification" and out_shape == [1]:
        out_shape = [2]
    return {
        "onnx": {"opset": opset, "float16_weights": float16,
                 "input": {"name": INPUT_NAME, "shape": ["batch", *graph.input_shape], "dtype": "float32"},
                 "output": {"name": output_name(task), "shape": ["batch", *out_shape], "dtype": "float32"}},
    }


def _compare(data: bytes, trained, float16: bool):
    """The comparison on the run's held-out data, or why it could not run."""
    from nnrun.config import load_config
    from nnrun.data import load_splits
    from nnrun.engine.experiment import resolve_paths
    from nnrun.store.moved import moved_data, read_there

    saved = trained.preprocessing
    try:
        loaded = load_config(trained.run.config)
        resolved = resolve_paths(loaded)
        resolved = read_there(resolved, moved_data(resolved, trained.run)[0])  # moved with its project: see store.moved
        try:
            parts = load_splits(resolved.data, resolved.seed, saved.encoding()).parts
        except ConfigError as exc:  # a data problem is told at its line of the run's config.yaml
            raise loaded.locate(exc) from None
    except UserError as exc:
        return None, f"the run's data could not be loaded ({exc.message})"
    name = next(n for n in ("test", "validation", "train") if n in parts)
    split = (name, parts[name].x, parts[name].y)
    return compare(data, output_name(saved.task), INPUT_NAME, trained.graph, trained.config.data.preprocess,
                   saved.states, saved.task, split, float16), None


__all__ = ["DEFAULT_OPSET", "ExportReport", "export_run", "require_onnx"]
