"""Pydantic's plugin loader, stood in for while the command line disables every plugin.

The command line uses no Pydantic plugins and sets ``PYDANTIC_DISABLE_PLUGINS``, which
spares the lookup of plugins (reading the metadata of every installed package). Yet
Pydantic's loader module imports ``importlib.metadata`` as it is itself imported, when
the first validator is built: 21 ms, an eighth of what importing numpy, yaml, pydantic
and rich takes, for a lookup the setting then skips.

:func:`disable_all` sets it (unless the user did) and puts a finder first on
``sys.meta_path`` that, for that one module name and only while the setting disables
every plugin, makes the import system load a stand-in: its ``get_plugins()`` answers
no plugins, as the loader itself would, and any other name is taken from Pydantic's
own module, imported then in its place (so is ``get_plugins`` once the setting no
longer disables them all). A user's own setting that names some plugins leaves the
real loader alone.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import os
import sys

LOADER = "pydantic.plugin._loader"
ALL_DISABLED = ("__all__", "1", "true")  # the values for which Pydantic looks for none


def disable_all() -> None:
    """The command line's setting, before the first validator is built: no Pydantic
    plugins (a user's own ``PYDANTIC_DISABLE_PLUGINS`` wins) and the stand-in loader."""
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    if _all_disabled() and LOADER not in sys.modules and _STAND_IN not in sys.meta_path:
        sys.meta_path.insert(0, _STAND_IN)


def _all_disabled() -> bool:
    return os.environ.get("PYDANTIC_DISABLE_PLUGINS") in ALL_DISABLED


class _StandIn:
    """A finder and loader for the import system (its protocols need no base class;
    importlib.abc's would import importlib.resources, 9 ms, for nothing)."""

    def find_spec(self, name, path=None, target=None):
        if name != LOADER or not _all_disabled():
            return None
        return importlib.machinery.ModuleSpec(name, self, origin="nnrun (Pydantic plugins disabled)")

    def create_module(self, spec):
        return None  # a plain module

    def exec_module(self, module) -> None:
        module.get_plugins = _get_plugins
        module.__getattr__ = _from_pydantics_loader


_STAND_IN = _StandIn()


def _get_plugins():
    return () if _all_disabled() else _pydantics_loader().get_plugins()


def _from_pydantics_loader(name: str):
    if name.startswith("__"):  # asked by the import system itself (__path__: is it a package?)
        raise AttributeError(name)
    return getattr(_pydantics_loader(), name)


def _pydantics_loader():
    """Pydantic's own loader module, imported in the stand-in's place from now on."""
    if _STAND_IN in sys.meta_path:
        sys.meta_path.remove(_STAND_IN)
    module = sys.modules.get(LOADER)
    if module is not None and isinstance(getattr(module.__spec__, "loader", None), _StandIn):
        sys.modules.pop(LOADER, None)
    return importlib.import_module(LOADER)
