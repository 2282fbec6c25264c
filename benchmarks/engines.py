"""The engines the benchmark compares, each training the same model on the same arrays.

Every engine exposes ``epoch_seconds(x, y, batch_size) -> float``: the wall time of one
epoch of shuffled mini-batches with Adam (learning rate 0.001) and softmax
cross-entropy. Two models: the MLP 784-256-256-10 with ReLU, and the small CNN
conv 3x3 x 32 + ReLU, max pool 2, dense 10 on 28x28x1 images (NHWC in nnrun; NCHW, and
channels_last as the stretch, in PyTorch). Engines that are not installed are skipped.
"""

from __future__ import annotations

import tempfile
import time
import warnings

import numpy as np

HIDDEN = (256, 256)


def mlp_gemm_flops(features: int, classes: int) -> int:
    """Floating-point operations of the matrix multiplies one MLP sample needs in an
    epoch, those of :class:`GemmFloor`: each layer's forward and kernel gradient, and
    the input gradient of every layer but the first (nobody needs the data's gradient;
    "6 x parameters" would count it, and on this MLP overstate the work by a third)."""
    widths = (features, *HIDDEN, classes)
    products = [a * b for a, b in zip(widths[:-1], widths[1:])]
    return 2 * (2 * sum(products) + sum(products[1:]))


MLP_LAYERS = [{"type": "dense", "units": HIDDEN[0], "activation": "relu"},
              {"type": "dense", "units": HIDDEN[1], "activation": "relu"},
              {"type": "dense", "units": 10, "activation": "softmax"}]
CNN_LAYERS = [{"type": "conv2d", "filters": 32, "kernel_size": 3, "activation": "relu"},
              {"type": "max_pool2d", "pool_size": 2},
              {"type": "flatten"},
              {"type": "dense", "units": 10, "activation": "softmax"}]


class Nnrun:
    """The real trainer through the public API; the epoch time is the one it records
    in metrics.csv (gathering batches, forward, loss, backward, Adam, bookkeeping).

    ``kernels=False`` runs with ``NNRUN_KERNELS=numpy`` (the NumPy update even where the
    ``fast`` extra is installed); ``threads`` sets ``training.threads`` (default: the
    config's default, ``auto``). ``chosen_threads`` is what the last run recorded: its
    count at the start, then after a ``>`` the last one ``auto`` moved to, if it did."""

    def __init__(self, source: dict, layers: list[dict] = MLP_LAYERS, kernels: bool = True,
                 threads: int | str | None = None, name: str = "nnrun"):
        self.source, self.layers, self.kernels, self.threads, self.name = source, layers, kernels, threads, name
        self.workdir = tempfile.TemporaryDirectory()
        self.runs = 0
        self.chosen_threads = None

    def epoch_seconds(self, x, y, batch_size: int, hooks=None) -> float:
        """``hooks``: training hooks the run calls (see nnrun.engine.hooks)."""
        import json
        import os

        import nnrun

        self.runs += 1
        training = {"epochs": 1, "batch_size": batch_size}
        if self.threads is not None:
            training["threads"] = self.threads
        config = {
            "name": "bench",
            "data": {"source": self.source, "split": {"validation": 0, "test": 0, "stratify": False}},
            "model": {"layers": self.layers},
            "loss": "categorical_crossentropy",
            "optimizer": {"type": "adam", "learning_rate": 0.001},
            "training": training,
        }
        previous = os.environ.get("NNRUN_KERNELS")
        os.environ["NNRUN_KERNELS"] = "auto" if self.kernels else "numpy"
        try:
            result = nnrun.train(config, run_dir=f"{self.workdir.name}/run{self.runs}", hooks=hooks)
        finally:
            os.environ.pop("NNRUN_KERNELS") if previous is None else os.environ.update(NNRUN_KERNELS=previous)
        meta = json.loads((result.run_dir / "meta.json").read_text())
        # The count it started with, then the one training.threads: auto moved to, if it did.
        self.chosen_threads = ">".join(str(n) for n in [meta["environment"]["blas_threads"],
                                                        *[c["threads"] for c in meta.get("thread_changes", [])[-1:]]])
        return result.history[0]["seconds"]


def kernels_installed() -> bool:
    """Whether the ``fast`` extra's numba is installed (found, not imported)."""
    import importlib.util

    return importlib.util.find_spec("numba") is not None


class GemmFloor:
    """The floor: the matrix multiplies of one MLP epoch alone, on the same shapes and
    batches (forward, kernel gradient, and input gradient except for the first layer,
    which nobody needs), with nothing else: what a NumPy trainer cannot go under."""

    name = "GEMM floor"

    def epoch_seconds(self, x, y, batch_size: int) -> float:
        rng = np.random.default_rng(0)
        widths = (x.shape[1], *HIDDEN, 10)
        kernels = [rng.standard_normal((a, b), dtype=np.float32) for a, b in zip(widths[:-1], widths[1:])]
        sizes = [batch_size] * (len(x) // batch_size) + ([len(x) % batch_size] if len(x) % batch_size else [])
        batches = {n: (rng.standard_normal((n, x.shape[1]), dtype=np.float32),
                       [rng.standard_normal((n, k.shape[1]), dtype=np.float32) for k in kernels]) for n in set(sizes)}
        start = time.perf_counter()
        for n in sizes:
            inputs, upstream = batches[n]
            activation = inputs
            outputs = []
            for kernel in kernels:  # forward
                outputs.append(activation)
                activation = activation @ kernel
            for i in reversed(range(len(kernels))):  # backward
                outputs[i].T @ upstream[i]
                if i:
                    upstream[i] @ kernels[i].T
        return time.perf_counter() - start


class Torch:
    """PyTorch CPU, default Adam, the classic loop: permute, index, step. Images are
    handed over as NCHW (PyTorch's default layout) or, with ``channels_last``, in the
    NHWC memory format; the conversion happens before the clock starts."""

    def __init__(self, threads: int, channels_last: bool = False):
        import torch

        torch.set_num_threads(threads)
        self.torch = torch
        self.channels_last = channels_last
        self.name = "pt-chlast" if channels_last else "pytorch"

    def _model(self, x):
        nn = self.torch.nn
        if x.ndim == 4:  # (N, H, W, C) images: the small CNN
            _, h, w, c = x.shape
            flat = 32 * ((h - 2) // 2) * ((w - 2) // 2)
            return nn.Sequential(nn.Conv2d(c, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(flat, 10))
        layers, width = [], x.shape[1]
        for units in HIDDEN:
            layers += [nn.Linear(width, units), nn.ReLU()]
            width = units
        return nn.Sequential(*layers, nn.Linear(width, 10))

    def _inputs(self, x):
        torch = self.torch
        if x.ndim != 4:
            return torch.from_numpy(x)
        images = torch.from_numpy(x).permute(0, 3, 1, 2)  # an NCHW view of NHWC memory
        if self.channels_last:
            return images.contiguous(memory_format=torch.channels_last)
        return images.contiguous()

    def warm_up(self, x, y, batch_size: int) -> None:
        """A few untimed batches: PyTorch's first steps in a process set up its kernels
        and thread pool (0.16 s of a 1-s epoch here), which nnrun's timed epoch never
        pays, as it starts after the run is built."""
        self.epoch_seconds(x[: 4 * batch_size], y[: 4 * batch_size], batch_size)

    def epoch_seconds(self, x, y, batch_size: int) -> float:
        torch = self.torch
        torch.manual_seed(0)
        xt, yt = self._inputs(x), torch.from_numpy(y)
        model = self._model(x)
        if self.channels_last and x.ndim == 4:
            model = model.to(memory_format=torch.channels_last)
        optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
        loss_fn = torch.nn.CrossEntropyLoss()
        start = time.perf_counter()
        order = torch.randperm(len(xt))
        for begin in range(0, len(xt), batch_size):
            index = order[begin : begin + batch_size]
            batch = xt[index]
            if self.channels_last and batch.ndim == 4:
                batch = batch.contiguous(memory_format=torch.channels_last)
            optimizer.zero_grad(set_to_none=True)
            loss_fn(model(batch), yt[index]).backward()
            optimizer.step()
        return time.perf_counter() - start


class Sklearn:
    """scikit-learn's MLPClassifier, one epoch of its Adam solver (float32 input)."""

    name = "sklearn"

    def __init__(self):
        from sklearn.neural_network import MLPClassifier

        self.model_class = MLPClassifier

    def epoch_seconds(self, x, y, batch_size: int) -> float:
        from sklearn.exceptions import ConvergenceWarning

        model = self.model_class(hidden_layer_sizes=HIDDEN, solver="adam", alpha=0.0, batch_size=batch_size,
                                 learning_rate_init=0.001, max_iter=1, shuffle=True, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            start = time.perf_counter()
            model.fit(x.reshape(len(x), -1), y)
            return time.perf_counter() - start


def available_engines(source: dict, threads: int, images: bool = False) -> list:
    """nnrun (and, where the ``fast`` extra is installed, nnrun with its NumPy update as
    ``nnrun-np``), then whichever references are installed: PyTorch (and for images
    PyTorch channels_last), and for the MLP scikit-learn and the GEMM floor."""
    layers = CNN_LAYERS if images else MLP_LAYERS
    engines: list = [Nnrun(source, layers)]
    if kernels_installed():
        engines.append(Nnrun(source, layers, kernels=False, name="nnrun-np"))
    factories = [lambda: Torch(threads)]
    factories += [lambda: Torch(threads, channels_last=True)] if images else [Sklearn, GemmFloor]
    for factory in factories:
        try:
            engines.append(factory())
        except ImportError:
            pass
    return engines


def gemm_gflops(batch_size: int, features: int, repeats: int = 3) -> dict[str, float]:
    """float32 GEMM throughput of numpy on the MLP's own shapes and on a square 1024,
    the best of ``repeats`` timings of ten calls each."""
    rng = np.random.default_rng(0)
    shapes = {"mlp layer 1": (batch_size, features, HIDDEN[0]), "mlp layer 2": (batch_size, *HIDDEN),
              "square 1024": (1024, 1024, 1024)}
    results = {}
    for label, (n, k, m) in shapes.items():
        a = rng.standard_normal((n, k), dtype=np.float32)
        b = rng.standard_normal((k, m), dtype=np.float32)
        a @ b
        best = min(_timed(np.matmul, a, b, count=10) for _ in range(repeats))
        results[label] = 2 * n * k * m / best / 1e9
    return results


def _timed(fn, *args, count: int) -> float:
    start = time.perf_counter()
    for _ in range(count):
        fn(*args)
    return (time.perf_counter() - start) / count
