"""Compile a layer list into a graph: order, shapes, parameters, forward and backward.

    graph = compile_graph(layers, input_shape, loss, rng)
    out, tape = graph.forward(x, training=True, rng=rng)   # out: (N, *output_shape)
    graph.backward(tape, d_loss / d_out)                   # fills graph.grad_buffer

Every parameter lives in one flat buffer (``weight_buffer``): the trainable ones first
(``trainable``, a view of the leading part), then layer state such as batch norm's
moving statistics, which is saved with the weights but never trained. Gradients live
in ``grad_buffer``, the layout of ``trainable``. ``params`` and ``grads`` are named
views into them, ``"<layer name>.<param>"``. Optimizers update ``trainable`` in one
pass; regularizers add their penalty and its gradient in ``add_penalties`` (see :mod:`.reach`).

When the loss folds the output activation into its gradient (softmax with
cross-entropy), the output layer is compiled without it: ``forward`` returns logits and
``predict`` applies ``output_activation``; a max pool reading a relu layer takes relu's
gradient for it (see :mod:`nnrun.model.fusions`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nnrun.errors import ConfigError, Problem, UserError
from nnrun.model.activations import ACTIVATIONS
from nnrun.model.fusions import fuse_output_activation, relu_through_max_pool
from nnrun.model.graph_order import INPUT, check_names, topological_order
from nnrun.model.reach import reaching_output
from nnrun.model.target_scale import TargetScale
from nnrun.model.layers.base import Layer, what_ended_the_steps

Shape = tuple[int, ...]


@dataclass
class Node:
    name: str
    index: int  # position in model.layers, for error paths
    layer: Layer
    inputs: list[str]
    output_shape: Shape
    params: dict[str, np.ndarray] = field(default_factory=dict)  # views, local names
    grads: dict[str, np.ndarray] = field(default_factory=dict)
    reads_model_input: bool = False
    # Whether backward needs the input gradient: a layer before it learns, or passes a gradient on to
    # one that does (not so for the first layer, or one after a select or reshape of the input).
    need_dx: bool = True


class Graph:
    def __init__(self, nodes: list[Node], output: Node, input_shape: Shape, dtype: Any, output_activation: str | None):
        self.nodes = nodes  # topological order
        self.input_shape = input_shape
        self.output_shape = output.output_shape
        self.output_name = output.name
        self.dtype = np.dtype(dtype)
        self.output_activation = output_activation
        self.target_scale: TargetScale | None = None  # data.target_scale: activate turns outputs back
        self.values_per_sample = int(sum(np.prod(node.output_shape) for node in nodes))  # the layers' outputs
        # Max pools that take relu's gradient for the layer they read (see fusions).
        self.relu_pools = relu_through_max_pool(nodes, output.name)
        self._allocate()

    def _allocate(self) -> None:
        entries = [(node, local, p) for node in self.nodes for local, p in node.params.items()]
        trainable = [e for e in entries if e[1] not in e[0].layer.state_params]
        state = [e for e in entries if e[1] in e[0].layer.state_params]
        trainable_size = sum(p.size for _, _, p in trainable)
        self.weight_buffer = np.empty(trainable_size + sum(p.size for _, _, p in state), self.dtype)
        self.trainable = self.weight_buffer[:trainable_size]
        self.grad_buffer = np.zeros(trainable_size, self.dtype)
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        offset = 0
        for node, local, initial in trainable + state:
            stop = offset + initial.size
            view = self.weight_buffer[offset:stop].reshape(initial.shape)
            view[...] = initial
            node.params[local] = self.params[f"{node.name}.{local}"] = view
            if stop <= trainable_size:
                grad = self.grad_buffer[offset:stop].reshape(initial.shape)
                node.grads[local] = self.grads[f"{node.name}.{local}"] = grad
            offset = stop
        reaching = reaching_output(self.nodes, self.output_name)  # a branch left unconnected trains nothing
        self.penalties = [
            (reg, node.params[local], node.grads[local])
            for node in self.nodes if node.name in reaching
            for local, reg in node.layer.penalties().items()
        ]

    @property
    def parameter_count(self) -> int:
        return self.weight_buffer.size

    def penalty(self) -> float:
        """The regularization term of the loss, sum of every layer's penalties."""
        return sum(reg.value(w) for reg, w, _ in self.penalties)

    def add_penalties(self) -> float:
        """After ``backward``: add each penalty's gradient to ``grads``; returns the penalty."""
        for reg, w, grad in self.penalties:
            reg.add_gradient(w, grad)
        return self.penalty()

    def forward(self, x: np.ndarray, training: bool, rng: np.random.Generator | None = None, part=None):
        """Returns the output (logits when the activation is fused) and the tape of caches.

        ``part`` (a :class:`~nnrun.model.layers.base.BatchPart`) says that ``x`` holds only
        some rows of the batch, for the layers whose training forward spans the batch."""
        values, masks = {INPUT: x}, {INPUT: None}  # masks: (N, T) real steps, None when unmasked
        tape = []
        for node in self.nodes:
            layer = node.layer
            inputs = [values[n] for n in node.inputs] if layer.merges else values[node.inputs[0]]
            mask = [masks[n] for n in node.inputs] if layer.merges else masks[node.inputs[0]]
            masked = any(m is not None for m in mask) if layer.merges else mask is not None
            extra = {"mask": mask} if masked and layer.takes_mask else {}
            if layer.spans_batch:
                extra["part"] = part
            y, cache = layer.forward(node.params, inputs, training, rng, **extra)
            values[node.name] = y
            masks[node.name] = layer.output_mask(inputs, mask)
            tape.append(cache)
        return values[self.output_name], tape

    def backward(self, tape: list, d_out: np.ndarray) -> None:
        """Back-propagates ``d_out``; gradients of a layer that feeds several others add up."""
        pending = {self.output_name: d_out}
        for node, cache in zip(reversed(self.nodes), reversed(tape)):
            dy = pending.pop(node.name, None)
            if dy is None:  # the layer does not reach the output
                for grad in node.grads.values():
                    grad.fill(0)
                continue
            # A merge always returns every input's gradient: its other inputs need theirs.
            need_dx = node.layer.merges or node.need_dx
            dx, grads = node.layer.backward(node.params, cache, dy, need_dx=need_dx, **self.backward_options(node))
            for local, grad in grads.items():
                if grad is not node.grads[local]:  # not already written in place
                    np.copyto(node.grads[local], grad)
            if not need_dx or not node.layer.differentiable_input:
                continue
            for source, d in zip(node.inputs, dx if node.layer.merges else [dx]):
                if source != INPUT:
                    pending[source] = d if source not in pending else pending[source] + d

    def backward_options(self, node: Node) -> dict:
        """The keywords ``node``'s backward takes here: where to write its gradients, and
        who takes relu's gradient (see :mod:`nnrun.model.fusions`)."""
        options = {"into": node.grads} if node.layer.fills_grads else {}
        if node.name in self.relu_pools:
            options["relu_input"] = True
        elif node.name in self.relu_pools.values():
            options["gradient_of_z"] = True
        return options

    def activate(self, out: np.ndarray) -> np.ndarray:
        """Apply the fused output activation, turning logits into predictions (and
        standardized outputs into the target's units)."""
        out = ACTIVATIONS[self.output_activation].forward(out) if self.output_activation else out
        return self.target_scale.restore(out) if self.target_scale is not None else out

    def scale_targets(self, y: np.ndarray) -> np.ndarray:
        """Targets as the loss compares them with the raw outputs."""
        return self.target_scale.standardize(y) if self.target_scale is not None else y

    @property
    def outputs_logits(self) -> bool:
        """True when the loss gets logits: the output activation is fused into it."""
        return self.output_activation is not None

    def raw_outputs(self, x: np.ndarray, batch_size: int = 1024) -> np.ndarray:
        """Inference-mode outputs before the fused output activation, in batches."""
        result = np.empty((x.shape[0], *self.output_shape), self.dtype)
        for start in range(0, x.shape[0], batch_size):
            out, _ = self.forward(x[start : start + batch_size], training=False)
            result[start : start + batch_size] = out
        return result

    def predict(self, x: np.ndarray, batch_size: int = 1024) -> np.ndarray:
        """Inference-mode outputs, after the output activation, in batches."""
        return self.activate(self.raw_outputs(x, batch_size))

    def state(self) -> dict[str, np.ndarray]:
        return dict(self.params)

    def load_state(self, weights: dict[str, np.ndarray], origin: str) -> None:
        """Copy named weights in; names and shapes must match exactly."""
        missing = sorted(set(self.params) - set(weights))
        extra = sorted(set(weights) - set(self.params))
        problems = [f"missing parameter '{n}'" for n in missing] + [f"unexpected parameter '{n}'" for n in extra]
        for name in sorted(set(self.params) & set(weights)):
            if weights[name].shape != self.params[name].shape:
                problems.append(f"parameter '{name}' has shape {weights[name].shape}, the model needs "
                                f"{self.params[name].shape}")
        if problems:
            raise UserError(f"{origin}: weights do not fit the model: " + "; ".join(problems))
        for name, value in weights.items():
            np.copyto(self.params[name], value, casting="same_kind")


def compile_graph(layers: list[Layer], input_shape: Shape, loss=None, rng=None, dtype: Any = np.float32,
                  features: dict[str, list[int]] | None = None) -> Graph:
    """Resolve names, order and shapes, initialise parameters, fuse the output activation.
    ``features``: the positions of the model input's features by name (and of a table's
    columns; :func:`nnrun.data.features.feature_positions`), which a select layer names.

    Problems are collected and raised together as a :class:`ConfigError` whose paths
    point into ``model.layers``."""
    rng = rng if rng is not None else np.random.default_rng(0)
    names = [layer.name or f"{layer.type}_{i}" for i, layer in enumerate(layers)]
    inputs = [list(layer.inputs) if layer.inputs else [names[i - 1] if i else INPUT] for i, layer in enumerate(layers)]
    problems = check_names(layers, names, inputs)
    if problems:
        raise ConfigError("", problems)
    order = topological_order(names, inputs)
    if isinstance(order, Problem):
        raise ConfigError("", [order])

    shapes: dict[str, Shape] = {INPUT: tuple(input_shape)}
    nodes, learning = [], {}  # learning: layers that learn, or before which one does
    for i in order:
        layer = layers[i]
        if any(n not in shapes for n in inputs[i]):
            continue  # an input failed its own shape check, reported there
        in_shapes = [shapes[n] for n in inputs[i]]
        if len(in_shapes) > 1 and not layer.merges:
            problems.append(Problem(f"model.layers.{i}.inputs", f"a '{layer.type}' layer takes one input, got {len(in_shapes)}"))
            continue
        in_shape = in_shapes if layer.merges else in_shapes[0]
        if layer.names_features:  # names of the input's features become positions
            layer, named = layer.bound(features, in_shape, inputs[i][0])
            problems += [Problem(f"model.layers.{i}.{path}", message) for path, message in named]
            if named:
                continue
        try:
            shapes[names[i]] = tuple(layer.output_shape(in_shape))
        except ValueError as exc:  # for a sequence layer, the layer before it may say why
            before = layers[names.index(inputs[i][0])] if inputs[i][0] in names else None
            problems.append(Problem(f"model.layers.{i}", f"{names[i]}: {what_ended_the_steps(exc, before)}"))
            continue
        node = Node(names[i], i, layer, inputs[i], shapes[names[i]], reads_model_input=INPUT in inputs[i],
                    need_dx=any(learning.get(n, False) for n in inputs[i]))
        try:
            node.params = layer.init(in_shape, rng, dtype)
        except MemoryError as exc:  # told at its own layer, in the run's dtype (initializers draw in float64)
            problems.append(Problem(f"model.layers.{i}", f"{names[i]}: its weights do not fit in memory "
                                                         f"({_weights_size(exc, dtype)}); make it smaller (fewer units or "
                                                         "filters, an embedding's smaller input_dim)"))
            continue
        learning[names[i]] = node.need_dx or bool(set(node.params) - set(layer.state_params))
        nodes.append(node)
    if problems:
        raise ConfigError("", problems)
    # The last layer listed is the model's output, wherever the order puts it.
    output = next(node for node in nodes if node.index == len(layers) - 1)
    return Graph(nodes, output, tuple(input_shape), dtype, fuse_output_activation(output, loss))


def _weights_size(exc: MemoryError, dtype) -> str:
    """The array numpy could not allocate (its message names the shape), in ``dtype``."""
    import re

    shape = re.search(r"shape \(([\d, ]+)\)", str(exc))
    if shape is None:
        return str(exc) or "an allocation failed"
    dims = [int(d) for d in shape[1].split(",") if d.strip()]
    size = float(np.prod(dims, dtype=np.float64)) * np.dtype(dtype).itemsize
    return f"a {' x '.join(map(str, dims))} array, {size / 2**30:,.1f} GiB as {np.dtype(dtype).name}"
