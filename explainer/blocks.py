"""The real block35, built from Keras 3 layers, faithful to the tf-slim code it explains.

facenet (Inception-ResNet-v1) and tf-models (Inception-ResNet-v2) write the block as::

    tower_conv    = slim.conv2d(net, 32, 1, scope='Conv2d_1x1')              # Branch_0
    tower_conv1_0 = slim.conv2d(net, 32, 1, scope='Conv2d_0a_1x1')           # Branch_1
    tower_conv1_1 = slim.conv2d(tower_conv1_0, 32, 3, scope='Conv2d_0b_3x3')
    tower_conv2_0 = slim.conv2d(net, 32, 1, scope='Conv2d_0a_1x1')           # Branch_2
    tower_conv2_1 = slim.conv2d(tower_conv2_0, 32, 3, scope='Conv2d_0b_3x3')   # v2: 48
    tower_conv2_2 = slim.conv2d(tower_conv2_1, 32, 3, scope='Conv2d_0c_3x3')   # v2: 64
    mixed = tf.concat([tower_conv, tower_conv1_1, tower_conv2_2], 3)
    up = slim.conv2d(mixed, net.get_shape()[3], 1, normalizer_fn=None,
                     activation_fn=None, scope='Conv2d_1x1')
    net += scale * up
    if activation_fn:
        net = activation_fn(net)

Keras layer names may not contain ``/``, so each layer is named after its slim scope with ``__``
in place of ``/``; :data:`CONVS` keeps the slim scope itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from .validate import (
    check_activation,
    check_device,
    check_positive_int,
    check_scale,
    check_variant,
)

BN_EPSILON = 0.001  # slim's and keras.applications' value; facenet's arg_scope too
IN_CHANNELS = {"v1": 256, "v2": 320}


@dataclass(frozen=True)
class Conv:
    """One branch convolution: conv (no bias) -> BatchNorm (no gamma) -> ReLU."""

    name: str  # the Python variable in the snippet
    scope: str  # the slim scope, e.g. "Branch_1/Conv2d_0b_3x3"
    source: str  # the variable it reads
    filters: int
    kernel: int


def _convs(widths: tuple[int, int]) -> tuple[Conv, ...]:
    mid, last = widths
    return (
        Conv("tower_conv", "Branch_0/Conv2d_1x1", "net", 32, 1),
        Conv("tower_conv1_0", "Branch_1/Conv2d_0a_1x1", "net", 32, 1),
        Conv("tower_conv1_1", "Branch_1/Conv2d_0b_3x3", "tower_conv1_0", 32, 3),
        Conv("tower_conv2_0", "Branch_2/Conv2d_0a_1x1", "net", 32, 1),
        Conv("tower_conv2_1", "Branch_2/Conv2d_0b_3x3", "tower_conv2_0", mid, 3),
        Conv("tower_conv2_2", "Branch_2/Conv2d_0c_3x3", "tower_conv2_1", last, 3),
    )


CONVS = {"v1": _convs((32, 32)), "v2": _convs((48, 64))}
UP_SCOPE = "Conv2d_1x1"
# The branch outputs concatenated into `mixed`, in the snippet's order.
MIXED_FROM = ("tower_conv", "tower_conv1_1", "tower_conv2_2")


@dataclass(frozen=True)
class Block35Spec:
    """What a built block is: variant, widths, the constant scale, activation, device, seed."""

    variant: str
    scale: float
    activation: str | None
    seed: int
    device: str  # the TensorFlow device string it runs on, e.g. "/CPU:0"

    @property
    def in_channels(self) -> int:
        return IN_CHANNELS[self.variant]

    @property
    def convs(self) -> tuple[Conv, ...]:
        return CONVS[self.variant]

    @property
    def mixed_channels(self) -> int:
        return mixed_channels(self.variant)


def mixed_channels(variant: str) -> int:
    """Channels of ``mixed``: the widths of the three branch outputs, added up (v1 96, v2 128)."""
    widths = {c.name: c.filters for c in CONVS[variant]}
    return sum(widths[n] for n in MIXED_FROM)


def keras_name(scope: str) -> str:
    """Keras layer name for a slim scope ("Branch_1/Conv2d_0b_3x3" -> "Branch_1__Conv2d_0b_3x3")."""
    return scope.replace("/", "__")


def resolve_device(device: str = "auto") -> str:
    """The TensorFlow device string for "auto", "cpu" or "gpu".

    "gpu" on a machine without one is a ValueError that says what TensorFlow did find.
    """
    device = check_device(device)
    gpus = tf.config.list_physical_devices("GPU")
    if device == "gpu" and not gpus:
        found = [d.name for d in tf.config.list_physical_devices()]
        raise ValueError(f"device: got 'gpu' but TensorFlow found no GPU (found: {found}); "
                         "use device='cpu' or 'auto'")
    return "/GPU:0" if device == "gpu" or (device == "auto" and gpus) else "/CPU:0"


@keras.saving.register_keras_serializable(package="explainer")
class ScaledResidual(keras.layers.Layer):
    """``scaled_up = scale * up``; clipped to [-6, 6] when the block's activation is relu6.

    ``scale`` is a plain Python float, a constant of the block and not a weight, exactly as in
    the slim code: ``scale * up`` runs ``float.__mul__`` (NotImplemented), then
    ``tf.Tensor.__rmul__``, which emits one ``Mul`` op.
    """

    def __init__(self, scale: float, clip: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.scale = float(scale)
        self.clip = bool(clip)

    def call(self, up):
        scaled_up = self.scale * up
        if self.clip:  # tf-models' relu6 variant: keep the residual inside relu6's range
            scaled_up = tf.clip_by_value(scaled_up, -6.0, 6.0)
        return scaled_up

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "clip": self.clip}


def _conv_bn_relu(x, conv: Conv):
    name = keras_name(conv.scope)
    x = keras.layers.Conv2D(conv.filters, conv.kernel, padding="same", use_bias=False,
                            name=name)(x)
    x = keras.layers.BatchNormalization(epsilon=BN_EPSILON, scale=False, momentum=0.995,
                                        name=f"{name}__BatchNorm")(x)
    return keras.layers.ReLU(name=f"{name}__Relu")(x)


def build_block35(variant: str = "v1", scale: float = 0.17, activation: str | None = "relu",
                  seed: int = 0, device: str = "auto") -> keras.Model:
    """Build one Inception-ResNet block35 as a Keras model (N, H, W, C_in) -> same shape.

    Args:
        variant: "v1" (facenet, 256 channels) or "v2" (tf-slim / keras.applications, 320).
        scale: the residual scale, a constant (the real nets use 0.17 and 0.17 / 0.10).
        activation: "relu" (default), "relu6" (clips ``scale * up`` to [-6, 6] first) or None.
        seed: seeds every weight, including non-trivial BatchNorm statistics and biases, so
            that the block is deterministic and a swapped beta / moving mean shows up.
        device: "auto", "cpu" or "gpu".

    The model carries its :class:`Block35Spec` as ``model.block35``.
    """
    variant = check_variant(variant)
    spec = Block35Spec(variant=variant, scale=check_scale(scale),
                       activation=check_activation(activation),
                       seed=check_positive_int("seed", seed, minimum=0),
                       device=resolve_device(device))
    with tf.device(spec.device):
        net = keras.Input(shape=(None, None, spec.in_channels), name="net")
        out = {"net": net}
        for conv in spec.convs:
            out[conv.name] = _conv_bn_relu(out[conv.source], conv)
        mixed = keras.layers.Concatenate(axis=3, name="mixed")([out[n] for n in MIXED_FROM])
        up = keras.layers.Conv2D(spec.in_channels, 1, padding="same", use_bias=True,
                                 name=keras_name(UP_SCOPE))(mixed)
        scaled_up = ScaledResidual(spec.scale, clip=spec.activation == "relu6",
                                   name="scaled_up")(up)
        net_sum = keras.layers.Add(name="net_sum")([net, scaled_up])
        if spec.activation is None:
            net_out = keras.layers.Identity(name="net_out")(net_sum)
        else:
            net_out = keras.layers.Activation(spec.activation, name="net_out")(net_sum)
        model = keras.Model(net, net_out, name=f"block35_{variant}")
        from .weights import seeded_weights, set_block_weights  # weights needs this module

        set_block_weights(model, seeded_weights(spec.variant, spec.seed), spec=spec)
    model.block35 = spec
    return model


def block_spec(block: object) -> Block35Spec:
    """The :class:`Block35Spec` of a block made by :func:`build_block35` (else a TypeError)."""
    spec = getattr(block, "block35", None)
    if not isinstance(spec, Block35Spec):
        raise TypeError(f"block: got {type(block).__name__}; expected a model made by "
                        "explainer.build_block35(...)")
    return spec


def sample_input(variant: str = "v1", batch: int = 1, size: int = 35, seed: int = 0) -> np.ndarray:
    """A reproducible block input: ReLU of standard normal noise, shape (batch, size, size, C).

    In the real nets block35 reads the output of a ReLU (the stem or the previous block), so
    its input is non-negative; half the units are exactly zero here.
    """
    variant = check_variant(variant)
    batch = check_positive_int("batch", batch)
    size = check_positive_int("size", size)
    seed = check_positive_int("seed", seed, minimum=0)
    rng = np.random.default_rng([seed, 35])
    x = rng.standard_normal((batch, size, size, IN_CHANNELS[variant]), dtype=np.float32)
    return np.maximum(x, 0.0)


def describe_block(variant: str = "v1", scale: float = 0.17,
                   activation: str | None = "relu") -> str:
    """The block diagram in words, generated from the same layer table the model is built from."""
    variant = check_variant(variant)
    activation = check_activation(activation)
    convs = CONVS[variant]
    cin = IN_CHANNELS[variant]
    lines = [f"block35 {variant}: input `net` has {cin} channels (N, H, W, {cin})."]
    for branch in ("Branch_0", "Branch_1", "Branch_2"):
        steps = [f"{c.kernel}x{c.kernel} conv {c.filters} ({c.name})"
                 for c in convs if c.scope.startswith(branch)]
        lines.append(f"  {branch}: net -> " + " -> ".join(steps)
                     + "; each conv: no bias -> BatchNorm -> ReLU, stride 1, SAME.")
    mixed = mixed_channels(variant)
    lines.append(f"  concat on channels -> `mixed` with {mixed} channels.")
    lines.append(f"  `up` = 1x1 conv {mixed} -> {cin} with bias, no BatchNorm, no activation.")
    clip = " clipped to [-6, 6]," if activation == "relu6" else ""
    lines.append(f"  `net += scale * up` with scale = {check_scale(scale):g}:{clip} same shape "
                 f"as `net`, element by element.")
    lines.append(f"  then `net = {activation}(net)`." if activation else
                 "  no activation after the add.")
    return "\n".join(lines)
