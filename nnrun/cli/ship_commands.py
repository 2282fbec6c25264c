"""The commands that take a trained run elsewhere: export (ONNX) and serve (HTTP).

Both need an optional extra (``nnrun[onnx]``, ``nnrun[serve]``), imported only when
the command runs; without it the command says which ``pip install`` to run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from nnrun.cli.guard import guard
from nnrun.cli.run_commands import THRESHOLD_HELP


def export(
    run_dir: Path = typer.Argument(..., metavar="RUN_DIR", help="A run directory written by `nnrun train`.", show_default=False),
    output: Optional[Path] = typer.Option(
        None, "--output", "-o", help="The .onnx file to write (default RUN_DIR/model.onnx); a .json goes beside it."
    ),
    opset: int = typer.Option(17, "--opset", help="ONNX opset of the standard domain (13 or later)."),
    float16: bool = typer.Option(False, "--float16", help="Store the weights as float16 (half the size); "
                                 "reports the change of the test score."),
    force: bool = typer.Option(False, "--force", help="Replace an existing model file and model card."),
) -> None:
    """Export a trained run to ONNX, preprocessing included; checks it with onnx.checker.

    With onnxruntime installed, also compares its outputs with nnrun's on the test split.

    Example: nnrun export runs/fruit-20260101-120000 -o fruit.onnx

    Needs the onnx package: pip install 'nnrun[onnx]' (and for the comparison: pip install onnxruntime).
    """

    def action():
        from nnrun.commands.export import export_run
        from nnrun.console.shipping import print_export

        print_export(typer.echo, export_run(run_dir, output, opset, float16, force))

    guard(action)


def serve(
    run_dir: Path = typer.Argument(..., metavar="RUN_DIR", help="A run directory written by `nnrun train`.", show_default=False),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (0.0.0.0: every interface)."),
    port: int = typer.Option(8000, "--port", help="Port to listen on (0: any free port, printed at start)."),
    max_instances: int = typer.Option(1000, "--max-instances", help="Most instances one request may hold."),
    max_body_bytes: Optional[int] = typer.Option(
        None, "--max-body-bytes", help="Largest request body in bytes; a larger one is answered 413 (default: room "
        "for --max-instances instances of this model, at least 1 MiB).", show_default=False),
    threshold: Optional[float] = typer.Option(None, "--threshold", help=THRESHOLD_HELP, show_default=False),
    access_log: bool = typer.Option(False, "--access-log", help="Print a line per request on standard error: the "
                                    "client, the request line and the status."),
) -> None:
    """Serve a trained run over HTTP: GET /health, GET /metadata, POST /predict (docs at /docs).

    Example: nnrun serve runs/fruit-20260101-120000 --port 8000

    Needs FastAPI and uvicorn: pip install 'nnrun[serve]'. Stops on Ctrl-C or SIGTERM.
    """

    def action():
        from nnrun.commands.serve import serve as run_server
        from nnrun.console.shipping import print_serving

        run_server(run_dir, host, port, max_instances, max_body_bytes,
                   announce=lambda url, card: print_serving(typer.echo, url, card), threshold=threshold,
                   access_log=access_log)

    guard(action)
