"""Safe, strict YAML: plain data plus the line and column of every key and value.

PyYAML composes the text into nodes (never into objects), and the nodes are turned
into dicts, lists and scalars here, so nothing but plain values can come out of a
config. Refused, each with its location: anchors and aliases (an alias bomb expands
a few lines into gigabytes), tags other than the plain ones (``!!python/object``),
duplicate keys, tabs in indentation, non-UTF-8 bytes, files over ``MAX_BYTES`` and
nesting deeper than ``MAX_DEPTH``.

Scalars follow YAML 1.2, as editors and the JSON Schema do: only ``true``/``false``
are booleans (``yes``, ``no``, ``on``, ``off`` stay text), ``1e-3`` and ``0o17`` are
numbers, ``1_000`` and dates stay text. What nnrun writes, :mod:`.yaml_writer` writes.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from nnrun.config.render import excerpt
from nnrun.config.yaml_hints import keyless_line, spaces, syntax_hint
from nnrun.errors import UserError, near_file, quoted

MAX_BYTES = 1_000_000  # a config is a page of text; anything larger is a mistake
MAX_DEPTH = 32  # levels of nesting; the config language needs about six
Location = tuple[int, int]
PathKey = tuple[Any, ...]

_PLAIN_TAGS = {f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "map", "seq")}
_BOOL_1_2 = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")


class _StrictLoader(yaml.SafeLoader):
    """Composes nodes but refuses anchors and aliases, so an alias bomb never expands,
    and nesting deeper than ``MAX_DEPTH``, which would exhaust Python's stack."""

    depth = 0

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise yaml.composer.ComposerError(
                None, None, "anchors and aliases (&name, *name) are not allowed in a config", event.start_mark
            )
        if self.depth >= MAX_DEPTH:
            raise yaml.composer.ComposerError(
                None, None, f"nested deeper than {MAX_DEPTH} levels; a config is a few levels deep", event.start_mark
            )
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


# YAML 1.2's core schema: no '1_000' (text in 1.2), no '0755' as octal (it is 755), '0o755' is.
INT_1_2 = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
FLOAT_1_2 = re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)"
                        r"|\.(?:nan|NaN|NAN))$")
INT_TAG, FLOAT_TAG = "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"


def _yaml_1_2_resolvers() -> dict:
    """SafeLoader's implicit types as YAML 1.2's core schema has them: its word booleans
    and dates removed, its numbers read by 1.2's patterns (exponent floats without a dot,
    ``1e-3``, too; no underscores or sexagesimals)."""
    bool_tag = "tag:yaml.org,2002:bool"
    resolvers = {}
    for first, entries in yaml.SafeLoader.yaml_implicit_resolvers.items():
        kept = [(tag, regexp) for tag, regexp in entries if tag not in ("tag:yaml.org,2002:timestamp", INT_TAG,
                                                                           FLOAT_TAG)]
        kept = [(tag, _BOOL_1_2 if tag == bool_tag else regexp) for tag, regexp in kept]
        if first in "-+0123456789":
            kept.append((INT_TAG, INT_1_2))
        if first in "-+0123456789.":
            kept.append((FLOAT_TAG, FLOAT_1_2))
        resolvers[first] = kept
    return resolvers


_StrictLoader.yaml_implicit_resolvers = _yaml_1_2_resolvers()


# Data files given where a config belongs, by suffix: the source type that reads them.
DATA_FILES = {".csv": "csv", ".tsv": "csv", ".npz": "npz", ".gz": "idx", ".idx3-ubyte": "idx", ".idx1-ubyte": "idx"}


def source_hint(path: Path) -> str:
    """How to read a data file that is not a CSV file (see ``DATA_FILES``) in a config;
    a compressed CSV file is to be unpacked first."""
    if path.name.lower().endswith((".csv.gz", ".tsv.gz")):
        return f"unpack it first (gunzip -k {path}); then write a config for the CSV file with: nnrun init --data " \
               f"{path.with_suffix('')} --target COLUMN"
    if DATA_FILES.get(path.suffix.lower()) == "idx":  # the MNIST format: images and labels are two files
        return f"name it in a config: data: {{source: {{type: idx, images: {path}, labels: LABELS-FILE}}}}"
    return f"name it in a config: data: {{source: {{type: {DATA_FILES[path.suffix.lower()]}, path: {path}}}}}"


def read_yaml(path: Path) -> tuple[Any, dict, dict, list[str]]:
    """Parse a YAML file into plain data, the (line, column) of every value and key, and
    the text's lines (for quoting them in messages)."""
    source = str(path)
    if "\n" in source or (": " in source and path.suffix.lower() not in (".yaml", ".yml")):
        # YAML text given where a path goes: nnrun.train("name: x\n..."); told before the
        # file system is asked (a long text is "File name too long" there).
        raise UserError("the config looks like YAML text, but a string is taken as the path of a config file",
                        hint="pass the text parsed: nnrun.train(yaml.safe_load(text)), or save it to a file")
    if path.is_dir():
        raise UserError(f"{source}: is a directory, not a config file",
                        hint="give a YAML file, e.g. configs/iris.yaml; a run's resolved config is RUN_DIR/config.yaml")
    if not path.exists():
        raise UserError(f"{source}: no such config file{near_file(path)}",
                        hint="check the path; `nnrun init` writes a starter config (--data FILE.csv for your own data)")
    data_kind = DATA_FILES.get(path.suffix.lower())
    if data_kind:  # read as YAML, a CSV file is one long string: say what it is instead
        hint = f"write a config for it with: nnrun init --data {quoted(source)} --target COLUMN" if data_kind == "csv" else \
            source_hint(path)
        raise UserError(f"{source}: a data file, not a config", hint=hint)
    if path.stat().st_size > MAX_BYTES:
        raise UserError(f"{source}: the file is larger than {MAX_BYTES // 1000} kB; a config is a short text file")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise UserError(
            f"{source}:{line}: not UTF-8 text (bad byte at offset {exc.start}); save the file as UTF-8"
        ) from None
    return (*parse_text(text, source), text.splitlines())


def read_saved(path: Path) -> Any:
    """A YAML file nnrun wrote (a run's config.yaml) as plain data, fast: PyYAML's C
    loader where it has one, and no positions, which the listings that read many runs
    (nnrun runs, plot) never point at; None where it is missing or unreadable."""
    import yaml

    try:
        return yaml.load(Path(path).read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None


def parse_text(text: str, source: str) -> tuple[Any, dict, dict]:
    _refuse_tabs(text, source)
    try:
        root = yaml.compose(text, Loader=_StrictLoader)
    except yaml.MarkedYAMLError as exc:
        lines = text.splitlines()
        mark = exc.problem_mark or exc.context_mark
        line, column, problem, hint = (mark.line, mark.column, exc.problem or exc.context, syntax_hint(exc, lines)) \
            if mark else (None, None, exc.problem or exc.context, None)
        if (keyless := keyless_line(exc, lines)) is not None:  # the line before is at fault: named, not this one
            line, problem, hint = keyless
            column = spaces(lines[line])
        where = f"{source}:{line + 1}:{column + 1}" if line is not None else source
        quoted = excerpt(lines, line + 1, column + 1) if line is not None else []
        raise UserError("\n".join([f"{where}: invalid YAML: {problem}", *quoted]), hint=hint) from None
    except yaml.YAMLError as exc:  # e.g. a control character outside any mark
        raise UserError(f"{source}: invalid YAML: {exc}") from None
    values: dict[PathKey, Location] = {}
    keys: dict[PathKey, Location] = {}
    if root is None:
        return None, values, keys
    try:
        return _plain(root, (), values, keys, source), values, keys
    except UserError as error:  # a key that is no word, twice the same key, a tag: the line quoted, as above
        at = re.match(rf"{re.escape(source)}:(\d+):(\d+): ", error.message)
        if at is not None:
            first, _, rest = error.message.partition("\n")
            quoted = excerpt(text.splitlines(), int(at.group(1)), int(at.group(2)))
            error.message = "\n".join([first, *quoted, *([rest] if rest else [])])
        raise


def parse_value(text: str, origin: str) -> Any:
    """One value typed on the command line, read with the same rules as a file."""
    if not text.strip():
        return None
    key = origin.removeprefix("--set ").split("=", 1)[0]
    hint = f"""quote a value meant as text, quotes and all: --set '{key}="{text}"'""" \
        if origin.startswith("--set ") else None
    try:
        node = yaml.compose(text, Loader=_StrictLoader)
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise UserError(f"{origin}: the value '{text}' is not valid YAML: {problem}", hint=hint) from None
    if (dropped := _comment_in(text, node)) is not None:  # notes=fix #12: read as 'fix', a comment after it
        scalar = node is None or isinstance(node, yaml.ScalarNode)
        raise UserError(f"{origin}: '{dropped}' starts a YAML comment, which would drop it from the value",
                        hint=hint if scalar else "remove the comment: a value set this way holds none")
    if isinstance(node, yaml.ScalarNode) and node.style in ("|", ">"):  # delimiter=| would be an empty text
        raise UserError(f"{origin}: the value '{text}' starts a block of text in YAML, which a value on one line "
                        "cannot hold", hint=hint)
    # At the path it is set to: a value read there as it would be in a file (loss.class_weights' numbered classes)
    at = tuple(key.split(".")) if origin.startswith("--set ") else ()
    return None if node is None else _plain(node, at, {}, {}, origin)  # None: only a comment


def _comment_in(text: str, node) -> str | None:
    """The comment YAML would drop from a one-line value (after any of its values, or
    alone), or None: a ' #' that a text meant to keep ('fix #12')."""
    if node is None:
        return text.strip() if text.strip().startswith("#") else None
    ends = [node.end_mark.index]
    stack = [node]
    while stack:  # every value's end: 'x: 1 # c' ends its block with the text, its value '1' before the comment
        item = stack.pop()
        if isinstance(item, yaml.ScalarNode):
            ends.append(item.end_mark.index)
        else:
            stack += [part for pair in item.value for part in (pair if isinstance(pair, tuple) else (pair,))]
    after = (text[end:].split("\n", 1)[0].strip() for end in ends)
    return next((rest for rest in after if rest.startswith("#")), None)


def _refuse_tabs(text: str, source: str) -> None:
    lines = text.splitlines()
    for number, line in enumerate(lines, start=1):
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        if "\t" in indent and line.strip() and not line.lstrip().startswith("#"):
            column = indent.index("\t") + 1
            raise UserError("\n".join([f"{source}:{number}:{column}: a tab in the indentation; YAML indents with "
                                       "spaces only", *excerpt(lines, number, column)]))


def _plain(node, path: PathKey, values: dict, keys: dict, source: str):
    where = f"{source}:{node.start_mark.line + 1}:{node.start_mark.column + 1}"
    values[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if node.tag not in _PLAIN_TAGS:
        raise UserError(f"{where}: the YAML tag '{node.tag}' is not allowed; write plain values")
    if isinstance(node, yaml.MappingNode):
        return _mapping(node, path, values, keys, source)
    if isinstance(node, yaml.SequenceNode):
        return [_plain(item, path + (i,), values, keys, source) for i, item in enumerate(node.value)]
    try:
        if node.tag == INT_TAG:  # as 1.2 reads it: PyYAML's constructor reads '010' as octal 8
            return int(node.value, 0) if re.match(r"[-+]?0[ox]", node.value) else int(node.value, 10)
        # A constructor of its own for each value: PyYAML's keeps every node it built (and its
        # text), so one shared by every read grew with each config a process read.
        return yaml.constructor.SafeConstructor().construct_object(node)
    except ValueError:  # a value tagged !!int or !!float that is none ('!!int 0b11', '!!float abc')
        raise UserError(f"{where}: '{node.value}' is not a {'whole number' if node.tag == INT_TAG else 'number'} "
                        "as YAML 1.2 writes one", hint="write the number without its tag: 3, 0.5, 1e-3") from None


# The one mapping of the config whose keys are names the data gives (classes), not
# options: read, merged by --set and swept as such (see config.overrides).
CLASS_WEIGHTS = ("loss", "class_weights")


def _weighs_classes(path: PathKey) -> bool:
    """Whether the mapping at ``path`` is class weights: the config's, or a value a sweep
    lists for its parameter loss.class_weights."""
    return path[-2:] == CLASS_WEIGHTS or (len(path) > 1 and path[0] == "parameters" and
                                          path[1] == ".".join(CLASS_WEIGHTS))


def class_name_of(key: Any) -> Any:
    """A key of class weights as the class is named (data.cells.tidy_label): 2 and 2.0 as
    '2', true as 'True' (a boolean target's classes are False and True)."""
    from nnrun.data.cells import tidy_label

    return tidy_label(str(key)) if isinstance(key, (int, float)) else key


def _mapping(node, path: PathKey, values: dict, keys: dict, source: str) -> dict:
    result, lines = {}, {}  # lines: each key's first line, by the key it is read as (0: and "0": one class)
    for key_node, value_node in node.value:
        line, column = key_node.start_mark.line + 1, key_node.start_mark.column + 1
        key = _plain(key_node, path + ("<key>",), {}, {}, source)
        # Keras's class_weight={0: 1.0, 1: 10.0}: integer labels' classes are named "0", "1", ...,
        # a boolean target's "False" and "True". Written elsewhere (top level, training), it is
        # read on too, so that the schema tells where it goes beside the file's other problems.
        misplaced = path[-1:] in (("class_weights",), ("class_weight",)) and isinstance(key, int)
        named = class_name_of(key) if _weighs_classes(path) or misplaced else key
        if not isinstance(named, str):
            raise UserError(f"{source}:{line}:{column}: keys must be words, got {key!r}")
        if named in result:
            raise UserError(f"{source}:{line}:{column}: duplicate key '{key}' (first at line {lines[named]}); keep one")
        lines[named] = line
        keys[path + (key,)] = (line, column)  # by the key as a dotted path reads it: loss.class_weights.0
        result[named] = _plain(value_node, path + (key,), values, keys, source)
    return result
