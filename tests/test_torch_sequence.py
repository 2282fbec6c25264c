"""The sequence layers against PyTorch: forward outputs and one Adam step, after mapping
Keras-layout weights onto torch.nn.RNN, LSTM, GRU and MultiheadAttention (float32,
within 1e-5). Skipped when PyTorch is not installed."""

from __future__ import annotations

import numpy as np
import pytest

from nnrun.model.layers.attention import MultiHeadAttention
from nnrun.model.layers.bidirectional import Bidirectional
from nnrun.model.layers.gru import GRU
from nnrun.model.layers.lstm import LSTM
from nnrun.model.layers.recurrent import SimpleRNN
from nnrun.model.optimizers import Adam

torch = pytest.importorskip("torch")

TOLERANCE = 1e-5
LR = 0.01


def gru_order(u: int) -> np.ndarray:
    """Column order taking Keras's z, r, h gate blocks to PyTorch's r, z, n."""
    return np.concatenate([np.arange(u, 2 * u), np.arange(u), np.arange(2 * u, 3 * u)])


def recurrent_to_torch(layer, params, suffix="l0"):
    """torch parameter name -> (value, inverse map back to nnrun names)."""
    u = layer.units
    order = gru_order(u) if layer.type == "gru" else np.arange(params["kernel"].shape[1])
    mapped = {f"weight_ih_{suffix}": params["kernel"][:, order].T, f"weight_hh_{suffix}": params["recurrent_kernel"][:, order].T}
    if layer.type == "gru":
        mapped[f"bias_ih_{suffix}"], mapped[f"bias_hh_{suffix}"] = params["bias"][0][order], params["bias"][1][order]
    else:  # one bias in Keras; PyTorch's second one stays zero and frozen
        mapped[f"bias_ih_{suffix}"], mapped[f"bias_hh_{suffix}"] = params["bias"], np.zeros_like(params["bias"])
    return mapped


def recurrent_from_torch(layer, module, suffix="l0"):
    u = layer.units
    inverse = np.argsort(gru_order(u)) if layer.type == "gru" else slice(None)
    get = {name: p.detach().numpy() for name, p in module.named_parameters()}
    params = {"kernel": get[f"weight_ih_{suffix}"].T[:, inverse], "recurrent_kernel": get[f"weight_hh_{suffix}"].T[:, inverse]}
    if layer.type == "gru":
        params["bias"] = np.stack([get[f"bias_ih_{suffix}"][inverse], get[f"bias_hh_{suffix}"][inverse]])
    else:
        params["bias"] = get[f"bias_ih_{suffix}"] + get[f"bias_hh_{suffix}"]
    return params


def load_torch(module, mapped):
    with torch.no_grad():
        for name, p in module.named_parameters():
            p.copy_(torch.from_numpy(np.ascontiguousarray(mapped[name])))
            p.requires_grad_(not name.startswith("bias_hh") or "gru" in type(module).__name__.lower())


def adam_step(params, grads):
    """One step of nnrun's Adam over a parameter dict (flattened as the graph does)."""
    names = sorted(params)
    weights = np.concatenate([params[n].ravel() for n in names])
    flat_grads = np.concatenate([grads[n].ravel() for n in names])
    optimizer = Adam(learning_rate=LR, epsilon=1e-7)
    optimizer.step(weights, flat_grads, optimizer.slots(weights.size, weights.dtype), LR, 1)
    out, offset = {}, 0
    for n in names:
        out[n] = weights[offset : offset + params[n].size].reshape(params[n].shape)
        offset += params[n].size
    return out


def torch_adam_step(module, loss):
    # Keras puts epsilon outside sqrt(v); at step 1 that is PyTorch's eps / sqrt(1 - beta_2).
    optimizer = torch.optim.Adam([p for p in module.parameters() if p.requires_grad], lr=LR,
                                 eps=1e-7 / np.sqrt(1 - 0.999))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()


def max_difference(a: dict, b: dict) -> float:
    return max(float(np.max(np.abs(a[k] - b[k]))) for k in a)


def run_recurrent(layer, torch_cls, mask_lengths=None, bidirectional=False, seed=0):
    """(largest forward difference, largest difference after one Adam step)."""
    rng = np.random.default_rng(seed)
    n, t, f = 4, 7, 5
    x = rng.normal(size=(n, t, f)).astype(np.float32)
    nn_layer = Bidirectional(layer=layer) if bidirectional else layer
    params = {k: v + rng.normal(0, 0.1, v.shape).astype(np.float32) for k, v in nn_layer.init((t, f), rng, np.float32).items()}
    mask = None if mask_lengths is None else np.arange(t)[None, :] < np.asarray(mask_lengths)[:, None]
    kwargs = {} if mask is None else {"mask": mask}
    y, cache = nn_layer.forward(params, x, False, None, **kwargs)
    w = rng.normal(size=y.shape).astype(np.float32)
    _, grads = nn_layer.backward(params, cache, w)

    module = torch_cls(f, layer.units, batch_first=True, bidirectional=bidirectional)
    if bidirectional:
        mapped = recurrent_to_torch(layer, Bidirectional._side(params, "forward"))
        mapped |= recurrent_to_torch(layer, Bidirectional._side(params, "backward"), "l0_reverse")
    else:
        mapped = recurrent_to_torch(layer, params)
    load_torch(module, mapped)
    tx = torch.from_numpy(x)
    if mask is not None:
        tx = torch.nn.utils.rnn.pack_padded_sequence(tx, torch.tensor(mask_lengths), batch_first=True, enforce_sorted=False)
    out, state = module(tx)
    hidden = state[0] if isinstance(state, tuple) else state
    if layer.return_sequences:
        if mask is not None:
            out = torch.nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=t)[0]
        ty = out
    else:
        ty = torch.cat([hidden[0], hidden[1]], dim=-1) if bidirectional else hidden[0]
    forward_diff = float(np.max(np.abs(ty.detach().numpy() - y)))
    torch_adam_step(module, (ty * torch.from_numpy(w)).sum())

    stepped = adam_step(params, grads)
    if bidirectional:
        back = {f"forward_{k}": v for k, v in recurrent_from_torch(layer, module).items()}
        back |= {f"backward_{k}": v for k, v in recurrent_from_torch(layer, module, "l0_reverse").items()}
    else:
        back = recurrent_from_torch(layer, module)
    return forward_diff, max_difference(stepped, back)


RECURRENT = {"simple_rnn": (SimpleRNN, "RNN"), "lstm": (LSTM, "LSTM"), "gru": (GRU, "GRU")}
CASES = [
    pytest.param(kind, options, id=f"{kind}-{label}")
    for kind in RECURRENT
    for label, options in {
        "last": {},
        "sequences": {"return_sequences": True},
        "masked": {"mask_lengths": [7, 3, 5, 1]},
        "masked-sequences": {"return_sequences": True, "mask_lengths": [7, 3, 5, 1]},
        "bidirectional": {"bidirectional": True},
        "bidirectional-masked-sequences": {"bidirectional": True, "return_sequences": True, "mask_lengths": [7, 2, 6, 4]},
    }.items()
]


@pytest.mark.parametrize("kind, options", CASES)
def test_recurrent_matches_torch(kind, options):
    cls, torch_name = RECURRENT[kind]
    options = dict(options)
    layer = cls(units=6, return_sequences=options.pop("return_sequences", False))
    forward_diff, step_diff = run_recurrent(layer, getattr(torch.nn, torch_name), **options)
    assert forward_diff < TOLERANCE and step_diff < TOLERANCE, (forward_diff, step_diff)


def run_attention(causal: bool, lengths=None, cross: bool = False, seed=0):
    rng = np.random.default_rng(seed)
    n, tq, tk, dim, heads = 3, 5, 6, 8, 2
    layer = MultiHeadAttention(num_heads=heads, key_dim=dim // heads, use_causal_mask=causal)
    shapes = [(tq, dim), (tk, dim)] if cross else [(tq, dim)]
    params = {k: v + rng.normal(0, 0.1, v.shape).astype(np.float32) for k, v in layer.init(shapes, rng, np.float32).items()}
    x = [rng.normal(size=(n, *s)).astype(np.float32) for s in shapes]
    steps = x[-1].shape[1]
    mask = None
    if lengths is not None:
        key_mask = np.arange(steps)[None, :] < np.asarray(lengths)[:, None]
        mask = [np.ones((n, tq), bool), key_mask] if cross else [key_mask]
    y, cache = layer.forward(params, x, False, None, **({} if mask is None else {"mask": mask}))
    w = rng.normal(size=y.shape).astype(np.float32)
    _, grads = layer.backward(params, cache, w)

    module = torch.nn.MultiheadAttention(dim, heads, batch_first=True)
    in_proj = {r: params[f"{r}_kernel"].reshape(dim, dim).T for r in ("query", "key", "value")}
    with torch.no_grad():
        module.in_proj_weight.copy_(torch.from_numpy(np.concatenate([in_proj[r] for r in ("query", "key", "value")])))
        module.in_proj_bias.copy_(torch.from_numpy(np.concatenate([params[f"{r}_bias"].ravel() for r in ("query", "key", "value")])))
        module.out_proj.weight.copy_(torch.from_numpy(params["output_kernel"].reshape(dim, dim).T.copy()))
        module.out_proj.bias.copy_(torch.from_numpy(params["output_bias"]))
    query, value = torch.from_numpy(x[0]), torch.from_numpy(x[-1])
    padding = None if lengths is None else torch.from_numpy(~mask[-1])
    attn_mask = torch.from_numpy(np.triu(np.ones((tq, steps), bool), 1)) if causal else None
    ty, _ = module(query, value, value, key_padding_mask=padding, attn_mask=attn_mask, need_weights=False)
    forward_diff = float(np.max(np.abs(ty.detach().numpy() - y)))
    torch_adam_step(module, (ty * torch.from_numpy(w)).sum())

    stepped = adam_step(params, grads)
    weight, bias = module.in_proj_weight.detach().numpy(), module.in_proj_bias.detach().numpy()
    back = {}
    for i, role in enumerate(("query", "key", "value")):
        back[f"{role}_kernel"] = weight[i * dim : (i + 1) * dim].T.reshape(dim, heads, dim // heads)
        back[f"{role}_bias"] = bias[i * dim : (i + 1) * dim].reshape(heads, dim // heads)
    back["output_kernel"] = module.out_proj.weight.detach().numpy().T.reshape(heads, dim // heads, dim)
    back["output_bias"] = module.out_proj.bias.detach().numpy()
    # The key bias shifts every score of a query's row alike, so softmax cancels it: its
    # true gradient is zero, and Adam would amplify each engine's float32 rounding
    # noise (g / (|g| + eps)) into different steps. Check the zero instead.
    assert float(np.max(np.abs(grads["key_bias"]))) < TOLERANCE
    del stepped["key_bias"], back["key_bias"]
    return forward_diff, max_difference(stepped, back)


@pytest.mark.parametrize("causal, lengths, cross", [
    (False, None, False), (True, None, False), (False, [5, 2, 4], False), (False, [6, 1, 3], True),
], ids=["self", "causal", "key-padding", "cross-attention-masked"])
def test_attention_matches_torch(causal, lengths, cross):
    forward_diff, step_diff = run_attention(causal, lengths, cross)
    assert forward_diff < TOLERANCE and step_diff < TOLERANCE, (forward_diff, step_diff)
