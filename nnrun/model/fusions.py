"""Work the compiled graph does once where two layers would each do it.

- **The output activation folded into the loss** (:func:`fuse_output_activation`):
  softmax followed by cross-entropy has the gradient ``(softmax(z) - y) / N``, cheaper
  and stable, so the output layer is compiled without its activation.
- **relu's gradient taken by the max pool that reads it** (:func:`relu_through_max_pool`):
  a layer that ends in relu, read by a max pool and nothing else, leaves its
  activation's gradient to the pool, which applies it to the gradient of its own
  output before routing that to each window's winner. The maximum of relu's outputs is
  relu of the window's largest value, and the winner holds that value, so the mask is
  the same; it is taken over an array a quarter the size (2 x 2 windows), in place of a
  pass over the layer's whole output. On the digits CNN of ``benchmarks/`` at batch 128
  that pass was 0.65-0.74 ms of a 7.4 ms step. The gradients are the same as without
  the fusion, bit for bit where the windows tile the image. Where they do not (windows
  that overlap, or leave pixels out), the values are the same but the sign of a zero
  may differ, and so may a sum of gradients past float32's range (NaN without the
  fusion, 0 with it) at a pixel relu zeroed; a window holding a NaN differs too. None
  of these reach the trained weights differently in practice: the multiplies after
  wash out a zero's sign, and a NaN stops training.

May import: :mod:`nnrun.errors`.
"""

from __future__ import annotations

from nnrun.errors import ConfigError, Problem

MAX_POOLS = ("max_pool2d", "max_pool1d")


def relu_through_max_pool(nodes: list, output_name: str) -> dict[str, str]:
    """``{max pool node: the node it reads}`` for each max pool whose one input is a
    layer ending in relu that can hand its activation's gradient over (a dense or
    convolution layer) and that nothing else reads; the model's output is never one."""
    readers: dict[str, int] = {}
    for node in nodes:
        for source in node.inputs:
            readers[source] = readers.get(source, 0) + 1
    by_name = {node.name: node for node in nodes}
    fused = {}
    for node in nodes:
        source = by_name.get(node.inputs[0]) if len(node.inputs) == 1 else None
        if (node.layer.type in MAX_POOLS and source is not None and source.name != output_name
                and readers[source.name] == 1 and getattr(source.layer, "activation", None) == "relu"
                and source.layer.hands_over_activation_gradient):
            fused[node.name] = source.name
    return fused


def fuse_output_activation(output, loss) -> str | None:
    """The activation the loss folds into its gradient, taken off the output layer.

    With ``from_logits: true`` the model already ends in logits (a linear output); the
    activation is then only applied to make predictions.
    """
    fused = loss.fuses if loss is not None else None  # only the cross-entropies fuse, and have from_logits
    activation = output.layer.output_activation() or "linear"
    if fused and loss.from_logits:
        if activation != "linear":
            raise ConfigError("", [Problem(
                "loss.from_logits",
                f"from_logits: true expects logits, but the output layer '{output.name}' applies "
                f"'{activation}'; remove its activation"
                + (" or set from_logits: false" if activation == fused else
                   f", or set from_logits: false with activation: {fused} (what {loss.type} needs)"),
            )])
        return fused
    if fused and activation == fused:
        output.layer = output.layer.without_activation()
        return fused
    return None
