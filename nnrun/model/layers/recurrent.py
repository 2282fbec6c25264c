"""Recurrent layers over sequences: the shared frame, and ``simple_rnn``.

A recurrent layer reads x (N, T, F) and keeps a state h (N, u) per sample. Keras
layouts: ``kernel`` (F, G*u), ``recurrent_kernel`` (u, G*u), ``bias`` (G*u,) with G
gate blocks side by side (1 for simple_rnn, 4 for lstm, 3 for gru).

The per-step Python work is kept to what cannot be batched:

- forward: one GEMM projects every step's input at once, ``xw = x @ kernel + bias``
  (T*N, F) @ (F, G*u), in time-major order so each step's slice is contiguous; the
  loop then does one (N, u) @ (u, G*u) GEMM per step, the gates fused in it;
- backward: the loop does one GEMM per step (``dz @ recurrent_kernel.T``); the kernel,
  recurrent kernel and input gradients are one GEMM each over all steps afterwards.

Masks: ``mask`` (N, T) marks real steps (True) and padding (False). A padded step
leaves the state as it was, so the final state is the one after the last real step,
and with ``return_sequences`` it outputs zeros. ``go_backwards`` reads the steps in
reverse and, like Keras, returns the sequence in that reversed order (with its mask
reversed to match).

Dropout (training only, Keras's convention): one input mask (N, F) and one state mask
(N, u) per batch, the same at every step; the state mask applies to the state entering
the recurrent GEMM only.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np
from pydantic import Field

from nnrun.model.activations import ACTIVATIONS
from nnrun.model.initializers import InitializerSpec, initialize
from nnrun.model.layers.base import Layer, Params, Shape, batch_uniform, needs_sequences
from nnrun.model.regularizers import RegularizerSpec

# Derivatives that follow from the output alone, so a step's activations can be
# computed in place and kept as the only record of it.
StepActivation = Literal["tanh", "sigmoid", "relu", "linear", "elu", "selu"]


def sigmoid_in_place(z: np.ndarray) -> np.ndarray:
    """``z = 1 / (1 + exp(-z))`` in place: exp is the one transcendental pass, which is
    about twice as fast as tanh in numpy (exp may overflow to inf, which gives 0; the
    callers run under ``np.errstate(over="ignore")``)."""
    np.negative(z, out=z)
    np.exp(z, out=z)
    z += 1
    return np.reciprocal(z, out=z)


def tanh_in_place(z: np.ndarray) -> np.ndarray:
    """``z = tanh(z) = 2 sigmoid(2 z) - 1`` in place, through the faster exp."""
    z *= 2
    sigmoid_in_place(z)
    z *= 2
    z -= 1
    return z


def activate_in_place(name: str, z: np.ndarray) -> np.ndarray:
    """``z = activation(z)`` in place (tanh and sigmoid through exp, see above)."""
    if name == "tanh":
        tanh_in_place(z)
    elif name == "sigmoid":
        sigmoid_in_place(z)
    else:
        z[...] = ACTIVATIONS[name].forward(z)
    return z


def activation_grad(name: str, y: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """d activation / d z from the output ``y`` (see ``StepActivation``)."""
    return ACTIVATIONS[name].backward(None, y, dy)


class Recurrent(Layer):
    """Options shared by simple_rnn, lstm and gru (Keras names and defaults)."""

    units: int = Field(gt=0, description="Width of the state and the output.")
    activation: StepActivation = Field("tanh", description="Activation of the candidate state (an lstm's cell output too).")
    use_bias: bool = Field(True, description="Add learned biases.")
    return_sequences: bool = Field(False, description="Output every step (T, units) instead of the last state (units,).")
    go_backwards: bool = Field(False, description="Read the sequence from its end; with return_sequences the output is reversed too.")
    dropout: float = Field(0.0, ge=0, lt=1, description="Dropout rate on the inputs (one mask per sequence).")
    recurrent_dropout: float = Field(0.0, ge=0, lt=1, description="Dropout rate on the state entering the recurrent kernel.")
    kernel_initializer: InitializerSpec = Field("glorot_uniform", description="Initializer of the input kernel.")
    recurrent_initializer: InitializerSpec = Field("orthogonal", description="Initializer of the recurrent kernel.")
    bias_initializer: InitializerSpec = Field("zeros", description="Initializer of the bias.")
    kernel_regularizer: RegularizerSpec | None = Field(None, description="Penalty on the input kernel.")
    recurrent_regularizer: RegularizerSpec | None = Field(None, description="Penalty on the recurrent kernel.")
    bias_regularizer: RegularizerSpec | None = Field(None, description="Penalty on the bias.")

    takes_mask = True
    reads_in_order = True
    spans_batch = True  # dropout masks are drawn for the whole batch
    gates: ClassVar[int] = 1

    def output_shape(self, input_shape: Shape) -> Shape:
        if len(input_shape) != 2:
            raise needs_sequences(self.type, input_shape)
        return (input_shape[0], self.units) if self.return_sequences else (self.units,)

    def init(self, input_shape: Shape, rng, dtype) -> Params:
        width = self.gates * self.units
        params = {
            "kernel": initialize(self.kernel_initializer, (input_shape[-1], width), rng, dtype),
            "recurrent_kernel": initialize(self.recurrent_initializer, (self.units, width), rng, dtype),
        }
        if self.use_bias:
            params["bias"] = self.init_bias(rng, dtype)
        return params

    def init_bias(self, rng, dtype) -> np.ndarray:
        return initialize(self.bias_initializer, (self.gates * self.units,), rng, dtype)

    def penalties(self):
        found = {"kernel": self.kernel_regularizer, "recurrent_kernel": self.recurrent_regularizer,
                 "bias": self.bias_regularizer if self.use_bias else None}
        return {name: reg for name, reg in found.items() if reg is not None}

    def output_mask(self, x, mask):
        if not self.return_sequences or mask is None:
            return None
        return mask[:, ::-1] if self.go_backwards else mask

    # Bias split: (added to the input projection, added to each step's recurrent GEMM).
    def split_bias(self, params: Params):
        return params.get("bias"), None

    def bias_grad(self, d_input: np.ndarray, d_recurrent: np.ndarray) -> np.ndarray:
        return d_input.sum(axis=(0, 1))

    def scan(self, params, xw, steps, state_drop, recurrent_bias):
        """Runs the steps: returns the states hs (T+1, N, u), hs[0] = 0, and the cache."""
        raise NotImplementedError

    def scan_back(self, params, saved, hs, dhs, d_last, steps, state_drop):
        """Back through the steps: returns d xw (T, N, G*u) and d (h @ recurrent_kernel
        + recurrent bias) (T, N, G*u), or None where that equals d xw."""
        raise NotImplementedError

    def _dropout_masks(self, x, training, rng, part):
        def one(rate, width):
            if not training or rate == 0.0:
                return None
            keep = batch_uniform(rng, (x.shape[0], width), part) >= rate
            return keep.astype(x.dtype) * x.dtype.type(1.0 / (1.0 - rate))

        return one(self.dropout, x.shape[2]), one(self.recurrent_dropout, self.units)

    def forward(self, params, x, training, rng, mask=None, part=None):
        n, t, f = x.shape
        input_drop, state_drop = self._dropout_masks(x, training, rng, part)
        xs = x.transpose(1, 0, 2)  # (T, N, F): time-major, each step contiguous
        steps = None if mask is None else mask.T[:, :, None].astype(x.dtype)  # (T, N, 1)
        if self.go_backwards:
            xs = xs[::-1]
            steps = None if steps is None else steps[::-1]
        xs = np.ascontiguousarray(xs if input_drop is None else xs * input_drop)
        input_bias, recurrent_bias = self.split_bias(params)
        xw = (xs.reshape(t * n, f) @ params["kernel"]).reshape(t, n, -1)  # every step's gates at once
        if input_bias is not None:
            xw += input_bias
        with np.errstate(over="ignore"):  # exp(-z) of a large -z is inf, and its sigmoid exactly 0
            hs, saved = self.scan(params, xw, steps, state_drop, recurrent_bias)
        if self.return_sequences:
            seq = hs[1:] if steps is None else hs[1:] * steps
            y = np.ascontiguousarray(seq.transpose(1, 0, 2))
        else:
            y = hs[-1]
        return y, (xs, input_drop, state_drop, steps, hs, saved)

    def backward(self, params, cache, dy, need_dx=True):
        xs, input_drop, state_drop, steps, hs, saved = cache
        t, n, f = xs.shape
        if self.return_sequences:
            dhs, d_last = dy.transpose(1, 0, 2), None  # (T, N, u); padded steps output constants
            if steps is not None:
                dhs = dhs * steps
        else:
            dhs, d_last = None, dy
        d_input, d_recurrent = self.scan_back(params, saved, hs, dhs, d_last, steps, state_drop)
        d_recurrent = d_input if d_recurrent is None else d_recurrent
        flat_in, flat_rec = d_input.reshape(t * n, -1), d_recurrent.reshape(t * n, -1)
        states_in = hs[:-1] if state_drop is None else hs[:-1] * state_drop
        grads = {"kernel": xs.reshape(t * n, f).T @ flat_in,
                 "recurrent_kernel": states_in.reshape(t * n, self.units).T @ flat_rec}
        if self.use_bias:
            grads["bias"] = self.bias_grad(d_input, d_recurrent)
        if not need_dx:
            return None, grads
        dxs = (flat_in @ params["kernel"].T).reshape(t, n, f)
        if input_drop is not None:
            dxs *= input_drop
        if self.go_backwards:
            dxs = dxs[::-1]
        return np.ascontiguousarray(dxs.transpose(1, 0, 2)), grads


def carry(steps, s: int, new: np.ndarray, old: np.ndarray) -> np.ndarray:
    """The state after step ``s``: ``new`` where the step is real, ``old`` where padded."""
    if steps is None:
        return new
    return old + steps[s] * (new - old)


def split_carry(steps, s: int, d: np.ndarray):
    """Splits a state gradient at step ``s`` into (to the step's new value, passed
    straight to the previous state through a padded step); the second is None
    without a mask."""
    if steps is None:
        return d, None
    d_new = d * steps[s]
    return d_new, d - d_new


class SimpleRNN(Recurrent):
    """``h_t = activation(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias)``.

    Shapes: x (N, T, F), kernel (F, u), recurrent_kernel (u, u), bias (u,); output
    (N, u), or (N, T, u) with return_sequences.
    """

    type: Literal["simple_rnn"] = "simple_rnn"
    check_cases = [
        ({"units": 3}, (4, 2)),
        ({"units": 2, "return_sequences": True, "go_backwards": True}, (3, 3)),
        ({"units": 3, "activation": "sigmoid", "use_bias": False, "return_sequences": True}, (3, 2)),
    ]

    def scan(self, params, xw, steps, state_drop, recurrent_bias):
        t, n, u = xw.shape
        hs = np.zeros((t + 1, n, u), xw.dtype)
        kernel = params["recurrent_kernel"]
        for s in range(t):
            h = hs[s] if state_drop is None else hs[s] * state_drop
            z = xw[s]  # (N, u), overwritten by the candidate state: the only record kept
            z += h @ kernel
            activate_in_place(self.activation, z)
            hs[s + 1] = carry(steps, s, z, hs[s])
        return hs, xw

    def scan_back(self, params, saved, hs, dhs, d_last, steps, state_drop):
        candidates = saved
        t, n, u = candidates.shape
        d_z = np.empty_like(candidates)
        dh = np.zeros((n, u), candidates.dtype) if d_last is None else d_last
        kernel_t = params["recurrent_kernel"].T
        for s in reversed(range(t)):
            if dhs is not None:
                dh = dh + dhs[s]
            d_new, passed = split_carry(steps, s, dh)
            d_z[s] = activation_grad(self.activation, candidates[s], d_new)
            dh = d_z[s] @ kernel_t
            if state_drop is not None:
                dh *= state_drop
            if passed is not None:
                dh += passed
        return d_z, None
