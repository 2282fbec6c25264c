"""The layers of a graph by name: their names checked, and the order they run in.

Each layer reads the layers its ``inputs`` name (by default the one listed before it;
the first reads ``input``, the model's input), so a config lists a graph in any order
that suits its reader; :func:`topological_order` runs a layer after every layer it
reads, and a cycle is named.
"""

from __future__ import annotations

from nnrun.errors import Problem, did_you_mean

INPUT = "input"


def check_names(layers, names, inputs) -> list[Problem]:
    problems, seen = [], {}
    for i, name in enumerate(names):
        if name == INPUT:
            problems.append(Problem(f"model.layers.{i}.name", f"'{INPUT}' is reserved for the model input"))
        elif name in seen:
            problems.append(Problem(f"model.layers.{i}.name",
                                    f"duplicate layer name '{name}' (also layer {seen[name]})"))
        seen.setdefault(name, i)
    known = set(names) | {INPUT}
    for i, refs in enumerate(inputs):
        for j, ref in enumerate(refs):
            if ref not in known:
                hint = did_you_mean(ref, sorted(known - {names[i]}), "known layers")  # never itself: a cycle
                problems.append(Problem(f"model.layers.{i}.inputs.{j}", f"unknown layer '{ref}'{hint}"))
            elif ref == names[i] != INPUT and names.count(ref) == 1:  # a repeated or reserved name: told above
                problems.append(Problem(f"model.layers.{i}.inputs.{j}", f"layer '{ref}' cannot read its own output"))
    return problems


def topological_order(names: list[str], inputs: list[list[str]]) -> list[int] | Problem:
    """Kahn's algorithm, breaking ties by position so a plain stack keeps its order."""
    index = {name: i for i, name in enumerate(names)}
    waiting = [sum(1 for ref in refs if ref != INPUT) for refs in inputs]
    readers: dict[int, list[int]] = {i: [] for i in range(len(names))}
    for i, refs in enumerate(inputs):
        for ref in refs:
            if ref != INPUT:
                readers[index[ref]].append(i)
    ready = [i for i, count in enumerate(waiting) if count == 0]
    order = []
    while ready:
        ready.sort()
        i = ready.pop(0)
        order.append(i)
        for reader in readers[i]:
            waiting[reader] -= 1
            if waiting[reader] == 0:
                ready.append(reader)
    if len(order) < len(names):
        cycle = _find_cycle(names, inputs, set(order))
        flow = cycle[::-1]  # the cycle follows reads; data flows the other way
        start = flow.index(min(flow))
        flow = flow[start:] + flow[:start]  # from the layer listed first
        path = " -> ".join(names[i] for i in flow + flow[:1])
        return Problem(f"model.layers.{min(cycle)}.inputs", f"the layers form a cycle: {path}")
    return order


def _find_cycle(names: list[str], inputs: list[list[str]], ordered: set[int]) -> list[int]:
    """Indices of one cycle among the layers Kahn's algorithm could not order: every such
    layer reads another unordered one, so following those reads must come back around."""
    index = {name: i for i, name in enumerate(names)}
    current, seen = min(i for i in range(len(names)) if i not in ordered), []
    while current not in seen:
        seen.append(current)
        current = next(index[r] for r in inputs[current] if r != INPUT and index[r] not in ordered)
    return seen[seen.index(current):]
