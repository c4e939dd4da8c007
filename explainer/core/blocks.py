"""The real block35, block17 and block8, built from Keras 3 layers, faithful to the tf-slim code.

facenet's Inception-ResNet-v1 (``src/models/inception_resnet_v1.py``) writes block35 as
follows, each branch inside its ``tf.variable_scope('Branch_0')`` to ``('Branch_2')``::

    tower_conv = slim.conv2d(net, 32, 1, scope='Conv2d_1x1')
    tower_conv1_0 = slim.conv2d(net, 32, 1, scope='Conv2d_0a_1x1')
    tower_conv1_1 = slim.conv2d(tower_conv1_0, 32, 3, scope='Conv2d_0b_3x3')
    tower_conv2_0 = slim.conv2d(net, 32, 1, scope='Conv2d_0a_1x1')
    tower_conv2_1 = slim.conv2d(tower_conv2_0, 32, 3, scope='Conv2d_0b_3x3')
    tower_conv2_2 = slim.conv2d(tower_conv2_1, 32, 3, scope='Conv2d_0c_3x3')
    mixed = tf.concat(axis=3, values=[tower_conv, tower_conv1_1, tower_conv2_2])
    up = slim.conv2d(mixed, net.get_shape()[3], 1, normalizer_fn=None,
                     activation_fn=None, scope='Conv2d_1x1')
    net += scale * up
    if activation_fn:
        net = activation_fn(net)

tf-models' current Inception-ResNet-v2 (``research/slim/nets/inception_resnet_v2.py``) widens
Branch_2 to 48 and 64 channels and ends the block differently::

    scaled_up = up * scale
    if activation_fn == tf.nn.relu6:
      scaled_up = tf.clip_by_value(scaled_up, -6.0, 6.0)
    net += scaled_up

Both lines compute the same sum (a float product does not depend on the operands' order), but
Python dispatches them differently (:mod:`explainer.ports.spellings` runs each). The Keras
block computes ``scale * up``, facenet's order, and clips under relu6, tf-models' way.

block17 and block8 are the same pattern with two branches, the second 1x1 -> 1xk -> kx1
(k = 7 and 3): see :mod:`.block_tables` for their widths.

Keras layer names may not contain ``/``, so each layer is named after its slim scope with ``__``
in place of ``/``; :data:`CONVS` keeps the slim scope itself.
"""

from __future__ import annotations

import keras

from . import backend as _backend
from .block_tables import check_block_kind
from .schedule import BLOCK35_SCALE, REAL_SCALES
from .spec import BN_EPSILON, UP_SCOPE, BlockSpec, Conv, keras_name
from .validate import (
    check_activation,
    check_device,
    check_positive_int,
    check_scale,
    check_variant,
)
from .weight_tables import _seeded_weights
from .weights import _set_block_weights


def resolve_device(device: str = "auto") -> str:
    """The device string for "auto", "cpu" or "gpu" on this process' Keras backend:
    TensorFlow's "/CPU:0" / "/GPU:0", or Keras' "cpu:0" / "gpu:0" under JAX and PyTorch.

    "gpu" on a machine without one is a ValueError that says what the backend did find.
    """
    return _backend.resolve_device(device)


@keras.saving.register_keras_serializable(package="explainer")
class ScaledResidual(keras.layers.Layer):
    """``scaled_up = scale * up``; clipped to [-6, 6] when the block's activation is relu6.

    ``scale`` is a plain Python float, a constant of the block and not a weight, exactly as in
    the slim code. The layer writes ``scale * up`` in the order of facenet's line: it runs
    ``float.__mul__`` (NotImplemented), then the backend tensor's ``__rmul__``: ``tf.Tensor``'s
    emits one ``Mul`` op, ``jax.Array``'s a ``mul`` primitive, ``torch.Tensor``'s
    ``aten::mul``. tf-models' v2 writes ``up * scale``, which calls the tensor's own
    ``__mul__`` with no NotImplemented step; on TensorFlow both give the same tensor, bit for
    bit (:func:`explainer.ports.spellings.spelling` runs both).
    """

    def __init__(self, scale: float, clip: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.scale = float(scale)
        self.clip = bool(clip)

    def call(self, up):
        scaled_up = self.scale * up
        if self.clip:  # tf-models' relu6 variant: keep the residual inside relu6's range
            tf = _backend.tensorflow_or_none()  # its own op under TensorFlow, as tf-models
            scaled_up = (tf.clip_by_value(scaled_up, -6.0, 6.0) if tf is not None
                         else keras.ops.clip(scaled_up, -6.0, 6.0))
        return scaled_up

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "clip": self.clip}


def residual_tail(net, up, scale: float, activation: str | None, named: bool = False):
    """The block's last line in Keras layers: ``(scaled_up, act(net + scaled_up))``, shared
    by the Keras block and :mod:`explainer.scaling.stages`. The same arithmetic is written
    elsewhere on purpose, outside Keras layers: in numpy (:func:`.reference.tail`), in the
    trained trunk (:mod:`explainer.scaling.why_scale.trunk`, with a trainable gain) and in
    :mod:`explainer.semantics`, which runs the bare line to show what it does.

    Works on symbolic Keras inputs and on eager tensors alike. ``named`` gives the layers the
    trace names ("scaled_up", "net_sum", "net_out"), as the block's own; callers pass a checked
    scale and activation (this function trusts them).
    """
    def name(n):
        return n if named else None

    scaled_up = ScaledResidual(scale, clip=activation == "relu6", name=name("scaled_up"))(up)
    net_sum = keras.layers.Add(name=name("net_sum"))([net, scaled_up])
    if activation is None:
        return scaled_up, keras.layers.Identity(name=name("net_out"))(net_sum)
    return scaled_up, keras.layers.Activation(activation, name=name("net_out"))(net_sum)


def _conv_bn_relu(x, conv: Conv):
    name = keras_name(conv.scope)
    # zeros: every weight is assigned from the seeded table right after the build, so a random
    # initializer would only cost time (under JAX, one compiled random op per kernel shape)
    x = keras.layers.Conv2D(conv.filters, conv.kernel, padding="same", use_bias=False,
                            kernel_initializer="zeros", name=name)(x)
    x = keras.layers.BatchNormalization(epsilon=BN_EPSILON, scale=False, momentum=0.995,
                                        name=f"{name}__BatchNorm")(x)
    return keras.layers.ReLU(name=f"{name}__Relu")(x)


def build_block35(variant: str = "v1", scale: float = BLOCK35_SCALE,
                  activation: str | None = "relu",
                  seed: int = 0, device: str = "auto") -> keras.Model:
    """Build one Inception-ResNet block35 as a Keras model (N, H, W, C_in) -> same shape.

    Args:
        variant: "v1" (facenet, 256 channels) or "v2" (tf-slim / keras.applications, 320).
        scale: the residual scale, a constant (block35's is 0.17 in both real nets; block17
            uses 0.10 and block8 0.20: :data:`REAL_SCALES`).
        activation: "relu" (default), "relu6" (clips ``scale * up`` to [-6, 6] first) or None.
        seed: seeds every weight, including non-trivial BatchNorm statistics and biases, so
            that the block is deterministic and a swapped beta / moving mean shows up.
        device: "auto", "cpu" or "gpu".

    The model carries its :class:`BlockSpec` as ``model.residual_spec``.
    """
    return build_from_spec(_checked_spec("block35", variant, check_scale(scale), activation, seed,
                                         device))


def build_block17(variant: str = "v1", scale: float = REAL_SCALES["block17"],
                  activation: str | None = "relu",
                  seed: int = 0, device: str = "auto") -> keras.Model:
    """Build one Inception-ResNet-B block17 (17x17 in the real nets): v1 896 channels,
    128 | 128 -> 1x7 128 -> 7x1 128; v2 1088 channels, 192 | 128 -> 1x7 160 -> 7x1 192.
    Arguments as :func:`build_block35`; the default scale is the nets' 0.10."""
    return build_from_spec(_checked_spec("block17", variant, check_scale(scale), activation, seed,
                                         device))


def build_block8(variant: str = "v1", scale: float = REAL_SCALES["block8"],
                 activation: str | None = "relu",
                 seed: int = 0, device: str = "auto") -> keras.Model:
    """Build one Inception-ResNet-C block8 (8x8 in the real nets): v1 1792 channels,
    192 | 192 -> 1x3 192 -> 3x1 192; v2 2080 channels, 192 | 192 -> 1x3 224 -> 3x1 256.
    Arguments as :func:`build_block35`; the default scale is the nets' 0.20 (the nets' last
    block8 runs at scale 1.0 with ``activation=None``)."""
    return build_from_spec(_checked_spec("block8", variant, check_scale(scale), activation, seed,
                                         device))


def build_block(block: str, variant: str = "v1", scale: float | None = None,
                activation: str | None = "relu", seed: int = 0,
                device: str = "auto") -> keras.Model:
    """Build a block of kind ``block`` ("block35", "block17" or "block8"); ``scale=None``
    takes the real nets' scale of that kind (:data:`REAL_SCALES`)."""
    block = check_block_kind(block)
    scale = REAL_SCALES[block] if scale is None else check_scale(scale)
    return build_from_spec(_checked_spec(block, variant, scale, activation, seed, device))


def _checked_spec(block: str, variant, scale: float, activation, seed, device) -> BlockSpec:
    """The spec from the public builders' arguments; ``block`` and ``scale`` come checked (the
    builders check the scale themselves: ``None`` means "the real scale" only for
    :func:`build_block`), everything else is checked here, once."""
    return _spec(block, check_variant(variant), scale, check_activation(activation),
                 check_positive_int("seed", seed, minimum=0), check_device(device))


def _spec(block: str, variant: str, scale: float, activation: str | None, seed: int,
          device: str) -> BlockSpec:
    """The spec of arguments already checked (by :func:`_checked_spec`, or by the CLI's
    argument types): it trusts its caller. ``device`` ("auto", "cpu" or "gpu") is resolved
    here; "gpu" on a machine without one is still the ValueError of :func:`resolve_device`."""
    return BlockSpec(variant=variant, scale=scale, activation=activation, seed=seed,
                     device=_backend._resolve_device(device), block=block)


def build_from_spec(spec: BlockSpec) -> keras.Model:
    """The Keras block of a spec made by the builders above, or ``dataclasses.replace`` of a
    block's own spec: it trusts its caller (the public builders check their arguments)."""
    with _backend.device_scope(spec.device):
        net = keras.Input(shape=(None, None, spec.in_channels), name="net")
        out = {"net": net}
        for conv in spec.convs:
            out[conv.name] = _conv_bn_relu(out[conv.source], conv)
        mixed = keras.layers.Concatenate(axis=3, name="mixed")([out[n] for n in spec.mixed_from])
        up = keras.layers.Conv2D(spec.in_channels, 1, padding="same", use_bias=True,
                                 kernel_initializer="zeros", name=keras_name(UP_SCOPE))(mixed)
        _, net_out = residual_tail(net, up, spec.scale, spec.activation, named=True)
        model = keras.Model(net, net_out, name=f"{spec.block}_{spec.variant}")
        _set_block_weights(model, _seeded_weights(spec.variant, spec.seed, spec.block), spec)
    model.residual_spec = spec
    return model
