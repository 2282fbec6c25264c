from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))  # for gradcheck


def run_python(code: str, **options) -> subprocess.CompletedProcess:
    """``python -c CODE`` in a process of its own (a fresh interpreter: what it imports,
    how it starts and exits), its output captured as text."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, **options)


def run_piped(*args, cwd, env: dict | None = None) -> subprocess.CompletedProcess:
    """``nnrun ARGS... | cat``, the way a CI log or ``> file`` reads it: a fresh process of
    this checkout's nnrun whose input and output are no terminal, with no ``COLUMNS`` and
    no forced colours unless ``env`` sets them."""
    inherited = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "FORCE_COLOR", "TTY_COMPATIBLE")}
    environment = {**inherited, "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "utf-8", **(env or {})}
    return subprocess.run([sys.executable, "-m", "nnrun", *map(str, args)], cwd=cwd, env=environment,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True)


def train_then(config: str, checks: str, cwd) -> subprocess.CompletedProcess:
    """``nnrun train CONFIG --run-dir r --quiet`` in a fresh interpreter started in
    ``cwd``, which must succeed, then the Python lines ``checks`` in that interpreter
    (asserts on what the run imported or loaded)."""
    code = ("import sys\nfrom nnrun.cli import app\n"
            f"try:\n    app(['train', {config!r}, '--run-dir', 'r', '--quiet'])\n"
            "except SystemExit as e:\n    assert e.code == 0, e.code\n" + checks)
    return run_python(code, cwd=cwd)


@pytest.fixture(scope="session", autouse=True)
def kernel_cache(tmp_path_factory) -> Path:
    """The compiled kernels' cache folder (see nnrun.model.kernels): one for the whole
    session and every process it starts, built at most once, outside the user's own."""
    if "NNRUN_CACHE_DIR" not in os.environ:
        os.environ["NNRUN_CACHE_DIR"] = str(tmp_path_factory.mktemp("nnrun-cache"))
    return Path(os.environ["NNRUN_CACHE_DIR"])


@pytest.fixture(autouse=True)
def checkout_left_as_it_was():
    """No test writes into the checkout: a run folder left at its root (a test that
    undid its own chdir, say) would be committed with the next change."""
    before = {p.name for p in ROOT.iterdir()}
    yield
    added = {p.name for p in ROOT.iterdir()} - before
    assert not added, f"a test wrote {sorted(added)} into the checkout"


@pytest.fixture
def configs() -> Path:
    return ROOT / "configs"


@pytest.fixture
def write_config(tmp_path):
    """Write a YAML text to a file and return its path."""

    def write(text: str, name: str = "config.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return write


@pytest.fixture
def run_cli(monkeypatch, tmp_path):
    """Run `nnrun ARGS...` in tmp_path through Typer's CliRunner; returns the result."""
    from typer.testing import CliRunner

    from nnrun.cli import app

    monkeypatch.chdir(tmp_path)

    def run(*args: str):
        return CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)

    return run
