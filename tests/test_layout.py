"""The package's folders are its architecture: each layer imports only those before it.

    leaves -> model -> data -> config -> store -> engine -> commands -> console -> api, cli

Every import is checked, including those inside functions (where heavy or optional
modules are loaded late), by walking each module's syntax tree.
"""

from __future__ import annotations

import ast
from pathlib import Path

import nnrun

PACKAGE = Path(nnrun.__file__).parent

# Top-level modules that form the leaves, then the subpackages, then the entry points.
LEAVES = ("errors", "interrupts", "seeding", "specs", "version")
ORDER = ("model", "data", "config", "store", "engine", "commands", "console")
ENTRY = ("api", "api_calls", "api_sweep", "cli", "__main__", "__init__")


def rank(module: str) -> int:
    """The position of ``nnrun.<first>...`` in the order; lower ranks come first."""
    first = module.split(".")[1] if "." in module else "__init__"
    if first in LEAVES:
        return 0
    if first in ORDER:
        return 1 + ORDER.index(first)
    if first in ENTRY:
        return 1 + len(ORDER)
    raise AssertionError(f"nnrun.{first} is in no layer of the order; add it to tests/test_layout.py")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


def imported(path: Path, name: str) -> set[str]:
    """Every nnrun module ``path`` imports, resolved to absolute names."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target == "nnrun" or target.startswith("nnrun."):
                # `from nnrun.data import synthetic` imports the submodule, not the package
                subs = [f"{target}.{a.name}" for a in node.names if _is_module(f"{target}.{a.name}")]
                found.update(subs if len(subs) == len(node.names) else [target, *subs])
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("nnrun"))
    return found


def _is_module(name: str) -> bool:
    path = PACKAGE.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def edges() -> dict[str, set[str]]:
    return {module_name(p): imported(p, module_name(p)) for p in sorted(PACKAGE.rglob("*.py"))}


def test_every_import_follows_the_order():
    wrong = []
    for module, targets in edges().items():
        if module in ("nnrun", "nnrun.__main__"):
            continue  # the package entry and `python -m nnrun` may reach anything
        for target in targets:
            if target == "nnrun":
                wrong.append(f"{module} imports the package root; import the module that owns the name")
            elif rank(target) > rank(module):
                wrong.append(f"{module} imports {target}, which comes later in the order")
    assert not wrong, "\n".join(sorted(wrong))


def test_no_import_cycles_between_modules():
    graph = edges()
    modules = set(graph)

    def resolve(target: str) -> str | None:
        # `from nnrun.model import layers` names a package: its __init__ is the module
        return target if target in modules else None

    visiting, done, cycles = set(), set(), []

    def visit(module: str, trail: list[str]) -> None:
        if module in done:
            return
        if module in visiting:
            cycles.append(" -> ".join(trail[trail.index(module):] + [module]))
            return
        visiting.add(module)
        for target in sorted(graph.get(module, ())):
            found = resolve(target)
            if found and found != module:
                visit(found, trail + [module])
        visiting.discard(module)
        done.add(module)

    for module in sorted(graph):
        if module != "nnrun":
            visit(module, [])
    assert not cycles, "\n".join(cycles)


def test_every_package_says_what_it_owns_and_may_import():
    for init in sorted(PACKAGE.glob("*/__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text())) or ""
        assert len(doc.split()) >= 12, f"{init.parent.name}/__init__.py needs a docstring saying what it owns"
        assert "import" in doc, f"{init.parent.name}/__init__.py must say what it may import"


def test_no_module_is_too_long_or_only_forwards():
    for path in sorted(PACKAGE.rglob("*.py")):
        lines = path.read_text().count("\n")
        assert lines <= 300, f"{path.relative_to(PACKAGE)} has {lines} lines; split it (at most 300)"


def test_only_the_console_and_the_cli_print():
    """The engine knows no screen and a command returns data: rich belongs to console/
    (and the CLI, which prints errors)."""
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.relative_to(PACKAGE).parts[0] in ("console", "cli"):
            continue
        for target in _third_party(path):
            assert not target.startswith("rich"), f"{path.relative_to(PACKAGE)} imports {target}"


def _third_party(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return names
