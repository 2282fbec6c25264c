"""A trained run, loaded back: its config, saved preprocessing and graph with weights.

    trained = TrainedRun.load("runs/iris-20260101-120000")
    probabilities = trained.graph.predict(trained.prepare(x))

``evaluate --data``, ``predict`` and the Python API all start here, and need nothing
of the training data: the column encoding and the fitted preprocessing come from
``preprocess.json``, the weights from ``model.safetensors``. Every file is read as
untrusted input (names, shapes, dtypes and checksums are checked before use).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nnrun.config import Config, load_config
from nnrun.data.preprocess import apply_pipeline
from nnrun.model.graph import Graph, compile_graph
from nnrun.seeding import stream
from nnrun.store.preprocessing import (
    SavedPreprocessing,
    check_outputs,
    read_preprocessing,
)
from nnrun.store.rundir import RunDir
from nnrun.store.tensorfile import load_weights


@dataclass
class TrainedRun:
    run: RunDir
    config: Config
    preprocessing: SavedPreprocessing
    graph: Graph  # with the run's final weights loaded

    @classmethod
    def load(cls, run_dir) -> "TrainedRun":
        run = RunDir.open(run_dir)
        config = load_config(run.config).config
        saved = read_preprocessing(run.path, config)
        graph = compile_graph(config.model.layers, tuple(saved.input_shape), config.loss,
                              rng=stream(config.seed, "init"))
        check_outputs(run.path, saved, int(np.prod(graph.output_shape)))
        load_run_weights(run, graph)
        return cls(run, config, saved, graph)

    @property
    def output_width(self) -> int:
        return int(np.prod(self.graph.output_shape))

    def prepare(self, x: np.ndarray) -> np.ndarray:
        """Apply the saved preprocessing to encoded samples (N, *input_shape)."""
        return apply_pipeline(self.config.data.preprocess, self.preprocessing.states, x)


def load_run_weights(run: RunDir, graph: Graph) -> None:
    """Copy a run's saved weights into ``graph``, checked as untrusted input first."""
    weights = load_weights(run.weights, like=graph.state())
    graph.load_state(weights, str(run.weights))
