"""How ``nnrun evaluate`` shows its report: the metrics, then a confusion matrix and
per-class precision, recall and F1 for a classifier, or residual statistics for a
regressor (see :mod:`nnrun.model.diagnostics`)."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from nnrun.console.numbers import number
from nnrun.console.output import say_note
from nnrun.console.tables import FoldingTable

RESIDUAL_LABELS = {
    "mean": "mean residual (prediction - target)",
    "std": "residual standard deviation",
    "mae": "mean absolute error",
    "rmse": "root mean squared error",
    "median_abs": "median absolute error",
    "max_abs": "largest absolute error",
    "r2": "R^2 (1 = perfect, 0 = predicting the mean)",
}


def say_report_notes(report: dict, unsaved: bool = True) -> None:
    """The report's notes on standard error (where its weights came from, columns left
    out, ...), as ``--json`` prints them beside the JSON too; ``unsaved``: and a report
    that could not be saved (the tables say that after them)."""
    for note in ([report["weights_note"]] if report.get("weights_note") else []) + report.get("notes", []):
        say_note(note)
    if unsaved and report.get("not_written"):
        say_note(f"the report was not saved ({report['not_written']})", label="warning")


def print_evaluation(console: Console, report: dict, run_dir) -> None:
    scored = f"{report['split']} split" if "split" in report else \
        "standard input" if report["data"] == "-" else report["data"]
    classes = report.get("classification", {}).get("classes") or []
    at = "" if "threshold" not in report else \
        f", '{classes[1]}' predicted above {report['threshold']!r}" if len(classes) == 2 else \
        f", at threshold {report['threshold']!r}"
    console.print(f"{run_dir}: {scored}, {report['samples']} samples{at}",
                  highlight=False, markup=False, soft_wrap=True)
    say_report_notes(report, unsaved=False)
    table = FoldingTable(title="Metrics", title_justify="left")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name, value in report["metrics"].items():
        table.add_row(name, number(value))
    console.print(table)
    if "classification" in report:
        console.print(confusion_table(report["classification"]))
        console.print(per_class_table(report["classification"]))
    if "regression" in report:
        console.print(residual_table(report["regression"]))
    if report.get("not_written"):
        say_note(f"the report was not saved ({report['not_written']}); the scores above are all there is of it",
                 label="warning")
        return
    console.print(f"written: {report['written']}", highlight=False, markup=False, soft_wrap=True)
    if report.get("kept"):  # the last report of that name: of other weights (a resumed run), or another file
        of = report.get("kept_of", "the weights before")
        console.print(f"kept:    {report['kept']} (the report of {of})", highlight=False, markup=False, soft_wrap=True)


def confusion_table(details: dict) -> Table:
    """Rows are true classes, columns predicted ones; the diagonal is bold."""
    classes = details["classes"]
    # The header says which way it reads; no title wider than a two-class table (rich
    # would widen the first column to fit it).
    table = FoldingTable(title="Confusion matrix", title_justify="left")
    table.add_column("true \\ predicted")
    for name in classes:
        table.add_column(escape(name), justify="right")
    for i, (name, counts) in enumerate(zip(classes, details["confusion_matrix"])):
        cells = [f"[bold]{c}[/]" if i == j else (str(c) if c else "[dim]0[/]") for j, c in enumerate(counts)]
        table.add_row(escape(name), *cells)
    return table


def per_class_table(details: dict) -> Table:
    table = FoldingTable(title="Per class", title_justify="left")
    for column in ("class", "precision", "recall", "f1", "support"):
        table.add_column(column, justify="left" if column == "class" else "right")
    unscored = 0
    for row in details["per_class"]:
        # None: no sample of the class here, and none predicted (see classification_report).
        unscored += row["f1"] is None
        scores = ("-" if row[k] is None else f"{row[k]:.4f}" for k in ("precision", "recall", "f1"))
        table.add_row(escape(row["class"]), *scores, str(row["support"]))
    if unscored:
        table.caption = "-: no sample of the class here, and none predicted; the macro average leaves it out"
    macro = details["macro_average"]
    table.add_row("macro average", *(f"{macro[k]:.4f}" for k in ("precision", "recall", "f1")), "", style="italic")
    return table


SHOWN_OUTPUTS = 8  # outputs shown a column each; eval.json holds every one


def residual_table(stats: dict) -> Table:
    """The residuals over every output; with several, a column for each (up to
    ``SHOWN_OUTPUTS``), as outputs in different units pool into numbers of neither."""
    table = FoldingTable(title="Residuals", title_justify="left")
    table.add_column("statistic")
    outputs = stats.get("per_output", [])
    table.add_column("all outputs" if outputs else "value", justify="right")
    names = stats.get("output_names") or [f"output {k}" for k in range(len(outputs))]
    for k in range(min(len(outputs), SHOWN_OUTPUTS)):
        table.add_column(names[k], justify="right")
    for key, label in RESIDUAL_LABELS.items():
        table.add_row(label, number(stats[key]), *(number(o[key]) for o in outputs[:SHOWN_OUTPUTS]))
    if len(outputs) > SHOWN_OUTPUTS:
        table.caption = f"outputs {SHOWN_OUTPUTS} to {len(outputs) - 1} are in the report's per_output"
    return table
