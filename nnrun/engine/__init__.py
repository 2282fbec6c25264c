"""Training: from a config to a finished run directory.

Owns building an experiment (``experiment``: config -> data -> preprocessing -> graph),
the checks against the data (``checks``), the loop (``loop``), early stopping
(``stopping``), guards against non-finite numbers and signals (``guards``),
checkpointing and resuming (``checkpointing``, ``resume``), the run record written as
training goes (``record``), the entry point (``train``) and the hooks it calls
(``hooks``), which is all it knows of a screen.

May import: the leaves, ``nnrun.model``, ``nnrun.data``, ``nnrun.config`` and
``nnrun.store``; never ``rich`` or anything that prints.
"""
