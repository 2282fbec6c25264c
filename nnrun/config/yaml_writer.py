"""YAML as nnrun writes it (config.yaml, a sweep's files, one-line values in messages):
every text a YAML reader would take for another type is quoted, so that what nnrun
writes, :mod:`.yaml_reader` (YAML 1.2) and ``yaml.safe_load`` (1.1) read back the same.
"""

from __future__ import annotations

import yaml

from nnrun.config.yaml_reader import FLOAT_1_2, FLOAT_TAG, INT_1_2, INT_TAG


class QuotingDumper(yaml.SafeDumper):
    """SafeDumper that quotes every text a reader would take for another type: YAML 1.1's
    (yaml.safe_load's: 'yes', '2024-01-01') and this reader's 1.2 numbers ('1e3', '0o7':
    a feature's name), which PyYAML would write bare, to be read back as 1000.0 and 7."""


for _first in "-+0123456789.":
    QuotingDumper.add_implicit_resolver(INT_TAG, INT_1_2, [_first])
    QuotingDumper.add_implicit_resolver(FLOAT_TAG, FLOAT_1_2, [_first])


def dump(value, **options) -> str:
    """``yaml.safe_dump`` by :class:`QuotingDumper`: what nnrun writes, it reads back the same."""
    return yaml.dump(value, Dumper=QuotingDumper, **options)


def one_line(value) -> str:
    """A value as YAML writes it on one line however long ([1.0, 10.0], [{type: minmax}]),
    keys in their order and letters beyond ASCII as they are: every one-line value nnrun
    shows or records (a swept list, a compared setting) reads the same."""
    text = dump(value, default_flow_style=True, width=float("inf"), sort_keys=False, allow_unicode=True).strip()
    return text.removesuffix("\n...")  # the end marker PyYAML writes after a plain scalar alone
