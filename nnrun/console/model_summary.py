"""The model summary ``nnrun validate`` prints, in the manner of Keras's ``model.summary()``::

    Layer     Type            Output shape   Params
    dense_0   dense (relu)    (None, 64)        320
    dense_1   dense (softmax) (None, 3)         195
    Total params: 515 (2.0 KB)
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from nnrun.commands.validate import layer_rows, validate
from nnrun.console.output import OutputConsole, say_note
from nnrun.console.tables import FoldingTable
from nnrun.data.features import column_features
from nnrun.data.labels import class_list
from nnrun.data.split import how_drawn
from nnrun.engine.experiment import Experiment


def print_model_summary(console: Console, experiment: Experiment, source: str) -> None:
    def say(text: str) -> None:  # user text (paths, names) is never markup
        console.print(text, markup=False, highlight=False, soft_wrap=True)

    config, graph = experiment.config, experiment.graph
    train = experiment.splits["train"]
    sizes = ", ".join(f"{len(part)} {name}" for name, part in experiment.splits.items())
    say(f"{source}: valid")
    target = class_list(train) if train.task == "classification" else f"{train.target_width} target{'s' if train.target_width != 1 else ''}"
    given = config.data.source.model_dump(exclude={"type"}, exclude_defaults=True)
    options = " ".join(f"{k}={_option(v)}" for k, v in given.items())
    source_text = f"{config.data.source.type} {options}".strip()
    drawn = how_drawn(config.data.split)
    say(f"data: {source_text}; input shape {train.input_shape}, {target}; {sizes}" + (f" ({drawn})" if drawn else "")
        + "".join(f"; '{c['name']}': a vocabulary of {len(c['text']['vocabulary']):,} tokens (max_tokens "
                  f"{c['text']['max_tokens']:,}), [UNK] and padding included"
                  for c in (experiment.columns or {}).get("columns", []) if c["kind"] == "text"))
    if (line := _features_line(experiment.columns)) is not None:
        say(line)
    for warning in experiment.warnings:
        say_note(warning, "warning")
    rows = layer_rows(experiment)
    branched = any(spec.inputs for spec in config.model.layers)
    table = FoldingTable(title=f"Model '{config.name}'", title_justify="left")
    table.add_column("Layer")
    table.add_column("Type")
    if branched:  # a plain stack reads top to bottom; a graph needs its edges shown
        table.add_column("Inputs")
    table.add_column("Output shape")
    table.add_column("Params", justify="right")
    for row in rows:
        cells = [row["name"], row["type"], *([row["inputs"]] if branched else []), row["output_shape"]]
        table.add_row(*cells, f"{row['params']:,}")
    console.print(table)
    total = graph.parameter_count
    kilobytes = total * graph.dtype.itemsize / 1024
    say(f"Total params: {total:,} ({kilobytes:,.1f} KB, {graph.dtype.name})")
    # from_logits: the model ends in logits, and predictions apply the activation; else the
    # loss took the output layer's own activation into its gradient.
    fused = "" if not graph.output_activation else f", from logits ({graph.output_activation} for predictions)" \
        if getattr(config.loss, "from_logits", False) else f", fused with the output {graph.output_activation}"
    weights = getattr(config.loss, "class_weights", None)
    weighted = "" if not isinstance(weights, list) else "; class weights " + ", ".join(
        f"{name}: {weight:.4g}" for name, weight in zip(train.class_names or [], weights))
    say(f"loss: {config.loss.type}{fused}{weighted}; optimizer: {config.optimizer.type}")


def validate_and_print(config: Path, overrides=(), console: Console | None = None) -> Experiment:
    """``nnrun validate CONFIG``: check everything short of training, then summarize."""
    experiment = validate(config, overrides)
    print_model_summary(console or OutputConsole(), experiment, str(config))
    return experiment


def _option(value) -> str:
    """A source option as the config writes it: a block as {key: value, ...}; a text with
    a space or a tab in it (delimiter: "\\t") as Python writes it, so that it shows."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_option(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_option(v) for v in value) + "]"
    if isinstance(value, str) and (not value.isprintable() or " " in value or not value):  # "" shows too
        return repr(value)
    if isinstance(value, bool):  # as YAML writes it, not Python
        return "true" if value else "false"
    return str(value)


def _features_line(columns: dict | None) -> str | None:
    """The input's features by column, where a column encodes several (a category's
    one-hot features, a date's), as a select layer and the model card name them; None
    for a table of one feature a column (the columns are the features) or no table."""
    if not columns or all(len(column_features(c)) == 1 or c["kind"] == "text" for c in columns["columns"]):
        return None
    parts = []
    for column in columns["columns"]:
        names = column_features(column)
        if len(names) == 1 or column["kind"] == "text":
            parts.append(column["name"] + (f" ({len(names)} token positions)" if column["kind"] == "text" else ""))
        else:
            shown = ", ".join(names[:4]) + (f", ... {len(names)} in all" if len(names) > 4 else "")
            parts.append(f"{column['name']} ({shown})")
    return f"features: {'; '.join(parts)}"
