"""Sequence data the way a user gives it: a CSV text column (vocabulary from the
training split, saved, reapplied by predict and evaluate --data), NPZ sequences of
floats or token ids, and the generated waves."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from nnrun.data.sequences import reviews
from nnrun.errors import UserError

TEXT_CONFIG = """
name: text
seed: 1
data:
  source:
    type: csv
    path: reviews.csv
    target: sentiment
    test_path: test.csv
    text: {{column: review, tokens: word, max_tokens: 200, length: 24}}
  split: {{validation: 0.2, test: 0, stratify: true}}
model:
  layers:
    - {{type: embedding, input_dim: 200, output_dim: 8, mask_zero: true}}
    - {type}
    - {{type: dense, units: 2, activation: softmax}}
loss: categorical_crossentropy
metrics: [accuracy]
training: {{epochs: 1, batch_size: 32}}
"""


def write_reviews(path: Path, samples: int, seed: int, extra: str = "") -> None:
    texts, labels = reviews(np.random.default_rng(seed), samples)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["review", "sentiment"])
        writer.writerows([[t + extra, label] for t, label in zip(texts, labels)])


@pytest.fixture
def text_files(tmp_path):
    write_reviews(tmp_path / "reviews.csv", 120, 0)
    write_reviews(tmp_path / "test.csv", 30, 1, extra=" Zanzibar!")  # a word only the test split has
    return tmp_path


@pytest.mark.parametrize("layer", [
    "{type: bidirectional, layer: {type: lstm, units: 4}}",
    "{type: gru, units: 4}",
    "{type: global_average_pool1d}",
])
def test_text_column_trains_predicts_and_evaluates(run_cli, text_files, layer):
    (text_files / "config.yaml").write_text(TEXT_CONFIG.format(type=layer))
    result = run_cli("train", "config.yaml", "--run-dir", "run", "--quiet")
    assert result.exit_code == 0, result.output
    saved = json.loads((text_files / "run" / "preprocess.json").read_text())
    column = saved["columns"]["columns"][0]
    assert column["kind"] == "text" and saved["input_shape"] == [24]
    vocabulary = column["text"]["vocabulary"]
    assert vocabulary[:2] == ["", "[UNK]"] and "the" in vocabulary
    assert "zanzibar" not in vocabulary  # learned on the training split only

    (text_files / "new.csv").write_text("review\nThe plot was not bad.\n\nThe acting was dreadful!\n")
    result = run_cli("predict", "run", "new.csv", "-o", "out.csv", "--proba")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(open(text_files / "out.csv")))
    assert len(rows) == 3 and {r["prediction"] for r in rows} <= {"negative", "positive"}  # the blank line too

    result = run_cli("evaluate", "run", "--data", "test.csv")
    assert result.exit_code == 0, result.output
    assert "30 samples" in result.output


def test_an_empty_text_is_all_padding(run_cli, text_files):
    (text_files / "config.yaml").write_text(TEXT_CONFIG.format(type="{type: lstm, units: 3}"))
    assert run_cli("train", "config.yaml", "--run-dir", "run", "--quiet").exit_code == 0
    (text_files / "new.csv").write_text('review\n""\n...\n')
    result = run_cli("predict", "run", "new.csv", "-o", "out.csv")
    assert result.exit_code == 0, result.output


def test_a_text_model_predicts_a_list_of_texts_or_one_text_in_python(run_cli, text_files):
    (text_files / "config.yaml").write_text(TEXT_CONFIG.format(type="{type: lstm, units: 3}"))
    assert run_cli("train", "config.yaml", "--run-dir", "run", "--quiet").exit_code == 0
    import nnrun

    model, texts = nnrun.load(text_files / "run"), ["The plot was not bad.", "The acting was dreadful!"]
    by_column = model.predict({"review": texts}).probabilities
    np.testing.assert_array_equal(model.predict(texts).probabilities, by_column)
    np.testing.assert_array_equal(model.predict(texts[1]).probabilities, by_column[1:])  # a string is a text
    (text_files / "new.csv").write_text("review\n" + "\n".join(f'"{t}"' for t in texts) + "\n")
    np.testing.assert_array_equal(model.predict(text_files / "new.csv").probabilities, by_column)  # a Path a file
    with pytest.raises(UserError, match=r"names a file, and a text model takes a string as the text"):
        model.predict(str(text_files / "new.csv"))  # which would be predicted for as a text, silently
    with pytest.raises(UserError, match=r"x: item 1 is 5, but this model reads texts \(its column 'review'\)"):
        model.predict(["The plot was not bad.", 5])  # not "trained on the columns of a table"
    with pytest.raises(UserError, match=r"x: its items are not texts, but this model reads texts"):
        model.predict([12345, 6])
    for wrong in (None, 5, 2.5):  # the hint says what a text model takes, not "a dict of columns or a DataFrame"
        with pytest.raises(UserError, match=rf"x: got {wrong}, but this model reads texts \(its column 'review'\)") \
                as refused:
            model.predict(wrong)
        assert refused.value.hint == "pass a text, a list of texts, a pandas Series of them, or the column: " \
                                     "{'review': [...]}"
    with pytest.raises(UserError, match=r"x: got b'bad', but this model reads texts \(its column 'review'\); decode "):
        model.predict(b"bad")
    with pytest.raises(UserError, match=r"x: item 1 is b'bad', bytes, but this model reads texts") as refused:
        model.predict(["good", b"bad"])
    assert refused.value.hint == "decode the bytes first: [v.decode('utf-8') for v in x]"
    with pytest.raises(UserError, match="missing: 'review'") as refused:  # a dict's keys are no file's first line
        model.predict({"text": texts})
    assert refused.value.hint == "the training columns are: review"
    long = "great movie " * 30 + "see notes.csv"  # a text that ends like a file name, too long to be one
    assert model.predict(long).predictions.shape == (1,)
    rows = [{"review": text} for text in texts]  # rows as dicts, as a JSON request's instances are
    np.testing.assert_array_equal(model.predict(rows).probabilities, by_column)
    pd = pytest.importorskip("pandas")
    np.testing.assert_array_equal(model.predict(pd.Series(texts)).probabilities, by_column)  # a column of texts
    # A Series of texts keeps its index, so that series.to_frame().join(prediction.to_frame()) lines up.
    assert list(model.predict(pd.Series(texts, index=[100, 101])).to_frame().index) == [100, 101]
    np.testing.assert_array_equal(model.predict(pd.Series({"review": texts[0]})).probabilities, by_column[:1])  # a row


def test_a_word_reads_the_same_however_its_accent_was_typed(run_cli, text_files):
    """'café' with its accent composed (U+00E9) or typed as 'e' and a combining mark
    (U+0301, as macOS saves it) is one word; a run saved before the option (no unicode
    in preprocess.json) reads texts as they are, as it was trained."""
    import json

    import nnrun

    composed, combining = "The caf\u00e9 was dreadful!", "The cafe\u0301 was dreadful!"
    rows = (text_files / "reviews.csv").read_text().splitlines()
    (text_files / "reviews.csv").write_text("\n".join(rows + [f'"{composed}",negative'] * 20) + "\n")
    (text_files / "config.yaml").write_text(TEXT_CONFIG.format(type="{type: global_average_pool1d}"))
    assert run_cli("train", "config.yaml", "--run-dir", "run", "--quiet").exit_code == 0
    model = nnrun.load(text_files / "run")
    np.testing.assert_array_equal(model.predict(combining).probabilities, model.predict(composed).probabilities)
    assert not model.predict(combining).notes  # no word unknown to the vocabulary
    saved = json.loads((text_files / "run" / "preprocess.json").read_text())
    [text] = [column["text"] for column in saved["columns"]["columns"] if column.get("text")]
    assert text["unicode"] == "nfc" and "caf\u00e9" in text["vocabulary"]
    from nnrun.data.text import vectorize

    del text["unicode"]  # as a run saved before the option: its combining mark is another word, [UNK] (1)
    assert vectorize([combining], text)[0, 1] == 1 and vectorize([composed], text)[0, 1] > 1
    # The config file, which leaves unicode unset, resumes the run that settled it as nfc.
    assert "unicode: nfc" in (text_files / "run" / "config.yaml").read_text()
    result = run_cli("train", "config.yaml", "--resume", "run", "--set", "training.epochs=2", "--quiet")
    assert result.exit_code == 0, result.output
    # A saved run's config.yaml without it (trained before the option) is built as it read its texts: none.
    from nnrun.config import load_config
    from nnrun.engine.experiment import build

    for new_run, meant in ((True, "nfc"), (False, "none")):
        experiment = build(load_config(text_files / "config.yaml"), warm_start=new_run)
        assert experiment.config.data.source.text.unicode == meant


def predicted(run_cli, text: str, *options: str) -> list[dict]:
    """The rows ``nnrun predict run new.csv -o - --proba`` prints for a file holding ``text``."""
    Path("new.csv").write_text(text)
    result = run_cli("predict", "run", "new.csv", "-o", "-", "--proba", *options)
    assert result.exit_code == 0, result.output
    return list(csv.DictReader(result.stdout.splitlines()))


def test_a_blank_line_between_rows_of_a_one_column_file_is_an_empty_text(run_cli, text_files):
    (text_files / "config.yaml").write_text(TEXT_CONFIG.format(type="{type: lstm, units: 3}"))
    assert run_cli("train", "config.yaml", "--run-dir", "run", "--quiet").exit_code == 0
    first, last = "The plot was not bad.", "The acting was dreadful!"
    alone = [predicted(run_cli, f"review\n{text}\n")[0] for text in (first, '""', last)]
    # Every line under the header is a row, in place: the blank one scores as an empty cell (all padding).
    assert predicted(run_cli, f"review\n{first}\n\n{last}\n") == alone
    assert predicted(run_cli, f"review\r\n{first}\r\n   \r\n{last}\r\n") == alone
    # Blank lines after the last row are no rows (a file's stray last line shifts nothing).
    assert predicted(run_cli, f"review\n{first}\n\n{last}\n\n  \r\n\n") == alone
    assert predicted(run_cli, f'review\n"{first}\nstill the first"\n\n{last}\n')[1:] == alone[1:]
    Path("new.csv").write_text(f"review\n{first}\n\n{last},too\n")  # lines are still the file's
    result = run_cli("predict", "run", "new.csv", "-o", "-")
    assert result.exit_code == 2
    assert "rows with the wrong number of cells (1):\n    line 4: 2 cells, but the header has 1 column\n" in result.output
    # Texts without their column's name first: the first text was read as the header, which the hint says.
    Path("bare.csv").write_text("refund please\nlost parcel\n")
    result = run_cli("predict", "run", "bare.csv", "-o", "-")
    assert result.exit_code == 2 and "the file's first line ('refund please') is read as its header; if it is " \
        "a row of data, add a first line that names the columns: review" in " ".join(result.output.split())
    # Or under another name: renamed, it is the model's.
    Path("named.csv").write_text("text\nrefund please\nlost parcel\n")
    result = run_cli("predict", "run", "named.csv", "-o", "-")
    assert result.exit_code == 2 and "hint: if its column holds the model's 'review', name it so in the first " \
        "line;" in " ".join(result.output.split())
    # With several columns a blank line holds no cells; a row of empty cells is written ','.
    assert predicted(run_cli, f"id,review\n1,{first}\n,\n3,{last}\n", "--keep", "id") == [
        {"id": id, **row} for id, row in zip(["1", "", "3"], alone)]


def test_predict_refuses_blank_lines_between_rows_of_several_columns(run_cli, text_files):
    (text_files / "config.yaml").write_text(TEXT_CONFIG.format(type="{type: lstm, units: 3}"))
    assert run_cli("train", "config.yaml", "--run-dir", "run", "--quiet").exit_code == 0
    (text_files / "new.csv").write_text("id,review\n1,A good film.\n\n3,A bad film.\n\n")
    result = run_cli("predict", "run", "new.csv", "-o", "out.csv", "--keep", "id")
    assert result.exit_code == 2
    assert ("new.csv: 1 problem in the data\n  rows with the wrong number of cells (1):\n"
            "    line 3: blank, but the header has 2 columns\n"
            "    hint: the predictions line up with the rows, so a blank line is not skipped: delete it, or write its "
            "2 empty cells (',') to predict a row of missing values") in result.output  # line 5 ends the file
    assert "Traceback" not in result.output and not (text_files / "out.csv").exists()


def test_training_and_evaluate_skip_blank_lines_and_count_them(run_cli, text_files):
    """With a target, a blank line has nothing to learn or score: training and
    evaluate --data skip it, and the lines named below it are still the file's."""
    (text_files / "config.yaml").write_text(TEXT_CONFIG.format(type="{type: lstm, units: 3}"))
    assert run_cli("train", "config.yaml", "--run-dir", "run", "--quiet").exit_code == 0
    header, *rows = (text_files / "test.csv").read_text().splitlines()

    def gaps(last: str) -> str:  # lines 3 and 6 blank, a row over lines 4 and 5, ``last`` on line 7
        return "\n".join([header, rows[0], "", '"two\nlines",positive', "", last, *rows[1:]]) + "\n\n"

    (text_files / "gaps.csv").write_text(gaps("fine,positive"))
    result = run_cli("evaluate", "run", "--data", "gaps.csv")
    assert result.exit_code == 0, result.output
    assert "gaps.csv, 32 samples" in result.output  # the 30 and two more; no blank line
    (text_files / "gaps.csv").write_text(gaps("fine,postive"))
    result = run_cli("evaluate", "run", "--data", "gaps.csv")
    assert result.exit_code == 2
    assert "unknown class (1 cell):\n    line 7, column 'sentiment': 'postive'" in result.output
    (text_files / "reviews.csv").write_text(gaps("fine,"))
    result = run_cli("train", "config.yaml", "--run-dir", "again", "--quiet")
    assert result.exit_code == 2 and "missing target (1 cell):\n    line 7, column 'sentiment'" in result.output


@pytest.mark.parametrize("change, message", [
    ({"features": ["review", "sentiment2"]}, "data.source.features: lists other columns, but the text column 'review'"),
    ({"text": {"column": "reveiw"}}, "data.source.text.column: 'reveiw' is not a column of"),
    ({"text": {"column": "review", "tokens": "letters"}}, "data.source.text.tokens"),
    ({"text": {"column": "sentiment"}}, "data.source.text.column: 'sentiment' is the target column "
                                        "(data.source.target); the text column is the model's input: name the "
                                        "column that holds the text"),
    ({"id": "review", "text": {"column": "review"}}, "'review' is an ID column (data.source.id)"),
])
def test_text_config_mistakes_are_located(run_cli, text_files, change, message):
    import yaml

    config = yaml.safe_load(TEXT_CONFIG.format(type="{type: lstm, units: 3}"))
    config["data"]["source"].update(change)
    (text_files / "config.yaml").write_text(yaml.safe_dump(config))
    result = run_cli("validate", "config.yaml")
    assert result.exit_code == 2
    assert message in result.output


def test_npz_sequences_of_floats_and_of_token_ids(run_cli, tmp_path):
    rng = np.random.default_rng(0)
    floats = rng.normal(size=(60, 7, 3)).astype(np.float32)
    np.savez(tmp_path / "floats.npz", x=floats, y=(floats[:, :, 0].sum(axis=1) > 0).astype(np.int64))
    tokens = rng.integers(0, 9, (60, 6))
    np.savez(tmp_path / "tokens.npz", x=tokens, y=(tokens[:, 0] > 4).astype(np.int64))
    layers = {
        "floats": "[{type: gru, units: 4, return_sequences: true}, {type: global_max_pool1d}, "
                  "{type: dense, units: 2, activation: softmax}]",
        "tokens": "[{type: embedding, input_dim: 9, output_dim: 4, mask_zero: true}, {type: simple_rnn, units: 3}, "
                  "{type: dense, units: 2, activation: softmax}]",
    }
    for name, model in layers.items():
        (tmp_path / f"{name}.yaml").write_text(
            f"name: {name}\ndata: {{source: {{type: npz, path: {name}.npz}}, split: {{validation: 0.2, test: 0.2}}}}\n"
            f"model: {{layers: {model}}}\nloss: categorical_crossentropy\ntraining: {{epochs: 1}}\n")
        result = run_cli("train", f"{name}.yaml", "--run-dir", name, "--quiet")
        assert result.exit_code == 0, result.output
        assert json.loads((tmp_path / name / "preprocess.json").read_text())["input_shape"] == list(
            np.load(tmp_path / f"{name}.npz")["x"].shape[1:])
        result = run_cli("predict", name, f"{name}.npz", "-o", f"{name}.csv")
        assert result.exit_code == 0 and "wrote 60 predictions" in result.output, result.output
    # New token ids beyond the learned vocabulary: the file and the samples named, and
    # nothing said of input_dim, which a trained model cannot change.
    tokens[[2, 5], 1], tokens[5, 3] = 12, -1
    np.savez(tmp_path / "new.npz", x=tokens, y=(tokens[:, 0] > 4).astype(np.int64))
    for command in (["predict", "tokens", "new.npz", "-o", "new.csv"], ["evaluate", "tokens", "--data", "new.npz"]):
        result = run_cli(*command)
        said = " ".join(result.output.split())
        assert result.exit_code == 2 and "new.npz: 2 samples hold values the model's embedding layer cannot look up " \
            "(samples 2, 5, counted from 0; sample 2 holds 12); it takes whole numbers from 0 to 8" in said, said
        assert "input_dim" not in said and not (tmp_path / "new.csv").exists()


def test_waves_pattern_checks_its_shape(run_cli, tmp_path):
    (tmp_path / "c.yaml").write_text("data: {source: {type: synthetic, pattern: waves, shape: [8, 2]}}\n"
                                     "model: {layers: [{type: gru, units: 2}, {type: dense, units: 3}]}\n"
                                     "loss: categorical_crossentropy\n")
    result = run_cli("validate", "c.yaml")
    assert result.exit_code == 2
    assert "waves makes sequences of shape [steps, 1]" in result.output
