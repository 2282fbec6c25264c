"""Gated recurrent unit (``gru``), Keras's default ``reset_after`` formulation."""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from nnrun.model.initializers import initialize
from nnrun.model.layers.recurrent import (
    Recurrent,
    StepActivation,
    activate_in_place,
    activation_grad,
    carry,
    split_carry,
)


class GRU(Recurrent):
    """Gated recurrent unit (Cho et al.), as Keras's GRU: update and reset gates over one
    state.

    Gates z (update), r (reset), h (candidate) side by side in that order, with the
    reset gate applied after the recurrent GEMM (Keras's ``reset_after: true``, the
    formulation of cuDNN and PyTorch, whose order is r, z, n):

        x_z, x_r, x_h = x_t @ kernel + bias[0]                     (N, 3u)
        r_z, r_r, r_h = h_{t-1} @ recurrent_kernel + bias[1]       (N, 3u)
        z = recurrent_activation(x_z + r_z),  r = recurrent_activation(x_r + r_r)
        hh = activation(x_h + r * r_h),       h_t = z * h_{t-1} + (1 - z) * hh

    Shapes: kernel (F, 3u), recurrent_kernel (u, 3u), bias (2, 3u): the input bias,
    then the recurrent one.
    """

    type: Literal["gru"] = "gru"
    recurrent_activation: StepActivation = Field("sigmoid", description="Activation of the z and r gates.")
    gates = 3

    check_cases = [
        ({"units": 3}, (4, 2)),
        ({"units": 2, "return_sequences": True, "go_backwards": True}, (3, 3)),
        ({"units": 2, "activation": "relu", "use_bias": False, "return_sequences": True}, (3, 2)),
    ]

    def init_bias(self, rng, dtype) -> np.ndarray:
        return initialize(self.bias_initializer, (2, 3 * self.units), rng, dtype)

    def split_bias(self, params):
        bias = params.get("bias")
        return (None, None) if bias is None else (bias[0], bias[1])

    def bias_grad(self, d_input, d_recurrent):
        return np.stack([d_input.sum(axis=(0, 1)), d_recurrent.sum(axis=(0, 1))])

    def scan(self, params, xw, steps, state_drop, recurrent_bias):
        t, n, width = xw.shape
        u = self.units
        hs = np.zeros((t + 1, n, u), xw.dtype)
        recurrent_h = np.empty((t, n, u), xw.dtype)  # r_h of every step, for backward
        kernel = params["recurrent_kernel"]
        for s in range(t):
            h = hs[s] if state_drop is None else hs[s] * state_drop
            rec = h @ kernel  # (N, 3u)
            if recurrent_bias is not None:
                rec += recurrent_bias
            g = xw[s]  # overwritten by z, r, hh
            g[:, : 2 * u] += rec[:, : 2 * u]
            activate_in_place(self.recurrent_activation, g[:, : 2 * u])
            recurrent_h[s] = rec[:, 2 * u :]
            g[:, 2 * u :] += g[:, u : 2 * u] * rec[:, 2 * u :]
            activate_in_place(self.activation, g[:, 2 * u :])
            z, hh = g[:, :u], g[:, 2 * u :]
            new = hh + z * (hs[s] - hh)
            hs[s + 1] = carry(steps, s, new, hs[s])
        return hs, (xw, recurrent_h)

    def scan_back(self, params, saved, hs, dhs, d_last, steps, state_drop):
        gates, recurrent_h = saved
        t, n, width = gates.shape
        u = self.units
        d_input = np.empty_like(gates)
        d_recurrent = np.empty_like(gates)
        dh = np.zeros((n, u), gates.dtype) if d_last is None else d_last
        kernel_t = params["recurrent_kernel"].T
        for s in reversed(range(t)):
            g = gates[s]
            z, r, hh = g[:, :u], g[:, u : 2 * u], g[:, 2 * u :]
            if dhs is not None:
                dh = dh + dhs[s]
            dh_new, dh_passed = split_carry(steps, s, dh)
            d_in, d_rec = d_input[s], d_recurrent[s]
            d_hh = activation_grad(self.activation, hh, dh_new - dh_new * z)
            d_in[:, 2 * u :] = d_hh
            d_rec[:, 2 * u :] = d_hh * r
            d_in[:, :u] = dh_new * (hs[s] - hh)
            d_in[:, u : 2 * u] = d_hh * recurrent_h[s]
            d_in[:, : 2 * u] = activation_grad(self.recurrent_activation, g[:, : 2 * u], d_in[:, : 2 * u])
            d_rec[:, : 2 * u] = d_in[:, : 2 * u]
            back = d_rec @ kernel_t
            if state_drop is not None:
                back *= state_drop
            dh = back + dh_new * z
            if dh_passed is not None:
                dh += dh_passed
        return d_input, d_recurrent
