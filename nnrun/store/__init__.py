"""The run directory on disk: every file a run has, and every reader and writer of them.

Owns :class:`~nnrun.store.rundir.RunDir` (the one place that names the files and reads
``meta.json``), atomic writes (``files``), safetensors with checksums (``tensorfile``),
checkpoint files and what they hold (``checkpoints``), the saved preprocessing
(``preprocessing``), the metrics history (``history``) and loading a trained run back
(``trained``). Everything read from a run is treated as untrusted input.

May import: the leaves, ``nnrun.model``, ``nnrun.data`` and ``nnrun.config``.
"""
