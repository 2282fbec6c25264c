"""The config language: schema (Pydantic sections) and loading (safe YAML, overrides,
located errors)."""

from .loader import LoadedConfig, config_hash, dump_yaml, load_config, resolved
from .schema import Config

__all__ = ["Config", "LoadedConfig", "config_hash", "dump_yaml", "load_config", "resolved"]
