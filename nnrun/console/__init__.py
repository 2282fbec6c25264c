"""Everything that prints: training progress and the closing results, the model
summary, evaluation tables, the runs and compare tables, the catalog, plots, and what
export and serve report.

Nothing else in nnrun writes to the terminal (the engine reports through the hooks in
``nnrun.engine.hooks``, which the displays here implement).

May import: every package before it (the leaves, ``nnrun.model``, ``nnrun.data``,
``nnrun.config``, ``nnrun.store``, ``nnrun.engine`` and ``nnrun.commands``) and ``rich``.
"""
