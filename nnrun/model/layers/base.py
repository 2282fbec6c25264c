"""The layer contract shared by every layer family.

A layer is one Pydantic model: its fields are the YAML spec, its methods the math.
Shapes never include the batch axis. The math is pure: parameters come in as a dict,
whatever backward needs goes out in an explicit cache, nothing is kept on ``self``.

    output_shape(input_shape)                  -> shape
    init(input_shape, rng, dtype)              -> {param: ndarray}
    forward(params, x, training, rng)          -> (y, cache)
    backward(params, cache, dy, need_dx)       -> (dx, {param: grad})

A layer that sets ``fills_grads`` takes ``into=`` (the graph's gradient views, named
as its parameters) and may write its gradients there and return those same arrays,
sparing the graph a copy of each (for a dense kernel, a pass over its whole size).

A layer that sets ``hands_over_activation_gradient`` takes ``gradient_of_z=True`` when
the layer reading it has already taken its activation's gradient (a max pool after
relu, see :mod:`nnrun.model.fusions`): ``dy`` is then the gradient before the
activation. A max pool takes ``relu_input=True`` to take it.

``need_dx`` is False for layers that read the model input, whose input gradient
nobody uses; a layer may then return ``dx = None`` and skip that work (for the first
dense layer of an MLP it is a quarter of the matrix multiplies).

Layers that take several inputs (merges) set ``merges = True`` and then get and
return lists: ``input_shape`` is a list of shapes, ``x`` a list of arrays, ``dx`` a
list of gradients.

Masks: a mask is (N, T) booleans marking the real steps of a batch of sequences
(False: padding), made by an embedding with ``mask_zero`` or by a masking layer and
carried by the graph beside the values. A layer that reads its input's mask sets ``takes_mask``; its
``forward`` then gets ``mask=`` (a list for merges, None for an unmasked input) when
any mask exists. ``output_mask`` gives the mask of the output; by default the input's
mask passes on when ``keeps_mask`` (the output has the input's steps) and is dropped
otherwise.

Parameters named in ``state_params`` (batch norm's moving statistics) are saved with
the weights but never trained: the graph keeps them out of the optimizer's buffer,
``backward`` returns no gradient for them, and the layer's training-mode ``forward``
updates them in place, the one write a forward may make.

A layer whose training-mode forward depends on the whole batch (batch norm's
statistics, the masks of dropout and of recurrent and attention dropout) sets
``spans_batch``; its ``forward`` then gets ``part=``: None when ``x`` is the whole
batch, else a :class:`BatchPart` saying which rows of the batch ``x`` holds and summing
arrays over every part. Data-parallel training computes the parts in separate
processes; the model never knows how the parts are summed.
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol

import numpy as np
from pydantic import BaseModel, Field

from nnrun.specs import SPEC

Shape = tuple[int, ...]
Params = dict[str, np.ndarray]

NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_]*$"


class BatchPart(Protocol):
    """Rows ``start : start + len(x)`` of a batch of ``total`` rows; the others are elsewhere."""

    start: int
    total: int

    def sum(self, local: np.ndarray) -> np.ndarray:
        """The element-wise sum of ``local`` over every part of the batch (same shape)."""
        ...


class SequencesNeeded(ValueError):
    """A sequence layer given something else (see :func:`needs_sequences`)."""


def needs_sequences(layer_type: str, input_shape: Shape, axes: str = "steps, features") -> ValueError:
    """The error of a sequence layer given something else; for a flat input, what makes
    sequences of it: an embedding of token indices, or a reshape of numbers into steps."""
    hint = ""
    if len(input_shape) == 1:
        n = input_shape[0]
        hint = (f"; put an embedding first for token indices (a text column), or {{type: reshape, target_shape: "
                f"[{n}, 1]}} to read {n} numbers as {n} steps of one value")
    return SequencesNeeded(f"{layer_type} expects sequences ({axes}), got {tuple(input_shape)}{hint}")


def needs_images(layer_type: str, input_shape: Shape) -> ValueError:
    """The error of an image layer given something else; for (height, width), images of
    one channel without its axis, how to give them one."""
    hint = ""
    if len(input_shape) == 2:
        h, w = input_shape
        hint = (f"; images of one channel need the channel axis: x[..., None] in the data, or a first layer "
                f"{{type: reshape, target_shape: [{h}, {w}, 1]}}")
    return ValueError(f"{layer_type} expects images (height, width, channels), got {tuple(input_shape)}{hint}")


def channels_first(input_shape: Shape, layers: list["Layer"]) -> str | None:
    """For images that look stored channels first, (channels, height, width) as PyTorch
    stores them, that reach the first image layer of ``layers`` as they are (no reshape
    before it makes images of its own): what to do; else None. Images are about as wide
    as high: (1, 128, 9), a series of 128 steps of 9 channels laid out for conv2d, is no
    image stored channels first."""
    if not looks_channels_first(input_shape) or not _reach_images_unchanged(tuple(input_shape), layers):
        return None
    channels, height, width = input_shape
    return (f"the samples {tuple(input_shape)} look like images stored channels first, (channels, height, width); "
            f"nnrun's images are channels last, (height, width, channels): give x.transpose(0, 2, 3, 1), shape "
            f"({height}, {width}, {channels})")


def looks_channels_first(shape: Shape) -> bool:
    """Whether samples of ``shape`` look like images stored channels first: 1, 3 or 4
    channels, then a height and width of at least 8 and no more than 4:1 apart."""
    if len(shape) != 3:
        return False
    channels, height, width = shape
    return channels in (1, 3, 4) and min(height, width) >= 8 and max(height, width) <= 4 * min(height, width)


def _reach_images_unchanged(shape: Shape, layers: list["Layer"]) -> bool:
    """Whether the layers before the first image layer (dropout, batch normalization)
    leave the input's shape as it is."""
    for layer in layers:
        if layer.reads_images:
            return True
        if layer.merges or layer.inputs:  # a graph's branches: no one way to the images
            return False
        try:
            if tuple(layer.output_shape(shape)) != shape:
                return False
        except ValueError:
            return False
    return False


STEPS_ENDED = ("flatten", "global_average_pool1d", "global_max_pool1d")


def what_ended_the_steps(error: ValueError, source) -> str:
    """The message of a layer's shape error; for a sequence layer given one vector per
    sample by the layer before it, the fix is there (return_sequences, or the layer
    order), not an embedding or a reshape."""
    message = str(error)
    if not isinstance(error, SequencesNeeded) or source is None:
        return message
    recurrent = source.layer if source.type == "bidirectional" else source
    if getattr(recurrent, "return_sequences", None) is False:
        fix = f"the {source.type} before it returns its last step only: set return_sequences: true on it"
    elif source.type in STEPS_ENDED:
        fix = f"the {source.type} before it makes one vector of the steps: put this layer before that one"
    elif source.type == "embedding":  # given (steps, features) numbers, it made a vector of each number
        fix = ("the embedding before it takes token indices, one per step (steps,), and turned each of its "
               "inputs into a vector; numbers already in steps need no embedding: remove it")
    else:
        return message
    return f"{message.split('; ')[0]}; {fix}"


def batch_uniform(rng: np.random.Generator, shape: tuple[int, ...], part: BatchPart | None) -> np.ndarray:
    """Uniform [0, 1) float32 draws of ``shape`` (batch axis first) for this part's rows.
    The whole batch's numbers are drawn, so the draws, and the generator's state after
    them, do not depend on how the batch is split."""
    if part is None:
        return rng.random(shape, dtype=np.float32)
    whole = rng.random((part.total, *shape[1:]), dtype=np.float32)
    return whole[part.start : part.start + shape[0]]


class Layer(BaseModel):
    model_config = SPEC

    name: str | None = Field(
        None,
        pattern=NAME_PATTERN,
        description="Layer name, unique in the model; parameters are saved as "
        "'<name>.<param>'. Default: '<type>_<index>'.",
    )
    inputs: list[str] | None = Field(
        None,
        min_length=1,
        description="Names of the layers feeding this one. Default: the previous layer "
        "(the first layer reads the model input, named 'input').",
    )

    merges: ClassVar[bool] = False
    fills_grads: ClassVar[bool] = False  # backward takes into= (see the module docstring)
    hands_over_activation_gradient: ClassVar[bool] = False  # backward takes gradient_of_z= (ditto)
    state_params: ClassVar[tuple[str, ...]] = ()
    # False for layers whose input is an index (embedding): no gradient flows into it.
    differentiable_input: ClassVar[bool] = True
    takes_mask: ClassVar[bool] = False
    keeps_mask: ClassVar[bool] = False
    # True for a layer that reads images, (height, width, channels): conv2d and the 2D pools.
    reads_images: ClassVar[bool] = False
    # True for a layer that reads a sequence's steps one after another (recurrent): without a
    # mask it reads a text's end padding last, after the words.
    reads_in_order: ClassVar[bool] = False
    # True when training statistics or random draws span the batch: forward gets `part=`.
    spans_batch: ClassVar[bool] = False
    # True for a layer that names features of the model's input (select): the graph binds
    # the names to positions as it compiles, through the layer's `bound`.
    names_features: ClassVar[bool] = False
    # Spec fields and input shapes the registry's gradient check runs every layer with.
    check_cases: ClassVar[list[tuple[dict[str, Any], Shape]]] = []

    def output_shape(self, input_shape: Shape) -> Shape:
        return input_shape

    def output_activation(self) -> str | None:
        """The activation this layer applies to its output (dense, conv, activation), or
        None; the graph fuses a final softmax or sigmoid into the loss through it."""
        return None

    def without_activation(self) -> "Layer":
        """This layer with its output activation taken off (the loss applies it)."""
        return self

    def check_inputs(self, x: np.ndarray) -> str | None:
        """A message when these model-input values cannot go through the layer (an
        embedding needs whole-number indices in range); None when they can. Called on
        every split before training."""
        return None

    def wrong_inputs(self, x: np.ndarray) -> np.ndarray | None:
        """Where these model-input values cannot go through the layer (a mask of x's
        shape), with :meth:`accepted_inputs` saying what can; None when all can.
        Called on new data before predicting."""
        return None

    def accepted_inputs(self) -> str:
        return "any number"

    def init(self, input_shape: Shape, rng: np.random.Generator, dtype: Any) -> Params:
        return {}

    def output_mask(self, x, mask):
        """The output's mask from the input ``x`` and its ``mask`` (lists for merges)."""
        if not self.keeps_mask:
            return None
        if not self.merges:
            return mask
        present = [m for m in mask if m is not None]
        return np.logical_and.reduce(present) if present else None

    def penalties(self) -> dict[str, Any]:
        """Regularizers by local parameter name, added to the loss by the graph."""
        return {}

    def forward(self, params: Params, x, training: bool, rng: np.random.Generator | None):
        raise NotImplementedError

    def backward(self, params: Params, cache, dy, need_dx: bool = True):
        raise NotImplementedError
