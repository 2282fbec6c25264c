"""Keras layers nnrun has no layer type of, and what to write for them: an activation
as a layer's option, Rescaling as a preprocessing step, Input as nothing at all.

    keras_layer_hint("Rescaling", {"scale": 0.0625})  -> "; scaling is preprocessing here: ..."
"""

from __future__ import annotations

from nnrun.config.keras_words import squash

# Keras layers with no layer type of that name in nnrun: what to write instead (by
# squashed name, see keras_words.squash). Spelling alone would point Normalization at
# layer_normalization and SpatialDropout1D at dropout, which do other things.
LAYERS = {
    "sequential": "a model is its list of layers: model: {layers: [...]}, run in order (a layer's inputs: names "
                  "others for branches)",
    "input": "the input needs no layer: nnrun takes its shape from the data, and the first layer reads it (in a "
             "graph, inputs: [input] names it); for branches that read different columns, as a model of several "
             "inputs does, {type: select, features: [age, income]} picks them",
    "rescaling": "scaling is preprocessing here: data.preprocess: [{type: scale, factor: 0.00392156862745098}] "
                 "(1/255)",
    "normalization": "standardizing the features is preprocessing here: data.preprocess: [standardize], fitted on "
                     "the training split",
    "textvectorization": "text is read by the data source: data.source.text: {column: ..., max_tokens: ..., "
                         "length: ...}",
    "spatialdropout": "dropping whole channels is not offered; dropout drops single values",
    "gaussiannoise": "adding noise in training is not offered",
    "gaussiandropout": "multiplying by noise in training is not offered; dropout drops single values",
    "alphadropout": "alpha dropout (for selu networks) is not offered; dropout drops single values",
    "conv2dtranspose": "transposed convolutions (learned upsampling) are not offered",
    "separableconv": "separable and depthwise convolutions are not offered; conv2d (conv1d) convolves every channel "
                     "with each filter",
    "zeropadding": "padding: same on a convolution or pooling layer pads its input with zeros",
    "upsampling": "upsampling is not offered",
    "cropping": "cropping is not offered; crop the images in the data",
    "timedistributed": "dense (and every layer that reads the last axis) already works on each step of a sequence: "
                       "write the wrapped layer itself",
    "lambda": "a layer of one's own code is not offered: every layer is a type of the catalog (nnrun layers); "
              "x[:, :6] is {type: select, features: [0, 1, 2, 3, 4, 5]} (or the columns' names), and branches of a "
              "graph are named by inputs: [...] and merged by add, multiply or concatenate",
}
for _kind in ("flip", "rotation", "zoom", "crop", "translation", "contrast", "brightness", "height", "width"):
    LAYERS[f"random{_kind}"] = ("augmentation layers are not offered: nnrun trains on the samples as given; add "
                                "flipped or shifted copies to the data to augment it")
LAYERS["conv1dtranspose"] = LAYERS["conv3dtranspose"] = LAYERS["conv2dtranspose"]
LAYERS["depthwiseconv"] = LAYERS["separableconv"]
LAYERS["inputlayer"] = LAYERS["input"]


def keras_layer_hint(word: str, given: dict | None = None) -> str:
    """What to write for a Keras layer nnrun has no type of (``ReLU``, ``Input``,
    ``Rescaling``); "" for any other word. ``given``: the block's other keys, which
    some hints use (Rescaling's scale is the factor)."""
    from nnrun.model.activations import ACTIVATIONS, LEAKY_SLOPE  # on an error's way only

    squashed = squash(word)
    scale = (given or {}).get("scale")
    if squashed == "rescaling" and isinstance(scale, (int, float)) and not isinstance(scale, bool):
        return f"; scaling is preprocessing here: data.preprocess: [{{type: scale, factor: {scale}}}]"
    name = next((name for name in ACTIVATIONS if squash(name) == squashed), None)
    if name is not None:  # Keras's ReLU, LeakyReLU, Softmax layers
        slope = next((given[key] for key in ("alpha", "negative_slope") if key in (given or {})), 0.3)
        # The activation function's slope, not the LeakyReLU layer's (0.3 by default): said, not lost unsaid.
        fixed = f" (with a slope of {LEAKY_SLOPE}, as Keras's leaky_relu function; {slope}, as the layer had it, is " \
            "not offered)" if name == "leaky_relu" and slope != LEAKY_SLOPE else ""
        return (f"; an activation is a layer's option here (activation: {name} on the layer before), or a layer of "
                f"its own: {{type: activation, activation: {name}}}{fixed}")
    # SpatialDropout1D/2D/3D by their stem
    known = next((LAYERS[key] for key in (squashed, squashed.rstrip("123d")) if key in LAYERS), None)
    return f"; {known}" if known else ""
