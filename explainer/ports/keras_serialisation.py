"""Why Keras 3 needs a custom layer for ``scale * up``, not a ``Lambda``: saved and loaded here.

``keras.layers.Lambda(lambda t: scale * t)`` computes the same tensor as the project's
:class:`explainer.core.blocks.ScaledResidual`, but it saves differently. (keras.applications'
``CustomScaleLayer`` is a registered layer too; its ``call`` writes
``inputs[0] + inputs[1] * self.scale``: it does the add as well, not only the product.) A
``.keras`` file stores a lambda as marshalled CPython bytecode; Keras 3 refuses to load it
unless ``safe_mode=False`` (that would run code from the file), and no other runtime reads
CPython bytecode. A registered layer stores only its class name and its
config (``{"scale": 0.17, ...}``); it loads wherever the class is registered, and elsewhere
fails with a clear "Could not locate class".

:func:`lambda_vs_layer` builds both one-layer models, saves each to a ``.keras`` file in a
temporary folder, loads them back and records what happened, every message from the installed
Keras.
"""

from __future__ import annotations

import base64
import contextlib
import marshal
import os
import tempfile
from dataclasses import dataclass

import numpy as np

from ..core.blocks import ScaledResidual
from ..core.validate import check_scale


@dataclass(frozen=True)
class SavedForm:
    """One way of writing ``scale * up`` in Keras 3, saved to ``.keras`` and loaded back."""

    label: str
    stored: str  # what the file keeps for the layer (its config, shortened)
    safe_load: str  # the outcome of ``load_model(path)``: "loads" or the error
    other_load: str  # the outcome of the other case (safe_mode=False, or class not registered)
    same_output: bool  # the loaded model (where one loaded) computes the original's output

    def __str__(self) -> str:
        return (f"{self.label}\n  the file stores: {self.stored}\n"
                f"  load_model(path): {self.safe_load}\n  {self.other_load}\n"
                f"  output after loading equals the original's: {self.same_output}")


def first_sentence(message: str, limit: int = 170) -> str:
    """The innermost cause's first sentence of a Keras error (Keras wraps the cause of a failed
    load after "Exception encountered: "), cut to ``limit`` characters."""
    cause = message.split("Exception encountered: ")[-1]
    sentence = cause.split(". ")[0].rstrip(".")
    return sentence if len(sentence) <= limit else sentence[:limit - 3] + "..."


def _outcome(load) -> tuple[str, object]:
    try:
        return "loads", load()
    except Exception as err:  # noqa: BLE001 - the installed Keras' own message is the point
        return f"{type(err).__name__}: {first_sentence(str(err))}", None


@contextlib.contextmanager
def _unregistered(name: str):
    """``name`` absent from Keras' registered classes, as in a process that never imported
    the package defining it; put back afterwards."""
    import keras

    registry = keras.saving.get_custom_objects()
    kept = registry.pop(name, None)
    try:
        yield
    finally:
        if kept is not None:
            registry[name] = kept


def lambda_vs_layer(scale: float = 0.17) -> tuple[SavedForm, SavedForm]:
    """Save and reload ``Lambda(lambda t: scale * t)`` and ``ScaledResidual(scale)``."""
    import keras

    scale = check_scale(scale)
    x = np.random.default_rng(0).standard_normal((1, 4, 4, 8)).astype(np.float32)
    inp = keras.Input((4, 4, 8))
    models = {"Lambda": keras.Model(inp, keras.layers.Lambda(lambda t: scale * t)(inp)),
              "custom layer": keras.Model(inp, ScaledResidual(scale)(inp))}
    forms = []
    with tempfile.TemporaryDirectory(prefix="block35_keras_") as folder:
        for label, model in models.items():
            path = os.path.join(folder, f"{label.replace(' ', '_')}.keras")
            model.save(path)
            expected = model(x)
            safe, loaded = _outcome(lambda path=path: keras.saving.load_model(path))
            config = model.layers[-1].get_config()
            if label == "Lambda":
                code = config["function"]["config"]["code"]
                bytecode = marshal.loads(base64.b64decode(code))
                stored = (f"'function': base64 of marshalled {type(bytecode).__name__} "
                          f"({len(code)} characters), CPython {bytecode.co_name} bytecode")
                other, loaded = _outcome(
                    lambda path=path: keras.saving.load_model(path, safe_mode=False))
                other = f"load_model(path, safe_mode=False), which runs the file's code: {other}"
            else:
                stored = (f"class {keras.saving.get_registered_name(ScaledResidual)!r}, "
                          f"config scale={config['scale']}, clip={config['clip']}")
                with _unregistered(keras.saving.get_registered_name(ScaledResidual)):
                    other, _ = _outcome(lambda path=path: keras.saving.load_model(path))
                other = f"in a process where the class is not registered: {other}"
            same = loaded is not None and bool(np.array_equal(loaded(x), expected))
            forms.append(SavedForm(f"{label}: scale * up as {type(model.layers[-1]).__name__}",
                                   stored, safe, other, same))
    return forms[0], forms[1]
