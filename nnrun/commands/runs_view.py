"""What ``nnrun runs`` shows of the runs it lists: which ones (``--status``, ``--tag``), in what
order (``--sort``, ``--reverse``), how many (``--limit``), by which metric (``--metric``),
and which settings beside them (``--show PATH``, ``--params``), as the run tables of
experiment trackers show each run's parameters beside its metrics.

    view = RunsView(sort="best", statuses=("completed",), limit=10, show=("optimizer.learning_rate",))
    runs, notes = view.apply(list_runs("runs", metric=view.metric))
    runs[0].config                       # {"optimizer.learning_rate": 0.01}

Settings come from each run's ``config.yaml`` with the defaults of settings added since
it was written filled in (as ``nnrun compare`` reads it), under the dotted paths
``--set`` takes. A sweep listed beside runs has no single config: its cells are empty.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from nnrun.commands.runs import RunEntry
from nnrun.errors import UserError, did_you_mean

# Each sort key's own order; --reverse turns it round. Runs without a value come last either way.
SORTS = {
    "started": "newest first",
    "name": "A to Z",
    "best": "best validation value first",
    "test": "best test value first",
    "time": "shortest training time first",
    "epochs": "most epochs first",
}
STATUSES = ("completed", "running", "interrupted", "killed", "failed", "pruned", "incomplete", "unreadable",
            "missing", "unknown", "sweep")  # sweep: the sweeps listed beside runs, whatever their state
MOST_PARAMS = 8  # --params columns in the table; --json has them all
NOT_PARAMS = ("name", "notes")  # differ between runs by design (the folder is named after the name); --show notes


@dataclass
class RunsView:
    sort: str | None = None  # None: the listing's own order (newest first; a sweep's trials best first)
    reverse: bool = False
    statuses: tuple[str, ...] = ()
    limit: int | None = None
    metric: str | None = None
    show: tuple[str, ...] = ()
    params: bool = False
    tags: tuple[str, ...] = ()  # only the runs whose config carries every one of them (a sweep's folder has none:
    # its trials carry the base config's, in nnrun runs SWEEP_DIR --tag)
    metric_option: str = field(default="", init=False)  # how the metric was asked for, for a message
    # Set by apply(): the settings the table shows (--show's, then --params' first few),
    # and every one of them for --json.
    columns: list[str] = field(default_factory=list, init=False)
    all_columns: list[str] = field(default_factory=list, init=False)

    def __post_init__(self):
        """The options themselves, before any run is read."""
        if self.metric is not None:
            self.metric_option = f"--metric {self.metric}"  # as given, for a message
            self.metric = self.metric.removeprefix("val_")  # the validation value of it is what the table shows
        unknown = [status for status in self.statuses if status not in STATUSES]
        if unknown:
            raise UserError(f"--status {unknown[0]}: not a status{did_you_mean(unknown[0], list(STATUSES))}",
                            hint=f"a run's status is one of {', '.join(STATUSES)}")
        if self.limit is not None and self.limit < 1:
            raise UserError(f"--limit {self.limit}: must be at least 1", hint="--limit 10 shows the first ten runs")
        if self.sort is not None and self.sort not in SORTS and _a_metric(self.sort):
            if self.metric not in (None, self.sort.removeprefix("val_")):
                raise UserError(f"--sort {self.sort} --metric {self.metric}: two metrics to rank by",
                                hint=f"rank by one: --sort {self.sort}, or --metric {self.metric} --sort best")
            # --sort auc: the best validation auc first, as --metric auc --sort best ranks them
            self.metric_option = f"--sort {self.sort}"  # as given, for a message
            self.metric, self.sort = self.sort.removeprefix("val_"), "best"
        from nnrun.config.messages import PATTERNS
        from nnrun.config.schema import LONGEST_TAG, TAG_PATTERN

        bad = [tag for tag in self.tags if not re.match(TAG_PATTERN, tag) or len(tag) > LONGEST_TAG]
        if bad:  # as the config's own tags are told
            expected = f"at most {LONGEST_TAG} characters" if re.match(TAG_PATTERN, bad[0]) else \
                PATTERNS[TAG_PATTERN]
            raise UserError(f"--tag {bad[0]!r}: no tag can be written so; expected {expected}", hint="--tag baseline")
        if self.sort is not None and self.sort not in SORTS and self.sort not in self.show:
            self.show += (self.sort,)  # a setting: shown, so the order can be seen

    def apply(self, runs: list[RunEntry]) -> tuple[list[RunEntry], list[str]]:
        """The runs to show, in order, with their settings read; and notes to say beside them.
        The settings shown are those of the runs listed, after --status, --sort and --limit."""
        notes: list[str] = []
        if self.metric is not None:
            self._check_metric(runs)
        if self.statuses:
            runs = [run for run in runs if _status_word(run) in self.statuses
                    or ("sweep" in self.statuses and run.status.startswith("sweep"))]
        if self.tags or self.show or self.params:
            for run in runs:
                run.config = _settings(run)
        if self.tags:
            unread = [run for run in runs if run.config is None and not run.status.startswith("sweep")]
            if unread:
                notes.append(f"{len(unread)} run{'s' * (len(unread) != 1)} whose config.yaml cannot be read "
                             f"{'are' if len(unread) != 1 else 'is'} left out: no tags can be read off "
                             f"{'them' if len(unread) != 1 else 'it'}")
            runs = [run for run in runs if set(self.tags) <= set((run.config or {}).get("tags") or ())]
        if self.show or self.params:
            self._check_shown(runs)
        if self.sort is not None:
            runs, said = self._sorted(runs)
            notes += said
        elif self.reverse:  # the listing's own order turned round; a sweep's unscored trials stay last
            ranked = any(run.values is not None for run in runs)
            scored = [run for run in runs if not ranked or run.best_validation is not None]
            runs = scored[::-1] + [run for run in runs if ranked and run.best_validation is None]
        runs = runs[: self.limit] if self.limit else runs
        if self.show or self.params:
            notes += self._choose_columns(runs)
        return runs, notes

    def _check_metric(self, runs: list[RunEntry]) -> None:
        recorded = {name for run in runs for name in run.recorded}
        if runs and self.metric not in recorded:
            raise UserError(f"{self.metric_option}: no run listed here records it"
                            f"{did_you_mean(self.metric, sorted(recorded))}",
                            hint=f"the runs here record {', '.join(sorted(recorded)) or 'no metric'}")

    def _check_shown(self, runs: list[RunEntry]) -> None:
        """Every setting --show and --sort name is one of some run's (or a block of them)."""
        known = {path for run in runs for path in run.config or {}}
        for path in self.show:
            if path not in known and not any(p.startswith(f"{path}.") for p in known):
                typo = "." not in path and did_you_mean(path, list(SORTS))  # bset: said with no run to sort too
                if path == self.sort and path not in self.show[:-1] and (known or typo):
                    raise UserError(f"--sort {path}: not a sort key, nor a setting of the runs listed here"
                                    f"{did_you_mean(path, [*SORTS, *sorted(known)])}",
                                    hint=f"sort by one of {', '.join(SORTS)}, or by a setting such as "
                                         "optimizer.learning_rate")
                if known:
                    raise UserError(f"--show {path}: no run listed here has that setting"
                                    f"{did_you_mean(path, sorted(known))}",
                                    hint="name a setting as --set and nnrun compare do: optimizer.learning_rate, "
                                         "model.layers.0.units, training.batch_size")
        inner = sorted(p for p in known if p.startswith(f"{self.sort}."))
        if self.sort in self.show and self.sort not in known and inner:
            listed = ", ".join(inner[:4]) + (", ..." if len(inner) > 4 else "")
            raise UserError(f"--sort {self.sort}: a block of settings, not one value",
                            hint=f"sort by one of its settings: {listed}")

    def _choose_columns(self, runs: list[RunEntry]) -> list[str]:
        """``self.columns``: the settings the table shows, those asked for by --show, then
        (with --params) those whose values differ between the runs."""
        ordered = _ordered_paths(runs)
        columns = [p for path in self.show for p in ordered if p == path or p.startswith(f"{path}.")]
        differing = [path for path in ordered if path not in columns and path not in NOT_PARAMS
                     and len({_key(run.config.get(path, _ABSENT)) for run in runs if run.config is not None}) > 1]
        # The settings the runs vary most first (one run of another optimizer differs in all its options, but
        # only there); config order among equals.
        differing.sort(key=lambda path: -_strays(runs, path))
        if not self.params:
            self.columns = self.all_columns = columns
            return []
        self.columns, self.all_columns = columns + differing[:MOST_PARAMS], columns + differing
        if len(differing) > MOST_PARAMS:
            return [f"{len(differing)} settings differ between these runs; the table shows the {MOST_PARAMS} that "
                    "differ in the most runs (--json lists them all, --show PATH picks one)"]
        if not differing and len(runs) > 1:
            noted = len({(run.config or {}).get("notes") for run in runs}) > 1
            return [f"the runs listed share every setting (but their names{' and notes' if noted else ''})"]
        return []

    def _sorted(self, runs: list[RunEntry]) -> tuple[list[RunEntry], list[str]]:
        notes = []
        if self.sort in ("best", "test"):
            kinds = sorted({_ranked_as(run) for run in runs if _value(run, self.sort) is not None})
            if len(kinds) > 1:  # each among its own: an accuracy is no better than a loss, an mse than a cross-entropy
                rather = "compare them by a metric they share" if self.metric else "--metric NAME ranks them all by one"
                notes.append(f"the runs record different metrics or losses ({', '.join(kinds)}): each is ranked among "
                             f"the runs of its own; {rather}")
        valued = [run for run in runs if _value(run, self.sort) is not None]
        rest = [run for run in runs if _value(run, self.sort) is None]
        valued.sort(key=lambda run: _order_key(run, self.sort), reverse=self.reverse)
        return valued + rest, notes


_ABSENT = object()  # a setting a run's config does not have (a layer only the other model has)


def _a_metric(name: str) -> bool:
    """Whether a --sort key is a metric's name (auc, val_loss), not a setting's path."""
    from nnrun.model.metrics import METRICS

    return name.removeprefix("val_") in {"loss", *METRICS}


def _status_word(run: RunEntry) -> str:
    """A run's status as --status takes it: a sweep's in a run's words (completed, killed, ...)."""
    if run.status.startswith("sweep"):
        return run.status.removeprefix("sweep").removeprefix(", ") or "completed"
    return run.status


def _value(run: RunEntry, key: str):
    if key == "started":
        return run.started
    if key == "name":
        return run.path.name
    if key == "best":
        return run.best_validation
    if key == "test":
        return run.test
    if key == "time":
        return run.seconds
    if key == "epochs":
        return run.epochs
    value = (run.config or {}).get(key, _ABSENT)
    return None if value is _ABSENT or value is None else value


def _order_key(run: RunEntry, key: str) -> tuple:
    value = _value(run, key)
    if key in ("best", "test"):
        from nnrun.model.metrics import higher_is_better

        # A sweep ranked by a training quantity names it "accuracy (training)": its direction is accuracy's.
        return (_ranked_as(run), -value if higher_is_better(run.metric.split(" ")[0]) else value)
    if key == "started":
        return (-value.timestamp(),)
    if key == "epochs":
        return (-value,)
    # A setting: numbers before texts, each in its own order (1e-3 before 0.01, "adam" before "sgd").
    return (0, value, "") if isinstance(value, (int, float)) and not isinstance(value, bool) else (1, 0, str(value))


def _ranked_as(run: RunEntry) -> str:
    """What a run's shown value measures, for ranking like with like: its metric, and for
    the loss, the loss's own units (an mse is no cross-entropy; see compare.loss_units_of)."""
    if run.metric != "loss" or run.status.startswith("sweep"):
        return run.metric
    from nnrun.commands.compare import loss_units_of

    return f"loss ({loss_units_of(run.path)})"


def _key(value):
    """A value as a set member: lists and blocks compared by what they hold."""
    return repr(value) if isinstance(value, (list, dict)) else value


def _strays(runs: list[RunEntry], path: str) -> int:
    """How many runs hold another value of ``path`` than the most common one."""
    from collections import Counter

    values = Counter(_key(run.config.get(path, _ABSENT)) for run in runs if run.config is not None)
    return sum(values.values()) - max(values.values()) if values else 0


def _ordered_paths(runs: list[RunEntry]) -> list[str]:
    """Every setting's path, in the order the configs list them (the first run's first)."""
    paths: dict[str, None] = {}
    for run in runs:
        paths.update(dict.fromkeys(run.config or {}))
    return list(paths)


def _settings(run: RunEntry) -> dict | None:
    """A run's settings by dotted path, from its config.yaml as compare reads it; None
    for a sweep or a run whose config cannot be read (its cells are empty)."""
    from nnrun.config import with_defaults
    from nnrun.config.diff import flatten
    from nnrun.config.yaml_reader import read_saved

    data = None if run.status.startswith("sweep") else read_saved(Path(run.path) / "config.yaml")
    return flatten(with_defaults(data, run.path)) if isinstance(data, dict) else None
