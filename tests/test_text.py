"""Text vectorization (Keras TextVectorization semantics) and the generated sequence tasks."""

from __future__ import annotations

import json

import numpy as np

from nnrun.data.sequences import reviews, waves
from nnrun.data.text import TextSpec, fit_vocabulary, vectorize, vocabulary_size


def test_vocabulary_is_by_frequency_with_padding_and_oov_first():
    state = fit_vocabulary(["b a b", "c b a.", "A d"], TextSpec(column="t", max_tokens=5, length=4))
    assert state["vocabulary"] == ["", "[UNK]", "a", "b", "c"]  # a and b: 3 each, alphabetical; d left out
    assert json.loads(json.dumps(state)) == state  # saved as is in preprocess.json
    ids = vectorize(["B, a! d e c b", "", "zebra"], state)
    assert ids.dtype == np.float32
    assert ids.tolist() == [[3, 2, 1, 1], [0, 0, 0, 0], [1, 0, 0, 0]]  # cut at 4, padded with 0, unknown -> 1
    assert vocabulary_size(state) == 5


def test_characters_case_and_punctuation_options():
    spec = TextSpec(column="t", tokens="char", length=5, lowercase=False, strip_punctuation=False)
    state = fit_vocabulary(["aA!"], spec)
    assert sorted(state["vocabulary"][2:]) == ["!", "A", "a"]
    assert vectorize(["a!"], state)[0, 2:].tolist() == [0, 0, 0]


def test_vocabulary_learns_nothing_from_text_it_is_not_given():
    state = fit_vocabulary(["seen words only"], TextSpec(column="t", length=3))
    assert state["vocabulary"][2:] == ["only", "seen", "words"]  # ties: alphabetical
    assert vectorize(["unseen words"], state).tolist() == [[1, 4, 0]]


def test_generated_tasks_are_seeded_and_balanced():
    x, y = waves(np.random.default_rng(0), 400, 32, 4, 0.1)
    assert x.shape == (400, 32, 1) and x.dtype == np.float32 and set(y) == {0, 1, 2, 3}
    assert np.array_equal(x, waves(np.random.default_rng(0), 400, 32, 4, 0.1)[0])
    texts, labels = reviews(np.random.default_rng(0), 300)
    assert texts == reviews(np.random.default_rng(0), 300)[0]
    assert 0.3 < labels.count("positive") / 300 < 0.7
    negated = [t for t, label in zip(texts, labels) if "not" in t.split() and label == "positive"]
    assert negated, "negation must be able to flip an opinion"


def text_model(tmp_path, header: str, rows: list[str], text_settings: str, vocabulary: int):
    """t.csv of these rows and c.yaml, a text classifier of its 'label' by 'text' (an
    embedding and an average) with these source settings; returns the config's path."""
    (tmp_path / "t.csv").write_text(header + "\n" + "\n".join(rows) + "\n")
    config = tmp_path / "c.yaml"
    config.write_text(f"name: t\ndata:\n  source: {{type: csv, path: t.csv, target: label, id: [id], {text_settings}}}\n"
                      f"model:\n  layers:\n    - {{type: embedding, input_dim: {vocabulary}, output_dim: 2}}\n"
                      "    - {type: global_average_pool1d}\n    - {type: dense, units: 2, activation: softmax}\n"
                      "loss: categorical_crossentropy\n")
    return config


def test_training_texts_cut_to_length_are_warned_with_a_length_that_keeps_them(run_cli, tmp_path):
    rows = [f"{i},{' '.join(['word'] * (3 + i % 10))},{'ab'[i % 2]}" for i in range(100)]
    config = text_model(tmp_path, "id,text,label", rows, "text: {column: text, length: LENGTH}", vocabulary=10)
    text = config.read_text()
    config.write_text(text.replace("LENGTH", "6"))
    out = " ".join(run_cli("validate", config).output.split())
    # 3 to 12 words: the 70% over 6 are cut; the 95th percentile of the training split keeps them.
    assert "warning: column 'text': " in out and " training texts (" in out
    assert "have more than length: 6 tokens and are cut to their first 6 (the longest has 12); " \
           "data.source.text.length: 12 keeps 95% of them whole" in out
    config.write_text(text.replace("LENGTH", "12"))
    assert "warning" not in run_cli("validate", config).output
    # Token indices read by a dense layer, as numbers: warned, with the embedding to put first.
    config.write_text(text.replace("LENGTH", "12").replace("    - {type: embedding, input_dim: 10, output_dim: 2}\n"
                                                           "    - {type: global_average_pool1d}\n", ""))
    out = " ".join(run_cli("validate", config).output.split())
    assert "warning: data.source.text: 'text' becomes token indices, which an embedding turns into vectors; the " \
           "model reads them with a dense layer, as plain numbers; put {type: embedding, input_dim: 20000, " \
           "output_dim: 16} first" in out


def test_missing_texts_and_columns_a_text_model_does_not_read_are_warned(run_cli, tmp_path):
    # "NA", "null", "?" and empty cells all become empty texts: said, with the count, not hidden.
    cells = ["NA", "null", "?", ""] + [f"good words {i}" for i in range(36)]
    rows = [f"{i},{cell},{i % 5},{'ab'[i % 2]}" for i, cell in enumerate(cells)]
    config = text_model(tmp_path, "id,text,stars,label", rows, "IGNOREtext: {column: text, length: 4}", vocabulary=50)
    text = config.read_text()
    config.write_text(text.replace("IGNORE", ""))
    result = run_cli("validate", config)
    out = " ".join(result.output.split())
    assert result.exit_code == 0
    assert "'text': 4 of 40 texts are empty or a missing marker (#n/a, #na, <na>, ?, n/a, na, nan, null), on lines " \
           "2, 3, 4, 5; they are read as empty texts, all padding" in out
    assert "t.csv: 1 column is not used ('stars'): the text column 'text' is the model's only input. List it in " \
           "data.source.ignore to say so, or train without data.source.text to use it" in out
    # A column left out on purpose is no news.
    config.write_text(text.replace("IGNORE", "ignore: [stars], "))
    out = " ".join(run_cli("validate", config).output.split())
    assert "not used" not in out and "4 of 40 texts" in out
    # Told for the file that has them, with its own count: a validation file's, not the training file's.
    (tmp_path / "v.csv").write_text("id,text,stars,label\n" + "\n".join(f"{i},,1,a" if i == 2 else f"{i},words,1,b"
                                                                        for i in range(10)) + "\n")
    config.write_text(text.replace("IGNORE", "ignore: [stars], validation_path: v.csv, "))
    out = " ".join(run_cli("validate", config, "--set", "data.split.validation=0").output.split())
    assert "v.csv, 'text': 1 of 10 texts are empty or a missing marker" in out and "on line 4;" in out
    assert "4 of 40 texts" in out


def test_the_length_said_to_keep_95_percent_does():
    from nnrun.data import text_warnings

    state = {"tokens": "word", "lowercase": True, "strip_punctuation": True, "length": 5, "max_tokens": 20,
             "vocabulary": ["", "[UNK]", "w"]}
    texts = ["w " * 10] * 28 + ["w " * 20] * 2  # 95% of 30 is 28.5 texts: the 29th is 20 words long
    (warning,) = text_warnings("t", texts, state)
    assert "data.source.text.length: 20 keeps 95% of them whole" in warning


def test_a_vocabulary_too_small_for_the_training_words_is_told_the_size_that_keeps_them(run_cli):
    import re
    from pathlib import Path

    text_lstm = Path(__file__).parents[1] / "configs" / "text_lstm.yaml"
    out = " ".join(run_cli("validate", text_lstm, "--set", "data.source.text.max_tokens=10").output.split())
    found = re.search(r"warning: column 'review': data\.source\.text\.max_tokens: 10 keeps the 8 most frequent of "
                      r"the training split's (\d+) distinct tokens; the rest, \d+% of its tokens, all read as \[UNK\], "
                      r"one input for all of them: max_tokens: (\d+) keeps every one", out)
    assert found and int(found[2]) == int(found[1]) + 2, out
    assert "read as [UNK]" not in " ".join(run_cli("validate", text_lstm).output.split())  # the bundled size keeps all


def test_predict_notes_texts_cut_to_length_and_texts_of_no_known_word(run_cli, tmp_path):
    import nnrun

    words = "the phone was very good bad awful great screen battery".split()
    rows = [f"{i},{' '.join(words[(i + j) % 10] for j in range(2 + i % 4))},{'ab'[i % 2]}" for i in range(60)]
    (tmp_path / "t.csv").write_text("id,text,label\n" + "\n".join(rows) + "\n")
    (tmp_path / "c.yaml").write_text(
        "name: t\ndata:\n  source: {type: csv, path: t.csv, target: label, id: [id], text: {column: text, length: 6}}\n"
        "model:\n  layers:\n    - {type: embedding, input_dim: 20, output_dim: 2}\n"
        "    - {type: global_average_pool1d}\n    - {type: dense, units: 2, activation: softmax}\n"
        "loss: categorical_crossentropy\ntraining: {epochs: 1}\n")
    assert run_cli("train", "c.yaml", "--quiet", "--run-dir", "run").exit_code == 0
    texts = ["the phone was very good and the screen was great", "zorglub blorf", "good phone", ""]
    (tmp_path / "new.csv").write_text("text\n" + "\n".join(f'"{t}"' for t in texts) + "\n")
    result = run_cli("predict", "run", "new.csv", "-o", "-")
    assert result.exit_code == 0, result.output
    cut = "1 of 4 texts in 'text' are longer than the run's length of 6 tokens; each was cut to its first 6, as in " \
          "training"
    unknown = "1 text holds no word the vocabulary of 'text' knows (read as [UNK] only), so its prediction says little"
    out = " ".join(result.output.split())
    empty = "1 text in 'text' is empty (no token), so its prediction says little"
    assert f"note: {cut}" in out and f"note: {unknown}" in out  # the empty text is padding, not unknown words
    assert f"note: {empty}" in out
    assert nnrun.load(tmp_path / "run").predict({"text": texts}).notes == (cut, unknown, empty)
    # A list or Series of texts with a missing one (None, NaN, pd.NA) reads it as an empty cell.
    model = nnrun.load(tmp_path / "run")
    missing = [None, float("nan"), np.nan]
    try:
        import pandas as pd

        missing += [pd.NA]
        assert model.predict(pd.Series(["good phone", np.nan])).notes == (empty,)
    except ImportError:
        pass
    for gap in missing:
        assert model.predict(["good phone", gap]).notes == (empty,), gap
    assert model.predict([]).probabilities.shape == (0, 2)  # no texts: no predictions
    (tmp_path / "plain.csv").write_text("text\ngood phone\nbad screen\n")
    assert "note:" not in run_cli("predict", "run", "plain.csv", "-o", "-").output
