"""The model: pure math over NumPy arrays, with no files, no screen and no config loading.

Owns the layers (``layers/``: each layer's YAML spec and its forward/backward in one
class, registered in one tuple), the graph compiled from them, activations,
initializers, regularizers, losses, optimizers, learning-rate schedules, metrics, the
one rule for "the monitored value improved" (``monitor``) and scoring a split
(``scoring``).

May import: the leaves (``nnrun.errors``, ``nnrun.seeding``, ``nnrun.specs``,
``nnrun.version``) and itself. Every other package comes after it.
"""
