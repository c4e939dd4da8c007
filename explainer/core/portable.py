"""The block's forward pass and its intermediates through Keras itself, on any backend.

Under JAX a block runs through Keras' own ``predict_on_batch`` (a jitted step); under PyTorch
it is called eagerly under ``torch.no_grad``. The numbers come back as numpy arrays.
:mod:`.tracing` uses this where TensorFlow is not the backend.
"""

from __future__ import annotations

import weakref

import keras
import numpy as np

from .backend import device_scope, keras_backend, no_grad, to_numpy
from .spec import UP_SCOPE, BlockSpec, keras_name


def layer_names(spec: BlockSpec) -> dict[str, str]:
    """Trace name -> the Keras layer whose output it is (all but the input `net`)."""
    names = {c.name: f"{keras_name(c.scope)}__Relu" for c in spec.convs}
    names.update(mixed="mixed", up=keras_name(UP_SCOPE), scaled_up="scaled_up",
                 net_sum="net_sum", net_out="net_out")
    return names


def intermediates_model(block, spec: BlockSpec):
    """The block as a Keras model whose outputs are every traced tensor but ``net``."""
    names = layer_names(spec)
    return keras.Model(block.input, [block.get_layer(names[n]).output
                                      for n in spec.trace_names[1:]])


_MODELS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def run_block(block, spec: BlockSpec, x: np.ndarray, intermediates: bool = False):
    """``net_out`` of a checked input (numpy), or with ``intermediates=True`` the list of every
    traced tensor after ``net``, in the spec's order. Trusts its caller (the input is checked)."""
    models = _MODELS.setdefault(block, {})
    if intermediates and "trace" not in models:
        models["trace"] = intermediates_model(block, spec)
    model = models["trace"] if intermediates else block
    with device_scope(spec.device), no_grad():
        # JAX: predict_on_batch compiles the model once per input shape (jit); PyTorch: a
        # plain call, eager, is several times faster than predict_on_batch's machinery
        out = (model.predict_on_batch(x) if keras_backend() == "jax"
               else model(x, training=False))
    if intermediates:
        return [np.asarray(to_numpy(o)) for o in out]
    return np.asarray(to_numpy(out))


def summary_row(a: np.ndarray) -> list[float]:
    """[mean, std, l2, min, max] of a whole array, in float64."""
    a = np.asarray(a, dtype=np.float64)
    mean = float(a.mean())
    return [mean, float(np.sqrt(np.mean(np.square(a - mean)))), float(np.sqrt(np.sum(a * a))),
            float(a.min()), float(a.max())]
