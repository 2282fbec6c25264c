"""Hostile weight files: `nnrun evaluate`, `nnrun predict` and `nnrun train --resume`
refuse every damaged, foreign or redirected file with a clear message and exit code 2,
executing nothing."""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest

import nnrun
from nnrun.errors import Interrupted
from nnrun.store.tensorfile import encode, read

CONFIG = {
    "name": "hostile",
    "data": {"source": {"type": "builtin", "name": "iris"}, "preprocess": ["standardize"]},
    "model": {"layers": [{"type": "dense", "units": 8, "activation": "relu"},
                         {"type": "dense", "units": 3, "activation": "softmax"}]},
    "loss": "categorical_crossentropy",
    "metrics": ["accuracy"],
    "training": {"epochs": 3, "checkpoint": {"every_epochs": 1, "keep": 1}},
}


class Payload:
    """Unpickling this creates the marker file: proof that something was executed."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def truncated(path: Path, tmp: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def bit_flipped(path: Path, tmp: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-5] ^= 0x10
    path.write_bytes(bytes(data))


def _rewritten(path: Path, change) -> None:
    """Change tensors but keep a valid checksum: only the shape and dtype checks can object."""
    arrays, metadata = read(path)
    name = next(n for n in sorted(arrays) if n.endswith("dense_0.kernel"))
    arrays = {**arrays, name: change(arrays[name])}
    path.write_bytes(encode(arrays, {k: v for k, v in metadata.items() if k != "checksum"}))


def wrong_shape(path: Path, tmp: Path) -> None:
    _rewritten(path, lambda kernel: np.zeros((4, 5), kernel.dtype))


def wrong_dtype(path: Path, tmp: Path) -> None:
    _rewritten(path, lambda kernel: kernel.astype(np.float64))


def pickle_payload(path: Path, tmp: Path) -> None:
    path.write_bytes(pickle.dumps({"dense_0.kernel": Payload(tmp / "executed")}))


def symlink_elsewhere(path: Path, tmp: Path) -> None:
    elsewhere = tmp / "elsewhere.safetensors"
    shutil.copy(path, elsewhere)  # an intact file, but outside the run directory
    path.unlink()
    path.symlink_to(elsewhere)


CASES = {
    "truncated": (truncated, "not a valid safetensors file ("),
    "bit-flipped": (bit_flipped, "checksum mismatch; the file is damaged"),
    "wrong-shape": (wrong_shape, "parameter 'dense_0.kernel' has shape (4, 5), the model needs (4, 8)"),
    "wrong-dtype": (wrong_dtype, "parameter 'dense_0.kernel' has dtype float64, the model needs float32"),
    "pickle-payload": (pickle_payload, "another format such as a pickle"),
    "symlink": (symlink_elsewhere, "is a symbolic link; nnrun reads only files inside the run directory"),
}


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    return nnrun.train(CONFIG, run_dir=tmp_path_factory.mktemp("hostile") / "done").run_dir


@pytest.fixture(scope="module")
def stopped(tmp_path_factory):
    from test_resume import SignalAt

    run = tmp_path_factory.mktemp("hostile") / "stopped"
    with pytest.raises(Interrupted):
        nnrun.train(CONFIG, run_dir=run, hooks=SignalAt(epoch=2))
    return run


@pytest.mark.parametrize("command", ["evaluate", "predict"])
@pytest.mark.parametrize("case", CASES)
def test_reading_a_run_refuses_a_hostile_weights_file(case, command, finished, run_cli, tmp_path):
    damage, expected = CASES[case]
    run = tmp_path / "run"
    shutil.copytree(finished, run)
    damage(run / "model.safetensors", tmp_path)
    samples = tmp_path / "new.csv"
    samples.write_text("sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\n")
    args = ["evaluate", run] if command == "evaluate" else ["predict", run, samples, "-o", tmp_path / "out.csv"]
    result = run_cli(*args)
    assert result.exit_code == 2, result.output
    assert result.output.startswith(f"error: {run / 'model.safetensors'}: ")
    assert expected in result.output and "Traceback" not in result.output
    assert not (tmp_path / "executed").exists()
    assert not (run / "eval-test.json").exists() and not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize("case", CASES)
def test_resume_refuses_a_hostile_checkpoint(case, stopped, run_cli, tmp_path):
    damage, expected = CASES[case]
    run = tmp_path / "run"
    shutil.copytree(stopped, run, symlinks=True)
    checkpoint = run / "checkpoints" / "epoch-000002.safetensors"
    damage(checkpoint, tmp_path)
    result = run_cli("train", "--resume", run)
    assert result.exit_code == 2, result.output
    assert f"{run}: no valid checkpoint to resume from\n  {checkpoint}: " in result.output
    assert expected in result.output
    assert not (tmp_path / "executed").exists() and not (run / "model.safetensors").exists()
    assert json.loads((run / "meta.json").read_text())["status"] == "interrupted"


def test_a_symlinked_run_directory_is_refused(finished, run_cli, tmp_path):
    link = tmp_path / "link"
    link.symlink_to(finished)
    for args in (["evaluate", link], ["train", "--resume", link]):
        result = run_cli(*args)
        assert result.exit_code == 2 and "is a symbolic link" in result.output
