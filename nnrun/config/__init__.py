"""The config language: schema (Pydantic sections) and loading (safe YAML, overrides,
located errors).

Owns the YAML a user writes: its sections, defaults and JSON Schema, reading it safely
with the line and column of every value, ``--set`` overrides, and turning validation
errors into messages for people. The specs of layers, losses, sources and so on live
with their math (in ``nnrun.model`` and ``nnrun.data``); this package assembles them.

May import: the leaves, ``nnrun.model`` and ``nnrun.data``.
"""

from nnrun.config.loader import LoadedConfig, load_config
from nnrun.config.schema import Config
from nnrun.config.written import (LABELS, anchored, config_hash, dump_yaml, portable, resolved, run_config_hash,
                                  trained_config_hash, with_defaults)

__all__ = ["LABELS", "Config", "LoadedConfig", "anchored", "config_hash", "dump_yaml", "load_config", "portable", "resolved",
           "run_config_hash", "trained_config_hash", "with_defaults"]
