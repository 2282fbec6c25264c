"""The commands of a run's life: train (or resume), validate, evaluate, predict.

Each command declares its options and calls one function; heavy modules are imported
inside the commands so ``nnrun --help`` starts fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from typer.core import TyperCommand

from nnrun.cli.guard import guard

# Options other training tools take, and the config key each sets here.
CONFIG_OPTIONS = {"--epochs": "training.epochs", "--batch-size": "training.batch_size",
                  "--batch_size": "training.batch_size", "--lr": "optimizer.learning_rate",
                  "--learning-rate": "optimizer.learning_rate", "--learning_rate": "optimizer.learning_rate",
                  "--seed": "seed", "--optimizer": "optimizer", "--loss": "loss", "--threads": "training.threads",
                  "--name": "name"}


class TrainCommand(TyperCommand):
    """train, whose unknown options get the ``--set`` that does what they meant:
    ``nnrun train iris.yaml --epochs 5`` is told ``--set training.epochs=5``. (Found
    before click parses, and told with ``ctx.fail``: typer's releases raise click's
    own or a copy of it, so its exception class is no one thing to catch.)"""

    def parse_args(self, ctx, args: list[str]) -> list[str]:
        if ctx.resilient_parsing:  # shell completion: nothing to tell anyone
            return super().parse_args(ctx, args)
        params = [param for param in self.get_params(ctx) if param.param_type_name == "option"]
        known = {name for param in params for name in (*param.opts, *param.secondary_opts)}
        takes_value = {name for param in params if not param.is_flag for name in param.opts}
        words = iter(args)
        for word in words:
            if word == "--":
                break
            name = word.partition("=")[0]
            if name in takes_value and "=" not in word:
                next(words, None)
            elif word.startswith("--") and name not in known:
                ctx.fail(set_hint(name, args, known))
        return super().parse_args(ctx, args)


def set_hint(option: str, args: list[str], known: set[str]) -> str:
    """The message for an option train does not have: the option it is a typo of
    (``--quite``: ``--quiet``), else the ``--set`` it may mean."""
    key = CONFIG_OPTIONS.get(option)
    if key is None:
        import difflib

        close = difflib.get_close_matches(option, sorted(known), n=1, cutoff=0.7)
        if close:
            return f"No such option: {option}. Did you mean {close[0]}?"
        return (f"No such option: {option}. Config values are set with --set KEY=VALUE, "
                "for example --set training.epochs=5.")
    value = "VALUE"
    for i, word in enumerate(args):
        if word.startswith(f"{option}="):
            value = word.partition("=")[2] or value
        elif word == option and i + 1 < len(args) and not args[i + 1].startswith("-"):
            value = args[i + 1]
    return f"No such option: {option}. Config values are set with --set: --set {key}={value}"


def train(
    config: Optional[Path] = typer.Argument(
        None, metavar="CONFIG", help="The YAML config file (optional with --resume).", show_default=False
    ),
    set_: list[str] = typer.Option([], "--set", metavar="KEY=VALUE",
                                  help="Override a value: --set optimizer.learning_rate=0.01 (repeatable)."),
    run_dir: Optional[Path] = typer.Option(None, "--run-dir", help="Write the run here instead of runs/<name>-<time>/."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only the final summary."),
    resume: Optional[Path] = typer.Option(
        None, "--resume", help="Continue this run directory from its newest valid checkpoint (with a CONFIG: "
        "start the run there if it holds none yet).", show_default=False
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON (run directory, final metrics per "
                                 "split, best epoch, ...) on standard output; the progress and summary go to "
                                 "standard error (none with --quiet)."),
) -> None:
    """Train a model and write a run directory.

    Example: nnrun train configs/iris.yaml --set training.epochs=20

    Continue a stopped run: nnrun train --resume runs/iris-20260101-120000
    """
    # The usual command lines never come here: nnrun.cli.main reads them without typer.
    from nnrun.cli.train_command import run_train

    run_train(config, set_, run_dir, quiet, resume, as_json)


def validate(
    configs: list[Path] = typer.Argument(..., metavar="CONFIG", help="The YAML config files.", show_default=False),
    set_: list[str] = typer.Option([], "--set", metavar="KEY=VALUE",
                                  help="Override a value: --set model.layers.0.units=32 (repeatable)."),
) -> None:
    """Check configs without training: schema, data, shapes; print each model's summary.

    A sweep file is checked too: its base config, and the base with the lowest and
    highest value of every parameter. Every file given is checked, also after one that
    is not valid (as a pre-commit hook passes them); exit code 0 when all are valid, 2
    otherwise.

    Example: nnrun validate configs/iris.yaml configs/wine.yaml
    """
    failed = 0
    for config in configs:
        try:
            _validate_one(config, set_)
        except SystemExit as ended:  # its message is printed: go on to the next file, unless stopped
            if ended.code == 130:
                raise
            failed = failed or ended.code
            if len(configs) > 1:  # which file the message was about: a data file's error names only the data
                typer.echo(f"{config}: not valid")
    if failed:
        raise SystemExit(failed)


def _validate_one(config: Path, set_: list[str]) -> None:
    def action():
        from nnrun.commands.sweep.checks import is_sweep_file

        if is_sweep_file(config):
            from nnrun.commands.sweep.checks import check_sweep_file
            from nnrun.console.output import OutputConsole
            from nnrun.console.sweep_view import print_checked

            print_checked(OutputConsole(), config, check_sweep_file(config, set_))
            return
        from nnrun.console.model_summary import validate_and_print

        validate_and_print(config, set_)

    guard(action)


# How a CSV file given to predict or evaluate --data is written, where not as the run's
# training files were (data.source.delimiter, decimal, encoding, thousands).
DELIMITER_HELP = "Read the file with this delimiter (e.g. ',' or ';'; tab) instead of the training files' one."
DECIMAL_HELP = "Read the file's numbers with this decimal mark ('.' or ',') instead of the training files' one."
ENCODING_HELP = "Read the file in this text encoding (utf-8, cp1252, ...) instead of the training files' one."
THRESHOLD_HELP = ("Of two classes, predict the second where its probability is above this (default 0.5): "
                  "lower finds more of a rare class, with more false alarms.")
THOUSANDS_HELP = ("Read the file's numbers with this thousands separator (',', '.', space, or none) instead of the "
                  "training files' one.")
# The options themselves, one of each for both commands.
DELIMITER = typer.Option(None, "--delimiter", metavar="C", help=DELIMITER_HELP, show_default=False)
DECIMAL = typer.Option(None, "--decimal", metavar=".|,", help=DECIMAL_HELP, show_default=False)
ENCODING = typer.Option(None, "--encoding", metavar="E", help=ENCODING_HELP, show_default=False)
THOUSANDS = typer.Option(None, "--thousands", metavar="C", help=THOUSANDS_HELP, show_default=False)


def evaluate(
    run_dir: Path = typer.Argument(..., metavar="RUN_DIR", help="A run directory written by `nnrun train`.", show_default=False),
    split: Optional[str] = typer.Option(
        None, "--split", metavar="test|validation|train", help="Which split to score: test (the default), validation "
        "or train."
    ),
    data: Optional[Path] = typer.Option(
        None, "--data", help="Score this labelled file instead (CSV with the training columns and the target, "
        "or NPZ with x and y).", show_default=False,
    ),
    force: bool = typer.Option(False, "--force", help="Replace a different report of the same name."),
    delimiter: Optional[str] = DELIMITER,
    decimal: Optional[str] = DECIMAL,
    encoding: Optional[str] = ENCODING,
    thousands: Optional[str] = THOUSANDS,
    unknown: Optional[str] = typer.Option(
        None, "--unknown", metavar="ignore|error", show_default=False,
        help="With --data, a category training never saw: ignore encodes it as all zeros (and says so), error "
             "refuses the file. Default: the run's data.source.unknown."),
    threshold: Optional[float] = typer.Option(None, "--threshold", help=THRESHOLD_HELP, show_default=False),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON (what the eval-*.json file holds, "
                                 "and where it was written) instead of tables."),
) -> None:
    """Reload a run and report its metrics on a split or a file; writes eval-<split>.json
    (or eval-<data file stem>.json; eval-test-threshold-0.2.json with --threshold 0.2). A
    run that did not complete is scored with its newest valid checkpoint.

    Example: nnrun evaluate runs/iris-20260101-120000
    """

    def action():
        from contextlib import nullcontext

        from nnrun.commands.evaluate import evaluate as run_evaluation
        from nnrun.commands.file_format import file_format
        from nnrun.commands.piped_input import readable_once
        from nnrun.console.evaluation import print_evaluation
        from nnrun.console.output import OutputConsole
        from nnrun.errors import UserError

        if split is not None and data is not None:
            raise UserError("--split and --data: choose one; --data scores a file instead of a split")
        if split not in (None, "test", "validation", "train"):
            raise UserError(f"--split: '{split}' is not a split; choose test, validation or train")
        given = [name for name, value in (("--delimiter", delimiter), ("--decimal", decimal),
                                          ("--encoding", encoding), ("--thousands", thousands),
                                          ("--unknown", unknown)) if value is not None]
        if given and data is None:
            raise UserError(f"{given[0]}: says how a file given with --data is read; a split is read as training "
                            "read it")
        with readable_once(data) if data is not None else nullcontext() as path:
            written = file_format(delimiter, decimal, encoding, thousands)
            copied = data is not None and path != data  # standard input or a pipe: the report names it, not the copy
            report = run_evaluation(run_dir, split or "test", path, force, written, unknown, threshold=threshold,
                                    data_name=str(data) if copied else None)
        if as_json:  # the notes on standard error, as train --json's warnings: a script's log shows them
            from nnrun.console.evaluation import say_report_notes
            from nnrun.store.files import json_text

            say_report_notes(report)
            OutputConsole().print(json_text(report), markup=False, highlight=False, soft_wrap=True)
        else:
            print_evaluation(OutputConsole(), report, run_dir)

    guard(action)


def predict(
    run_dir: Path = typer.Argument(..., metavar="RUN_DIR", help="A run directory written by `nnrun train`.", show_default=False),
    input_path: Path = typer.Argument(..., metavar="INPUT", show_default=False,
                                      help="CSV file with the training columns, or .npz with x; - reads standard input."),
    output: Optional[str] = typer.Option(
        None, "--output", "-o", metavar="PATH", help="Where to write (default RUN_DIR/predictions.csv); - for "
                                                       "standard output."
    ),
    proba: bool = typer.Option(False, "--proba", help="Add one probability column per class."),
    force: bool = typer.Option(False, "--force", help="Replace an existing output file."),
    keep: list[str] = typer.Option([], "--keep", metavar="COLUMN", help="Copy this input column into the output, e.g. an ID "
                                   "(repeatable; the run's data.source.id columns are copied anyway)."),
    delimiter: Optional[str] = DELIMITER,
    decimal: Optional[str] = DECIMAL,
    encoding: Optional[str] = ENCODING,
    thousands: Optional[str] = THOUSANDS,
    unknown: Optional[str] = typer.Option(
        None, "--unknown", metavar="ignore|error", show_default=False,
        help="A category training never saw: ignore encodes it as all zeros (and says so), error refuses the file. "
             "Default: the run's data.source.unknown."),
    threshold: Optional[float] = typer.Option(None, "--threshold", help=THRESHOLD_HELP, show_default=False),
) -> None:
    """Predict new samples with a trained run; writes a CSV of predictions.

    Example: nnrun predict runs/fruit-20260101-120000 configs/data/fruit_new.csv --proba --keep color

    To standard output: nnrun predict RUN_DIR new.csv -o - | head
    """

    def action():
        from nnrun.commands.file_format import file_format
        from nnrun.commands.piped_input import readable_once
        from nnrun.commands.predict import predict as run_prediction
        from nnrun.console.output import say_note

        with readable_once(input_path) as path:
            result = run_prediction(run_dir, path, output, proba, force, keep,
                                    file_format(delimiter, decimal, encoding, thousands), unknown, threshold)
        for note in ([result.weights_note] if result.weights_note else []) + list(result.notes):
            say_note(note)
        if result.output is None:
            typer.echo(result.text, nl=False)
        else:  # on standard error where the output is a stream, which may be standard output itself
            from nnrun.store.files import is_stream

            typer.echo(f"wrote {result.rows} prediction{'' if result.rows == 1 else 's'} to {result.output}",
                       err=is_stream(Path(result.output)))

    guard(action)
