"""Commands by the names other tools give them: ``nnrun fit`` is told of ``nnrun train``.

Click suggests a command only by spelling (``trian`` -> ``train``); a name from Keras,
Ludwig, Ray Tune or MLflow (``fit``, ``experiment``, ``tune``, ``serve``'s ``deploy``)
is no misspelling, so it is looked up here. Still a usage error (exit 2): one name per
command keeps scripts and the README alike.
"""

from __future__ import annotations

import typer.core

# Another tool's name (or a word people reach for) -> nnrun's command, and whose it is.
OTHER_NAMES = {
    "fit": ("train", "Keras's fit"),
    "run": ("train", None),
    "experiment": ("train", "Ludwig's experiment"),
    "resume": ("train --resume RUN_DIR", "it continues a stopped run"),
    "continue": ("train --resume RUN_DIR", "it continues a stopped run"),
    "test": ("evaluate", None),
    "eval": ("evaluate", None),
    "score": ("evaluate", None),
    "infer": ("predict", None),
    "inference": ("predict", None),
    "tune": ("sweep", "Ray Tune's tuning"),
    "search": ("sweep", None),
    "hyperopt": ("sweep", "Ludwig's hyperopt"),
    "hpo": ("sweep", None),
    "list": ("runs", None),
    "ls": ("runs", None),
    "diff": ("compare", None),
    "check": ("validate", None),
    "lint": ("validate", None),
    "summary": ("validate", "it prints the model summary"),
    "new": ("init", None),
    "create": ("init", None),
    "convert": ("export", None),
    "deploy": ("serve", None),
    "visualize": ("plot", None),
}


class Commands(typer.core.TyperGroup):
    """nnrun's command group: an unknown command named by another tool's word is told
    which nnrun command does that."""

    def resolve_command(self, ctx, args: list[str]):
        name = args[0] if args else None
        if name and name.lower() in OTHER_NAMES and self.get_command(ctx, name) is None:
            command, whose = OTHER_NAMES[name.lower()]
            ctx.fail(f"No such command '{name}'. Did you mean 'nnrun {command}'?" + (f" ({whose})" if whose else ""))
        return super().resolve_command(ctx, args)

