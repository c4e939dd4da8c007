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

import keras
import numpy as np

from ..core.budget import check_memory
from ..core.spec import BN_EPSILON, CONVS, MIXED_FROM, UP_SCOPE, keras_name
from ..core.validate import check_positive_int, check_scale, given, shorten

TRAINED_SCALES = {"rezero": 0.0, "layerscale": 0.1}  # kind -> its starting value
IMAGE_SHAPE = (8, 8, 1)
CLASSES = 10
BN_MOMENTUM = 0.9  # moving statistics settle within a few hundred steps (slim: 0.995)
TRAIN_IMAGES = 1437  # load_digits' training split (see .training.digits_split)
# Bounds checked before any arithmetic: a typo such as depth=10**9 gets one sentence at once.
LIMITS = {"width": 8192, "depth": 100, "steps": 1_000_000, "batch": TRAIN_IMAGES,
          "seed": 2**32 - 1}
STEM_STRIDES = (1, 2, 4, 8)
# Work bound: multiply-adds of all steps (forward + backward ~ 3x forward). Measured here:
# about 1.6e10 a second (depth 10, width 1088, batch 16, 2 cores), so 6e13 is about an hour.
MAX_WORK = 6e13


def check_trunk_scale(scale: object) -> float | str:
    """A finite number, "rezero" or "layerscale"; else a TypeError / ValueError."""
    if isinstance(scale, str):
        key = scale.strip().lower()
        if key in TRAINED_SCALES:
            return key
        raise ValueError(f"scale: got {given(scale)}; expected a number such as 0.17, "
                         "'rezero' or 'layerscale'")
    return check_scale(scale, example="0.17, 'rezero' or 'layerscale'")


def block_macs(width: int, batch: int, positions: int) -> int:
    """Multiply-adds of one block's forward pass: 1x1 convs from and to the stream, and the
    3x3 convs of the 32-wide branches."""
    per_position = 3 * 32 * width + 96 * width + 3 * 32 * 32 * 9
    return batch * positions * per_position


def check_trunk_arguments(width: object, depth: object, scale: object, seed: object = 0,
                          stem_stride: object = 2, batchnorm: object = True,
                          steps: object = 1, batch: object = 16) -> dict:
    """The checked arguments of a trunk (and its training), or one ValueError / TypeError.

    Every integer is compared with its bound before any arithmetic; then the memory of the
    weights, optimizer state and activations is estimated and held to the budget, and the
    work of all steps to :data:`MAX_WORK`.
    """
    args = {name: check_positive_int(name, value, minimum=0 if name == "seed" else 1,
                                     maximum=LIMITS[name])
            for name, value in (("width", width), ("depth", depth), ("seed", seed),
                                ("steps", steps), ("batch", batch))}
    stride = check_positive_int("stem_stride", stem_stride, maximum=max(STEM_STRIDES))
    if stride not in STEM_STRIDES:
        raise ValueError(f"stem_stride: got {shorten(stride)}; expected one of "
                         f"{', '.join(map(str, STEM_STRIDES))}")
    args["stem_stride"] = stride
    if not isinstance(batchnorm, bool):
        raise TypeError(f"batchnorm: got {given(batchnorm)}; expected True or False")
    args["batchnorm"] = batchnorm
    args["scale"] = check_trunk_scale(scale)
    side = -(-IMAGE_SHAPE[0] // args["stem_stride"])
    width, depth, batch = args["width"], args["depth"], args["batch"]
    params = depth * (3 * 32 * width + 96 * width + 3 * 32 * 32 * 9 + 2 * width) + 10 * width
    # training keeps every block's activations for the backward pass (and their gradients);
    # the test pass (360 images) keeps one block's at a time
    kept = batch * side * side * depth * (4 * width + 12 * 32 + 96)
    test_pass = 360 * side * side * (4 * width + 12 * 32 + 96)
    asked = f"width={width}, depth={depth}, batch={batch}"
    check_memory(4 * (5 * params + 2 * kept + 2 * test_pass), asked, "training this trunk")
    work = 3 * args["steps"] * depth * block_macs(width, batch, side * side)
    if work > MAX_WORK:
        raise ValueError(f"{asked}, steps={args['steps']}: about {work:.2g} multiply-adds, "
                         f"expected at most {MAX_WORK:.0e} (about an hour on 2 CPU cores); "
                         "fewer steps, blocks or channels")
    return args


def scale_label(scale: float | str) -> str:
    """How a scale is written in tables and plots: "1", "0.17", "rezero"."""
    return scale if isinstance(scale, str) else f"{scale:g}"


def gain_values(scale: float | str) -> tuple[float, float, bool, bool]:
    """(gain, channel_gain, gain trained?, channel_gain trained?) of a checked scale."""
    if scale == "rezero":
        return TRAINED_SCALES["rezero"], 1.0, True, False
    if scale == "layerscale":
        return 1.0, TRAINED_SCALES["layerscale"], False, True
    return float(scale), 1.0, False, False


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
    Callers check the arguments (:func:`.training.check_trunk_arguments`)."""
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


def initial_weights(model: keras.Model, scale: float | str, seed: int) -> list[np.ndarray]:
    """Every weight of ``model`` (in ``model.weights`` order) as the run starts: kernels
    Glorot-uniform from ``numpy.random.default_rng(seed)``, biases and BatchNorm betas 0,
    moving means 0, moving variances 1, and the gains of :func:`gain_values`."""
    rng = np.random.default_rng(seed)
    gain, channel_gain, _, _ = gain_values(scale)
    values = []
    for weight in model.weights:
        shape, name = tuple(weight.shape), weight.path.rsplit("/", 1)[-1]
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
