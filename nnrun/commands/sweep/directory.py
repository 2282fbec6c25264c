"""The sweep directory: ``runs/<name>-<time>/``, never overwritten, locked while a
sweep writes it.

    sweep.yaml   the resolved sweep file (every default filled in, base as an absolute path)
    base.yaml    the base config as it was resolved when the sweep started
    base.source.yaml  the base config file's data as it read then: every trial starts
                 from it, so a base edited while the sweep runs changes no trial
    base.data.json    the SHA-256 of each file the base reads (data, warm-start weights):
                 a resume refuses one changed since, which the trials still to run would read
    trials.csv   one row per started trial (see :mod:`.trials`)
    trials/<id>/ an ordinary run directory per trial
    best.yaml    the base config with the best trial's values: `nnrun train best.yaml`
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import yaml

from nnrun.store import files
from nnrun.store.leftovers import leftover_refusal
from nnrun.store.lock import RunLock
from nnrun.store.rundir import RunDir
from nnrun.store.run_hints import sweep_of_trial
from nnrun.config import dump_yaml, with_defaults
from nnrun.config.diff import describe_changes
from nnrun.config.sweep import LoadedSweep, SweepConfig
from nnrun.config.sweep_space import written
from nnrun.config.yaml_writer import dump
from nnrun.errors import UserError, quoted
from nnrun.commands.sweep.moved import moved_data
from nnrun.commands.sweep.trials import Trial, read_trials, write_trials


SOURCE_COPY = "base.source.yaml"
DATA_HASHES = "base.data.json"


def base_data(sweep_dir: Path, sweep: SweepConfig) -> dict:
    """The base config's data every trial of the sweep in ``sweep_dir`` starts from: the
    copy taken when the sweep started, not the file as it reads now. (A sweep directory
    without the copy, from an earlier nnrun, reads the base file itself.)"""
    copy = Path(sweep_dir) / SOURCE_COPY
    if copy.is_file():
        return yaml.safe_load(copy.read_text())
    from nnrun.config.sweep_checks import read_base_file

    return read_base_file(Path(sweep.base))


class SweepDir:
    """Paths and writes of one sweep directory, holding its lock while open."""

    def __init__(self, path: Path, sweep: SweepConfig, base_path: Path, lock: RunLock | None = None):
        self.path, self.sweep, self.base_path = path, sweep, base_path
        self.grown_from: int | None = None  # the samples a resumed sweep recorded, when given more
        self.lost: list[str] = []  # finished trials whose folders were gone on resume: they run again
        self.killed: list[str] = []  # trials whose process was killed: resumed from their checkpoints
        self.data_warnings: tuple[str, ...] = ()  # the base config's, about its data: each trial's too
        self.workers_given: int | None = None  # --workers, in place of executor.workers (see with_workers)
        self.premade = False  # an empty folder given with --run-dir: emptied, not removed, if no trial ran
        self.lock = lock or RunLock(path, "sweep")  # (a folder claimed as the sweep began hands its own over)
        (path / "trials").mkdir(exist_ok=True)
        self.parameters = list(sweep.parameters)

    @classmethod
    def create(cls, located: LoadedSweep, base_config, base_as_read: dict, root: str | Path = "runs",
               explicit: str | Path | None = None) -> "SweepDir":
        made = RunDir.create(located.sweep.name, explicit, root=root)
        path = made.path
        swept = cls(path, located.sweep, located.base_path.resolve(), made.lock("sweep"))
        swept.premade, swept.workers_given = made.premade, located.workers_given
        files.atomic_write(path / "sweep.yaml", _dump(swept.resolved_sweep()))
        files.atomic_write(path / "base.yaml", dump_yaml(base_config).encode())
        files.atomic_write(path / SOURCE_COPY, _dump(base_as_read))
        files.write_json(path / DATA_HASHES, _data_hashes(base_config, located.sweep))
        swept.write_trials([])
        return swept

    @staticmethod
    def recorded_sweep_file(path: str | Path) -> Path:
        """The resolved sweep file an existing sweep directory keeps; refuses a folder
        that is no sweep directory."""
        path = Path(path)
        hint = "give the folder `nnrun sweep` wrote, e.g. runs/<name>-<time>; `nnrun runs` lists them"
        if not path.exists():
            raise UserError(f"{path}: no such directory", hint=hint)
        if (refused := leftover_refusal(path, "sweep")) is not None:
            raise refused
        if path.is_symlink() or not (path / "sweep.yaml").is_file() or not (path / "trials.csv").is_file():
            if (sweep := sweep_of_trial(path)) is not None:  # one of its trials' runs
                hint = (f"it is trial {path.name} of the sweep {sweep}: nnrun sweep --resume {quoted(sweep)} finishes "
                        f"the sweep; nnrun train --resume {quoted(path)} this trial alone")
            raise UserError(f"{path}: not a sweep directory (no sweep.yaml and trials.csv)", hint=hint)
        return path / "sweep.yaml"

    @classmethod
    def reopen(cls, path: str | Path, given: LoadedSweep | None, base_config, moved=None) -> "SweepDir":
        """An existing sweep directory, to resume. A sweep file given again must resolve
        to the recorded one, and the base config (``base_config``, as resolved now) to
        the recorded base.yaml, so that no trial trains on another model; a difference
        is refused. One change is taken: more ``samples`` for a random or TPE search,
        which adds trials after the recorded ones, as a study grows by more trials (a
        random search's trial i draws the same values however many are asked for).
        ``moved``: the base and the data where they stand to a moved directory now (see
        :func:`~nnrun.commands.sweep.moved.moved_paths`; None where it did not move)."""
        path = Path(path)
        recorded = yaml.safe_load(cls.recorded_sweep_file(path).read_text())
        if moved is not None and isinstance(recorded.get("base"), str):
            recorded["base"] = moved(recorded["base"])
        sweep = SweepConfig.model_validate(recorded)
        # As written now, with the defaults of settings added since: they change no trial.
        recorded = {**sweep.resolved(), "base": recorded.get("base")}
        grown = None
        if given is not None:
            now = {**given.sweep.resolved(), "base": str(given.base_path.resolve())}
            grown = _more_samples(sweep, given.sweep)
            if grown and not _same_digits(sweep, grown):
                # Refused: alone, saying why; with other changes, listed among them.
                if not describe_changes({**recorded, "samples": now["samples"]}, now):
                    raise UserError(f"samples: {sweep.samples} -> {grown.samples} would number the trials with more "
                                    f"digits than the {sweep.trial_count} in {path} have",
                                    hint="start a new sweep with `nnrun sweep SWEEP.yaml` for that many trials")
                grown = None
            # The trials at once change no trial's result: taken as given (a smaller machine).
            workers = ("executor.workers",) if sweep.executor.type == given.sweep.executor.type == "local" else ()
            _refuse_changes(path / "sweep.yaml", {**recorded, "samples": now["samples"]} if grown else recorded, now,
                            str(given.source),
                            hint="a resumed sweep keeps its sweep file: leave out SWEEP.yaml to resume it as "
                            f"recorded (nnrun sweep --resume {quoted(path)}), or start a new sweep with "
                            "`nnrun sweep SWEEP.yaml`", swept=workers)
            sweep = sweep.model_copy(update={"executor": given.sweep.executor}) if workers else sweep
        # With the defaults of settings added since the sweep wrote it: they change no trial.
        before = with_defaults(moved_data(yaml.safe_load((path / "base.yaml").read_text()), moved))
        copy = path / SOURCE_COPY if (path / SOURCE_COPY).is_file() else path / "base.yaml"
        # A value the sweep sets in every trial may change in the base: no trial reads it there.
        _refuse_changes(path / "base.yaml", before, yaml.safe_load(dump_yaml(base_config)), sweep.base,
                        hint=f"every trial of a sweep trains on the same base config: put {sweep.base} back as it "
                        f"was (the sweep's copy is {copy}), or start a new sweep with `nnrun sweep SWEEP.yaml`",
                        swept=tuple(_counted_from_the_start(path, before) for path in sweep.parameters))
        _refuse_other_data(path, base_config, sweep, moved)
        swept = cls(path, sweep.model_copy(update={"samples": grown.samples}) if grown else sweep, Path(sweep.base))
        files.remove_stale_temporaries(path)
        if moved is not None and sweep.base != yaml.safe_load((path / "sweep.yaml").read_text()).get("base"):
            # Its trials read the base where it is now; the data's checked to be the same files.
            files.atomic_write(path / "sweep.yaml", _dump({**recorded, "base": sweep.base}))
            files.write_json(path / DATA_HASHES, _data_hashes(base_config, sweep))
        if grown:  # recorded once the directory is locked: the sweep now runs this many trials
            files.atomic_write(path / "sweep.yaml", _dump({**recorded, "samples": grown.samples}))
            swept.grown_from = sweep.samples
        return swept

    def resolved_sweep(self) -> dict:
        return {**self.sweep.resolved(), "base": str(self.base_path)}

    def trial_dir(self, trial_id: str) -> Path:
        return self.path / "trials" / trial_id

    def write_trials(self, trials: list[Trial]) -> None:
        write_trials(self.path / "trials.csv", trials, self.parameters, self.sweep.metric)

    def read_trials(self) -> list[Trial]:
        return read_trials(self.path / "trials.csv", self.parameters, self.sweep.metric)

    def kept_epoch(self, trial: Trial) -> int:
        """The epoch whose weights the trial's run kept: early stopping's best (by its own
        monitor, which may have chosen the sweep metric's best epoch too) where it
        restores it, else the last."""
        try:
            config = yaml.safe_load((self.trial_dir(trial.id) / "config.yaml").read_text())
            stopping = (config.get("training") or {}).get("early_stopping") or {}
            restored = json.loads((self.trial_dir(trial.id) / "meta.json").read_text()).get("best_epoch")
            return restored if stopping.get("restore_best") and isinstance(restored, int) else trial.epochs
        except (OSError, ValueError, yaml.YAMLError, AttributeError):
            return trial.epochs

    def write_best(self, trial: Trial) -> Path:
        """best.yaml: the best trial's resolved config, which retrains to its result,
        named after the sweep (``<sweep>-best``) so that its runs are found beside it
        rather than under the base config's name."""
        data = yaml.safe_load((self.trial_dir(trial.id) / "config.yaml").read_text(encoding="utf-8"))
        config = _dump({**data, "name": f"{self.sweep.name[:95]}-best"}).decode()  # a name is 100 characters at most
        # As the leaderboard shows it (1.0000, 0.0000), but values too small or large for four places.
        value = f"{trial.best:.4f}" if trial.best == 0 or 1e-3 <= abs(trial.best) < 1e6 else f"{trial.best:.6g}"
        header = (f"# The best trial of this sweep: {trial.id} ({self.sweep.metric} {value} at epoch "
                  f"{trial.best_epoch}), values: {', '.join(f'{k}={written(v)}' for k, v in trial.values.items())}\n"
                  f"# Retrain it: nnrun train {self.path / 'best.yaml'}\n")
        files.atomic_write(self.path / "best.yaml", (header + config).encode())
        return self.path / "best.yaml"

    def release(self) -> None:
        self.lock.release()


def _dump(data: dict) -> bytes:
    return dump(data, sort_keys=False, default_flow_style=False, allow_unicode=True).encode()


def _more_samples(recorded: SweepConfig, given: SweepConfig) -> SweepConfig | None:
    """``given`` with its larger ``samples`` when that is all it adds to a random or TPE
    search (any other change is refused by the comparison that follows); None when the
    samples are the same, fewer, or the search is a grid."""
    if given.search == "grid" or recorded.search != given.search or (given.samples or 10) <= (recorded.samples or 10):
        return None
    return given


def _same_digits(recorded: SweepConfig, grown: SweepConfig) -> bool:
    """Whether the grown sweep's trial ids have the digits of the recorded ones (000-999)."""
    from nnrun.commands.sweep.space import trial_id

    return len(trial_id(0, grown.trial_count)) == len(trial_id(0, recorded.trial_count))


def _counted_from_the_start(path: str, data: dict) -> str:
    """A parameter's path with its list indices from the end (``model.layers.-1``)
    counted from the start in ``data``, as the config's differences name them."""
    from nnrun.config.overrides import path_parts
    from nnrun.config.sweep_checks import resolved_parts

    return ".".join(map(str, resolved_parts(path_parts(path), data)))


def _data_hashes(config, sweep: SweepConfig) -> dict[str, str]:
    """The SHA-256 of each file the base config reads (the data source's, the warm
    start's weights), by path; not those a parameter sets (its trials read other files
    by design)."""
    def sets(*keys: str) -> bool:  # a parameter sets the key, or a block holding it
        return any(p in keys or p.startswith(f"{keys[-1]}.") for p in sweep.parameters)

    source = config.data.source
    # A swept source type (or the whole block) reads other files; a swept option (missing:) the same ones.
    named = [getattr(source, key) for key in source.path_fields
             if not sets("data", "data.source", "data.source.type", f"data.source.{key}")]
    if not sets("model", "model.init_weights"):
        named.append(config.model.init_weights)
    hashes = {}
    for value in named:
        if value is not None and Path(value).is_file():
            # By blocks (a data file may be larger than memory allows twice), through a link too:
            # files.file_hash reads a run's own files, which are never links.
            with open(value, "rb") as handle:
                hashes[value] = hashlib.file_digest(handle, "sha256").hexdigest()
    return hashes


def _refuse_other_data(path: Path, base_config, sweep: SweepConfig, moved=None) -> None:
    """A data file changed or gone since the sweep started: its finished trials trained
    on the file as it was, and the rest would train on another (an older sweep directory,
    without the record, is taken as it is)."""
    if not (path / DATA_HASHES).is_file():
        return
    try:
        recorded = json.loads((path / DATA_HASHES).read_text())
    except (ValueError, OSError):
        recorded = None
    if not isinstance(recorded, dict) or not all(isinstance(v, str) for v in recorded.values()):
        raise UserError(f"{path / DATA_HASHES}: changed or damaged since the sweep wrote it (it keeps the hash of "
                        "each data file its trials read)", hint="put back the file the sweep wrote, or start a new "
                        "sweep with `nnrun sweep SWEEP.yaml`")
    now = _data_hashes(base_config, sweep)
    recorded = {moved(file) if moved else file: digest for file, digest in recorded.items()}
    changed = [file for file, digest in recorded.items() if now.get(file) != digest]
    if changed:
        gone = [file for file in changed if not Path(file).is_file()]
        raise UserError(f"{', '.join(changed)}: {'gone' if gone == changed else 'changed'} since the sweep {path} "
                        "started; its trials trained on the file as it was, and the trials still to run would train "
                        "on another", hint="put the file back as it was, then resume; or start a new sweep on the "
                        "file as it is now with `nnrun sweep SWEEP.yaml`")


def _refuse_changes(recorded_path: Path, before: dict, now: dict, source: str, hint: str,
                    swept: tuple[str, ...] = ()) -> None:
    """Refuse any difference but those at the ``swept`` paths, which every trial sets."""
    changes = [change for change in describe_changes(before, now)
               if not any(change.startswith((f"{path} (", f"{path}.")) for path in swept)]
    if changes:
        raise UserError(
            f"{source}: differs from the sweep being resumed ({recorded_path}); changed: {', '.join(changes)}",
            hint=hint,
        )
