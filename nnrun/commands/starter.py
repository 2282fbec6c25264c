"""What every starter config shares, for a bundled data set (:mod:`.init`), a CSV file
(:mod:`.init_csv`) or an archive (:mod:`.init_npz`): each line's comment in one column,
names and paths as YAML scalars, the editor's schema line, the target's lines, the model
for the task with its loss, optimizer and metrics, and the training section.

    model_lines(["no", "yes"])      # one sigmoid unit, binary cross-entropy, accuracy and auc
    model_lines(None)               # one linear output, mse, mae and r2 (with the target standardized)

May import: nnrun.data.labels (what a class too small to weigh up is).
"""

from __future__ import annotations

import re
from pathlib import Path

from nnrun.data.labels import too_few_rows

COMMENT_COLUMN = 42


def pad(text: str) -> str:
    """Spaces that bring a line of ``text`` to the comment column (at least two)."""
    return " " * max(COMMENT_COLUMN - len(text), 2)


def commented(line: str, comment: str) -> str:
    return f"{line}{pad(line)}# {comment}"


OPTIMIZER = commented("optimizer: {type: adam, learning_rate: 0.001}", "Keras's and PyTorch's default rate")


def schema_lines(config: Path) -> list[str]:
    """The editor's schema line, and the command that writes the schema file where the
    config's folder has none."""
    folder = config.parent
    if (folder / "nnrun.schema.json").exists():
        return ["# yaml-language-server: $schema=nnrun.schema.json"]
    return ["# yaml-language-server: $schema=nnrun.schema.json",
            f"# (completion and checks in editors: nnrun schema > {'' if str(folder) == '.' else f'{folder}/'}"
            "nnrun.schema.json)"]


HELD_OUT = 0.15  # the validation and the test split of a starter config, each: 70% of the rows train
# A class of two under this share of the rows: accuracy alone would praise a model that
# never predicts it (0.96 for a 4% class), so the starter weighs it up and scores its ranking.
RARE_SHARE = 0.2
RARE_AMONG_MANY = 0.25  # of three classes or more: one with under this share of the largest's rows is rare


def class_order(labels: list[str]) -> list[str]:
    """The labels in the order training gives the classes (see data.base.label_classes):
    by value when every label is a number, else as text."""
    try:
        return sorted(labels, key=float)
    except ValueError:
        return sorted(labels)


# Yes and no in the languages spreadsheets are written in: where the yes sorts first
# ('ja' before 'nein', 'evet' before 'hayir'), the sorted order would make no the positive class.
YES_WORDS = frozenset({"yes", "y", "ja", "j", "oui", "si", "sí", "sim", "tak", "da", "evet", "kyllä", "igen", "ano",
                       "taip", "jah", "ya"})
NO_WORDS = frozenset({"no", "n", "nein", "non", "não", "nao", "nie", "nu", "hayir", "hayır", "ei", "nem", "ne", "nee",
                      "nej", "nei", "tidak"})


def yes_no(classes: list[str]) -> bool:
    """Whether two classes are a yes and a no, in that order (see ``YES_WORDS``)."""
    return len(classes) == 2 and classes[0].strip().casefold() in YES_WORDS and \
        classes[1].strip().casefold() in NO_WORDS


def positive_last(classes: list[str], counts: list[int]) -> list[str]:
    """Two classes in the order that makes a rare one (under ``RARE_SHARE`` of the rows)
    the second, the positive one, where its name sorts first ('fraud' before 'legit');
    else a yes the second where it sorts first ('ja' before 'nein'); otherwise as
    they are."""
    if len(classes) == 2 and counts[0] < RARE_SHARE * sum(counts):
        return [classes[1], classes[0]]
    if yes_no(classes) and not counts[1] < RARE_SHARE * sum(counts):
        return [classes[1], classes[0]]
    return classes


def tokens_for(vocabulary: int) -> int:
    """max_tokens: the distinct words seen, with room, in hundreds (at most 20,000)."""
    return min(20_000, max(100, -(-(vocabulary + 2) // 100) * 100))


def model_lines(classes: list[str] | None, *, flatten: bool = False, text_tokens: int | None = None,
                counts: list[int] = (), far: tuple | None = None, before: tuple[str, ...] = (),
                outputs: int = 1) -> list[str]:
    """The ``model:`` section, the loss, optimizer and metrics: a hidden layer of 64 with
    dropout, then one output per class (one sigmoid unit for two), or one linear output
    for a regression (``classes`` None), whose target the data section standardizes.
    ``counts``: the rows of each class; a rare one of two gets class weights and metrics
    that see it. ``far``: (count, farthest, median as text) of a regression's targets
    far from the rest (data.ranges.far_from_the_rest), which get the huber loss.
    ``before``: layer lines that read the input first (convolutions, a recurrent layer);
    ``outputs``: a regression's targets."""
    lines = ["model:", commented("  layers:", "input to output; shapes are checked before training"), *before]
    if flatten:
        lines.append(commented("    - {type: flatten}", "images (height, width, channels) -> one vector" if not before
                               else "the last feature maps -> one vector"))
    if text_tokens is not None:
        lines += [commented(f"    - {{type: embedding, input_dim: {text_tokens}, output_dim: 32, mask_zero: true}}",
                            "input_dim = max_tokens"),
                  commented("    - {type: global_average_pool1d}", "the mean of the words' vectors")]
    lines += ["    - {type: dense, units: 64, activation: relu}",
              commented("    - {type: dropout, rate: 0.1}", "zeroes 10% of the units at random while training")]
    if classes is None:
        loss = commented("loss: mse", "mean squared error") if far is None else commented(
            "loss: huber", f"{far[0]} target{'s' * (far[0] > 1)} far from the rest (as far as {far[1]}, "
                           f"the median {far[2]}): huber fits the others, a squared error would chase "
                           f"{'them' if far[0] > 1 else 'it'}")
        output = commented("    - {type: dense, units: 1}", "one output, no activation: a real number") \
            if outputs == 1 else commented(f"    - {{type: dense, units: {outputs}}}", f"one output per target "
                                           f"({outputs}), no activation: real numbers")
        return lines + [output,
                        loss, OPTIMIZER,
                        commented("metrics: [mae, r2]", "mean absolute error (the target's units); R^2 (1 is "
                                                        "perfect)")]
    # A class of a handful of rows is no rare class to weigh up a hundredfold, but one to merge (as
    # init says): its rarity still chooses the metrics, the weights are left out.
    weighable = bool(counts) and not any(too_few_rows(count, counts) for count in counts)
    unweighed = "class weights left out: a class of a handful of rows would count a hundredfold"
    if len(classes) == 2 and counts and min(counts) < RARE_SHARE * sum(counts):
        rare = min(counts) / sum(counts)
        return lines + [commented("    - {type: dense, units: 1, activation: sigmoid}",
                                  f"the probability of '{classes[1]}' (not '{classes[0]}')"),
                        commented("loss: {type: binary_crossentropy, class_weights: balanced}",
                                  f"{rare:.1%} of the rows are '{classes[1]}': weighed up to count as much as "
                                  f"'{classes[0]}'") if weighable else
                        commented("loss: binary_crossentropy", unweighed), OPTIMIZER,
                        commented("metrics: [accuracy, auc, pr_auc, balanced_accuracy]",
                                  f"accuracy alone reads {1 - rare:.2f} for a model that never says '{classes[1]}'; "
                                  "pr_auc: how well it ranks the rare class first")]
    if len(classes) == 2:
        return lines + [commented("    - {type: dense, units: 1, activation: sigmoid}",
                                  f"the probability of '{classes[1]}' (not '{classes[0]}')"),
                        commented("loss: binary_crossentropy", "two classes: one probability"), OPTIMIZER,
                        commented("metrics: [accuracy, auc]", "auc: how well the probabilities rank (1 is perfect)")]
    output = commented(f"    - {{type: dense, units: {len(classes)}, activation: softmax}}",
                       f"one probability per class ({len(classes)})")
    if counts and min(counts) < RARE_AMONG_MANY * max(counts):
        rare, common = classes[counts.index(min(counts))], classes[counts.index(max(counts))]
        share = {name: count / sum(counts) for name, count in zip(classes, counts)}
        return lines + [output,
                        commented("loss: {type: categorical_crossentropy, class_weights: balanced}",
                                  f"'{rare}' is {share[rare]:.1%} of the rows, '{common}' {share[common]:.1%}: each "
                                  "class weighed to count alike") if weighable else
                        commented("loss: categorical_crossentropy", unweighed), OPTIMIZER,
                        commented("metrics: [accuracy, f1_macro, balanced_accuracy]",
                                  f"accuracy alone reads well for a model that seldom says '{rare}'; f1_macro and "
                                  "balanced_accuracy score each class alike")]
    return lines + [output,
                    commented("loss: categorical_crossentropy", "labels or one-hot rows, as the data has them"),
                    OPTIMIZER, commented("metrics: [accuracy]", "the fraction of samples classed right")]


def training_lines(epochs: int) -> list[str]:
    """The ``training:`` section: early stopping keeps the best weights."""
    return ["training:", commented(f"  epochs: {epochs}", "passes over the training split, at most"),
            commented("  batch_size: 32", "samples per weight update"),
            "  # Stop when the validation loss has not improved for `patience` epochs; keep the best weights.",
            "  early_stopping: {monitor: val_loss, patience: 20, restore_best: true}"]


def target_lines(classes: list[str] | None) -> list[str]:
    """The data section's lines on the target: a regression's, standardized; two classes
    listed in the order that makes the rarer the positive one, where that is not theirs."""
    if classes is None:
        return [commented("  target_scale: standardize", "learn the target standardized; predictions stay in its "
                                                         "units")]
    if classes != class_order(classes):
        why = "the yes" if yes_no(classes[::-1]) else "the rarer"
        return [commented(f"  classes: {name_list(classes)}", f"'{classes[1]}', {why}, last: the positive class")]
    return []


def scalar(text: str) -> str:
    """A YAML scalar for a name or a path: plain when YAML reads it back as that text, as
    yaml.safe_load (YAML 1.1) and nnrun's own reader (1.2: '1e3' is a number there) both do."""
    import yaml

    from nnrun.config.yaml_reader import parse_value

    plain = text and not re.search(r"[:#\[\]{},&*!|>'\"%@`]|^\s|\s$", text)
    if plain and yaml.safe_load(text) == text and parse_value(text, "a name") == text:
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def name_list(names: list[str]) -> str:
    return "[" + ", ".join(scalar(name) for name in names) + "]"
