"""`nnrun plot`: a PNG of the learning curves; matplotlib is optional."""

from __future__ import annotations

import struct
import sys
from pathlib import Path

import pytest

import nnrun
from trained import train_iris

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path) -> tuple[int, int]:
    """Width and height from the PNG's IHDR chunk, which follows the signature."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_plot_one_run_writes_curves_png_into_it(run_cli, tmp_path):
    pytest.importorskip("matplotlib")
    run = train_iris(tmp_path / "r", epochs=6)
    result = run_cli("plot", run)
    assert result.exit_code == 0, result.output
    png = run / "curves.png"
    assert f"wrote {png}" in result.output
    width, height = png_size(png)
    # Two panels (loss, accuracy) of 5 x 3.6 inches at 100 dpi, and the legend under them.
    assert width == 1000 and 360 < height < 480
    assert png.stat().st_size > 20_000  # drawn lines, not an empty canvas
    assert not [p for p in run.iterdir() if p.name.endswith(".tmp.png")]


def test_plot_overlays_several_runs(run_cli, tmp_path):
    pytest.importorskip("matplotlib")
    a = train_iris(tmp_path / "a", epochs=4)
    b = train_iris(tmp_path / "b", "optimizer.learning_rate=0.01", epochs=8)
    result = run_cli("plot", a, b, "-o", "both.png")
    assert result.exit_code == 0, result.output
    assert png_size(tmp_path / "both.png")[0] == 1000
    assert run_cli("plot", a, "-o", "a.png").exit_code == 0
    # The second run is drawn in matplotlib's second colour (orange): present only in the overlay.
    assert orange_pixels(tmp_path / "both.png") > 500
    assert orange_pixels(tmp_path / "a.png") == 0
    before = (tmp_path / "both.png").read_bytes()
    result = run_cli("plot", a, "-o", "both.png")  # nothing is overwritten unasked
    assert result.exit_code == 2 and "both.png: already exists; nnrun does not overwrite it" in result.output
    assert "hint: add --force to replace it, or choose another file with -o" in result.output
    assert (tmp_path / "both.png").read_bytes() == before
    assert run_cli("plot", a, "-o", "both.png", "--force").exit_code == 0
    assert orange_pixels(tmp_path / "both.png") == 0
    assert run_cli("plot", a).exit_code == 0 and run_cli("plot", a).exit_code == 0  # its own curves.png: redrawn


def test_runs_of_different_losses_are_said_to_share_one_scale(run_cli, tmp_path):
    pytest.importorskip("matplotlib")
    from nnrun.console.plot import loss_types
    from trained import train_diabetes

    a, b = train_iris(tmp_path / "a", epochs=2), train_diabetes(tmp_path / "b")
    assert loss_types([a, b]) == ["categorical_crossentropy", "mse"]
    result = run_cli("plot", a, b, "-o", "mixed.png")
    assert result.exit_code == 0, result.output
    assert "note: the runs' losses are in different units (categorical_crossentropy, mse): the loss panel puts them on " \
        "one scale, where a small loss can look flat; compare them by a metric they share" in " ".join(
            result.output.split())
    assert "note:" not in run_cli("plot", a, a, "-o", "same.png").output
    sparse = train_iris(tmp_path / "s", "loss=sparse_categorical_crossentropy", epochs=1)
    assert loss_types([a, sparse]) == ["categorical_crossentropy"] * 2  # one scale: no note
    weighted = train_iris(tmp_path / "w", "loss.class_weights=balanced", epochs=1)
    scaled = nnrun.train(b / "config.yaml", overrides={"data.target_scale": "standardize"}, run_dir=tmp_path / "t",
                         quiet=True).run_dir
    types = loss_types([a, weighted, b, scaled])
    assert types[0] == "categorical_crossentropy" and types[2:] == ["mse", "mse of standardized targets"]
    assert types[1].startswith("categorical_crossentropy weighted by class (")  # the weights, as compare tells them
    other = train_iris(tmp_path / "o", "loss.class_weights=[5, 1, 1]", epochs=1)
    assert loss_types([other])[0] == "categorical_crossentropy weighted by class (setosa 5, versicolor 1, virginica 1)" \
        != types[1]  # by class name, as compare tells them


def orange_pixels(path) -> int:
    import matplotlib.image
    import numpy as np

    rgb = matplotlib.image.imread(path)[..., :3]
    return int(np.sum(np.all(np.abs(rgb - np.array([1.0, 0.498, 0.055])) < 0.05, axis=-1)))


def test_plot_without_matplotlib_says_how_to_install(run_cli, tmp_path, monkeypatch):
    run = train_iris(tmp_path / "r", epochs=1)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib` fail
    result = run_cli("plot", run)
    assert result.exit_code == 2
    assert "nnrun plot needs matplotlib" in result.output and "pip install 'nnrun[plot]'" in result.output
    assert not (run / "curves.png").exists()


def test_plot_bad_input(run_cli, tmp_path):
    run = train_iris(tmp_path / "r", epochs=1)
    result = run_cli("plot", run, "-o", "curves.jpg")
    assert result.exit_code == 2 and "give a file name ending in .png" in result.output
    result = run_cli("plot", "nowhere")
    assert result.exit_code == 2 and "nowhere: no such run directory" in result.output
    other = train_iris(tmp_path / "other", epochs=2)
    (run / "metrics.csv").unlink()
    result = run_cli("plot", run)
    assert result.exit_code == 2 and "no finished epoch to plot yet" in result.output
    # Beside others (a sweep's trials, one failed in its first epoch): left out, and said.
    result = run_cli("plot", run, other, "-o", "two.png")
    assert result.exit_code == 0 and (tmp_path / "two.png").is_file(), result.output
    assert f"left out, with no finished epoch to plot: {run}" in " ".join(result.output.split())


def test_a_sweeps_choice_gets_one_tick_per_value_and_a_log_axis_labels_its_decades():
    pytest.importorskip("matplotlib")
    from nnrun.console.plot import _pyplot
    from nnrun.console.sweep_plot import _panel

    plt = _pyplot()
    figure, (choice, constant, log) = plt.subplots(1, 3)
    found = [(16.0, 0.7, "completed", "000"), (8.0, 0.8, "completed", "001"), (16.0, 0.6, "pruned", "002")]
    _panel(choice, found, {"type": "choice", "values": [8, 16]}, higher=True)
    assert [t.get_text() for t in choice.get_xticklabels()] == ["8", "16"]
    _panel(constant, [(5.0, 0.7, "completed", "000")], {"type": "choice", "values": [5]}, higher=True)
    assert [t.get_text() for t in constant.get_xticklabels()] == ["5"] and constant.get_xlim() == (-0.5, 0.5)
    _panel(log, [(0.001, 0.1, "completed", "0"), (0.012, 0.8, "completed", "1")], {"type": "loguniform"}, True)
    figure.canvas.draw()
    assert log.get_xscale() == "log" and not any(t.get_text() for t in log.get_xticklabels(minor=True))
    plt.close(figure)


def test_a_sweep_plot_has_no_panel_for_a_constant(run_cli, tmp_path):
    pytest.importorskip("matplotlib")
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    (sweep / "sweep.yaml").write_text(
        "metric: val_accuracy\nmode: max\nparameters:\n"
        "  model.layers.0.units: {type: choice, values: [8, 16]}\n"
        "  training.epochs: {type: choice, values: [60]}\n")
    (sweep / "trials.csv").write_text(
        "trial,model.layers.0.units,training.epochs,status,val_accuracy\n"
        "000,8,60,completed,0.7\n001,16,60,completed,0.8\n")
    result = run_cli("plot", sweep)
    assert result.exit_code == 0, result.output
    assert png_size(sweep / "sweep.png")[0] == 500  # one panel of 5 inches at 100 dpi, not two

    (sweep / "sweep.yaml").write_text(
        "metric: val_accuracy\nparameters:\n  training.epochs: {type: grid, values: [60]}\n")
    result = run_cli("plot", sweep)
    assert result.exit_code == 2
    assert "every parameter of the sweep is a constant; there is nothing to plot the metric against" in result.output


def test_a_sweep_whose_trials_all_failed_has_nothing_to_plot_and_says_where_to_look(run_cli, tmp_path):
    pytest.importorskip("matplotlib")
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    (sweep / "sweep.yaml").write_text(
        "metric: val_loss\nmode: min\nparameters:\n  optimizer.learning_rate: {type: grid, values: [1.0e+6, 1.0e+8]}\n")
    (sweep / "trials.csv").write_text(  # a failed trial's last value, or NaN: no point of the plot
        "trial,optimizer.learning_rate,status,val_loss\n000,1000000.0,failed,12.5\n001,100000000.0,failed,nan\n")
    result = run_cli("plot", sweep)
    assert result.exit_code == 2
    assert "no completed or pruned trial has a value of val_loss to plot yet" in result.output
    assert "hint: the trials' messages say why:" in result.output and not (sweep / "sweep.png").exists()


def test_runs_of_one_name_are_told_apart_by_the_folders_above_them():
    """Two sweeps' trial 000 once shared the legend's one label, '000'."""
    from nnrun.console.plot import _labels

    assert _labels([Path("/r/a-search/trials/000"), Path("/r/b-search/trials/000")]) == \
        ["a-search/trials/000", "b-search/trials/000"]
    assert _labels([Path("/r/x"), Path("/r/y")]) == ["x", "y"]


def test_a_learning_rate_that_changed_gets_a_panel_of_its_own():
    from nnrun.console.plot import quantities

    steady = [{"epoch": e, "loss": 1.0 / e, "val_loss": 1.0, "lr": 0.001, "seconds": 0.1} for e in (1, 2, 3)]
    halved = [{**row, "lr": 0.001 * 0.5 ** (row["epoch"] // 2)} for row in steady]
    assert quantities([("a", steady)]) == ["loss"]
    assert quantities([("a", steady), ("b", halved)]) == ["loss", "lr"]


def test_a_plot_that_cannot_be_written_names_the_file_asked_for(run_cli, tmp_path, monkeypatch):
    """A read-only run folder: the error names curves.png (not the temporary file the
    PNG is drawn into first) and says how to write it elsewhere."""
    pytest.importorskip("matplotlib")
    import errno

    run = train_iris(tmp_path / "r", epochs=2)

    def read_only(self, target):
        raise OSError(errno.EROFS, "Read-only file system", str(self))

    monkeypatch.setattr(Path, "replace", read_only)
    result = run_cli("plot", run)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert f"error: {run / 'curves.png'}: cannot write the plot (Read-only file system)\n" \
           "  hint: write it elsewhere with -o FILE.png" in result.output
    assert not list(run.glob(".curves*"))


def test_a_long_panel_title_is_wrapped_to_its_panel(run_cli, tmp_path, monkeypatch):
    # A weighted loss's title ran past the figure's left edge, "loss" cut off.
    pytest.importorskip("matplotlib")
    from matplotlib.axes import Axes

    run = train_iris(tmp_path / "r", "loss.class_weights=[1, 2, 3]", epochs=2)
    titles: list[str] = []
    original = Axes.set_title
    monkeypatch.setattr(Axes, "set_title", lambda self, text, *a, **k: titles.append(text) or original(self, text,
                                                                                                          *a, **k))
    assert run_cli("plot", run).exit_code == 0
    loss = next(t for t in titles if t.startswith("loss ("))
    assert "\n" in loss and loss.replace("\n", " ").startswith("loss (categorical_crossentropy weighted by class")
    assert max(len(line) for line in loss.splitlines()) <= 45
