"""Which Keras 3 backend runs the block (TensorFlow, JAX or PyTorch), and its devices.

Keras fixes its backend when it is first imported (``KERAS_BACKEND``, else ``keras.json``,
else TensorFlow), so one process runs one backend. The blocks are built from Keras layers
and run on all three; what goes through TensorFlow itself (graph ops of a ``tf.function``,
the tf-slim original, tf2onnx) raises :class:`TensorFlowOnlyError`, one sentence, under the
others. Nothing here imports TensorFlow unless TensorFlow is the backend.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import json
import os
import sys

from .validate import _choice, check_choice, check_device

BACKENDS = ("tensorflow", "jax", "torch")


class TensorFlowOnlyError(RuntimeError):
    """Something that runs only through TensorFlow, asked for under another Keras backend."""


def keras_backend() -> str:
    """The Keras backend of this process: Keras' own answer once it is imported, else what
    Keras will read when it is (``KERAS_BACKEND``, then ``keras.json``, then "tensorflow")."""
    if "keras" in sys.modules:
        return sys.modules["keras"].backend.backend()
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    try:
        with open(os.path.join(home, "keras.json")) as f:
            return str(json.load(f).get("backend", "tensorflow"))
    except (OSError, ValueError, AttributeError):
        return "tensorflow"


def check_backend(backend: object) -> str:
    """'tensorflow', 'jax' or 'torch'."""
    return _choice("backend", backend, BACKENDS)  # type: ignore[return-value]


# pyproject.toml's optional extras of frameworks -> (what a learner reads, the modules it
# brings). A lesson's section that needs one asks :func:`missing_extra` first and skips in one
# line when it is absent (tests/test_environment.py ties this table to pyproject.toml).
EXTRAS = {
    "torch": ("PyTorch", ("torch",)),
    "jax": ("JAX", ("jax", "jaxlib")),
    "timm": ("timm", ("timm", "torchvision", "torch")),
    "onnx": ("ONNX (tf2onnx, onnx, onnxruntime)", ("tf2onnx", "onnx", "onnxruntime")),
}


def missing_extra(extra: str) -> str | None:
    """None when the optional ``extra`` ("torch", "jax", "timm", "onnx") is installed, else
    the one line a lesson prints instead of the section, e.g. ``skipped: this section needs
    PyTorch (torch is not installed): pip install 'block35-explainer[torch]'``.

    Looks the modules up without importing them (PyTorch takes seconds to import)."""
    extra = check_choice("extra", extra, tuple(EXTRAS))
    what, modules = EXTRAS[extra]
    for module in modules:
        if importlib.util.find_spec(module) is None:
            return (f"skipped: this section needs {what} ({module} is not installed): "
                    f"pip install 'block35-explainer[{extra}]'")
    return None


def require_tensorflow(what: str) -> None:
    """Raise :class:`TensorFlowOnlyError` (one sentence) unless Keras runs on TensorFlow."""
    backend = keras_backend()
    if backend != "tensorflow":
        raise TensorFlowOnlyError(
            f"{what} runs through TensorFlow and needs Keras' TensorFlow backend; this process "
            f"runs Keras on {backend!r} (start a new process with KERAS_BACKEND=tensorflow)")


def tensorflow_or_none():
    """The ``tensorflow`` module when it is the backend, else None (it is not imported)."""
    return importlib.import_module("tensorflow") if keras_backend() == "tensorflow" else None


def backend_version(backend: str | None = None) -> str:
    """The version of the framework under Keras, e.g. "jax 0.10.2"."""
    backend = backend or keras_backend()
    return f"{backend} {importlib.import_module(backend).__version__}"


def physical_devices(backend: str | None = None) -> list[tuple[str, bool]]:
    """Every device the backend sees, as (name, is a GPU)."""
    backend = backend or keras_backend()
    if backend == "tensorflow":
        tf = importlib.import_module("tensorflow")
        return [(d.name, d.device_type == "GPU") for d in tf.config.list_physical_devices()]
    if backend == "jax":
        jax = importlib.import_module("jax")
        return [(str(d), d.platform == "gpu") for d in jax.devices()]
    torch = importlib.import_module("torch")
    gpus = [(f"cuda:{i} {torch.cuda.get_device_name(i)}", True)
            for i in range(torch.cuda.device_count())]
    return [("cpu", False), *gpus]


def gpu_names(backend: str | None = None) -> list[str]:
    """The GPUs the backend sees (an empty list on a CPU-only machine)."""
    return [name for name, gpu in physical_devices(backend) if gpu]


def resolve_device(device: str = "auto") -> str:
    """The device string for "auto", "cpu" or "gpu": TensorFlow's "/CPU:0" or "/GPU:0"
    under TensorFlow, Keras' "cpu:0" or "gpu:0" under JAX and PyTorch.

    "gpu" on a machine without one is a ValueError that says what the backend did find.
    """
    return _resolve_device(check_device(device))


def _resolve_device(device: str) -> str:
    """:func:`resolve_device` of a device name already checked (``check_device``, or the
    CLI's ``--device``): it trusts its caller."""
    backend = keras_backend()
    found = physical_devices(backend)
    gpus = [name for name, gpu in found if gpu]
    if device == "gpu" and not gpus:
        who = {"tensorflow": "TensorFlow", "jax": "JAX", "torch": "PyTorch"}.get(backend, backend)
        raise ValueError(f"device: got 'gpu' but {who} found no GPU (found: "
                         f"{[name for name, _ in found]}); use device='cpu' or 'auto'")
    on_gpu = device == "gpu" or (device == "auto" and bool(gpus))
    if backend == "tensorflow":
        return "/GPU:0" if on_gpu else "/CPU:0"
    return "gpu:0" if on_gpu else "cpu:0"


def device_scope(device: str):
    """The context that places variables and ops on ``device`` (a resolved device string)."""
    if keras_backend() == "tensorflow":
        return importlib.import_module("tensorflow").device(device)
    return importlib.import_module("keras").device(device)


def to_numpy(tensor):
    """A backend tensor (or a numpy array) as a numpy array, copied to the host if needed."""
    return importlib.import_module("keras").ops.convert_to_numpy(tensor)


@contextlib.contextmanager
def no_grad():
    """Inference without autograd's bookkeeping under PyTorch; nothing under the others."""
    if keras_backend() == "torch":
        with importlib.import_module("torch").no_grad():
            yield
    else:
        yield
