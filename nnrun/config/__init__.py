"""The config language: schema (Pydantic sections) and loading (safe YAML, overrides,
located errors)."""

from nnrun.config.loader import LoadedConfig, config_hash, dump_yaml, load_config, resolved
from nnrun.config.schema import Config

__all__ = ["Config", "LoadedConfig", "config_hash", "dump_yaml", "load_config", "resolved"]
