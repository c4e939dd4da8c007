"""The original tf-slim block35, block17 and block8, running on TensorFlow 2 with ``tf_slim``.

The snippets are kept as their authors wrote them for TF1 (:mod:`.legacy_sources`): facenet's
Inception-ResNet-v1 blocks (with the concat in the TF 0.12 spelling, ``tf.concat(3, [...])``;
facenet's file today writes ``tf.concat(axis=3, values=[...])``) and tf-models' newer slim
Inception-ResNet-v2 blocks (``scaled_up = up * scale``, clipped to [-6, 6] when the activation
is relu6). :data:`CHANGES` lists every edit that makes them run on TF 2.21; the text that runs
is exactly the original with those replacements (:func:`ported_source`), compiled and executed in
a ``tf.compat.v1`` graph of its own, with facenet's arg_scope (BatchNorm decay 0.995, epsilon
0.001, ``updates_collections=None``) and ``is_training=False``.

The one change that is not in the text is :func:`ops_tensor_shim`: tf-slim 1.1.0's
``batch_norm`` reads ``tensorflow.python.framework.ops.Tensor``, which TF 2.21 moved to
``tensorflow.python.framework.tensor.Tensor``. The shim puts the old name back only while the
graph is being built and removes it afterwards.
"""

from __future__ import annotations

import difflib
import linecache
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import tensorflow as tf
import tf_slim as slim

from ..core.block_tables import (
    CONVS_BY_BLOCK,
    IN_CHANNELS_BY_BLOCK,
    SLIM_BLOCK_SCOPE,
    TRACE_NAMES_BY_BLOCK,
    check_block_kind,
)
from ..core.inputs import check_block_input
from ..core.schedule import REAL_SCALES
from ..core.spec import UP_SCOPE
from ..core.validate import check_activation, check_positive_int, check_scale, check_variant
from ..core.weight_tables import _seeded_weights, check_weights
from .legacy_sources import CHANGES, ORIGINALS, ORIGINALS_BY_BLOCK, SOURCES, Change  # noqa: F401

SHIM_WHY = ("tf-slim 1.1.0's batch_norm checks isinstance(x, ops.Tensor); TF 2.21 moved the "
            "class to tensorflow.python.framework.tensor.Tensor and dropped the ops alias. "
            "ops_tensor_shim() restores the alias while the graph is built, then removes it.")


def changes_for(variant: str, block: str = "block35") -> tuple[Change, ...]:
    """The text changes that apply to one variant's snippet of one block kind, in order."""
    return _changes(check_variant(variant), check_block_kind(block))


def _changes(variant: str, block: str) -> tuple[Change, ...]:
    """:func:`changes_for` of a checked variant and block kind (the private helpers below
    trust their callers: each public function checks its arguments once, at its entry)."""
    return tuple(c for c in CHANGES if c.variant in (variant, "both") and block in c.blocks)


def ported_source(variant: str, upto: int | None = None, block: str = "block35") -> str:
    """The original text with the first ``upto`` changes applied (all when None)."""
    return _ported(check_variant(variant), upto, check_block_kind(block))


def _ported(variant: str, upto: int | None, block: str) -> str:
    text = ORIGINALS_BY_BLOCK[block][variant]
    for change in _changes(variant, block)[:upto]:
        if change.old not in text:
            raise RuntimeError(f"change {change.old!r} does not occur in the {variant} "
                               f"{block} snippet")
        text = text.replace(change.old, change.new)
    return text


@contextmanager
def ops_tensor_shim() -> Iterator[bool]:
    """Make ``tensorflow.python.framework.ops.Tensor`` exist for the duration of the block.

    Yields True if it added the alias (and removes it again on exit, even on error), False if
    the alias was already there (then nothing is touched).
    """
    from tensorflow.python.framework import ops
    from tensorflow.python.framework import tensor as tensor_lib

    if "Tensor" in vars(ops):
        yield False
        return
    ops.Tensor = tensor_lib.Tensor
    try:
        yield True
    finally:
        if vars(ops).get("Tensor") is tensor_lib.Tensor:
            del ops.Tensor


def source_diff(variant: str, block: str = "block35") -> str:
    """A unified diff: the original TF1 text -> the text that runs on TF 2.21."""
    variant = check_variant(variant)
    block = check_block_kind(block)
    return "".join(difflib.unified_diff(
        ORIGINALS_BY_BLOCK[block][variant].splitlines(True),
        _ported(variant, None, block).splitlines(True),
        fromfile=f"{SOURCES[variant]} {block} (TF1)", tofile="ported (TF 2.21 + tf_slim 1.1.0)"))


def load_block35(variant: str, upto: int | None = None, block: str = "block35"):
    """Compile and execute the (ported) snippet; returns its ``block35`` function (or, with
    ``block="block17"`` / ``"block8"``, that function).

    With ``upto`` smaller than the number of changes, the text is only partly ported and
    executing or calling it raises the error TF 2.21 gives for the remaining TF1 code.
    """
    return _load(check_variant(variant), upto, check_block_kind(block))


def _load(variant: str, upto: int | None, block: str):
    text = _ported(variant, upto, block)
    filename = f"<{block} {variant}: {SOURCES[variant]}, ported>"
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    namespace: dict = {"__name__": f"explainer.ports.legacy.{block}_{variant}"}
    exec(compile(text, filename, "exec"), namespace)  # the snippet itself, as written
    return namespace[block]


@contextmanager
def facenet_arg_scope() -> Iterator[None]:
    """facenet's ``inference()`` arg_scope in TF2 spelling, at inference (is_training=False)."""
    batch_norm_params = {
        "decay": 0.995,
        "epsilon": 0.001,
        "updates_collections": None,  # in-place updates: the path that runs on TF 2.21
        "variables_collections": [tf.compat.v1.GraphKeys.TRAINABLE_VARIABLES],
    }
    logger = tf.get_logger()  # weight_decay 0.0: tf-slim logs "Scale of 0 disables regularizer"
    level = logger.level
    logger.setLevel("WARNING")
    try:
        regularizer = slim.l2_regularizer(0.0)  # facenet's default weight_decay
    finally:
        logger.setLevel(level)
    with slim.arg_scope([slim.conv2d],
                        weights_initializer=tf.compat.v1.truncated_normal_initializer(stddev=0.1),
                        weights_regularizer=regularizer,
                        normalizer_fn=slim.batch_norm, normalizer_params=batch_norm_params):
        with slim.arg_scope([slim.batch_norm, slim.dropout], is_training=False):
            with slim.arg_scope([slim.conv2d, slim.max_pool2d, slim.avg_pool2d],
                                stride=1, padding="SAME"):
                yield


ACTIVATION_FNS = {"relu": tf.nn.relu, "relu6": tf.nn.relu6, None: None}


@dataclass
class SlimRun:
    """One run of the original slim graph: named outputs and slim-named variables."""

    variant: str
    scale: float
    activation: str | None
    seed: int
    outputs: dict[str, np.ndarray] = field(repr=False)
    variables: dict[str, np.ndarray] = field(repr=False)
    graph_names: dict[str, str]  # trace name -> tensor name in the slim graph
    source: str = field(repr=False)  # the text that ran
    block: str = "block35"

    @property
    def net_out(self) -> np.ndarray:
        return self.outputs["net_out"]


def _named_tensors(graph, net, out, block: str, variant: str) -> dict:
    """Trace name -> graph tensor, found by walking back from the block's output."""
    scope = out.name.split("/")[0]
    found = {"net": net}
    for conv in CONVS_BY_BLOCK[block][variant]:
        found[conv.name] = graph.get_tensor_by_name(f"{scope}/{conv.scope}/Relu:0")
    up = graph.get_tensor_by_name(f"{scope}/{UP_SCOPE}/BiasAdd:0")
    found["mixed"] = up.op.inputs[0].op.inputs[0]  # BiasAdd <- Conv2D <- concat
    net_sum = out.op.inputs[0] if out.op.type in ("Relu", "Relu6") else out
    found.update(up=up, scaled_up=net_sum.op.inputs[1], net_sum=net_sum, net_out=out)
    return {name: found[name] for name in TRACE_NAMES_BY_BLOCK[block]}


def run_slim_block35(x, variant: str = "v1", scale: float | None = None,
                     activation: str | None = "relu", seed: int = 0,
                     weights: dict | None = None, block: str = "block35") -> SlimRun:
    """Run the original snippet in a ``tf.compat.v1`` graph and Session of its own.

    Args:
        x: block input (N, H, W, 256 for v1 / 320 for v2; block17 896 / 1088, block8
            1792 / 2080), numpy or tf.Tensor.
        variant: "v1" (facenet, no clip) or "v2" (tf-models, clips ``scale * up`` for relu6).
        scale: the residual scale passed to ``block35``; None (the default): the block's
            own in the real nets (block35 0.17, block17 0.1, block8 0.2).
        activation: "relu", "relu6" or None, passed as ``activation_fn``.
        seed: weights are ``explainer.core.weight_tables.seeded_weights(variant, seed)``:
            Xavier kernels, non-trivial BatchNorm beta / moving mean / moving variance and biases.
        weights: optional ``{slim name: array}`` to use instead of the seeded ones.
        block: "block35" (default), "block17" or "block8": which original function runs.

    Returns a :class:`SlimRun` whose ``.outputs`` hold every named tensor of the snippet
    (``net``, ``tower_conv`` ... ``net_out``) and ``.variables`` the values the graph held.
    """
    variant = check_variant(variant)
    block = check_block_kind(block)
    scale = check_scale(REAL_SCALES[block] if scale is None else scale)
    activation = check_activation(activation)
    seed = check_positive_int("seed", seed, minimum=0)
    cin = IN_CHANNELS_BY_BLOCK[block][variant]
    x = check_block_input(x, cin)
    weights = (_seeded_weights(variant, seed, block) if weights is None
               else check_weights(weights, variant, block))  # the checks of set_block_weights
    expected = {n: w.shape for n, w in weights.items()}
    block_fn = _load(variant, None, block)
    graph = tf.Graph()
    with graph.as_default(), ops_tensor_shim(), facenet_arg_scope(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*layer.apply.*is deprecated")
        net = tf.compat.v1.placeholder(tf.float32, [None, None, None, cin], name="net")
        out = block_fn(net, scale=scale, activation_fn=ACTIVATION_FNS[activation])
        tensors = _named_tensors(graph, net, out, block, variant)
        prefix = f"{SLIM_BLOCK_SCOPE[block]}/"
        variables = {v.name[len(prefix):-len(":0")]: v
                     for v in tf.compat.v1.global_variables()}
        if set(variables) != set(expected):
            raise RuntimeError(f"slim graph variables {sorted(variables)} are not the expected "
                               f"{sorted(expected)}")
        feeds = {name: tf.compat.v1.placeholder(tf.float32, expected[name]) for name in expected}
        assigns = [tf.compat.v1.assign(variables[n], feeds[n]) for n in expected]
        init = tf.compat.v1.global_variables_initializer()
    with tf.compat.v1.Session(graph=graph) as sess:
        sess.run(init)
        sess.run(assigns, {feeds[n]: np.asarray(weights[n], np.float32) for n in expected})
        held = sess.run({n: variables[n] for n in expected})
        values = sess.run(tensors, {net: x})
    return SlimRun(variant=variant, scale=scale, activation=activation, seed=seed,
                   outputs={n: values[n] for n in TRACE_NAMES_BY_BLOCK[block]},
                   variables={n: held[n] for n in expected},
                   graph_names={n: t.name for n, t in tensors.items()},
                   source=_ported(variant, None, block), block=block)
