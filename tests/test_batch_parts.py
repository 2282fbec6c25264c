"""A batch computed in parts equals the batch computed whole: the model's side of
data-parallel training, without MPI. Each part runs in a thread; ``BatchPart.sum``
meets the other threads at a barrier, as processes meet in a collective sum."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from pydantic import TypeAdapter

from nnrun.model.graph import compile_graph
from nnrun.model.layers import LayerSpec

# Batch norm (dense and image), dropout, recurrent dropout and attention dropout: every
# layer whose training forward spans the batch.
MODELS = {
    "dense": ([{"type": "dense", "units": 6}, {"type": "batch_normalization"},
               {"type": "activation", "activation": "relu"}, {"type": "dropout", "rate": 0.4},
               {"type": "dense", "units": 3}], (5,)),
    "conv": ([{"type": "conv2d", "filters": 4, "kernel_size": 3, "padding": "same"}, {"type": "batch_normalization"},
              {"type": "dropout", "rate": 0.3}, {"type": "flatten"}, {"type": "dense", "units": 2}], (4, 4, 2)),
    "recurrent": ([{"type": "lstm", "units": 4, "dropout": 0.3, "recurrent_dropout": 0.2},
                   {"type": "dense", "units": 2}], (3, 5)),
    "attention": ([{"type": "multi_head_attention", "num_heads": 2, "key_dim": 3, "dropout": 0.3},
                   {"type": "flatten"}, {"type": "dense", "units": 2}], (4, 6)),
}


class ThreadPart:
    """Rows ``start:`` of a batch of ``total``; sums over every thread, in thread order."""

    def __init__(self, shared: list, barrier: threading.Barrier, index: int, start: int, total: int):
        self.shared, self.barrier, self.index, self.start, self.total = shared, barrier, index, start, total

    def sum(self, local):
        self.shared[self.index] = local
        self.barrier.wait()
        total = sum(self.shared[1:], start=self.shared[0].copy())
        self.barrier.wait()  # everyone has read before the next sum overwrites
        return total


def whole_and_parts(name: str, parts: int, batch: int = 10):
    layers, shape = MODELS[name]
    specs = TypeAdapter(list[LayerSpec]).validate_python(layers)
    graphs = [compile_graph(specs, shape, rng=np.random.default_rng(0), dtype=np.float64) for _ in range(parts + 1)]
    x = np.random.default_rng(1).standard_normal((batch, *shape))
    d_out = np.random.default_rng(2).standard_normal((batch, *graphs[0].output_shape))
    whole, rng = graphs[0], np.random.default_rng(3)
    out, tape = whole.forward(x, True, rng)
    whole.backward(tape, d_out)
    bounds = np.linspace(0, batch, parts + 1).astype(int)
    shared, barrier = [None] * parts, threading.Barrier(parts)
    results, rngs = [None] * parts, [np.random.default_rng(3) for _ in range(parts)]

    def compute(i):
        lo, hi = bounds[i], bounds[i + 1]
        part = ThreadPart(shared, barrier, i, lo, batch)
        y, part_tape = graphs[i + 1].forward(x[lo:hi], True, rngs[i], part=part)
        graphs[i + 1].backward(part_tape, d_out[lo:hi])
        results[i] = y

    threads = [threading.Thread(target=compute, args=(i,)) for i in range(parts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return whole, out, rng, graphs[1:], np.concatenate(results), rngs


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("parts", [2, 3])
def test_a_batch_in_parts_gives_the_outputs_gradients_and_statistics_of_the_whole(name, parts):
    whole, out, rng, graphs, out_parts, rngs = whole_and_parts(name, parts)
    np.testing.assert_allclose(out_parts, out, rtol=1e-10, atol=1e-12)
    summed = sum(g.grad_buffer for g in graphs[1:]) + graphs[0].grad_buffer
    np.testing.assert_allclose(summed, whole.grad_buffer, rtol=1e-9, atol=1e-12)
    for g in graphs:  # batch norm's moving statistics: the whole batch's, in every part
        np.testing.assert_allclose(g.weight_buffer[g.trainable.size:], whole.weight_buffer[whole.trainable.size:],
                                   rtol=1e-12, atol=1e-14)
    # Dropout masks come from the whole batch's draws: every generator is where the whole one is.
    assert all(r.bit_generator.state == rng.bit_generator.state for r in rngs)
