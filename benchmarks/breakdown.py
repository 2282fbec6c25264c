"""Where one training batch of an nnrun recurrent text classifier spends its time.

Each phase is timed on its own (the median of several runs) with the same arrays the
trainer would use: the embedding lookup and its scatter-add backward; the recurrent
layer's input projection (one GEMM for all steps), its forward time loop, its
backward time loop, and the weight and input gradients after the loop (one GEMM
each); the dense head and the loss; the Adam update of every parameter. The loops
are split further into their recurrent GEMMs (timed alone, the same shapes, as many
as there are steps) and the rest: the per-step element-wise gate math and Python.
"""

from __future__ import annotations

import statistics
import time

import numpy as np


def _median_ms(action, repeats: int = 5) -> float:
    action()  # warm: first touches of fresh memory are not the steady state
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return 1e3 * statistics.median(samples)


def _phases(cell: str, x, y, vocabulary: int, width: int, units: int) -> dict[str, float]:
    from nnrun.model.layers import LAYER_TYPES
    from nnrun.model.layers.core import Dense
    from nnrun.model.layers.embedding import Embedding
    from nnrun.model.losses import CategoricalCrossentropy
    from nnrun.model.optimizers import Adam

    rng = np.random.default_rng(0)
    embedding, recurrent = Embedding(input_dim=vocabulary, output_dim=width), LAYER_TYPES[cell](units=units)
    head, loss = Dense(units=2), CategoricalCrossentropy()
    steps = x.shape[1]
    tokens = x.astype(np.float32)
    p_embed = embedding.init(x.shape[1:], rng, np.float32)
    p_rec = recurrent.init((steps, width), rng, np.float32)
    p_head = head.init((units,), rng, np.float32)
    vectors, embed_cache = embedding.forward(p_embed, tokens, True, rng)
    state, rec_cache = recurrent.forward(p_rec, vectors, True, rng)
    logits, head_cache = head.forward(p_head, state, True, rng)
    d_state = head.backward(p_head, head_cache, loss(logits, y, True)[1])[0]
    xs, _, _, _, hs, saved = rec_cache
    n = x.shape[0]
    input_bias, recurrent_bias = recurrent.split_bias(p_rec)

    def project():
        return (xs.reshape(steps * n, width) @ p_rec["kernel"]).reshape(steps, n, -1) + input_bias

    def loop_forward():
        recurrent.scan(p_rec, project(), None, None, recurrent_bias)

    d_input, d_recurrent = recurrent.scan_back(p_rec, saved, hs, None, d_state, None, None)
    d_recurrent = d_input if d_recurrent is None else d_recurrent

    def after_loop():
        flat_in = d_input.reshape(steps * n, -1)
        _ = xs.reshape(steps * n, width).T @ flat_in
        _ = hs[:-1].reshape(steps * n, units).T @ d_recurrent.reshape(steps * n, -1)
        _ = flat_in @ p_rec["kernel"].T

    size = sum(p.size for p in (*p_embed.values(), *p_rec.values(), *p_head.values()))
    adam = Adam()
    weights, grads = np.zeros(size, np.float32), np.full(size, 1e-3, np.float32)
    slots = adam.slots(size, np.float32)
    h, kernel = hs[1], p_rec["recurrent_kernel"]
    gemm = _median_ms(lambda: [h @ kernel for _ in range(steps)])
    phases = {
        "embedding forward": _median_ms(lambda: embedding.forward(p_embed, tokens, True, rng)),
        "embedding backward (scatter-add)": _median_ms(lambda: embedding.backward(p_embed, embed_cache, vectors, False)),
        "input projection (1 GEMM, all steps)": _median_ms(project),
        "forward loop": _median_ms(loop_forward) - _median_ms(project),
        "backward loop": _median_ms(lambda: recurrent.scan_back(p_rec, saved, hs, None, d_state, None, None)),
        "weight and input gradients (3 GEMMs)": _median_ms(after_loop),
        "dense head and loss": _median_ms(lambda: head.backward(p_head, head_cache, loss(head.forward(
            p_head, state, True, rng)[0], y, True)[1])),
        f"Adam over {size:,} parameters": _median_ms(lambda: adam.step(weights, grads, slots, 0.001, 1)),
    }
    return phases, gemm


def print_breakdown(cell: str, x, y, vocabulary: int, width: int, units: int) -> None:
    phases, gemm = _phases(cell, x, y, vocabulary, width, units)
    total = sum(phases.values())
    print(f"where one nnrun batch of {x.shape[0]} goes ({cell}, {x.shape[1]} steps), medians:")
    for name, ms in phases.items():
        print(f"  {name:<40} {ms:>7.2f} ms  {ms / total:>4.0%}")
    loops = phases["forward loop"] + phases["backward loop"]
    print(f"  {'sum':<40} {total:>7.2f} ms")
    print(f"  the two loops run {2 * x.shape[1]} recurrent GEMMs, {2 * gemm:.2f} ms timed alone "
          f"({2 * gemm / loops:.0%} of the loops); the rest, {(loops - 2 * gemm) / (2 * x.shape[1]) * 1e3:.0f} us "
          f"per step and direction, is gate math and Python")
