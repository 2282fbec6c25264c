"""The run directory: created once, never overwritten, every file named here.

    runs/<name>-<YYYYmmdd-HHMMSS>/
        config.yaml  meta.json  metrics.csv  preprocess.json  model.safetensors
        checkpoints/  eval-<split or data file>.json  predictions.csv  curves.png

:class:`RunDir` is the one place that knows these names; everything else asks it for a
path (``run.meta``, ``run.weights``) and reads ``meta.json`` through it. Files are
written atomically (:mod:`nnrun.store.files`).

One process at a time writes a run directory: it holds an exclusive ``flock`` on
``.lock`` inside it, which the kernel releases when the process ends, however it ends.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from nnrun.errors import UserError, resume_command, said
from nnrun.store import files
from nnrun.store.failures import DIVERGED_REMEDY, diverged_in
from nnrun.store.leftovers import CHECKPOINT_FILE, remove_unstarted, started_nothing
from nnrun.store.lock import LOCK_FILE, RunLock, held_by, is_held
from nnrun.store.run_hints import runs_hint, sweep_hint

SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def checkpoint_name(epoch: int) -> str:
    return f"epoch-{epoch:06d}.safetensors"


@dataclass(frozen=True)
class RunDir:
    """A run directory and the path of every file in it; ``premade``: an empty folder made
    beforehand (a CI step's, a volume's) that this run claimed, and leaves in place."""

    path: Path
    premade: bool = field(default=False, compare=False)
    # The lock taken as a folder already there was claimed (see _create_explicit), held
    # until the run takes it: no other process may judge the folder free meanwhile.
    claim: RunLock | None = field(default=None, compare=False, repr=False)

    @property
    def config(self) -> Path:
        return self.path / "config.yaml"  # the resolved config: training it again reproduces the run

    @property
    def meta(self) -> Path:
        return self.path / "meta.json"  # status, times, versions, fingerprints, final scores

    @property
    def metrics(self) -> Path:
        return self.path / "metrics.csv"  # one row per epoch

    @property
    def preprocess(self) -> Path:
        return self.path / "preprocess.json"  # fitted preprocessing, columns, classes

    @property
    def weights(self) -> Path:
        return self.path / "model.safetensors"  # the final (or restored best) weights

    @property
    def checkpoints(self) -> Path:
        return self.path / "checkpoints"

    def kept_checkpoint(self) -> bool:
        """Whether checkpoints/ holds a checkpoint to resume from (by its name; not yet read)."""
        return self.checkpoints.is_dir() and any(CHECKPOINT_FILE.fullmatch(p.name) for p in self.checkpoints.iterdir())

    @property
    def lock_file(self) -> Path:
        return self.path / LOCK_FILE

    @property
    def predictions(self) -> Path:
        return self.path / "predictions.csv"

    @property
    def curves(self) -> Path:
        return self.path / "curves.png"

    def onnx(self, float16: bool = False) -> Path:
        """Where ``nnrun export`` writes the model by default (its card goes beside, as .json)."""
        return self.path / ("model-float16.onnx" if float16 else "model.onnx")

    def evaluation(self, name: str, threshold: float | None = None) -> Path:
        """Where ``nnrun evaluate`` writes its report on a split (``eval-test.json``) or
        a data file (``eval-<file stem>.json``), at a decision ``threshold`` beside it
        (``eval-test-threshold-0.2.json``, every digit: 0.3 and 0.30000001 apart)."""
        return self.path / f"eval-{name}{'' if threshold is None else f'-threshold-{threshold!r}'}.json"

    def is_run(self) -> bool:
        """Whether the folder looks like a run at all (a meta.json or a config.yaml)."""
        return self.meta.is_file() or self.config.is_file()

    def read_meta(self) -> dict:
        """meta.json, checked: a missing or damaged file is a UserError naming it."""
        hint = ("meta.json says whether the run completed, and so which of its weights are final (model.safetensors "
                f"or a checkpoint's); restore it, or train the run again from {self.config}")
        try:
            meta = files.read_json(self.meta)
        except UserError as exc:
            raise UserError(exc.message, hint=hint) from None
        if not isinstance(meta, dict):
            raise UserError(f"{self.meta}: not an nnrun run record", hint=hint)
        return meta

    def read_meta_or_none(self) -> dict | None:
        """meta.json when it parses, else None: for listings that must not stop at a
        run that is half written or damaged."""
        try:
            meta = json.loads(self.meta.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            return None
        return meta if isinstance(meta, dict) else None

    def write_meta(self, meta: dict) -> None:
        files.write_json(self.meta, meta)

    def paused(self, meta: dict | None) -> bool:
        """A hook's should_stop ended the run before its epochs, and a checkpoint keeps
        where: a pause, which a resume trains on from (without one, the stop is final)."""
        return isinstance(meta, dict) and meta.get("stopped_by") == "hook" and self.kept_checkpoint()

    def preprocess_edited(self, meta: dict | None) -> bool:
        """preprocess.json is not the file the run wrote (meta.json keeps its hash); a run
        without the hash is taken as it is."""
        written = meta.get("preprocess_hash") if isinstance(meta, dict) else None
        return isinstance(written, str) and files.file_hash(self.preprocess) != written

    def lock(self, kind: str = "run") -> "RunLock":
        """The run's lock: the one its folder was claimed with, else a new one."""
        claimed = self.claim
        if claimed is not None and claimed.fd >= 0:
            object.__setattr__(self, "claim", None)  # handed over once
            return claimed
        return RunLock(self.path, kind)

    def release_claim(self) -> None:
        """A claim the run never took (it failed before it began) ends here."""
        if self.claim is not None:
            self.claim.release()

    def remove_if_unstarted(self) -> None:
        """A run that failed before training began (its data saved, at most the start files
        of a start a full disk cut short) leaves no folder behind; meta.json, written last,
        says a run began. Removed before the claim ends: no one else's files go with it."""
        if not self.meta.exists():
            remove_unstarted(self.path, self.premade)
        self.release_claim()

    def is_writing(self) -> bool:
        """Whether a live process holds the run's lock. A run whose meta.json still says
        "running" without one was killed before it could say otherwise."""
        return is_held(self.path)

    @classmethod
    def create(cls, name: str, explicit: str | Path | None = None, root: str | Path = "runs") -> "RunDir":
        """Make a fresh run directory; an existing one is never reused."""
        if not SAFE_NAME.fullmatch(name or ""):
            raise UserError(f"run name '{name}': must be one path segment of letters, digits, '.', '_' or '-'")
        if explicit is not None:
            return cls(*_create_explicit(Path(explicit)))
        root = Path(root)
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # a read-only working folder, or a file of that name
            reason = "a file stands in its path" if isinstance(exc, FileExistsError) else exc.strerror or str(exc)
            raise UserError(f"{root}: cannot create the folder of runs ({reason[:1].lower() + reason[1:]})",
                            hint="run from a folder you can write to, or give the run's folder with --run-dir "
                                 "(run_dir= in Python)") from None
        stamp = time.strftime("%Y%m%d-%H%M%S")
        for attempt in range(1, 1000):
            path = root / (f"{name}-{stamp}" if attempt == 1 else f"{name}-{stamp}-{attempt}")
            try:
                path.mkdir()
                return cls(path)
            except FileExistsError:
                continue
            except OSError as exc:
                raise _cannot_create(path, exc.strerror or str(exc)) from None
        raise UserError(f"{root}: could not find a free run directory name for '{name}'")

    @classmethod
    def open(cls, path: str | Path) -> "RunDir":
        """A run directory given on the command line, checked before anything is read."""
        path = Path(path)
        if path.is_symlink():
            raise UserError(f"{path}: is a symbolic link; nnrun only reads real run directories")
        if path.is_file():
            raise UserError(f"{path}: is a file, not a run directory",
                            hint="give the folder `nnrun train` wrote, e.g. runs/<name>-<time>; `nnrun runs` lists them")
        if not path.is_dir():
            raise UserError(f"{path}: no such run directory", hint=runs_hint(path))
        run = cls(path)
        if run.config.is_symlink():
            raise UserError(f"{run.config}: is a symbolic link; nnrun reads only files inside the run directory")
        if not run.config.is_file():
            sweep = (path / "sweep.yaml").is_file() and (path / "trials").is_dir()
            hint = sweep_hint(path) if sweep else \
                runs_hint(path / "run") if any(path.glob("*/config.yaml")) else runs_hint(path)
            raise UserError(f"{path}: not an nnrun run directory (no config.yaml)", hint=hint)
        return run


def meta_time(text) -> datetime | None:
    """An ISO timestamp from meta.json; one without a zone is taken as UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _create_explicit(path: Path) -> tuple[Path, bool, RunLock | None]:
    """The run directory ``path``, made or taken, whether taken, and the lock it was
    taken with: an empty folder made beforehand, or what a run or sweep killed as it
    started left there (see nnrun.store.leftovers), judged and emptied under its lock."""
    if path.is_symlink():
        raise UserError(f"{path}: is a symbolic link; give a real directory as the run directory")
    another = f"choose another run directory ({said('--run-dir', 'run_dir=')}), or leave it out " \
        "to get a new timestamped one"
    exists = UserError(f"{path}: already exists; nnrun never overwrites a run", hint=another)
    if started_nothing(path):  # a start killed before it learned anything: started again, in its place
        claim = RunLock(path)  # (another process that claimed it since is named)
        if started_nothing(path, locked=True):
            remove_unstarted(path, premade=True, keep=LOCK_FILE)
            return path, True, claim
        claim.release()
    if path.is_dir() and not any(path.iterdir()):  # made empty beforehand (a CI step, a volume's folder): taken,
        try:  # by the one process that makes its lock file, and holds it
            os.close(os.open(path / LOCK_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644))
            return path, True, RunLock(path)
        except FileExistsError:
            raise exists from None
        except OSError as exc:
            raise _cannot_create(path, exc.strerror or str(exc), there=True) from None
    if path.exists():
        meta = RunDir(path).read_meta_or_none() if path.is_dir() else None
        if path.is_dir() and RunDir(path).lock_file.is_file():  # one still training is named by its process
            if RunDir(path).is_writing():  # only looked at: the lock file is left as it is
                raise held_by(path, RunDir(path).lock_file.read_text(errors="replace").strip() or "unknown")
        paused = RunDir(path).paused(meta)
        if isinstance(meta, dict) and (meta.get("status") in ("interrupted", "running", "failed") or paused):
            # A notebook's cell run again after the run stopped: the run goes on where it was,
            # unless it diverged (resumed, it would again: see engine.resume.refuse_diverged).
            # "running" with no process writing it: killed before it could say otherwise.
            state = "paused by a hook" if paused else "killed" if meta["status"] == "running" else meta["status"]
            if diverged_in(meta) is not None:
                raise UserError(f"{path}: already holds a run that did not finish ({state}: "
                                f"{meta['failure'].get('message')}); nnrun never overwrites a run",
                                hint=f"{DIVERGED_REMEDY}, then {another}")
            kept = RunDir(path).kept_checkpoint()
            again = f"resume it with: {resume_command(path)}, or {another}" if kept else \
                f"it kept no checkpoint to resume from (training.checkpoint: null); {another}"
            raise UserError(f"{path}: already holds a run that did not finish ({state}); nnrun never overwrites a run",
                            hint=again)
        if not RunDir(path).is_run():
            what = "a file" if path.is_file() else "a folder that is no run, and not empty"
            exists = UserError(f"{path}: already exists ({what}); nnrun makes the run directory itself, never "
                               "writing into something already there", hint=another)
        raise exists
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise _cannot_create(path, "a file stands in its path") from None
    except OSError as exc:
        raise _cannot_create(path, exc.strerror or str(exc)) from None
    try:
        path.mkdir()
    except FileExistsError:  # another process made it since the check
        raise exists from None
    except OSError as exc:
        raise _cannot_create(path, exc.strerror or str(exc)) from None
    return path, False, RunLock(path)  # locked from the start: data saved into it is the run's alone


def _cannot_create(path: Path, reason: str, there: bool = False) -> UserError:
    """``there``: the folder exists (made empty beforehand), but cannot be written into."""
    what = "write into this folder" if there else "create the run directory"
    return UserError(f"{path}: cannot {what} ({reason[:1].lower() + reason[1:]})",
                     hint=f"give a folder you can write to ({said('--run-dir', 'run_dir=')}), "
                     "or run from one")
