"""The version of nnrun, recorded in every run's ``meta.json`` and shown by ``--version``.

Its own module so that anything may import it without importing the package root (which
would pull the public API, and with it the whole pipeline, into a leaf)."""

__version__ = "0.1.0"
