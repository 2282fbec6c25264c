"""Element-wise work split by rows over threads gives the whole batch's result to the
last bit: bias and activation and their gradient (dense and convolution), im2col and
the input gradient's scatter, and pooling, forward and backward, at 2 and 3 threads."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from nnrun.model import rows
from nnrun.model.layers.conv import Conv1D, Conv2D
from nnrun.model.layers.core import Dense
from nnrun.model.layers.pooling import MaxPool1D, MaxPool2D
from nnrun.model.rows import over_rows, row_threads

LAYERS = [
    (Dense, {"units": 7, "activation": "relu"}, (5,)),
    (Dense, {"units": 4, "activation": "tanh"}, (3, 6)),  # a sequence: rows are samples
    (Dense, {"units": 3, "activation": "sigmoid"}, (4,)),  # no in-place form: whole forward
    (Conv2D, {"filters": 5, "kernel_size": 3, "activation": "relu"}, (9, 8, 3)),
    (Conv2D, {"filters": 4, "kernel_size": 2, "strides": 2, "padding": "same", "activation": "tanh"}, (7, 9, 2)),
    (Conv2D, {"filters": 3, "kernel_size": 3, "activation": "gelu"}, (6, 6, 2)),  # not in place: whole
    (Conv1D, {"filters": 4, "kernel_size": 3, "activation": "relu"}, (10, 3)),
    (MaxPool2D, {}, (8, 8, 3)),
    (MaxPool2D, {"pool_size": 3, "strides": 2, "padding": "same"}, (7, 9, 2)),
    (MaxPool1D, {"pool_size": 2}, (9, 3)),
]


def _step(layer, params, x, dy_seed):
    y, cache = layer.forward(params, x, True, None)
    dy = np.random.default_rng(dy_seed).standard_normal(y.shape).astype(x.dtype)
    dx, grads = layer.backward(params, cache, dy, need_dx=True)
    return [y.copy(), dx, *grads.values()]


@pytest.mark.parametrize("threads", [2, 3])
@pytest.mark.parametrize("kind, spec, shape", LAYERS, ids=lambda v: getattr(v, "__name__", None))
def test_split_layers_equal_the_whole_batch(kind, spec, shape, threads, monkeypatch):
    monkeypatch.setattr(rows, "MIN_ELEMENTS", 0)  # split even these small batches
    rng = np.random.default_rng(0)
    layer = kind(**spec)
    params = layer.init(shape, rng, np.float32)
    x = rng.standard_normal((11, *shape)).astype(np.float32)
    x[:, ::2] = np.round(x[:, ::2])  # ties for the pools' first-tap rule
    whole = _step(layer, params, x, 1)
    with row_threads(threads):
        split = _step(layer, params, x, 1)
    assert len(whole) == len(split)
    for a, b in zip(whole, split):
        assert np.array_equal(a, b)


def test_over_rows_covers_every_row_once_on_several_threads(monkeypatch):
    monkeypatch.setattr(rows, "MIN_ELEMENTS", 0)
    seen, names = np.zeros(10, int), set()

    def work(a, b):
        seen[a:b] += 1
        names.add(threading.current_thread().name)

    with row_threads(3):
        over_rows(10, work, elements=10)
    assert seen.tolist() == [1] * 10 and len(names) >= 2  # this thread and at least one other
    seen[:] = 0
    over_rows(10, work, elements=10)  # outside the block: one call, on this thread
    assert seen.tolist() == [1] * 10


def test_small_work_and_one_thread_stay_on_the_calling_thread():
    calls = []
    with row_threads(2):
        over_rows(10, lambda a, b: calls.append((a, b, threading.current_thread().name)), elements=10)
    with row_threads(1):
        over_rows(10, lambda a, b: calls.append((a, b, threading.current_thread().name)), elements=1 << 30)
    main = threading.current_thread().name
    assert calls == [(0, 10, main), (0, 10, main)]


def test_a_failing_range_fails_the_call_after_every_range_ends(monkeypatch):
    monkeypatch.setattr(rows, "MIN_ELEMENTS", 0)
    done = []

    def work(a, b):
        if a > 0:
            raise ValueError("range failed")
        done.append((a, b))

    with row_threads(2), pytest.raises(ValueError, match="range failed"):
        over_rows(8, work, elements=8)
    assert done == [(0, 4)]


def test_the_setting_belongs_to_the_thread_that_made_it(monkeypatch):
    """A run training on another thread of the same process is not split by this one's
    setting, and its own ends without touching this one's."""
    monkeypatch.setattr(rows, "MIN_ELEMENTS", 0)
    seen = {}

    def other_run():
        seen["before"] = rows.splits(10, 10)
        with row_threads(2):
            seen["inside"] = rows.splits(10, 10)

    with row_threads(2):
        thread = threading.Thread(target=other_run)
        thread.start()
        thread.join()
        assert rows.splits(10, 10)  # still this thread's pool after the other's closed
    assert seen == {"before": False, "inside": True}
    assert not rows.splits(10, 10)


def _sleeping_work(whole_seconds: float, other_thread_seconds: float, names: list):
    """Work taking ``whole_seconds`` per call on the calling thread, and
    ``other_thread_seconds`` for a range on a pooled thread."""
    import time

    def work(a, b):
        on_pool = threading.current_thread() is not threading.main_thread()
        names.append(on_pool)
        time.sleep(other_thread_seconds if on_pool else whole_seconds * (b - a) / 10)

    return work


@pytest.mark.parametrize("pool_seconds, kept_split", [(0.001, True), (0.05, False)])
def test_each_kind_of_work_is_timed_both_ways_then_done_the_faster_way(monkeypatch, pool_seconds, kept_split):
    # Whole: 20 ms on this thread. Split: 10 ms here, and the other half on a pooled
    # thread, fast (1 ms) or slow (50 ms, as a core where OpenBLAS spins).
    monkeypatch.setattr(rows, "MIN_ELEMENTS", 0)
    names = []
    with row_threads(2):
        for _ in range(2 * rows.TRIALS):
            over_rows(10, _sleeping_work(0.02, pool_seconds, names), elements=10)
        assert names.count(True) == rows.TRIALS  # tried split as often as whole
        names.clear()
        for _ in range(3):
            over_rows(10, _sleeping_work(0.02, pool_seconds, names), elements=10)
        assert any(names) == kept_split
        other_size = []
        over_rows(12, _sleeping_work(0.02, pool_seconds, other_size), elements=12)  # another kind: tried first
        assert any(other_size)
    names.clear()
    with row_threads(2):  # a new run times its work afresh
        over_rows(10, _sleeping_work(0.02, pool_seconds, names), elements=10)
    assert any(names)


def test_work_that_is_not_a_plain_function_is_split_untimed(monkeypatch):
    # A functools.partial has no code to tell its calls apart by: it is split as before,
    # and leaves no timings behind.
    import functools

    monkeypatch.setattr(rows, "MIN_ELEMENTS", 0)
    names = []
    with row_threads(2):
        for _ in range(3):
            over_rows(10, functools.partial(_sleeping_work(0.001, 0.001, names)), elements=10)
        assert names.count(True) == 3 and rows._setting()[2] == {}
