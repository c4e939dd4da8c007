"""The ops of a traced ``tf.function``: what ``scale * up`` and the whole block become.

:func:`graph_ops` traces a function (or a Keras model) and lists its graph's ops in order,
with the plumbing (placeholders, identities, constants, variable reads) separable from the
computation.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, replace

import tensorflow as tf

from ..broadcasting.shapes import count_text
from ..core.backend import require_tensorflow
from ..core.schedule import BLOCK35_SCALE
from ..core.spec import UP_SCOPE, keras_name
from ..core.validate import check_positive_int, check_scale, given, shorten

MAX_RANK = 64  # TensorSpec takes more, but no tensor of numpy's has more dimensions

# Ops that name, feed or read data without computing on it.
PLUMBING_OPS = frozenset({"Placeholder", "Identity", "NoOp", "Const", "ReadVariableOp"})


@dataclass
class GraphOps:
    """The ops of a traced ``tf.function`` graph, in graph order, as (name, type) pairs.

    ``layer_order`` (set for a block by :func:`block_ops`) is the snippet's order of its
    layers: :meth:`by_layer` then lists them in that order, not TensorFlow's graph order."""

    ops: tuple[tuple[str, str], ...]
    layer_order: tuple[str, ...] = ()

    @property
    def types(self) -> tuple[str, ...]:
        return tuple(t for _, t in self.ops)

    @property
    def compute_types(self) -> tuple[str, ...]:
        """Op types without the plumbing (Placeholder, Identity, NoOp, Const, ReadVariableOp)."""
        return tuple(t for _, t in self.ops if t not in PLUMBING_OPS)

    @property
    def plumbing_types(self) -> tuple[str, ...]:
        return tuple(t for _, t in self.ops if t in PLUMBING_OPS)

    def by_layer(self) -> list[tuple[str, tuple[str, ...]]]:
        """Compute op types grouped by the layer (name scope) that emitted them: in the
        snippet's order when :attr:`layer_order` is set (each layer once, its ops in graph
        order), else in graph order.

        A Keras model's ops are named ``model/layer_1/op``; the layer is ``layer``.
        """
        groups: list[tuple[str, list[str]]] = []
        for name, op_type in self.ops:
            if op_type in PLUMBING_OPS:
                continue
            parts = name.split("/")
            layer = re.sub(r"_\d+$", "", parts[1] if len(parts) > 2 else
                           parts[0] if len(parts) == 2 else "")
            if not groups or groups[-1][0] != layer:
                groups.append((layer, []))
            groups[-1][1].append(op_type)
        if not self.layer_order:
            return [(layer, tuple(types)) for layer, types in groups]
        merged: dict[str, list[str]] = {}
        for layer, types in groups:
            merged.setdefault(layer, []).extend(types)
        rank = {layer: i for i, layer in enumerate(self.layer_order)}
        ordered = sorted(merged, key=lambda layer: rank.get(layer, len(rank)))
        return [(layer, tuple(merged[layer])) for layer in ordered]

    def __str__(self) -> str:
        return " -> ".join(self.compute_types)


def graph_ops(fn: Callable, *example_args) -> GraphOps:
    """Trace ``fn`` (a Python function, ``tf.function`` or Keras model) on ``example_args``
    (arrays, tensors or ``tf.TensorSpec``) and return its graph's ops in order."""
    if not callable(fn):
        raise TypeError(f"fn: got {type(fn).__name__}; expected a function of tensors")
    if not example_args:
        raise ValueError("example_args: got none; expected at least one example input")
    if hasattr(fn, "get_concrete_function"):
        traced = fn
    elif hasattr(fn, "layers") and hasattr(fn, "inputs"):  # a Keras model
        traced = tf.function(lambda *t: fn(*t, training=False))
    else:
        traced = tf.function(fn)
    specs = [a if isinstance(a, tf.TensorSpec) else tf.TensorSpec.from_tensor(
        tf.convert_to_tensor(a)) for a in example_args]
    graph = traced.get_concrete_function(*specs).graph
    return GraphOps(tuple((op.name, op.type) for op in graph.get_operations()))


def last_line_ops(scale: float = BLOCK35_SCALE,
                  shape: tuple[int, ...] = (1, 35, 35, 256)) -> GraphOps:
    """The graph of ``net = relu(net + scale * up)``, the block's last line, in a tf.function."""
    scale = check_scale(scale)
    if isinstance(shape, tf.TensorShape) and shape.rank is not None:
        shape = tuple(shape.as_list())
    if not isinstance(shape, (tuple, list)) or len(shape) > MAX_RANK:
        raise TypeError(f"shape: got {given(shape)}; expected a tuple of at most {MAX_RANK} "
                        "sizes (None for unknown) such as (1, 35, 35, 256)")
    shape = [None if d is None else check_positive_int(f"shape[{i}]", d, 0, 2**62)
             for i, d in enumerate(shape)]
    known = math.prod(d for d in shape if d is not None)
    if known > 2**63 - 1:  # TensorFlow's Placeholder refuses it with a raw error
        raise ValueError(f"shape: got {shorten(tuple(shape), 100)}, which spans "
                         f"{count_text(known)} elements; expected at most 2**63 - 1 "
                         "(TensorFlow's limit for a tensor), such as (1, 35, 35, 256)")
    spec = tf.TensorSpec(shape, tf.float32)
    return graph_ops(lambda net, up: tf.nn.relu(net + scale * up), spec, spec)


def block_ops(variant: str = "v1", scale: float = BLOCK35_SCALE, activation: str | None = "relu",
              size: int = 35) -> GraphOps:
    """The graph of a whole block35 (built by :func:`explainer.build_block35`), traced."""
    from ..core.blocks import build_block35

    require_tensorflow("block_ops (the block's Keras model traced by tf.function)")
    size = check_positive_int("size", size)  # before building anything
    block = build_block35(variant, scale=scale, activation=activation)
    spec = block.residual_spec
    traced = graph_ops(block, tf.TensorSpec([1, size, size, spec.in_channels], tf.float32))
    return replace(traced, layer_order=snippet_layers(spec))


def snippet_layers(spec) -> tuple[str, ...]:
    """The block's Keras layers in the order the slim snippet writes them: each branch conv
    with its BatchNorm and ReLU, then mixed, the projection, the scale, the add, the
    activation."""
    convs = [keras_name(c.scope) for c in spec.convs]
    return (*(f"{c}{part}" for c in convs for part in ("", "__BatchNorm", "__Relu")),
            "mixed", keras_name(UP_SCOPE), "scaled_up", "net_sum", "net_out")
