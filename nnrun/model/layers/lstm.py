"""Long short-term memory (``lstm``), Keras's formulation and weight layout."""

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
    sigmoid_in_place,
    carry,
    split_carry,
)


class LSTM(Recurrent):
    """Long short-term memory (Hochreiter and Schmidhuber), as Keras's LSTM: a cell state
    kept by forget and input gates.

    Gates i, f, c, o side by side in that order (Keras; PyTorch's i, f, g, o):

        z = x_t @ kernel + h_{t-1} @ recurrent_kernel + bias         (N, 4u)
        i, f, o = recurrent_activation(z_i, z_f, z_o),  g = activation(z_c)
        c_t = f * c_{t-1} + i * g,   h_t = o * activation(c_t)

    Shapes: kernel (F, 4u), recurrent_kernel (u, 4u), bias (4u,). ``unit_forget_bias``
    starts the forget gate's bias at 1 (Keras's default) so that early training keeps
    the cell state.
    """

    type: Literal["lstm"] = "lstm"
    recurrent_activation: StepActivation = Field("sigmoid", description="Activation of the i, f and o gates.")
    unit_forget_bias: bool = Field(True, description="Start the forget gate's bias at 1.")
    gates = 4

    check_cases = [
        ({"units": 3}, (4, 2)),
        ({"units": 2, "return_sequences": True, "go_backwards": True}, (3, 3)),
        ({"units": 2, "activation": "relu", "recurrent_activation": "tanh", "use_bias": False}, (3, 2)),
    ]

    def init_bias(self, rng, dtype) -> np.ndarray:
        bias = initialize(self.bias_initializer, (4 * self.units,), rng, dtype)
        if self.unit_forget_bias:
            bias[self.units : 2 * self.units] = 1
        return bias

    def _gates_in_place(self, z: np.ndarray) -> None:
        """(N, 4u) pre-activations -> i, f, g, o. With the default activations, one
        sigmoid pass over all four blocks, tanh(x) being 2 sigmoid(2x) - 1."""
        u = self.units
        if self.activation == "tanh" and self.recurrent_activation == "sigmoid":
            candidate = z[:, 2 * u : 3 * u]
            candidate *= 2
            sigmoid_in_place(z)
            candidate *= 2
            candidate -= 1
            return
        activate_in_place(self.recurrent_activation, z[:, : 2 * u])
        activate_in_place(self.activation, z[:, 2 * u : 3 * u])
        activate_in_place(self.recurrent_activation, z[:, 3 * u :])

    def scan(self, params, xw, steps, state_drop, recurrent_bias):
        t, n, width = xw.shape
        u = self.units
        hs = np.zeros((t + 1, n, u), xw.dtype)
        cs = np.zeros((t + 1, n, u), xw.dtype)
        cell_out = np.empty((t, n, u), xw.dtype)  # activation(c_t), before the mask
        kernel = params["recurrent_kernel"]
        product = np.empty((n, width), xw.dtype)
        for s in range(t):
            h = hs[s] if state_drop is None else hs[s] * state_drop
            z = xw[s]  # (N, 4u), overwritten by the activated gates
            z += np.matmul(h, kernel, out=product)
            self._gates_in_place(z)
            c, out = cs[s + 1], cell_out[s]
            np.multiply(z[:, u : 2 * u], cs[s], out=c)
            c += z[:, :u] * z[:, 2 * u : 3 * u]
            out[...] = c
            activate_in_place(self.activation, out)
            np.multiply(z[:, 3 * u :], out, out=hs[s + 1])
            if steps is not None:  # padded steps keep the previous state
                cs[s + 1] = carry(steps, s, c, cs[s])
                hs[s + 1] = carry(steps, s, hs[s + 1], hs[s])
        return hs, (xw, cs, cell_out)

    def scan_back(self, params, saved, hs, dhs, d_last, steps, state_drop):
        gates, cs, cell_out = saved
        t, n, width = gates.shape
        u = self.units
        d_z = np.empty_like(gates)
        dh = np.zeros((n, u), gates.dtype) if d_last is None else d_last
        dc = np.zeros((n, u), gates.dtype)
        kernel_t = params["recurrent_kernel"].T
        for s in reversed(range(t)):
            g = gates[s]
            i, f, cand, o = g[:, :u], g[:, u : 2 * u], g[:, 2 * u : 3 * u], g[:, 3 * u :]
            if dhs is not None:
                dh = dh + dhs[s]
            dh_new, dh_passed = split_carry(steps, s, dh)
            dc_new, dc_passed = split_carry(steps, s, dc)
            dc_new = dc_new + activation_grad(self.activation, cell_out[s], dh_new * o)
            d = d_z[s]
            d[:, :u] = dc_new * cand
            d[:, u : 2 * u] = dc_new * cs[s]
            d[:, 2 * u : 3 * u] = dc_new * i
            d[:, 3 * u :] = dh_new * cell_out[s]
            d[:, : 2 * u] = activation_grad(self.recurrent_activation, g[:, : 2 * u], d[:, : 2 * u])
            d[:, 2 * u : 3 * u] = activation_grad(self.activation, cand, d[:, 2 * u : 3 * u])
            d[:, 3 * u :] = activation_grad(self.recurrent_activation, o, d[:, 3 * u :])
            dh = d @ kernel_t
            if state_drop is not None:
                dh *= state_drop
            dc = dc_new * f
            if dh_passed is not None:
                dh += dh_passed
                dc += dc_passed
        return d_z, None
