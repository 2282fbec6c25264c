"""Safetensors files written with a checksum and read as untrusted input.

    data = encode({"dense_0.kernel": array, ...}, {"format": "nnrun-weights-1"})
    arrays, metadata = read(path)          # UserError on anything but an intact file

A safetensors file is an 8-byte little-endian header length ``n``, ``n`` bytes of JSON
(tensor names, dtypes, shapes, byte offsets, and string ``__metadata__``), then the raw
tensor bytes. Nothing in it is ever executed: the header is parsed as JSON and the
tensors are copied out as plain numbers. ``checksum`` is a SHA-256 over every tensor's
name, dtype, shape and bytes plus the metadata, so a flipped bit anywhere in a tensor or
in the metadata is found before the numbers are used.

A file is opened with ``O_NOFOLLOW``: a symbolic link is refused when it is opened, not
only when it is looked at, so it cannot be swapped in between.
"""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path

import numpy as np

from nnrun.errors import UserError
from nnrun.store import files

CHECKSUM_KEY = "checksum"
MAX_HEADER_BYTES = 100_000_000  # safetensors' own limit


def checksum(arrays: dict[str, np.ndarray], metadata: dict[str, str]) -> str:
    """SHA-256 of the tensors (in name order) and of the metadata other than the checksum."""
    digest = hashlib.sha256()
    for name in sorted(arrays):
        array = np.ascontiguousarray(arrays[name])
        digest.update(json.dumps([name, array.dtype.str, list(array.shape)]).encode())
        digest.update(memoryview(array).cast("B"))
    rest = {k: v for k, v in metadata.items() if k != CHECKSUM_KEY}
    digest.update(json.dumps(rest, sort_keys=True).encode())
    return digest.hexdigest()


def encode(arrays: dict[str, np.ndarray], metadata: dict[str, str]) -> bytes:
    """The bytes of a safetensors file holding ``arrays``, with a checksum in its metadata.

    The header is written here rather than by the safetensors library, whose metadata
    order changes from process to process: the same weights must give the same bytes.
    Tensors follow in name order, little-endian, the header padded to 8 bytes.
    """
    tensors = {name: _little_endian(arrays[name]) for name in sorted(arrays)}
    metadata = {**metadata, CHECKSUM_KEY: checksum(tensors, metadata)}
    header: dict = {"__metadata__": dict(sorted(metadata.items()))}
    offset = 0
    for name, array in tensors.items():
        header[name] = {"dtype": DTYPES[array.dtype.name], "shape": list(array.shape),
                        "data_offsets": [offset, offset + array.nbytes]}
        offset += array.nbytes
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return b"".join([struct.pack("<Q", len(text)), text, *(memoryview(a).cast("B") for a in tensors.values())])


DTYPES = {"float64": "F64", "float32": "F32", "float16": "F16", "int64": "I64", "int32": "I32", "int16": "I16",
          "int8": "I8", "uint64": "U64", "uint32": "U32", "uint16": "U16", "uint8": "U8", "bool": "BOOL"}


def _little_endian(array: np.ndarray) -> np.ndarray:
    array = np.ascontiguousarray(array)
    return array.astype(array.dtype.newbyteorder("<"), copy=False)


def read(path: Path, require_checksum: bool = True) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Arrays and metadata of a safetensors file; a damaged or foreign file is a UserError.

    ``require_checksum=False`` accepts files written by other tools (no checksum); a
    checksum that is present is always verified.
    """
    data = files.read_bytes(path, "weights file")
    metadata = _metadata(path, data)
    arrays = _tensors(path, data)
    expected = metadata.get(CHECKSUM_KEY)
    if expected is None and require_checksum:
        raise UserError(f"{path}: has no checksum, so it was not written by nnrun and cannot be trusted")
    if expected is not None and checksum(arrays, metadata) != expected:
        raise UserError(f"{path}: checksum mismatch; the file is damaged (a changed or truncated byte)")
    return arrays, metadata


def _metadata(path: Path, data: bytes) -> dict[str, str]:
    bad = f"{path}: not a valid safetensors file"
    if len(data) < 8:
        raise UserError(f"{bad} (only {len(data)} bytes; truncated?)")
    (size,) = struct.unpack("<Q", data[:8])
    if size > min(MAX_HEADER_BYTES, len(data) - 8):
        raise UserError(
            f"{bad} (its header length {size} exceeds the file's {len(data)} bytes: truncated, or another "
            "format such as a pickle)"
        )
    try:
        header = json.loads(data[8 : 8 + size].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise UserError(f"{bad} (its header is not JSON; is it a pickle or another format?)") from None
    metadata = header.get("__metadata__", {}) if isinstance(header, dict) else None
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise UserError(f"{bad} (malformed header)")
    return metadata


def _tensors(path: Path, data: bytes) -> dict[str, np.ndarray]:
    from safetensors import SafetensorError
    from safetensors.numpy import load

    try:
        return load(data)
    except KeyError as exc:
        raise UserError(f"{path}: holds a tensor of dtype {exc}, which nnrun does not read") from None
    except (SafetensorError, ValueError, TypeError) as exc:
        raise UserError(f"{path}: not a valid safetensors file ({exc})") from None


def check_like(path: Path, arrays: dict[str, np.ndarray], like: dict[str, np.ndarray], what: str = "parameter") -> None:
    """Names, shapes and dtypes of ``arrays`` must equal those of ``like``, exactly."""
    problems = [f"missing {what} '{n}'" for n in sorted(set(like) - set(arrays))]
    problems += [f"unexpected {what} '{n}'" for n in sorted(set(arrays) - set(like))]
    for name in sorted(set(like) & set(arrays)):
        got, want = arrays[name], like[name]
        if got.shape != want.shape:
            problems.append(f"{what} '{name}' has shape {got.shape}, the model needs {want.shape}")
        elif got.dtype != want.dtype:
            problems.append(f"{what} '{name}' has dtype {got.dtype}, the model needs {want.dtype}")
    if problems:
        raise UserError(f"{path}: does not fit the model: " + "; ".join(problems))


def save_weights(path: Path, weights: dict[str, np.ndarray], metadata: dict[str, str] | None = None) -> None:
    """Write weights as safetensors with a checksum of every tensor, atomically."""
    files.atomic_write(path, encode(weights, metadata or {}))


def load_weights(
    path: Path, like: dict[str, np.ndarray] | None = None, require_checksum: bool = True, what: str | None = None
) -> dict[str, np.ndarray]:
    """Read weights as untrusted input: every way a file can be wrong is a UserError
    (exit code 2) naming the file, and nothing in it is ever executed.

    Refused: a symbolic link, a truncated or non-safetensors file (a pickle, say), a
    checksum mismatch (a flipped bit), and, given ``like`` (e.g. ``graph.params``), any
    name, shape or dtype that differs from it. ``require_checksum=False`` is for
    weights that come from elsewhere (warm starts), which carry no nnrun checksum.
    """
    if not path.exists() and not path.is_symlink():
        raise UserError(f"{path}: missing; " + (f"no such file for the {what}" if what else "the run may not have finished"))
    if path.is_dir():
        found = path / "model.safetensors"
        fix = f"name the file in it: {found}" if found.is_file() else "name a .safetensors file"
        raise UserError(f"{path}: a folder, not a weights file; {fix}")
    weights, _ = read(path, require_checksum=require_checksum)
    if like is not None:
        check_like(path, weights, like)
    return weights
