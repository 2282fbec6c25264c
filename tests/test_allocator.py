"""Freed memory kept between training steps (glibc's malloc thresholds raised once)."""

from __future__ import annotations

import sys

import pytest
from conftest import run_python

ROOT_CODE = "from nnrun.engine import allocator\n"

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mallopt is glibc's")


def _run(code: str, **env) -> str:
    import os

    environment = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    result = run_python(ROOT_CODE + code, env={**environment, **env})
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@linux_only
def test_a_large_step_raises_the_thresholds_once_per_process():
    out = _run("print(allocator.keep_freed_memory(allocator.MIN_STEP_BYTES - 1),"
               " allocator.keep_freed_memory(allocator.MIN_STEP_BYTES),"
               " allocator.keep_freed_memory(0))")
    assert out == "False True True"


@linux_only
def test_glibc_settings_in_the_environment_win():
    out = _run("print(allocator.keep_freed_memory(1 << 30))", MALLOC_TRIM_THRESHOLD_="131072")
    assert out == "False"


@linux_only
def test_small_steps_leave_the_decision_to_a_large_one():
    # A small run in the process (iris) must not keep a later large one from raising them.
    out = _run("print(allocator.keep_freed_memory(1000), allocator.keep_freed_memory(1 << 30))")
    assert out == "False True"
