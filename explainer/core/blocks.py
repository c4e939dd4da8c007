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

import keras
import tensorflow as tf

from .schedule import BLOCK35_SCALE
from .spec import BN_EPSILON, MIXED_FROM, UP_SCOPE, Block35Spec, Conv, keras_name
from .validate import check_activation, check_device, check_positive_int, check_scale, check_variant
from .weight_tables import seeded_weights
from .weights import set_block_weights


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


def build_block35(variant: str = "v1", scale: float = BLOCK35_SCALE,
                  activation: str | None = "relu",
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
        set_block_weights(model, seeded_weights(spec.variant, spec.seed), spec=spec)
    model.block35 = spec
    return model


