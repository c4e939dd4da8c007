"""TF1 -> TF2 / Keras 3, row by row, each row executed on this machine.

Every row runs the old form (recording the error TF 2.21 really raises, or its result) and the
new form (its result), and says whether the two agree. Nothing here is typed in by hand: the
error texts and numbers are captured when :func:`translation_table` runs.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from ..core.block_tables import IN_CHANNELS_BY_BLOCK, check_block_kind
from ..core.blocks import build_block35
from ..core.lesson import sample_input
from ..core.tracing import trace
from ..core.validate import check_positive_int, check_variant
from .legacy import changes_for, facenet_arg_scope, load_block35, ops_tensor_shim, run_slim_block35


@dataclass
class TranslationRow:
    """One TF1 form, its TF2 / Keras 3 form, what each did here, and whether they agree
    (both ran and gave the same result; an old form that raises never agrees)."""

    old: str
    new: str
    old_result: str
    new_result: str
    agree: bool
    note: str

    @property
    def outcome(self) -> str:
        """What the row found, in words: a form that raised is a failure, not a disagreement."""
        old_failed = "Error" in self.old_result.split(":")[0]
        new_failed = "Error" in self.new_result.split(":")[0]
        if self.agree:
            return "same result"
        if old_failed and not new_failed:
            return "the TF1 form fails on TF 2.21; the new form runs"
        if new_failed:
            return "the new form fails"
        return "both run, with different results"

    def as_dict(self) -> dict:
        return {**vars(self), "outcome": self.outcome}


def _outcome(fn: Callable[[], object]) -> tuple[bool, str]:
    """(ran, text): the result's text, or the error's first line as TF 2.21 raised it."""
    try:
        return True, str(fn())
    except Exception as err:  # noqa: BLE001 - the error is the result being shown
        line = traceback.format_exception_only(type(err), err)[-1].strip()
        return False, line.splitlines()[0]


def _row(old: str, new: str, old_fn, new_fn, note: str) -> TranslationRow:
    old_ran, old_text = _outcome(old_fn)
    new_ran, new_text = _outcome(new_fn)
    return TranslationRow(old, new, old_text, new_text, old_ran and new_ran and
                          old_text == new_text, note)


def _in_graph(fn):
    def run():
        with tf.Graph().as_default():
            return fn()
    return run


def _slim_batch_norm():
    import tf_slim as slim

    x = tf.compat.v1.placeholder(tf.float32, [None, 5, 5, 8])
    return slim.batch_norm(x, decay=0.995, epsilon=0.001, updates_collections=None,
                           is_training=False).name


def _shimmed_batch_norm():
    with ops_tensor_shim():
        return _slim_batch_norm()


def _compare(a: np.ndarray, b: np.ndarray) -> tuple[str, str, bool]:
    """Agreement within float32 rounding: 1e-5 relative to the largest value (at least 1)."""
    diff = float(np.max(np.abs(a.astype(np.float64) - b)))
    tol = 1e-5 * max(1.0, float(np.max(np.abs(a))))
    return (f"mean {a.mean():.6f}", f"mean {b.mean():.6f}, max |diff| {diff:.2e} "
            f"(tolerance {tol:.1e})", diff <= tol)


def _numeric_row(old, new, a, b, note) -> TranslationRow:
    old_text, new_text, agree = _compare(a, b)
    return TranslationRow(old, new, old_text, new_text, agree, note)


def translation_table(seed: int = 0) -> list[TranslationRow]:
    """Execute every row now: API renames first, then the block's own pieces compared between
    the original slim graph and our Keras 3 block (same seeded weights, same input)."""
    seed = check_positive_int("seed", seed, minimum=0)
    a = tf.ones([1, 2, 2, 3])
    rows = [
        _row("import tensorflow.contrib.slim as slim", "import tf_slim as slim",
             lambda: importlib.import_module("tensorflow.contrib.slim"),
             lambda: f"module tf_slim {importlib.metadata.version('tf-slim')}",
             "tf.contrib is gone in TF 2; tf-slim 1.1.0 is the same code as a package"),
        _row("tf.variable_scope('Branch_0')", "tf.compat.v1.variable_scope('Branch_0')",
             _in_graph(lambda: tf.variable_scope("Branch_0")),
             _in_graph(lambda: _scoped_variable_name()),
             "TF1 variable scopes live on under tf.compat.v1 (graph mode)"),
        _row("tf.concat(3, [a, a])", "tf.concat([a, a], 3)",
             lambda: tf.concat(3, [a, a]).shape, lambda: tf.concat([a, a], 3).shape,
             "TF 1.0 put values first and axis second"),
        _row("tf.GraphKeys.TRAINABLE_VARIABLES", "tf.compat.v1.GraphKeys.TRAINABLE_VARIABLES",
             lambda: tf.GraphKeys.TRAINABLE_VARIABLES,
             lambda: tf.compat.v1.GraphKeys.TRAINABLE_VARIABLES,
             "facenet's arg_scope puts the moving statistics into this collection"),
        _row("tf.truncated_normal_initializer(stddev=0.1)",
             "tf.compat.v1.truncated_normal_initializer(stddev=0.1)",
             lambda: type(tf.truncated_normal_initializer(stddev=0.1)).__name__,
             lambda: type(tf.compat.v1.truncated_normal_initializer(stddev=0.1)).__name__,
             "facenet's weights_initializer; irrelevant once weights are loaded"),
        _row("tf.placeholder(tf.float32, [None, 35, 35, 256])",
             "tf.compat.v1.placeholder(tf.float32, [None, 35, 35, 256])",
             _in_graph(lambda: tf.placeholder(tf.float32, [None, 35, 35, 256]).shape),
             _in_graph(lambda: tf.compat.v1.placeholder(tf.float32, [None, 35, 35, 256]).shape),
             "graph inputs; eager TF 2 and Keras 3 use keras.Input or plain arrays"),
        _row("slim.batch_norm(x, ...)  # on TF 2.21",
             "with ops_tensor_shim(): slim.batch_norm(x, ...)",
             _in_graph(_slim_batch_norm), _in_graph(_shimmed_batch_norm),
             "tf-slim 1.1.0 reads ops.Tensor, which TF 2.21 no longer has; the shim restores it "
             "only while the graph is built"),
        _row("tf.Session()", "tf.compat.v1.Session(graph=g)",
             lambda: tf.Session(), lambda: _session_result(),
             "TF1 graphs run in a Session; give it its own graph so eager Keras is untouched"),
    ]
    return rows + _block_rows(seed)


def _scoped_variable_name() -> str:
    with tf.compat.v1.variable_scope("Branch_0"):
        return tf.compat.v1.get_variable("w", [1]).name


def _session_result() -> str:
    graph = tf.Graph()
    with graph.as_default():
        c = tf.constant(0.17) * tf.constant(2.0)
    with tf.compat.v1.Session(graph=graph) as sess:
        return f"{sess.run(c):.2f}"


def _block_rows(seed: int) -> list[TranslationRow]:
    x = sample_input("v1", batch=2, size=9, seed=seed + 1)
    slim_v1 = run_slim_block35(x, "v1", 0.17, "relu", seed)
    ours_v1 = trace(build_block35("v1", 0.17, "relu", seed=seed), x)
    rows = [
        _numeric_row("slim.conv2d(net, 32, 1) with normalizer_fn=slim.batch_norm "
                     "(decay=0.995, epsilon=0.001, no gamma)",
                     "Conv2D(32, 1, use_bias=False) -> BatchNormalization(momentum=0.995, "
                     "epsilon=0.001, scale=False) -> ReLU",
                     slim_v1.outputs["tower_conv"], ours_v1["tower_conv"].value,
                     "tower_conv, same weights; slim's decay is Keras' momentum"),
        _numeric_row("tf.concat(axis=3, values=[tower_conv, tower_conv1_1, tower_conv2_2])",
                     "keras.layers.Concatenate(axis=3)", slim_v1.outputs["mixed"],
                     ours_v1["mixed"].value, "mixed"),
        _numeric_row("slim.conv2d(mixed, net.get_shape()[3], 1, normalizer_fn=None, "
                     "activation_fn=None)", "Conv2D(C, 1, use_bias=True)",
                     slim_v1.outputs["up"], ours_v1["up"].value,
                     "up: the projection has a bias and no BatchNorm"),
        _numeric_row("net += scale * up; net = tf.nn.relu(net)",
                     "Add()([net, ScaledResidual(scale)(up)]) -> Activation('relu')",
                     slim_v1.net_out, ours_v1["net_out"].value,
                     "net_out: the line the explainer is about"),
    ]
    # relu6: facenet's v1 text has no clip, ours clips scale*up to [-6, 6] (tf-models' v2 does)
    x_big, scale = 4.0 * x, 20.0
    v1_slim = run_slim_block35(x_big, "v1", scale, "relu6", seed)
    v1_ours = trace(build_block35("v1", scale, "relu6", seed=seed), x_big)
    old, new, _ = _compare(v1_slim.outputs["scaled_up"], v1_ours["scaled_up"].value)
    net_diff = float(np.max(np.abs(v1_slim.net_out - v1_ours["net_out"].value)))
    bites = int(np.sum(np.abs(v1_slim.outputs["scaled_up"]) > 6.0))
    rows.append(TranslationRow(
        f"facenet v1, relu6, scale {scale:g}: net += scale * up (no clip)",
        "ours v1, relu6: clip_by_value(scale * up, -6, 6) before the add",
        f"scaled_up {old}", f"scaled_up {new}; net_out max |diff| {net_diff:.2e}",
        False, f"the clip bites at {bites} of {v1_slim.net_out.size} values (input x4); after "
        "relu6 the outputs differ only where net > 6 and scale*up < -6"))
    v2_x = sample_input("v2", batch=2, size=9, seed=seed + 1) * 4.0
    v2_slim = run_slim_block35(v2_x, "v2", scale, "relu6", seed)
    v2_ours = trace(build_block35("v2", scale, "relu6", seed=seed), v2_x)
    rows.append(_numeric_row(
        f"tf-models v2, relu6, scale {scale:g}: scaled_up = up * scale; clip_by_value(-6, 6)",
        "ours v2, relu6: ScaledResidual(scale, clip=True)", v2_slim.outputs["scaled_up"],
        v2_ours["scaled_up"].value, "both clip: they agree"))
    return rows


def table_text(rows: list[TranslationRow]) -> str:
    """The rows as plain text, one block per row."""
    out = []
    for i, r in enumerate(rows, 1):
        out += [f"{i}. TF1:  {r.old}", f"   now:  {r.new}", f"   TF1 here -> {r.old_result}",
                f"   now here -> {r.new_result}", f"   outcome: {r.outcome}   ({r.note})", ""]
    return "\n".join(out)


def original_errors(variant: str, block: str = "block35") -> list[tuple[str, str]]:
    """Run the snippet with 0, 1, 2 ... of its changes applied; the error each stage gives.

    Returns ``[(change applied last, "ErrorType: message")]``; the final stage (every change
    applied) runs and is reported as "runs". Shows that each listed change is needed.
    ``block`` picks the original block35 (default), block17 or block8 text.
    """
    variant = check_variant(variant)
    block = check_block_kind(block)
    stages = []
    changes = changes_for(variant, block)
    for upto in range(len(changes) + 1):
        label = "original text" if upto == 0 else f"after: {changes[upto - 1].new}"
        graph = tf.Graph()
        try:
            with graph.as_default(), ops_tensor_shim(), facenet_arg_scope(), \
                    warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=".*layer.apply.*is deprecated")
                fn = load_block35(variant, upto, block)
                net = tf.compat.v1.placeholder(
                    tf.float32, [None, 5, 5, IN_CHANNELS_BY_BLOCK[block][variant]])
                fn(net, scale=0.17)
            stages.append((label, "runs"))
        except Exception as err:  # noqa: BLE001 - the point is to show TF's own error
            stages.append((label, f"{type(err).__name__}: {str(err).splitlines()[0]}"))
    return stages


def stages_text(variant: str, block: str = "block35") -> str:
    """:func:`original_errors` as text: one line per stage, what ran and what it raised."""
    return "\n".join(f"{stage:<66} -> {outcome}"
                     for stage, outcome in original_errors(variant, block))
