"""A miniature Inception-ResNet trunk for the "why scale at all" experiment (Szegedy et al. §3.3).

    image (8, 8, 1) -> stem: 3x3 conv to `width` channels, stride `stem_stride`, BatchNorm, ReLU
      -> `depth` x residual block:  branches as block35 v1 (1x1 32 | 1x1 32 -> 3x3 32 |
                                    1x1 32 -> 3x3 32 -> 3x3 32), each conv -> BatchNorm -> ReLU,
                                    concat (96) -> 1x1 `up` to `width` with bias,
                                    net = relu(net + scale * up)
      -> global average pooling -> dense classifier (10 digits)

The residual stream is `width` channels wide (the issue's 256, 1088, 2080); the branches keep
block35 v1's widths, whatever the stream's width. The branch convolutions come from the same
table as the project's block35 (:data:`explainer.core.spec.CONVS`), and BatchNorm has no gamma,
as in slim. ``scale`` is a constant (the slim code's Python float, applied by the project's
``ScaledResidual`` layer), ``"rezero"`` (one trained scalar that starts at 0, Bachlechner et al.
2020) or ``"layerscale"`` (a trained per-channel vector that starts at 0.1, Touvron et al. 2021).
"""

from __future__ import annotations

import keras
import tensorflow as tf

from ..core.blocks import ScaledResidual
from ..core.spec import BN_EPSILON, CONVS, MIXED_FROM, UP_SCOPE, keras_name
from ..core.validate import check_positive_int, check_scale, given

TRAINED_SCALES = {"rezero": 0.0, "layerscale": 0.1}  # kind -> its starting value
IMAGE_SHAPE = (8, 8, 1)
CLASSES = 10
BN_MOMENTUM = 0.9  # moving statistics settle within a few hundred steps (slim: 0.995)


def check_trunk_scale(scale: object) -> float | str:
    """A finite number, "rezero" or "layerscale"; else a TypeError / ValueError."""
    if isinstance(scale, str):
        key = scale.strip().lower()
        if key in TRAINED_SCALES:
            return key
        raise ValueError(f"scale: got {given(scale)}; expected a number such as 0.17, "
                         "'rezero' or 'layerscale'")
    return check_scale(scale, example="0.17, 'rezero' or 'layerscale'")


def scale_label(scale: float | str) -> str:
    """How a scale is written in tables and plots: "1", "0.17", "rezero"."""
    return scale if isinstance(scale, str) else f"{scale:g}"


@keras.saving.register_keras_serializable(package="explainer")
class TrainedScale(keras.layers.Layer):
    """``scale * up`` with a trained scale: ReZero's scalar (from 0) or LayerScale's
    per-channel vector (from 0.1)."""

    def __init__(self, kind: str, **kwargs):
        super().__init__(**kwargs)
        if kind not in TRAINED_SCALES:
            raise ValueError(f"kind: got {given(kind)}; expected one of {sorted(TRAINED_SCALES)}")
        self.kind = kind

    def build(self, input_shape):
        shape = () if self.kind == "rezero" else (int(input_shape[-1]),)
        self.scale = self.add_weight(
            name="scale", shape=shape, trainable=True,
            initializer=keras.initializers.Constant(TRAINED_SCALES[self.kind]))

    def call(self, up):
        return self.scale * up

    def get_config(self):
        return {**super().get_config(), "kind": self.kind}


def block_prefix(index: int) -> str:
    """Layer-name prefix of residual block ``index`` (1-based): "block1__"."""
    return f"block{index}__"


def _conv_bn_relu(x, filters: int, kernel: int, name: str, strides: int = 1):
    x = keras.layers.Conv2D(filters, kernel, strides=strides, padding="same", use_bias=False,
                            name=name)(x)
    x = keras.layers.BatchNormalization(epsilon=BN_EPSILON, scale=False, momentum=BN_MOMENTUM,
                                        name=f"{name}__BatchNorm")(x)
    return keras.layers.ReLU(name=f"{name}__Relu")(x)


def residual_block(net, index: int, scale: float | str):
    """One block35-style residual block on ``net`` (any width); returns (scaled_up, net_out)."""
    prefix = block_prefix(index)
    out = {"net": net}
    for conv in CONVS["v1"]:
        out[conv.name] = _conv_bn_relu(out[conv.source], conv.filters, conv.kernel,
                                       prefix + keras_name(conv.scope))
    mixed = keras.layers.Concatenate(axis=3, name=f"{prefix}mixed")([out[n] for n in MIXED_FROM])
    up = keras.layers.Conv2D(net.shape[-1], 1, padding="same", use_bias=True,
                             name=prefix + keras_name(UP_SCOPE))(mixed)
    if isinstance(scale, str):
        scaled_up = TrainedScale(scale, name=f"{prefix}scaled_up")(up)
    else:
        scaled_up = ScaledResidual(scale, name=f"{prefix}scaled_up")(up)
    net_sum = keras.layers.Add(name=f"{prefix}net_sum")([net, scaled_up])
    return scaled_up, keras.layers.ReLU(name=f"{prefix}net_out")(net_sum)


def build_trunk(width: int, depth: int, scale: float | str, seed: int = 0,
                stem_stride: int = 1) -> keras.Model:
    """The trunk as a Keras model: images (N, 8, 8, 1) -> ``{"logits", "nets", "scaled_ups",
    "last"}``: the logits, each block's input ``net``, each block's ``scale * up`` and the last
    block's output (what the paper saw turn to zeros). Weights are seeded by ``seed``."""
    width = check_positive_int("width", width)
    depth = check_positive_int("depth", depth)
    scale = check_trunk_scale(scale)
    seed = check_positive_int("seed", seed, minimum=0)
    stem_stride = check_positive_int("stem_stride", stem_stride)
    keras.utils.set_random_seed(seed)
    images = keras.Input(shape=IMAGE_SHAPE, name="images")
    net = _conv_bn_relu(images, width, 3, "stem", strides=stem_stride)
    nets, scaled_ups = [], []
    for index in range(1, depth + 1):
        nets.append(net)
        scaled_up, net = residual_block(net, index, scale)
        scaled_ups.append(scaled_up)
    pooled = keras.layers.GlobalAveragePooling2D(name="avg_pool")(net)
    logits = keras.layers.Dense(CLASSES, name="logits")(pooled)
    model = keras.Model(images, {"logits": logits, "nets": nets, "scaled_ups": scaled_ups,
                                 "last": net}, name=f"trunk_w{width}_d{depth}")
    model.trunk_config = {"width": width, "depth": depth, "scale": scale, "seed": seed,
                          "stem_stride": stem_stride}
    return model


def block_variables(model: keras.Model, index: int) -> list:
    """The trainable variables of residual block ``index`` (1-based): branches, up, scale."""
    prefix = block_prefix(index)
    found = [v for layer in model.layers if layer.name.startswith(prefix)
             for v in layer.trainable_weights]
    if not found:
        depth = model.trunk_config["depth"]
        raise ValueError(f"index: got {index}; expected a block number 1..{depth}")
    return found


def block_reference_weights(model: keras.Model, index: int) -> dict:
    """Block ``index``'s weights under the slim names of :func:`explainer.core.reference.
    block35_forward` (inference BatchNorm: beta, moving mean, moving variance)."""
    prefix = block_prefix(index)
    weights = {}
    for conv in CONVS["v1"]:
        name = prefix + keras_name(conv.scope)
        weights[f"{conv.scope}/weights"] = model.get_layer(name).kernel.numpy()
        bn = model.get_layer(f"{name}__BatchNorm")
        weights[f"{conv.scope}/BatchNorm/beta"] = bn.beta.numpy()
        weights[f"{conv.scope}/BatchNorm/moving_mean"] = bn.moving_mean.numpy()
        weights[f"{conv.scope}/BatchNorm/moving_variance"] = bn.moving_variance.numpy()
    up = model.get_layer(prefix + keras_name(UP_SCOPE))
    weights[f"{UP_SCOPE}/weights"] = up.kernel.numpy()
    weights[f"{UP_SCOPE}/biases"] = up.bias.numpy()
    return weights


def dead_fraction(last: tf.Tensor) -> tf.Tensor:
    """Fraction of the last block's output units (every example, position, channel) that are
    exactly zero: the paper's symptom."""
    return tf.reduce_mean(tf.cast(tf.equal(last, 0.0), tf.float32))
