"""What a command's start loads: `nnrun train` on bundled data imports no file reader,
no thread pool and no package metadata and starts no process, and Pydantic's plugin loader is stood in for
only while every plugin is disabled."""

from __future__ import annotations

import os

import pytest

from conftest import ROOT, run_python

LOADER = "pydantic.plugin._loader"


def _train(tmp_path, env: dict | None = None, report: str = "") -> str:
    code = ("import atexit, sys\n"
            f"atexit.register(lambda: print({report or '0'}, file=sys.stderr))\n"
            f"sys.argv = ['nnrun', 'train', {str(ROOT / 'configs' / 'iris.yaml')!r}, '--quiet', "
            f"'--run-dir', {str(tmp_path / 'run')!r}, '--set', 'training.epochs=2']\n"
            "from nnrun.cli import main\nmain()\n")
    done = run_python(code, cwd=tmp_path, timeout=120, env={**os.environ, **(env or {})})
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "run" / "model.safetensors").exists()
    return done.stderr.strip().splitlines()[-1]


def test_training_on_bundled_data_loads_no_reader_pool_or_package_metadata(tmp_path):
    # subprocess: nothing starts a process (platform.platform() ran `uname -p`, 6.5 ms);
    # rich's table of emoji codes (5 ms), which nnrun's consoles do not look for.
    heavy = ("importlib.metadata", "pyarrow", "nnrun.data.csvfile", "concurrent.futures", "numba", "subprocess",
             "rich._emoji_codes")
    loaded = _train(tmp_path, report=f"sorted(m for m in {heavy!r} if m in sys.modules)")
    assert loaded == "[]"


def test_the_stand_in_answers_no_plugins_and_hands_the_rest_to_pydantics_loader(tmp_path):
    report = (f"(sys.modules[{LOADER!r}].get_plugins(), 'importlib.metadata' in sys.modules, "
              # a module as any other: its spec, its place in its package, reloadable
              f"importlib.util.find_spec({LOADER!r}) is not None, "
              f"__import__('pydantic.plugin._loader').plugin._loader is sys.modules[{LOADER!r}], "
              f"importlib.reload(sys.modules[{LOADER!r}]).get_plugins(), "
              f"sys.modules[{LOADER!r}].PYDANTIC_ENTRY_POINT_GROUP, 'importlib.metadata' in sys.modules, "
              f"sys.modules[{LOADER!r}].__file__.endswith('_loader.py'))")
    clean = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}  # the command line's default
    code = ("import atexit, importlib, importlib.util, sys\n"
            f"atexit.register(lambda: print({report}, file=sys.stderr))\n"
            f"sys.argv = ['nnrun', 'validate', {str(ROOT / 'configs' / 'iris.yaml')!r}]\n"
            "from nnrun.cli import main\nmain()\n")
    done = run_python(code, cwd=tmp_path, timeout=120, env=clean)
    assert done.returncode == 0, done.stderr
    # No plugins and no metadata read; anything else asked of the loader is the real one's.
    assert done.stderr.strip().splitlines()[-1] == "((), False, True, True, (), 'pydantic', True, True)"


def test_a_users_own_plugin_setting_keeps_pydantics_loader(tmp_path):
    loaded = _train(tmp_path, env={"PYDANTIC_DISABLE_PLUGINS": "some_plugin"},
                    report=f"(sys.modules[{LOADER!r}].__file__.endswith('_loader.py'), "
                           "'importlib.metadata' in sys.modules)")
    assert loaded == "(True, True)"


def test_the_run_records_the_platform_as_python_names_it():
    import platform

    from nnrun.engine.environment import environment

    assert environment()["platform"] == platform.platform()


def test_the_platform_text_is_cleaned_up_as_python_does(monkeypatch):
    import platform
    import sys

    from nnrun.engine import environment

    if sys.platform != "linux" or not hasattr(platform, "_platform"):
        pytest.skip("the text is platform.platform() itself here")
    release = "6.1.0-1 (custom):x/y unknown"
    fake = platform.uname_result("Linux", "host", release, "#1", "x86_64")
    monkeypatch.setattr(platform, "uname", lambda: fake)
    monkeypatch.setattr(platform, "libc_ver", lambda: ("glibc", "2.36"))
    assert environment.platform_text() == platform._platform("Linux", release, "x86_64", "with", "glibc2.36")
