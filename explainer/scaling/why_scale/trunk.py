"""A miniature Inception-ResNet trunk for the "why scale at all" experiment (Szegedy et al. §3.3).

    image (8, 8, 1) -> stem: 3x3 conv to `width` channels, stride `stem_stride`, BatchNorm, ReLU
      -> `depth` x residual block:  branches as block35 v1 (1x1 32 | 1x1 32 -> 3x3 32 |
                                    1x1 32 -> 3x3 32 -> 3x3 32), each conv -> BatchNorm -> ReLU,
                                    concat (96) -> 1x1 `up` to `width` with bias,
                                    net = relu(net + scale * up)
      -> global average pooling -> dense classifier (10 digits)

The residual stream is `width` channels wide; the branches keep block35 v1's widths, whatever
the stream's width. The branch convolutions come from the same table as the project's block35
(:data:`explainer.core.spec.CONVS`), and BatchNorm has no gamma, as in slim. With
``batchnorm=False`` the branch convolutions have biases and no BatchNorm (EDSR's regime).

The scale is held in weights, not in the graph, so that one built and compiled trunk serves
every scale of a grid: ``scale * up`` is ``gain * channel_gain * up``, with ``gain`` a scalar
and ``channel_gain`` a per-channel vector. A constant scale (the slim code's Python float) is
``gain = scale``, ``channel_gain = 1``, neither trained (``x * 1.0`` is exact, so the product is
the constant's). ReZero (Bachlechner et al. 2020) trains ``gain`` from 0; LayerScale (Touvron
et al. 2021) trains ``channel_gain`` from 0.1. :func:`initial_weights` draws every weight from
the run's seed with numpy's PCG64, so the starting point is the same on every machine.
"""

from __future__ import annotations

import re

import keras
import numpy as np

from ...core.spec import BN_EPSILON, CONVS, MIXED_FROM, UP_SCOPE, keras_name
from ...core.validate import given
from .trunk_args import BN_MOMENTUM, CLASSES, IMAGE_SHAPE, check_trunk_arguments, gain_values


@keras.saving.register_keras_serializable(package="explainer")
class ResidualGain(keras.layers.Layer):
    """``scale * up`` as ``gain * channel_gain * up``, both weights (see the module)."""

    def build(self, input_shape):
        self.gain = self.add_weight(name="gain", shape=(), initializer="ones")
        self.channel_gain = self.add_weight(name="channel_gain", shape=(int(input_shape[-1]),),
                                            initializer="ones")

    def call(self, up):
        return self.gain * self.channel_gain * up


def block_prefix(index: int) -> str:
    """Layer-name prefix of residual block ``index`` (1-based): "block1__"."""
    return f"block{index}__"


def _conv_bn_relu(x, filters: int, kernel: int, name: str, strides: int = 1,
                  batchnorm: bool = True):
    x = keras.layers.Conv2D(filters, kernel, strides=strides, padding="same",
                            use_bias=not batchnorm, name=name)(x)
    if batchnorm:
        x = keras.layers.BatchNormalization(epsilon=BN_EPSILON, scale=False,
                                            momentum=BN_MOMENTUM, name=f"{name}__BatchNorm")(x)
    return keras.layers.ReLU(name=f"{name}__Relu")(x)


def residual_block(net, index: int, batchnorm: bool = True):
    """One block35-style residual block on ``net`` (any width); returns (scaled_up, net_out)."""
    prefix = block_prefix(index)
    out = {"net": net}
    for conv in CONVS["v1"]:
        out[conv.name] = _conv_bn_relu(out[conv.source], conv.filters, conv.kernel,
                                       prefix + keras_name(conv.scope), batchnorm=batchnorm)
    mixed = keras.layers.Concatenate(axis=3, name=f"{prefix}mixed")([out[n] for n in MIXED_FROM])
    up = keras.layers.Conv2D(net.shape[-1], 1, padding="same", use_bias=True,
                             name=prefix + keras_name(UP_SCOPE))(mixed)
    scaled_up = ResidualGain(name=f"{prefix}scaled_up")(up)
    net_sum = keras.layers.Add(name=f"{prefix}net_sum")([net, scaled_up])
    return scaled_up, keras.layers.ReLU(name=f"{prefix}net_out")(net_sum)


def build_trunk_graph(width: int, depth: int, stem_stride: int = 2,
                      batchnorm: bool = True) -> keras.Model:
    """The trunk as a Keras model, weights not yet set: images (N, 8, 8, 1) ->
    ``{"logits", "nets", "scaled_ups", "last"}``: the logits, each block's input ``net``, each
    block's ``scale * up`` and the last block's output (what the paper saw turn to zeros).
    Callers check the arguments (:func:`.trunk_args.check_trunk_arguments`)."""
    images = keras.Input(shape=IMAGE_SHAPE, name="images")
    net = _conv_bn_relu(images, width, 3, "stem", strides=stem_stride, batchnorm=batchnorm)
    nets, scaled_ups = [], []
    for index in range(1, depth + 1):
        nets.append(net)
        scaled_up, net = residual_block(net, index, batchnorm)
        scaled_ups.append(scaled_up)
    pooled = keras.layers.GlobalAveragePooling2D(name="avg_pool")(net)
    logits = keras.layers.Dense(CLASSES, name="logits")(pooled)
    return keras.Model(images, {"logits": logits, "nets": nets, "scaled_ups": scaled_ups,
                                "last": net}, name=f"trunk_w{width}_d{depth}")


def initial_weights(model: keras.Model, scale: float | str, seed: int,
                    up_init: float = 1.0) -> list[np.ndarray]:
    """Every weight of ``model`` (in ``model.weights`` order) as the run starts: kernels
    Glorot-uniform from ``numpy.random.default_rng(seed)``, biases and BatchNorm betas 0,
    moving means 0, moving variances 1, and the gains of :func:`gain_values`. Every block's
    `up` kernel and bias are multiplied by ``up_init`` (the same draws: only the size changes)."""
    rng = np.random.default_rng(seed)
    gain, channel_gain, _, _ = gain_values(scale)
    up_layer = re.compile(r"block\d+__" + re.escape(keras_name(UP_SCOPE)))  # not Branch_0's
    values = []
    for weight in model.weights:
        shape, name = tuple(weight.shape), weight.path.rsplit("/", 1)[-1]
        layer = weight.path.rsplit("/", 2)[-2] if weight.path.count("/") else ""
        if name == "kernel":
            receptive = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
            fan_in, fan_out = shape[-2] * receptive, shape[-1] * receptive
            limit = np.sqrt(6.0 / (fan_in + fan_out))
            value = rng.uniform(-limit, limit, size=shape)
        elif name in ("moving_variance", "channel_gain", "gain"):
            fill = {"moving_variance": 1.0, "channel_gain": channel_gain, "gain": gain}[name]
            value = np.full(shape, fill)
        else:  # bias, beta, moving_mean
            value = np.zeros(shape)
        if up_layer.fullmatch(layer):
            value = value * up_init
        values.append(value.astype(np.float32))
    return values


def build_trunk(width: int, depth: int, scale: float | str, seed: int = 0,
                stem_stride: int = 2, batchnorm: bool = True) -> keras.Model:
    """A trunk with the starting weights of a run with this ``scale`` and ``seed``."""
    args = check_trunk_arguments(width=width, depth=depth, scale=scale, seed=seed,
                                 stem_stride=stem_stride, batchnorm=batchnorm)
    model = build_trunk_graph(args["width"], args["depth"], args["stem_stride"],
                              args["batchnorm"])
    model.set_weights(initial_weights(model, args["scale"], args["seed"]))
    model.trunk_config = args
    return model


def block_variables(model: keras.Model, index: int) -> list:
    """The trainable weights of residual block ``index`` (1-based): branches, up, gains."""
    prefix = block_prefix(index)
    found = [v for layer in model.layers if layer.name.startswith(prefix)
             for v in layer.trainable_weights]
    if not found:
        blocks = sum(layer.name.endswith("__net_out") for layer in model.layers)
        raise ValueError(f"index: got {given(index)}; expected a block number 1..{blocks}")
    return found


def block_reference_weights(model: keras.Model, index: int) -> dict:
    """Block ``index``'s weights under the slim names of :func:`explainer.core.reference.
    block_forward` (inference BatchNorm: beta, moving mean, moving variance)."""
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
