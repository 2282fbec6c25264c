"""Binary array files: NumPy ``.npz`` archives (never unpickled) and IDX, the format
of the MNIST files (raw or gzip-compressed)."""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import numpy as np

from nnrun.errors import UserError

# IDX type byte -> big-endian dtype (the format's own table).
IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_npz(path: Path, names: list[str]) -> dict[str, np.ndarray]:
    """The arrays ``names`` that the archive holds (absent ones are left out).

    ``allow_pickle=False``: an object array, which only pickle could restore, is
    refused with a message instead of being executed."""
    if not zipfile.is_zipfile(path) and path.exists():
        raise UserError(f"{path}: not a valid .npz file (not a zip archive)", hint="write it with numpy.savez")
    name = None
    try:
        with np.load(path, allow_pickle=False) as archive:
            found = {}
            for name in (n for n in names if n in archive.files):
                found[name] = archive[name]
            return found
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except ValueError as exc:
        if "pickle" in str(exc):  # pandas' text columns come out of to_numpy() as object arrays
            raise UserError(f"{path}: '{name}' is an object array, which needs pickle; nnrun never unpickles data",
                            hint=f"save it as text or numbers: numpy.savez(path, {name}={name}.astype(str)) for "
                            "labels or texts (drop the rows of a missing label first: it would be a text too), "
                            ".astype(numpy.float32) for numbers") from None
        raise UserError(f"{path}: not a valid .npz file ({exc})") from None
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise UserError(f"{path}: not a valid .npz file ({exc})") from None


def npz_keys(path: Path) -> list[str]:
    try:
        with np.load(path, allow_pickle=False) as archive:
            return list(archive.files)
    except (FileNotFoundError, ValueError, zipfile.BadZipFile, OSError, EOFError):
        return []


def read_idx(path: Path) -> np.ndarray:
    """An IDX file as an array of its stored shape: magic ``00 00 TYPE NDIM``, NDIM
    big-endian uint32 sizes, then the values in row-major order. Gzip is detected by
    its magic bytes, whatever the file name."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise UserError(f"{path}: a damaged gzip file ({exc})") from None
    if len(raw) < 4 or raw[:2] != b"\x00\x00" or raw[2] not in IDX_TYPES or raw[3] == 0:
        raise UserError(f"{path}: not an IDX file (bad magic number {raw[:4].hex() or 'none'})",
                        hint="IDX files start with 00 00, a type byte and the number of dimensions")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise UserError(f"{path}: the IDX header is cut short")
    shape = tuple(int(n) for n in np.frombuffer(raw, ">u4", ndim, offset=4))
    dtype = np.dtype(IDX_TYPES[raw[2]])
    expected = header + int(np.prod(shape)) * dtype.itemsize
    if len(raw) != expected:
        raise UserError(f"{path}: {len(raw)} bytes, but its header {shape} needs {expected}; the file is damaged")
    return np.frombuffer(raw, dtype, offset=header).reshape(shape)


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write an array as IDX (big-endian), the inverse of :func:`read_idx`."""
    code = {np.dtype(v).newbyteorder("="): k for k, v in IDX_TYPES.items()}[array.dtype.newbyteorder("=")]
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
    data = header + np.ascontiguousarray(array).astype(IDX_TYPES[code]).tobytes()
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
