"""What each command does, as functions that return data: train (or resume),
evaluate, predict, validate, runs, compare, init, the catalog, export (ONNX) and
serve (HTTP).

Each module is the logic of one ``nnrun`` command, callable from Python; printing it is
the console's job, and parsing the command line the CLI's.

May import: the leaves, ``nnrun.model``, ``nnrun.data``, ``nnrun.config``,
``nnrun.store`` and ``nnrun.engine``.
"""
