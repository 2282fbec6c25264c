"""`nnrun init --data FILE.csv --target COLUMN`: a starter config for one's own CSV file,
its settings read from the file and said in comments, that validates and trains as
written. The files are generated here."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from nnrun.config import load_config
from nnrun.engine.experiment import build


def houses(rows: int = 200) -> str:
    """An ID, numbers with thousands separators and empty cells, a category, a price."""
    rng = np.random.default_rng(0)
    lines = ["row,house_id,sqft,bedrooms,neighborhood,notes,price"]
    for i in range(rows):
        sqft, bedrooms = int(rng.integers(600, 4000)), int(rng.integers(1, 6))
        area = ("north", "south", "east", "west")[i % 4]
        price = 50_000 + 120 * sqft + 9_000 * bedrooms + 20_000 * (i % 4) + int(rng.normal(0, 15_000))
        cell = "" if i % 17 == 0 else f'"{sqft:,}"'
        notes = f"renovated in {1990 + i % 30} with a {('big', 'small')[i % 2]} garden"
        lines.append(f"{i + 1},H{1000 + i},{cell},{bedrooms},{area},{notes},\"{price:,}\"")
    return "\n".join(lines) + "\n"


def init_text(run_cli, data, lines: list[str], target: str) -> str:
    """Write the CSV lines to ``data``, run init on it, and return the config it wrote."""
    data.write_text("\n".join(lines) + "\n")
    result = run_cli("init", "--data", data.name, "--target", target)
    assert result.exit_code == 0, result.output
    return data.with_suffix(".yaml").read_text()


def test_a_regression_file_gets_its_settings_and_trains(run_cli, tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "houses.csv").write_text(houses())
    result = run_cli("init", "--data", "data/houses.csv", "--target", "price")
    assert result.exit_code == 0, result.output
    assert "wrote houses.yaml; check it against the data with: nnrun validate houses.yaml" in result.output
    text = (tmp_path / "houses.yaml").read_text()
    for line in ["    path: data/houses.csv", "    target: price", '    thousands: ","', "    id: [row, house_id]",
                 "    categorical: [neighborhood]", "    ignore: [notes]", "    missing: mean",
                 "  target_scale: standardize", "loss: mse", "# the other columns are number features: sqft, bedrooms"]:
        assert line in text, line
    assert "stratify" not in text
    experiment = build(load_config(tmp_path / "houses.yaml"))  # reads the whole file with these settings
    assert experiment.splits["train"].task == "regression"
    result = run_cli("train", "houses.yaml", "--set", "training.epochs=40", "--run-dir", "r", "--quiet")
    assert result.exit_code == 0, result.output


def test_a_semicolon_file_with_decimal_commas_gets_them_named(run_cli, tmp_path):
    rng = np.random.default_rng(1)
    lines = ["kunde;alter;einkommen;klasse"]
    for i in range(120):
        age, income = rng.uniform(18, 80), rng.uniform(1_000, 90_000)
        label = "hoch" if income > 40_000 else "tief"
        written = f"{income:,.2f}".translate(str.maketrans(",.", ".,"))
        lines.append(f"K{i};{age:.1f};{written};{label}".replace(f"{age:.1f}", f"{age:.1f}".replace(".", ",")))
    (tmp_path / "eu.csv").write_text("\n".join(lines) + "\n")
    result = run_cli("init", "--data", "eu.csv", "--target", "klasse", "-o", "eu.yaml")
    assert result.exit_code == 0, result.output
    text = (tmp_path / "eu.yaml").read_text()
    for line in ['    delimiter: ";"', '    decimal: ","', '    thousands: "."', "    id: [kunde]",
                 "units: 1, activation: sigmoid", "loss: binary_crossentropy", "stratify: true"]:
        assert line in text, line
    result = run_cli("validate", "eu.yaml")
    assert result.exit_code == 0, result.output


def test_decimal_commas_are_not_taken_for_thousands_separators(run_cli, tmp_path):
    """'1,309' alone could group thousands, but '0,861' cannot: the file has decimal
    commas. Read as thousands, every value was 1000 times too large, silently."""
    rng = np.random.default_rng(4)
    lines = ["laenge;breite;gewicht_kg"]
    for a, b in rng.uniform(0.2, 3, (100, 2)):
        lines.append(f"{a:.3f};{b:.3f};{a * b * 0.8:.3f}".replace(".", ","))
    (tmp_path / "de.csv").write_text("\n".join(lines) + "\n")
    assert run_cli("init", "--data", "de.csv", "--target", "gewicht_kg").exit_code == 0
    text = (tmp_path / "de.yaml").read_text()
    assert '    decimal: ","' in text and "thousands" not in text
    assert run_cli("validate", "de.yaml").exit_code == 0
    # Told that commas group thousands, the reader refuses '0,861' by line rather than read 861.
    result = run_cli("validate", "de.yaml", "--set", 'data.source.decimal="."', "--set", 'data.source.thousands=","')
    out = " ".join(result.output.split())
    assert result.exit_code == 2 and "bad cells in the data not a number" in out and ": '0," in out


def test_points_that_group_thousands_in_a_semicolon_file_are_named(run_cli, tmp_path):
    """'159.176' beside '766', in a file separated by ';', with no '3.25' or '0.5'
    anywhere: the point groups thousands. Read as decimals, the column's order was lost."""
    rng = np.random.default_rng(7)
    people = np.where(rng.random(100) < 0.5, rng.integers(100, 999, 100), rng.integers(1000, 900_000, 100))
    lines = ["einwohner;typ"] + [f"{n:,};{'ab'[int(n > 400_000)]}".replace(",", ".") for n in people]
    (tmp_path / "orte.csv").write_text("\n".join(lines) + "\n")
    assert run_cli("init", "--data", "orte.csv", "--target", "typ").exit_code == 0
    assert '    thousands: "."' in (tmp_path / "orte.yaml").read_text()
    unscaled = build(load_config(tmp_path / "orte.yaml", ["data.preprocess=[]", "data.split.validation=0",
                                                          "training.early_stopping=null",
                                                          "data.split.test=0"])).splits["train"].x
    assert sorted(unscaled[:, 0].tolist()) == sorted(people.tolist())
    # The same cells in a file separated by commas keep their decimal point.
    (tmp_path / "c.csv").write_text("\n".join(line.replace(";", ",") for line in lines) + "\n")
    assert run_cli("init", "--data", "c.csv", "--target", "typ").exit_code == 0
    assert "thousands" not in (tmp_path / "c.yaml").read_text()


def test_points_that_may_be_decimals_are_read_as_decimals_and_said_to_be(run_cli, tmp_path):
    """'2.888' and '10.957' in a file separated by ';', every value with three places and
    no whole number beside them: decimals or thousands, nothing in the file says. Read
    as thousands, every value was 1000 times too large, silently."""
    rng = np.random.default_rng(3)
    weights = rng.uniform(1, 9, 60)
    lines = ["probe;gewicht;ertrag"] + [f"S{i};{w:.3f};{3 * w + rng.normal():.3f}" for i, w in enumerate(weights)]
    (tmp_path / "lab.csv").write_text("\n".join(lines) + "\n")
    result = run_cli("init", "--data", "lab.csv", "--target", "ertrag")
    assert result.exit_code == 0, result.output
    example = f"{weights[0]:.3f}"
    assert f'note: numbers such as {example} are read as decimals; if their point groups thousands ' \
        f'({example.replace(".", "")}), add thousands: "." to data.source in lab.yaml' in result.output
    text = (tmp_path / "lab.yaml").read_text()
    assert "    thousands:" not in text and f"    # {example} and the like are decimals here" in text
    unscaled = build(load_config(tmp_path / "lab.yaml", ["data.preprocess=[]", "data.split.validation=0",
                                                         "training.early_stopping=null",
                                                         "data.split.test=0"])).splits["train"].x
    assert np.allclose(sorted(unscaled[:, 0]), sorted(np.round(weights, 3)))


def test_a_file_of_text_gets_a_text_model(run_cli, tmp_path):
    words = {"good": ["great", "fine", "lovely"], "bad": ["awful", "poor", "dull"]}
    rng = np.random.default_rng(2)
    lines = ["review,label"]
    for i in range(150):
        label = ("good", "bad")[i % 2]
        picked = [str(rng.choice(words[label])) for _ in range(3)] + ["the", "film", "was", str(i)]
        lines.append(f"{' '.join(picked)},{label}")
    (tmp_path / "reviews.csv").write_text("\n".join(lines) + "\n")
    result = run_cli("init", "--data", "reviews.csv", "--target", "label")
    assert result.exit_code == 0, result.output
    text = (tmp_path / "reviews.yaml").read_text()
    assert "    text: {column: review, tokens: word, max_tokens: 200, length: " in text
    assert "{type: embedding, input_dim: 200, output_dim: 32, mask_zero: true}" in text
    assert "preprocess" not in text
    result = run_cli("train", "reviews.yaml", "--set", "training.epochs=3", "--run-dir", "r", "--quiet")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("args, message", [
    (["--data", "h.csv"], "--target: name the column to predict\n  hint: the columns are: row, house_id, sqft, "),
    (["--data", "h.csv", "--target", "prise"], "--target: no column 'prise' in h.csv; did you mean 'price'?"),
    (["--data", "h.csv", "--target", "SQFT"], "--target: no column 'SQFT' in h.csv; did you mean 'sqft'?"),
    # As $(head -1 h.csv | cut ...) gives it from a file of Windows line ends: the '\r' shown.
    (["--data", "h.csv", "--target", "price\r"],
     "--target: no column 'price\\r' in h.csv (the name given has spaces or control characters that do not show); "
     "did you mean 'price'?"),
    (["--data", "absent.csv", "--target", "x"], "absent.csv: no such file"),
    (["--data", "h.csv", "--dataset", "iris"], "--data and --dataset: give one"),
    (["--target", "price"], "--target: names a column of a CSV file (an array of an .npz archive); give the file with --data"),
    (["--dataset", "h.csv"], "--dataset: 'h.csv' is a file, not a bundled data set\n  hint: for a CSV file of your "
                             "own: nnrun init --data h.csv --target COLUMN"),
])
def test_init_mistakes_say_what_to_give(run_cli, tmp_path, args, message):
    (tmp_path / "h.csv").write_text(houses(30))
    result = run_cli("init", *args)
    assert result.exit_code == 2
    assert message in result.output
    assert not list(tmp_path.glob("*.yaml"))


def test_a_header_alone_is_told_to_have_no_rows(run_cli, tmp_path):
    (tmp_path / "h.csv").write_text("size,shade,label\n")
    result = run_cli("init", "--data", "h.csv", "--target", "label")
    assert result.exit_code == 2
    assert "h.csv: no data rows under the header" in result.output
    (tmp_path / "h.csv").write_text("size,shade,label\n1,2,x,\n3,4,y,\n")  # each row ends with a comma
    result = run_cli("init", "--data", "h.csv", "--target", "label")
    assert result.exit_code == 2
    assert "h.csv: the first rows have 4 cells, but the header has 3 columns" in result.output
    assert not list(tmp_path.glob("*.yaml"))


def test_rows_without_a_target_are_left_out_by_the_config_and_told(run_cli, tmp_path):
    rows = [f"{i},{i % 7},{i * 3 + 1}" for i in range(30)]
    rows[3], rows[8] = "3,3,", "8,1,NA"  # file lines 5 and 10: an empty price, and NA
    (tmp_path / "h.csv").write_text("sqft,rooms,price\n" + "\n".join(rows) + "\n")
    result = run_cli("init", "--data", "h.csv", "--target", "price")
    assert result.exit_code == 0, result.output
    assert ("note: 2 rows have no 'price' in h.csv (lines 5, 10): the config leaves them out (missing_target: "
            "drop); fill in the target to learn from them") in " ".join(result.output.split())
    assert "    missing_target: drop" in (tmp_path / "h.yaml").read_text()
    assert "# 2 rows without a price (lines 5, 10): left out" in (tmp_path / "h.yaml").read_text()
    # Dropped as written: said with their lines, and the rest trains as it would without them.
    result = run_cli("train", "h.yaml", "--quiet", "--run-dir", "run", "--set", "training.epochs=2")
    assert result.exit_code == 0, result.output
    assert (f"warning: {tmp_path / 'h.csv'}: dropped 2 rows without a 'price' (lines 5, 10), as "
            "data.source.missing_target: drop says") in " ".join(result.output.split())
    meta = json.loads((tmp_path / "run" / "meta.json").read_text())
    assert sum(meta["samples"].values()) == 28
    # A validation file whose every target is empty would leave no validation split, silently.
    (tmp_path / "v.csv").write_text("sqft,rooms,price\n3,3,\n8,1,\n")
    (tmp_path / "h.yaml").write_text((tmp_path / "h.yaml").read_text().replace(
        "    type: csv\n", "    type: csv\n    validation_path: v.csv\n", 1))
    result = run_cli("validate", "h.yaml")
    assert result.exit_code == 2
    assert (f"data.source.validation_path: every row of {tmp_path / 'v.csv'} has an empty 'price', and "
            "missing_target: drop left none; fill in its targets, or leave validation_path out") in " ".join(
                result.output.split())


def test_a_few_cells_that_are_not_numbers_keep_a_column_of_numbers_and_are_listed(run_cli, tmp_path):
    """A price with a currency sign or 'k.A.' in a few rows, a stray word among room
    counts: the target stays a regression and the column a number feature (not 150
    classes, an ID or categories), and each such cell is named with its line, which
    validate then refuses until it is corrected."""
    rng = np.random.default_rng(2)
    lines = ['"house_id";"area_m2";"rooms";"price_eur"']
    for i in range(150):
        area, rooms = rng.uniform(40, 200), int(rng.integers(1, 8))
        price = f"{50_000 + 2_500 * area + rng.normal(0, 20_000):,.2f}".translate(str.maketrans(",.", ".,"))
        lines.append(f'H{1000 + i};"{area:.1f}";{rooms};"{price}"'.replace(f"{area:.1f}", f"{area:.1f}".replace(".", ",")))
    lines[3] = lines[3].rsplit(";", 1)[0] + ';"€ 271.356,12"'  # file line 4
    lines[13] = lines[13].rsplit(";", 1)[0] + ";k.A."  # line 14
    lines[21] = ";".join(lines[21].split(";")[:2] + ["abc"] + lines[21].split(";")[3:])  # line 22
    (tmp_path / "houses.csv").write_text("\n".join(lines) + "\n")
    result = run_cli("init", "--data", "houses.csv", "--target", "price_eur")
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert ("note: 'price_eur' holds numbers, but 2 cells are not (line 4 '€ 271.356,12', line 14 'k.A.'), and "
            "training refuses them: correct them or delete their rows") in said
    assert ("note: 'rooms' holds numbers, but 1 cell of its first 150 rows is not (line 22 'abc'), and training "
            "refuses it: correct it, or empty it (missing: mean then fills it in)") in said
    assert said.index("'price_eur' holds") < said.index("'rooms' holds")
    text = (tmp_path / "houses.yaml").read_text()
    for line in ["    id: [house_id]", "    # the other columns are number features: area_m2, rooms",
                 "    # price_eur: 2 cells not a number (line 4: '€ 271.356,12', ...); correct them before training",
                 "    # rooms: 1 cell not a number (line 22: 'abc'); correct it before training", "loss: mse"]:
        assert line in text, line
    assert "categorical" not in text
    result = run_cli("validate", "houses.yaml")
    assert result.exit_code == 2
    assert "line 22, column 'rooms': 'abc'" in " ".join(result.output.split())
    # Many such labels, in a target of numbers still: a regression, the count said. A few
    # whole numbers among words are classes.
    for row in range(1, 31):
        lines[row] = lines[row].rsplit(";", 1)[0] + ";k.A."
    (tmp_path / "many.csv").write_text("\n".join(lines) + "\n")
    result = run_cli("init", "--data", "many.csv", "--target", "price_eur")
    assert result.exit_code == 0
    assert ("'price_eur' holds numbers, but 30 cells are not (line 2 'k.A.', line 3 'k.A.', line 4 'k.A.', line 5 "
            "'k.A.', line 6 'k.A.' and 25 more)") in " ".join(result.output.split())
    (tmp_path / "sizes.csv").write_text("area;size\n" + "".join(f"{i * 7 % 13};{('32', '34', 'S', 'M')[i % 4]}\n"
                                                                 for i in range(40)))
    result = run_cli("init", "--data", "sizes.csv", "--target", "size")
    assert result.exit_code == 0 and "holds numbers" not in result.output
    assert "4 classes: 32, 34, M, S" in (tmp_path / "sizes.yaml").read_text()


def test_numbers_with_currency_or_percent_signs_are_read_without_them(run_cli, tmp_path):
    lines = ["customer_id,age,plan_price,discount,plan,churned"]
    for i in range(60):  # IDs such as ORD-2023000 hold no currency code: ORD is no sign to strip
        lines.append(f'ORD-{2023000 + i},{20 + i % 50},"${(i * 37) % 4000 + 10:,}.50",{i % 30}%,'
                     f'{("basic", "pro")[i % 2]},{("yes", "no")[i % 3 == 0]}')
    (tmp_path / "churn.csv").write_text("\n".join(lines) + "\n")
    result = run_cli("init", "--data", "churn.csv", "--target", "churned")
    assert result.exit_code == 0, result.output
    text = (tmp_path / "churn.yaml").read_text()
    assert "    id: [customer_id]" in text and "    categorical: [plan]" in text and "ignore" not in text
    assert re.search(r'\n    thousands: ",".*\n    strip_signs: \["\$", "%"\] +# written around numbers: dropped to '
                     r"read them\n", text), text
    assert "number features: age, plan_price, discount" in text
    result = run_cli("train", "churn.yaml", "--set", "training.epochs=1", "--run-dir", "r", "--quiet")
    assert result.exit_code == 0, result.output
    saved = json.loads((tmp_path / "r" / "preprocess.json").read_text())["columns"]
    low, high = saved["columns"][1]["range"]  # plan_price, read as the dollars it writes
    assert saved["strip_signs"] == ["$", "%"] and low >= 10.5 and high > 1000 and high % 1 == 0.5
    # Currency codes are ISO's: ORD in IDs, with a minus or without, is none; USD before a minus is one.
    from nnrun.data.number_patterns import signs_in

    assert signs_in(["ORD2023000", "ORD2023001"]) == signs_in(["ORD-2023000", "ORD-2023001"]) == []
    assert signs_in(["USD-123", "USD 45", "12 EUR"]) == ["USD", "EUR"]


def test_one_hot_columns_beside_a_one_hot_target_are_left_out_and_said_to_be(run_cli, tmp_path):
    rng = np.random.default_rng(0)
    lines = ["price,weight_kg,flag,cat_books,cat_garden,cat_toys"]
    for k in rng.integers(0, 3, 90):
        one_hot = ",".join("1" if j == k else "0" for j in range(3))
        lines.append(f"{rng.uniform(1, 50):.2f},{rng.uniform(0.1, 5):.2f},{rng.integers(0, 2)},{one_hot}")
    (tmp_path / "shop.csv").write_text("\n".join(lines) + "\n")
    result = run_cli("init", "--data", "shop.csv", "--target", "cat_books")
    assert result.exit_code == 0, result.output
    text = (tmp_path / "shop.yaml").read_text()
    assert "    ignore: [cat_garden, cat_toys]        # one-hot with the target: left out (see below)" in text
    assert "# cat_garden, cat_toys and cat_books are one-hot columns of one category" in text
    assert "number features: price, weight_kg, flag" in text  # a 0/1 column that is not one of them stays
    result = run_cli("init", "--data", "shop.csv", "--target", "cat_books,cat_garden,cat_toys", "-o", "x.yaml")
    out = " ".join(result.output.split())
    assert result.exit_code == 2 and "names 3 columns; init writes a config for one target column. For one-hot " \
        "columns, write the class names into one column" in out
    assert "list them all in the config: data.source.target: [cat_books, cat_garden, cat_toys]" in out


def test_an_archive_given_to_init_is_named_as_one(run_cli, tmp_path):
    np.savez(tmp_path / "sensors.npz", x=np.zeros((4, 3)), y=np.zeros(4))  # read as an archive (see init_npz)
    result = run_cli("init", "--data", "sensors.npz", "--target", "y")
    assert result.exit_code == 2 and "UTF-8" not in result.output
    assert "sensors.npz: 4 samples; a model learns from more" in result.output
    # A compressed CSV file is to be unpacked; a compressed file of other bytes may be MNIST's IDX format.
    import gzip

    (tmp_path / "h.csv.gz").write_bytes(gzip.compress(houses(30).encode()))
    for command in (["init", "--data", "h.csv.gz", "--target", "price"], ["train", "h.csv.gz"]):
        result = run_cli(*command)
        assert result.exit_code == 2 and "hint: unpack it first (gunzip -k h.csv.gz); then write a config for the " \
            "CSV file with: nnrun init --data h.csv --target COLUMN" in " ".join(result.output.split())
    (tmp_path / "images.gz").write_bytes(gzip.compress(b"\x00\x00\x08\x03"))
    result = run_cli("init", "--data", "images.gz", "--target", "y")
    assert "data: {source: {type: idx, images: images.gz, labels: LABELS-FILE}}" in " ".join(result.output.split())
    assert "no such file" in run_cli("init", "--data", "absent.npz", "--target", "y").output


def test_a_data_file_given_as_a_config_points_at_init(run_cli, tmp_path):
    (tmp_path / "h.csv").write_text(houses(30))
    result = run_cli("train", "h.csv")
    assert result.exit_code == 2
    assert "h.csv: a data file, not a config\n  hint: write a config for it with: nnrun init --data h.csv --target " \
           "COLUMN" in result.output
    (tmp_path / "h.yaml").write_text("name: h\n")  # and the other way round
    result = run_cli("init", "--data", "h.yaml", "--target", "price")
    assert result.exit_code == 2
    assert ("--data: h.yaml is a YAML file, not data; init --data reads a CSV file and writes a config for it\n"
            "  hint: to train from a config you have: nnrun train CONFIG") in result.output


@pytest.mark.parametrize("space", [" ", "\u00a0"])
def test_numbers_grouped_by_spaces_are_numbers(run_cli, tmp_path, space):
    # French exports write 17 636 (often with a no-break space); that column was left out as text.
    rng = np.random.default_rng(3)
    lines = ["age;revenu;segment"]
    for i in range(120):
        income = int(rng.integers(5_000, 90_000))
        written = f"{income:,}".replace(",", space)
        lines.append(f"{20 + i % 50};{written};{'haut' if income > 40_000 else 'bas'}")
    (tmp_path / "fr.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run_cli("init", "--data", "fr.csv", "--target", "segment")
    assert result.exit_code == 0, result.output
    text = (tmp_path / "fr.yaml").read_text(encoding="utf-8")
    assert "ignore" not in text and "# the other columns are number features: age, revenu" in text
    assert ('    thousands: " "' if space == " " else '    thousands: "\\u00a0"') in text
    assert "units: 1, activation: sigmoid}  # the probability of 'haut' (not 'bas')" in text
    assert run_cli("validate", "fr.yaml").exit_code == 0


@pytest.mark.parametrize("mark", ["'", "\u2019"])
def test_numbers_grouped_by_apostrophes_are_numbers_not_ids(run_cli, tmp_path, mark):
    # Swiss exports write 9'654.90; the amount, every cell distinct, was taken for an ID.
    rng = np.random.default_rng(4)
    lines = ["Filiale;Betrag;Problem"]
    for i in range(300):
        amount = rng.normal(3000, 4000)
        lines.append(f"{'ZBG'[i % 3]};{amount:,.2f};{'ja' if amount < 0 else 'nein'}".replace(",", mark))
    (tmp_path / "ch.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run_cli("init", "--data", "ch.csv", "--target", "Problem")
    assert result.exit_code == 0, result.output
    text = (tmp_path / "ch.yaml").read_text(encoding="utf-8")
    assert "id:" not in text and "# the other columns are number features: Betrag" in text
    assert ("    thousands: \"'\"" if mark == "'" else '    thousands: "\\u2019"') in text
    assert "group thousands with apostrophes" in text
    assert run_cli("validate", "ch.yaml").exit_code == 0
    # Only where nothing else groups the file's thousands: a height of 1'000 beside amounts of 1,234.50.
    from nnrun.commands.number_format import number_format

    assert number_format({"amount": ["1,234.50", "2,345.00", "12,000.10"], "height": ["1'000", "950"]},
                         ",").thousands == ","


def test_the_target_comment_says_what_a_count_could_be(run_cli, tmp_path):
    rng = np.random.default_rng(4)
    lines = ["x,visits"] + [f"{v + rng.normal():.3f},{v}" for v in rng.poisson(4, 200)]
    (tmp_path / "c.csv").write_text("\n".join(lines) + "\n")
    assert run_cli("init", "--data", "c.csv", "--target", "visits").exit_code == 0
    result = run_cli("init", "--data", "c.csv", "--target", "Visits")  # the wrong column, before "already exists"
    assert result.exit_code == 2 and "no column 'Visits' in c.csv; did you mean 'visits'?" in result.output
    text = (tmp_path / "c.yaml").read_text()
    assert "classes: 0, 1, 2, 3, 4, ... (whole numbers; to predict a count, use loss: mse and one linear output)" \
        in text


def test_a_file_that_is_not_utf8_is_read_as_cp1252_and_says_so(run_cli, tmp_path):
    lines = ["stadt;wert;klasse"] + [f"{('Köln', 'Zürich')[i % 2]};{i % 7},5;{'ab'[i % 3 == 0]}" for i in range(60)]
    (tmp_path / "win.csv").write_bytes(("\n".join(lines) + "\n").encode("cp1252"))
    assert run_cli("init", "--data", "win.csv", "--target", "klasse").exit_code == 0
    text = (tmp_path / "win.yaml").read_text()
    assert "    encoding: cp1252" in text and "    categorical: [stadt]" in text and '    decimal: ","' in text
    assert run_cli("validate", "win.yaml").exit_code == 0


def test_init_calls_a_column_numbers_only_where_training_reads_it_so(run_cli, tmp_path):
    """init reads its sample's cells with the CSV reader's own parser: a column whose
    separators do not group thousands is no number column there either."""
    from nnrun.data.cells import numbers_or_none

    read = numbers_or_none(["53,697", "1,2,3", "", "True"], thousands=",")
    assert read[0] == 53697.0 and read[1] is None and np.isnan(read[2]) and read[3] == 1.0
    assert numbers_or_none(["3,25", "0,126"], decimal=",") == [np.float32(3.25).item(), np.float32(0.126).item()]


def test_a_data_file_named_in_another_alphabet_gives_a_readable_run_name(run_cli, tmp_path):
    (tmp_path / "Größe der Häuser.csv").write_text(houses(40))
    result = run_cli("init", "--data", "Größe der Häuser.csv", "--target", "price")
    assert result.exit_code == 0, result.output
    assert "name: Grosse-der-Hauser\n" in (tmp_path / "Größe der Häuser.yaml").read_text()


def test_date_columns_are_dates_also_a_time_in_every_row(run_cli, tmp_path):
    # Three stores a day: each date repeats; a time in every row has its hour and weekday too.
    lines = ["day,logged,store,visitors,sales"]
    for i in range(90):
        day = f"2024-03-{1 + i // 3:02d}"
        lines.append(f"{day},{day} {i % 24:02d}:{i % 60:02d},{'abc'[i % 3]},{100 + 7 * i % 50},{3 * i % 17}")
    text = init_text(run_cli, tmp_path / "sales.csv", lines, "sales")
    assert re.search(r"\n    dates: \[day, logged\] +# year, place in the year, weekday \(and time of day\)\n", text)
    assert "ignore" not in text and "id:" not in text
    # Its rows run forward in time: a series, tested on its last days.
    assert "  split: {validation: 0.15, test: 0.15, shuffle: false}  # the rows run forward in time (day): the last " \
        "ones are held out, the days after those the model learns from" in text
    assert "    categorical: [store] " in text
    result = run_cli("train", "sales.yaml", "--set", "training.epochs=2", "--run-dir", "r", "--quiet")
    assert result.exit_code == 0, result.output
    # Newest first: held out in that order, the test would be the oldest days; sorted first, it is a series.
    text = init_text(run_cli, tmp_path / "back.csv", [lines[0], *reversed(lines[1:])], "sales")
    assert "  split: {validation: 0.15, test: 0.15, stratify: true}  " in text
    assert "  # day runs backward in time, newest first: sort the rows oldest first, then shuffle: false in split " \
        "tests on the last rows" in text
    # Split in that order all the same, the held-out rows would be the oldest days: validate says so.
    result = run_cli("validate", "back.yaml", "--set", "data.split.shuffle=false", "--set", "data.split.stratify=false")
    assert "warning: data.split: shuffle: false holds out the last rows, but 'day' runs backward in time (newest " \
        "first), so the held-out rows are the oldest days" in " ".join(result.output.split())
    for also in (["data.split.validation=0", "data.split.test=0"],  # nothing held out: nothing to say
                 ["data.source.dates={day: '%Y-%m-%d', logged: auto}"]):  # a format given: read with it
        result = run_cli("validate", "back.yaml", "--set", "data.split.shuffle=false", "--set",
                         "data.split.stratify=false", *[item for setting in also for item in ("--set", setting)])
        assert ("runs backward in time" in result.output) == ("data.split.test=0" not in also), result.output
    # Rows in no order: a random split, and a word on the order.
    text = init_text(run_cli, tmp_path / "mixed.csv", [lines[0], *lines[1::2], *lines[2::2]], "sales")
    assert "  split: {validation: 0.15, test: 0.15, stratify: true}  " in text
    assert "  # day holds dates: if the rows are in time order, shuffle: false in split tests on the last rows, the " \
        "days after the ones the model learned from (stratify then has no say)" in text


def test_a_column_of_one_value_is_left_out_and_said_why(run_cli, tmp_path):
    # 'kind' is X in every row, 'rate' 5, and 'rare' has one value in one row: as inputs they
    # say nothing, and every file to predict would have to carry them.
    lines = ["size,kind,rate,rare,price"] + [f"{10 + i % 13},X,5,{'1.5' if i == 3 else ''},{100 + 3 * i}"
                                               for i in range(40)]
    text = init_text(run_cli, tmp_path / "one.csv", lines, "price")
    assert re.search(r"\n    ignore: \[kind, rate, rare\] +# one value: left out \(see below\)\n", text), text
    assert "    # kind, rate, rare: one value in every row that has one: nothing to learn from, and every file to " \
        "predict would need the column; move it out of ignore if other rows of the file hold other values" in text
    assert "categorical" not in text and "missing: mean" not in text
    # With nothing else to learn from: refused, saying so.
    (tmp_path / "only.csv").write_text("\n".join(["kind,price"] + [f"X,{i}" for i in range(30)]) + "\n")
    result = run_cli("init", "--data", "only.csv", "--target", "price")
    out = " ".join(result.output.split())
    assert result.exit_code == 2 and "only.csv: no column to learn from besides 'price' (IDs are left out); kind " \
        "holds one value in every row that has one, which tells the rows nothing apart" in out
    result = run_cli("train", "one.yaml", "--set", "training.epochs=1", "--run-dir", "r", "--quiet")
    assert result.exit_code == 0, result.output  # 'size' is learned from


def test_numbers_with_units_and_categories_written_two_ways_are_said(run_cli, tmp_path):
    lines = ["area,weight,rooms,price"]
    for i in range(80):
        area = ("North", "north", "NORTH", "South")[i % 4]
        lines.append(f"{area},{30 + i % 20} kg,{1 + i % 5},{100 + 3 * i + (i % 4) * 10}.5")
    text = init_text(run_cli, tmp_path / "h.csv", lines, "price")
    assert re.search(r'\n    strip_signs: \["kg"\] +# written around numbers: dropped to read them\n', text)
    assert "number features: weight, rooms" in text
    assert "    # area: NORTH, North, north differ only in case or spaces: read as one category (fold_case " \
        "below); set it false if they are different categories" in text
    assert re.search(r"\n    fold_case: true +# a category written in several cases is one\n", text), text
    result = run_cli("train", "h.yaml", "--set", "training.epochs=1", "--run-dir", "r", "--quiet")
    assert result.exit_code == 0, result.output
    names = json.loads((tmp_path / "r" / "preprocess.json").read_text())["feature_names"]
    areas = [name for name in names if name.startswith("area=")]  # one category, spelt as most training rows spell it
    assert len(areas) == 2 and areas[0] in ("area=NORTH", "area=North", "area=north") and areas[1] == "area=South"
    # Without it, training says the categories differ only in case, at validate and train.
    (tmp_path / "h.yaml").write_text(text.replace("fold_case: true", "fold_case: false"))
    out = " ".join(run_cli("validate", "h.yaml").output.split())
    assert "warning: categorical column 'area': categories that differ only in case or spaces ('NORTH', 'North', " \
        "'north') are encoded as different inputs; if they are one category, write it one way in the file, or set " \
        "data.source.fold_case: true" in out
    (tmp_path / "c.csv").write_text("size,price\n" + "".join(f"{i % 7},3.5\n" for i in range(40)))
    result = run_cli("init", "--data", "c.csv", "--target", "price")
    assert result.exit_code == 2 and "c.csv: 'price' holds one value (3.5) in every row: there is nothing to predict" \
        in result.output


def test_a_target_with_a_decimal_point_in_a_file_of_decimal_commas_is_refused(run_cli, tmp_path):
    # Read with the file's decimal comma, '40.70' is a word: init wrote a classification of 30 classes.
    lines = ["id,a,y"] + [f'{i},"{i % 7},5",{i * 1.37 + 1:.2f}' for i in range(30)]
    (tmp_path / "q.csv").write_text("\n".join(lines) + "\n")
    result = run_cli("init", "--data", "q.csv", "--target", "y")
    assert result.exit_code == 2
    assert "q.csv: 'y' is written with a decimal point (1.00), the other columns with a decimal comma; nnrun reads " \
        "one decimal mark per file\n  hint: save the file with the same decimal mark in every column, then run init " \
        "again" in result.output
    assert not (tmp_path / "q.yaml").exists()


@pytest.mark.parametrize("lines, message", [
    (["a,y"] + [f"{i % 7},x" for i in range(30)], "one.csv: 'y' holds one value (x) in every row: there is nothing to "
     "predict\n  hint: name the column to predict with --target"),
    (["a,y", "1,p", "2,q", "3,p"], "one.csv: 3 rows of data; a model learns from more, and the validation and test "
     "splits hold some of them out (at least 20 rows)"),
])
def test_a_file_with_nothing_to_learn_is_refused_before_a_config_is_written(run_cli, tmp_path, lines, message):
    (tmp_path / "one.csv").write_text("\n".join(lines) + "\n")
    result = run_cli("init", "--data", "one.csv", "--target", "y")
    assert result.exit_code == 2 and message in result.output
    assert not (tmp_path / "one.yaml").exists()


def test_classes_of_one_row_or_written_two_ways_are_said_under_the_target(run_cli, tmp_path):
    lines = ["size,label"] + [f"{i % 9},{('Yes', 'no', 'No')[i % 3]}" for i in range(40)] + ["3,maybe"]
    (tmp_path / "c.csv").write_text("\n".join(lines) + "\n")
    assert run_cli("init", "--data", "c.csv", "--target", "label").exit_code == 0
    text = (tmp_path / "c.yaml").read_text()
    assert "    # 'label': 1 class has a single row: 'maybe' (4 classes: No, Yes, maybe (1 row), no); a typo in a " \
        "label?\n" in text
    assert "    # 'label': the classes 'No' and 'no' differ only in case or spaces: one class written two ways? Write " \
        "it one way in the file\n" in text


def test_a_row_of_another_width_is_named_by_its_line(run_cli, tmp_path):
    lines = ["size,note,label"] + [f"{i % 9},plain,{'ab'[i % 2]}" for i in range(40)]
    lines[7] = "3,with, a comma,a"
    (tmp_path / "r.csv").write_text("\n".join(lines) + "\n")
    result = run_cli("init", "--data", "r.csv", "--target", "label")
    assert result.exit_code == 0, result.output
    assert "note: line 8 of r.csv has 4 cells, but the header has 3 columns; the config leaves such rows out " \
        "(bad_rows: skip); to learn from them, a cell that holds the delimiter ',' is written in double quotes (a " \
        "row of more cells)" in \
        " ".join(result.output.split())
    assert "    bad_rows: skip" in (tmp_path / "r.yaml").read_text()
    assert "# 1 row of another width (line 8): left out" in (tmp_path / "r.yaml").read_text()
    trained = run_cli("train", "r.yaml", "--quiet", "--run-dir", "run", "--set", "training.epochs=1")
    assert trained.exit_code == 0, trained.output
    assert f"warning: {tmp_path / 'r.csv'}: skipped 1 row with more or fewer cells than the header's 3 (line 8), as " \
        "data.source.bad_rows: skip says" in " ".join(trained.output.split())
    assert sum(json.loads((tmp_path / "run" / "meta.json").read_text())["samples"].values()) == len(lines) - 2
    # Without it, the row is refused, and the setting named.
    (tmp_path / "r.yaml").write_text((tmp_path / "r.yaml").read_text().replace("    bad_rows: skip", "    #"))
    refused = run_cli("validate", "r.yaml")
    assert refused.exit_code == 2
    assert "line 8: 4 cells, but the header has 3 columns" in refused.output
    assert "hint: to train without them, set data.source.bad_rows: skip (their lines are said)" in refused.output
    lines[7] = "3,a"  # one cell short
    (tmp_path / "r.csv").write_text("\n".join(lines) + "\n")
    result = run_cli("init", "--data", "r.csv", "--target", "label", "-o", "short.yaml")
    assert "note: line 8 of r.csv has 2 cells, but the header has 3 columns; the config leaves such rows out " \
        "(bad_rows: skip); to learn from them, each row needs a cell for every column, empty or not" in \
        " ".join(result.output.split())


def test_codes_with_leading_zeros_are_not_number_features(run_cli, tmp_path):
    rng = np.random.default_rng(5)
    lines = ["plz,kunde_plz,umsatz,klasse"]
    for i in range(200):
        area = ("01067", "01069", "80331", "20095")[i % 4]  # a few postal codes: categories
        lines.append(f"{area},{rng.integers(1000, 99999):05d},{rng.uniform(1, 9):.2f},{'ab'[i % 2]}")
    (tmp_path / "k.csv").write_text("\n".join(lines) + "\n")
    assert run_cli("init", "--data", "k.csv", "--target", "klasse").exit_code == 0
    text = (tmp_path / "k.yaml").read_text()
    assert "    categorical: [plz] " in text
    assert re.search(r"\n    ignore: \[kunde_plz\] +# codes: left out \(see below\)\n", text)
    assert "    # kunde_plz: codes written with leading zeros (01067), not quantities, and too many to one-hot; a " \
        "coarser code (its first digits, in a column of its own) can be categorical" in text
    assert "number features: umsatz\n" in text
    assert run_cli("validate", "k.yaml").exit_code == 0


def test_a_target_that_is_an_id_is_pointed_out(run_cli, tmp_path):
    (tmp_path / "p.csv").write_text("part_no,temp,ok\n" + "".join(f"{i + 1},{i % 7},{'ny'[i % 2]}\n" for i in range(40)))
    result = run_cli("init", "--data", "p.csv", "--target", "part_no")
    assert result.exit_code == 0, result.output
    assert "note: 'part_no' holds a different value in every row, counting the rows, as an ID does: a model learns " \
        "nothing that predicts it; to predict another column, run init again with its name after --target" \
        in " ".join(result.output.split())
    assert "as an ID does" not in run_cli("init", "--data", "p.csv", "--target", "ok", "-o", "ok.yaml").output


@pytest.mark.parametrize("kind, cells, expected", [
    ("dates", ["2023-01-05", "2023-01-05 12:30", "05.01.2023", "05.01.23", "1/5/23 3:30 PM", "31/12/2020"], True),
    ("dates", ["1.2.10", "2.0.11", "13/13/2020", "2023-13-01"], False),  # versions, no such day or month
    ("with_units", [f"{30 + i % 20} kg" for i in range(40)], True),
    ("with_units", ["1st", "2nd", "3rd"] * 10, False),  # ordinals
    ("with_units", [f"{i % 12 + 1}am" for i in range(30)], False),  # times of day
    ("with_units", ["4WD", "2WD", "AWD"] * 10, False),  # a few values: categories
    ("with_units", [f"{1000 + i} {'ABCDEFG'[i % 7]}{'XYZ'[i % 3]}" for i in range(30)], False),  # Dutch postcodes
    ("codes", [("01067", "80331", "20095", "50667")[i % 4] for i in range(40)], True),  # postal codes
    ("codes", [f"02{108 + i % 190:03d}" for i in range(40)], True),  # Boston's: every one with a leading zero
    ("codes", [f"{i % 60:02d}" for i in range(200)], False),  # minutes: two digits
    ("codes", [f"{i:06d}" for i in range(200)], False),  # zero-padded counts: zeros in nearly every cell
    ("codes", ["00", "00"] + [str(i) for i in range(300)], False),  # a count of 300 rows with two 00
])
def test_cell_kinds_say_no_to_ordinary_columns(kind, cells, expected):
    from nnrun.data import cell_kinds

    if kind == "dates":
        assert [cell_kinds.is_date(c) for c in cells] == [expected] * len(cells)
    else:
        assert getattr(cell_kinds, kind)(cells) is expected


def test_a_second_target_is_refused_not_taken_in_place_of_the_first(run_cli, tmp_path):
    (tmp_path / "d.csv").write_text("a,b,c\n1,x,2\n2,y,3\n")
    result = run_cli("init", "--data", tmp_path / "d.csv", "--target", "b", "--target", "c", "-o", tmp_path / "d.yaml")
    assert result.exit_code == 2
    assert result.output.startswith("error: --target given 2 times (b, c): init writes a config for one target "
                                    "column\n  hint: name one.")
    assert "list them all in the config: data.source.target: [b, c]" in " ".join(result.output.split())
    result = run_cli("init", "--data", tmp_path / "d.csv", "--target", "c", "--target", "c", "-o", "-")
    assert "given 2 times" not in result.output  # one column named twice is that column
    assert not (tmp_path / "d.yaml").exists()


def test_a_target_of_prices_with_a_currency_sign_is_a_regression_read_without_it(run_cli, tmp_path):
    # Not a hundred classes '$101,817', '$105,563', ...: numbers, once the sign goes.
    rows = [f'{500 + 25 * i},{1 + i % 5},"${(500 + 25 * i) * 150 + 97 * i:,}"' for i in range(100)]
    (tmp_path / "prices.csv").write_text("sqft,rooms,price\n" + "\n".join(rows) + "\n")
    result = run_cli("init", "--data", tmp_path / "prices.csv", "--target", "price", "-o", tmp_path / "p.yaml")
    assert result.exit_code == 0, result.output
    written = (tmp_path / "p.yaml").read_text()
    assert "loss: mse" in written and "softmax" not in written and 'strip_signs: ["$"]' in written
    assert "note" not in result.output and "cells are not" not in result.output
    result = run_cli("train", tmp_path / "p.yaml", "--set", "training.epochs=1", "--run-dir", tmp_path / "r", "-q")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("name", ["Account Number", "order_no", "AccountNo", "CustomerId"])
def test_a_number_named_as_an_id_and_different_in_every_row_is_an_id(run_cli, tmp_path, name):
    rows = [f"{104729 * (i + 3) % 999983},{1 + i % 4},{i % 60},{'yes' if i % 3 else 'no'}" for i in range(120)]
    (tmp_path / "a.csv").write_text(f"{name},rooms,tenure,satisfied\n" + "\n".join(rows) + "\n")
    result = run_cli("init", "--data", tmp_path / "a.csv", "--target", "satisfied", "-o", "-")
    assert result.exit_code == 0, result.output
    assert f"id: [{name}]" in result.output
    assert "number features: rooms, tenure" in result.output  # a few repeating whole numbers stay features


def test_a_column_without_a_name_from_a_trailing_separator_shows_in_validate(run_cli, tmp_path):
    # Each line ends with a comma, as some exports write: a last column named "", empty.
    lines = ["a,b,y,"] + [f"{i % 7},{i % 5},{i % 2}," for i in range(40)]
    text = init_text(run_cli, tmp_path / "t.csv", lines, "y")
    assert '    ignore: [""]' in text
    result = run_cli("validate", "t.yaml")
    assert result.exit_code == 0 and "ignore=[''] " in result.output, result.output


def test_every_column_with_empty_cells_is_counted_in_the_comment(run_cli, tmp_path):
    # Only the first three were named: a category column with gaps further right was not.
    rng = np.random.default_rng(4)
    lines = ["a,b,c,d,e,region,y"]
    for i in range(60):
        cells = [f"{v:.2f}" for v in rng.normal(size=5)] + [("north", "south")[i % 2], str(i % 2)]
        if i % 7 == 0:
            cells = [""] * 6 + cells[6:]
        lines.append(",".join(cells))
    text = init_text(run_cli, tmp_path / "gaps.csv", lines, "y")
    assert "empty cells: a 9, b 9, c 9, d 9, e 9, ... (6 columns)" in text


def test_free_text_beside_many_features_is_left_out_and_beside_a_few_is_the_model(run_cli, tmp_path):
    rng = np.random.default_rng(0)
    words = "good bad great awful film plot actor boring fun".split()
    lines = ["review,stars,votes,year,label"] + [f"{' '.join(rng.choice(words, 6))},{i % 5},{i % 7},{2000 + i % 9},"
                                                f"{'ab'[i % 2]}" for i in range(60)]
    text = init_text(run_cli, tmp_path / "reviews.csv", lines, "label")
    assert "ignore: [review]" in text
    assert "# review: free text; to learn from review instead, a text model takes it as its only input: text: " \
           "{column: review}, the other features in ignore (nnrun init on a file of review and label alone writes " \
           "one)" in text
    # A ticket's text and its price: the text is what the rows say most, read alone.
    few = ["ticket,review,price,label"] + [f"{i},{' '.join(rng.choice(words, 6))},{rng.uniform(5, 500):.2f},"
                                           f"{'ab'[i % 2]}" for i in range(60)]
    text = init_text(run_cli, tmp_path / "tickets.csv", few, "label")
    assert "text: {column: review, tokens: word" in text and "ignore: [price]" in text
    assert "# price: left out, as a text model takes review as its only input; to learn from it instead, run nnrun " \
           "init on a copy of the file without review" in text
    assert run_cli("train", tmp_path / "tickets.yaml", "-q", "--set", "training.epochs=1", "--run-dir",
                   tmp_path / "t").exit_code == 0


def test_numbers_with_decimal_points_in_a_file_of_decimal_commas_are_left_out_and_said(run_cli, tmp_path):
    """Once made an ID, the file's strongest feature, with nothing said of why."""
    import random

    rng = random.Random(5)
    lines = ["id;amount;ratio;y"] + [f"{i + 1};{rng.uniform(0, 100):.2f};{rng.uniform(0, 1):.3f};{'ab'[i % 2]}"
                                     .replace(".", ",", 2).replace(",", ".", 1) for i in range(200)]
    (tmp_path / "mixed.csv").write_text("\n".join(lines) + "\n")
    text = run_cli("init", "--data", "mixed.csv", "--target", "y", "-o", "-").stdout
    assert "ignore: [amount]" in text and "id: [id]" in text
    assert "amount: numbers written with a decimal point ('80.50') in a file whose numbers have decimal commas" in text


@pytest.mark.parametrize("rows, codes, categorical", [(5_000, 240, False), (10_000, 240, True), (60_000, 400, True)])
def test_many_codes_are_categories_when_the_training_split_sees_each_often_enough(run_cli, tmp_path, rows, codes,
                                                                                   categorical):
    # ZIP-like codes with leading zeros: 20 training rows of each of 240 need 4,800 training rows (70% of the
    # file); of 400 in a file past the 10,000 rows init reads, 8,000 of its 42,000.
    lines = "".join(f"{(i * 7) % 13 / 13:.3f},{1000 + i % codes * 200:05d},{'ab'[i % 2]}\n" for i in range(rows))
    (tmp_path / "z.csv").write_text("x,zip,label\n" + lines)
    result = run_cli("init", "z.csv", "--target", "label")
    assert result.exit_code == 0, result.output
    text = (tmp_path / "z.yaml").read_text()
    assert ("categorical: [zip]" in text) == categorical
    if categorical:  # and training, by the same rule, does not call it an ID
        said = run_cli("validate", "z.yaml").output
        assert "distinct values" not in said


def test_a_regression_target_with_a_few_far_values_gets_huber(run_cli, tmp_path):
    rng = np.random.default_rng(9)
    prices = 500_000 + 100_000 * rng.normal(size=400)
    prices[[5, 50, 90]] = [7_000_000, 8_000_000, 6_500_000]
    rows = "".join(f"{rng.normal():.3f},{p:.0f}\n" for p in prices)
    (tmp_path / "h.csv").write_text("size,price\n" + rows)
    assert run_cli("init", "h.csv", "--target", "price").exit_code == 0
    text = (tmp_path / "h.yaml").read_text()
    assert "loss: huber" in text and "3 targets far from the rest (as far as 8,000,000, the median" in text
    (tmp_path / "plain.csv").write_text("size,price\n" + "".join(f"{rng.normal():.3f},{p:.0f}\n"
                                                                  for p in 500_000 + 1e5 * rng.normal(size=400)))
    assert run_cli("init", "plain.csv", "--target", "price").exit_code == 0
    assert "loss: mse" in (tmp_path / "plain.yaml").read_text()


def test_marks_for_a_gap_in_columns_of_numbers_become_missing_values(run_cli, tmp_path):
    lines = ["flat;area;rooms;price"] + [f"W{i};{'k.A.' if i % 9 == 0 else f'{40 + i % 50},5'};"
                                          f"{'-' if i % 7 == 0 else 1 + i % 5};{1000 + 37 * i}" for i in range(60)]
    text = init_text(run_cli, tmp_path / "w.csv", lines, "price")
    assert re.search(r'\n    missing_values: \["k\.A\.", "-"\] +# cells that mean no value in columns of numbers\n',
                     text), text
    assert "    missing: mean " in text and "not a number" not in text and "correct" not in text
    assert run_cli("validate", "w.yaml").exit_code == 0


def test_a_category_empty_in_many_rows_is_learned_as_its_own_category(run_cli, tmp_path):
    rows = [f"{['basic', 'pro', '', ''][i % 4]},{'ns'[i % 2]},{i % 9},{'ny'[i % 3 == 0]}" for i in range(200)]
    (tmp_path / "c.csv").write_text("plan,region,visits,churned\n" + "\n".join(rows) + "\n")
    assert run_cli("init", "--data", "c.csv", "--target", "churned").exit_code == 0
    text = (tmp_path / "c.yaml").read_text()
    assert "    missing_category: own                 # an empty category cell is a category of its own (empty in " \
        "many rows: plan)" in text
    assert run_cli("train", "c.yaml", "--run-dir", "r", "--quiet", "--set", "training.epochs=1").exit_code == 0
    names = json.loads((tmp_path / "r" / "preprocess.json").read_text())["feature_names"]
    assert "plan=(missing)" in names and "region=(missing)" not in names
    (tmp_path / "new.csv").write_text("plan,region,visits\n,n,\n")
    result = run_cli("predict", "r", "new.csv", "-o", "-")
    assert result.exit_code == 0, result.output
    # The empty visits is filled (missing: mean); the empty plan is its own category, not filled.
    assert "1 in 'visits'" in result.stderr and "'plan'" not in result.stderr


def test_a_column_with_signs_and_gap_marks_is_read_with_both(run_cli, tmp_path):
    """The gap marks found, the column's cells keep their signs dropped: '$26.63' beside '-'."""
    rows = [f'{"-" if i % 9 == 0 else f"${10 + i % 37}.{i % 100:02d}"},{i % 7},{"ab"[i % 2]}' for i in range(100)]
    (tmp_path / "d.csv").write_text("price,size,label\n" + "\n".join(rows) + "\n")
    result = run_cli("init", "--data", "d.csv", "--target", "label", "-o", "-")
    assert result.exit_code == 0, result.output
    assert '    strip_signs: ["$"]' in result.stdout and '    missing_values: ["-"]' in result.stdout
    assert "ignore:" not in result.stdout and "number features: price, size" in result.stdout


def test_signs_on_a_share_of_a_column_are_dropped_and_its_gap_marks_leave_the_target_out(run_cli, tmp_path):
    """'$383,000' in 40% of the rows and 383000 in the rest (a file joined from two): the
    signs are dropped as where most cells have one, and the column stays a number
    feature for another target. '-' for a price is no price: the row is left out, not
    told as a cell to correct."""
    rng = np.random.default_rng(1)
    rows = []
    for i in range(300):
        sqft, price = int(rng.integers(600, 4000)), int(rng.integers(90_000, 900_000))
        written = "-" if i % 50 == 3 else f'"${price:,}"' if i % 5 < 2 else str(price)
        rows.append(f'{"-" if i % 40 == 7 else sqft},{written},{int(rng.integers(1, 120))}')
    data = tmp_path / "houses.csv"
    data.write_text("sqft,price,days_on_market\n" + "\n".join(rows) + "\n")
    result = run_cli("init", "--data", "houses.csv", "--target", "price", "-o", "-")
    assert result.exit_code == 0, result.output
    assert '    thousands: ","' in result.stdout and '    strip_signs: ["$"]' in result.stdout
    assert '    missing_target: drop                  # 6 rows without a price' in result.stdout
    assert "not a number" not in result.stdout and "holds numbers" not in result.stderr, result.output
    result = run_cli("init", "--data", "houses.csv", "--target", "days_on_market", "-o", "dom.yaml")
    assert result.exit_code == 0, result.output
    text = (tmp_path / "dom.yaml").read_text()
    assert "number features: sqft, price" in text and "ignore" not in text, text
    result = run_cli("train", "dom.yaml", "--set", "training.epochs=1", "--run-dir", "r", "--quiet")
    assert result.exit_code == 0, result.output
    low, high = json.loads((tmp_path / "r" / "preprocess.json").read_text())["columns"]["columns"][1]["range"]
    assert 90_000 <= low and high < 900_000  # price, read as the dollars it writes
    # One '100%' among plain numbers is a cell to correct, not a sign to drop from the column.
    data.write_text("share,label\n" + "".join(f"{'100%' if i == 5 else f'0.{i % 9}'},{'ab'[i % 2]}\n"
                                                for i in range(60)))
    result = run_cli("init", "--data", "houses.csv", "--target", "label", "-o", "-")
    assert result.exit_code == 0 and "strip_signs" not in result.stdout
    assert "share: 1 cell not a number (line 7: '100%')" in result.stdout, result.stdout


def test_a_rare_class_among_several_gets_balanced_weights_and_metrics_that_see_it(run_cli, tmp_path):
    rng = np.random.default_rng(3)
    shares = {"billing": 40, "tech": 30, "ship": 26, "other": 4}
    labels = [name for name, count in shares.items() for _ in range(count * 2)]
    lines = ["a,b,label"] + [f"{v:.3f},{w:.3f},{label}" for (v, w), label in zip(rng.normal(size=(200, 2)), labels)]
    text = init_text(run_cli, tmp_path / "tickets.csv", lines, "label")
    assert "loss: {type: categorical_crossentropy, class_weights: balanced}  # 'other' is 4.0% of the rows, " \
           "'billing' 40.0%: each class weighed to count alike" in text
    assert "metrics: [accuracy, f1_macro, balanced_accuracy]" in text
    assert run_cli("train", tmp_path / "tickets.yaml", "-q", "--set", "training.epochs=1", "--run-dir",
                   tmp_path / "t").exit_code == 0
    even = init_text(run_cli, tmp_path / "even.csv", lines[:1] + lines[1:181], "label")  # 80, 60 and 40 rows
    assert "loss: categorical_crossentropy" in even and "class_weights" not in even


def test_a_column_named_like_a_number_is_quoted_where_nnrun_would_read_a_number(run_cli, tmp_path):
    """'1e3' is text to YAML 1.1 but a number to nnrun's YAML 1.2 reader: init quotes it,
    so its own config validates."""
    lines = ["1e3,size,y"] + [f"{('a', 'b', 'c')[i % 3]},{i % 7},{i % 5 + 0.5}" for i in range(60)]
    text = init_text(run_cli, tmp_path / "d.csv", lines, "y")
    assert 'categorical: ["1e3"]' in text, text
    assert run_cli("validate", "d.yaml").exit_code == 0


def test_lines_of_bare_separators_below_the_table_are_no_rows(run_cli, tmp_path):
    # Excel writes ';;;;' below a sheet's last row: no rows of missing cells to fill or drop.
    lines = ["stadt;umsatz;klasse"] + [f"{'KMB'[i % 3]};{i % 17},5;{'ab'[i % 2]}" for i in range(90)]
    (tmp_path / "x.csv").write_text("\r\n".join(lines) + "\r\n" + ";;\r\n" * 4, encoding="utf-8")
    result = run_cli("init", "--data", "x.csv", "--target", "klasse")
    assert result.exit_code == 0, result.output
    text = (tmp_path / "x.yaml").read_text()
    assert "missing:" not in text and "missing_target" not in text
    trained = run_cli("train", "x.yaml", "--run-dir", "r", "-q", "--set", "training.epochs=1")
    assert trained.exit_code == 0, trained.output
    assert json.loads((tmp_path / "r" / "meta.json").read_text())["samples"] == {"train": 62, "validation": 14, "test": 14}


@pytest.mark.parametrize(("yes", "no"), [("ja", "nein"), ("Evet", "Hayır"), ("ja", "nej")])
def test_a_yes_that_sorts_before_its_no_is_made_the_positive_class(run_cli, tmp_path, yes, no):
    # 'ja' before 'nein': the sigmoid gave the probability of nein, and --threshold worked backwards.
    lines = ["x,antwort"] + [f"{i % 13},{yes if i % 3 else no}" for i in range(90)]
    (tmp_path / "yn.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run_cli("init", "--data", "yn.csv", "--target", "antwort")
    assert result.exit_code == 0, result.output
    text = (tmp_path / "yn.yaml").read_text(encoding="utf-8")
    assert f"classes: [{no}, {yes}]" in text and f"# '{yes}', the yes, last: the positive class" in text
    assert f"the probability of '{yes}' (not '{no}')" in text
    assert run_cli("validate", "yn.yaml").exit_code == 0


def test_a_class_of_a_handful_of_rows_is_told_and_not_weighed_up_a_hundredfold(run_cli, tmp_path):
    # 2 rows of 'Enterprise' among 600: init wrote class_weights: balanced (a weight of about 100 for
    # them) and said nothing; the held-out splits' warning said to raise their fractions.
    lines = ["usage,tier"] + [f"{i % 50},{'Enterprise' if i in (10, 500) else ('Basic', 'Plus')[i % 2]}"
                              for i in range(600)]
    (tmp_path / "t.csv").write_text("\n".join(lines) + "\n")
    result = run_cli("init", "--data", "t.csv", "--target", "tier")
    said = " ".join(result.output.split())
    assert result.exit_code == 0 and "note: 'tier': 'Enterprise' (2 rows) of 600 rows: too few to learn from or to " \
        "score; merge it into another class, or remove its rows" in said
    assert "class_weights" not in (tmp_path / "t.yaml").read_text()
    said = " ".join(run_cli("validate", "t.yaml").output.split())
    assert "has no sample of class 'Enterprise' (2 in all)" in said and "a class of so few rows cannot be in every " \
        "split: merge it into another class, or remove its rows" in said and "raise data.split" not in said


def test_a_rare_class_of_a_few_rows_among_few_is_still_weighed_up(run_cli, tmp_path):
    # 4 fraud among 60: rare (weighed about 8-fold), not a handful among hundreds; said alike by init and validate.
    lines = ["x,label"] + [f"{i % 9},{'fraud' if i < 4 else 'ok'}" for i in range(64)]
    text = init_text(run_cli, tmp_path / "f.csv", lines, "label")
    assert "class_weights: balanced" in text and "too few" not in text


def test_a_handful_class_leaves_the_weights_out_but_keeps_the_metrics_of_imbalance(run_cli, tmp_path):
    lines = ["x,label"] + [f"{i % 9},{'c' if i < 3 else 'b' if i < 103 else 'a'}" for i in range(1103)]
    text = init_text(run_cli, tmp_path / "m.csv", lines, "label")
    assert "loss: categorical_crossentropy" in text and "class_weights" not in text
    assert "metrics: [accuracy, f1_macro, balanced_accuracy]" in text
