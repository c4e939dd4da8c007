"""Weights across implementations: slim graph <-> our Keras block <-> keras.applications.

Every port is by slim variable name (``Branch_1/Conv2d_0b_3x3/BatchNorm/moving_mean`` ...), the
names :func:`explainer.core.weights.block_weights` uses, and every port comes with a measured
comparison of outputs. PyTorch and Deeplearning4j live in :mod:`.torch_port` and
:mod:`.dl4j_port`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.backend import require_tensorflow
from ..core.block_tables import (
    CONVS_BY_BLOCK,
    KERAS_APPS_COUNTS,
    MIXED_FROM_BY_BLOCK,
    REAL_SIZES,
    check_block_kind,
)
from ..core.blocks import build_block
from ..core.lesson import sample_input
from ..core.spec import UP_SCOPE
from ..core.tracing import forward, trace
from ..core.validate import check_positive_int, check_variant
from ..core.weight_tables import BN_PARTS, weight_shapes
from ..core.weights import block_weights, set_block_weights
from .check import PortCheck, max_abs

KERAS_APPS_BLOCKS = KERAS_APPS_COUNTS["block35"]  # InceptionResNetV2 has block35_1 ... _10


# ---------------------------------------------------------------- slim <-> ours
def from_slim(variables: dict, variant: str = "v1", scale: float | None = None,
              activation: str | None = "relu", block: str = "block35"):
    """Our Keras block holding the slim graph's variables (``SlimRun.variables``).

    ``scale`` and ``activation`` are arguments of ``block35(...)``, not variables, so they are
    passed here (``scale=None``: the block's own in the real nets). Raises ValueError naming any
    missing, extra or misshapen variable. ``build_block`` and ``set_block_weights`` check the
    arguments (once: this function adds only the type of ``variables``).
    """
    if not isinstance(variables, dict):
        raise TypeError(f"variables: got {type(variables).__name__}; expected a dict of slim "
                        "variable names to arrays, such as run_slim_block35(...).variables")
    # scale=None: build_block's "the block's own in the real nets", as run_slim_block35's
    model = build_block(block, variant, scale=scale, activation=activation, seed=0)
    set_block_weights(model, variables)
    return model


def _slim_and_ours(x, variant, scale, activation, seed, block):
    from .legacy import run_slim_block35

    variant = check_variant(variant)
    block = check_block_kind(block)
    x = sample_input(variant, batch=2, size=9, seed=1, block=block) if x is None else x
    run = run_slim_block35(x, variant, scale, activation, seed, block=block)
    return run, trace(from_slim(run.variables, variant, run.scale, activation, block), x)


def compare_slim(x=None, variant: str = "v1", scale: float | None = None,
                 activation: str | None = "relu", seed: int = 0,
                 block: str = "block35") -> PortCheck:
    """Run the original slim graph, port its variables with :func:`from_slim`, compare all
    named tensors. Our block clips ``scale * up`` for relu6 in both variants; facenet's v1 slim
    code does not, so for v1 + relu6 the difference is real wherever the clip bites."""
    run, ours = _slim_and_ours(x, variant, scale, activation, seed, block)
    check = PortCheck(f"slim {run.block} {run.variant} (original code)", "ours (Keras 3)",
                      {n: max_abs(run.outputs[n], ours[n].value) for n in ours.names})
    if run.variant == "v1" and run.activation == "relu6":
        clipped = int(np.sum(np.abs(run.scale * run.outputs["up"]) > 6.0))
        check.notes.append(f"facenet v1 has no relu6 clip, ours has: |scale*up| > 6 at "
                           f"{clipped} of {run.outputs['up'].size} values")
    return check


def slim_side_by_side(x=None, variant: str = "v1", scale: float | None = None,
                      activation: str | None = "relu", seed: int = 0,
                      block: str = "block35") -> str:
    """A table: each named tensor in the slim graph and in our block, their means, and the
    max abs difference between them."""
    run, ours = _slim_and_ours(x, variant, scale, activation, seed, block)
    head = (f"{'tensor':<14}{'slim graph tensor':<40}{'ours (scope / op)':<24}"
            f"{'slim mean':>11}{'ours mean':>11}{'max|diff|':>11}")
    lines = [head, "-" * len(head)]
    for name in ours.names:
        a, b = run.outputs[name], ours[name].value
        lines.append(f"{name:<14}{run.graph_names[name]:<40}{ours[name].scope:<24}"
                     f"{a.mean():>11.5f}{b.mean():>11.5f}{max_abs(a, b):>11.2e}")
    return "\n".join(lines)


# ------------------------------------------------------- keras.applications <-> ours
@dataclass
class KerasAppsBlock:
    """Where ``{block}_{index}`` of a keras.applications InceptionResNetV2 keeps its parts."""

    index: int
    scale: float
    activation: str | None
    variables: dict  # slim name -> the Keras variable
    layer_names: dict[str, str]  # slim scope -> Keras layer name (auto names for branches)
    block_input: object  # the KerasTensor the block reads
    block_output: object  # the KerasTensor it returns ({block}_{index}_ac, or the scaled add)
    block: str = "block35"

    def __str__(self) -> str:
        lines = [f"{self.block}_{self.index}: scale {self.scale}, activation {self.activation}",
                 "  slim scope               <- Keras layer(s)"]
        return "\n".join(lines + [f"  {k:<24} <- {v}" for k, v in self.layer_names.items()])

    def submodel(self):
        """The one block as a Keras model (its input -> its output)."""
        import keras

        return keras.Model(self.block_input, self.block_output,
                           name=f"keras_apps_{self.block}_{self.index}")


def _op(tensor):
    return tensor._keras_history.operation


def _branch_chains(block: str) -> dict[str, list[str]]:
    """Branch output -> the convs from the block input to it, in order."""
    convs = {c.name: c for c in CONVS_BY_BLOCK[block]["v2"]}
    chains = {}
    for last in MIXED_FROM_BY_BLOCK[block]:
        chain, name = [], last
        while name != "net":
            chain.insert(0, name)
            name = convs[name].source
        chains[last] = chain
    return chains


def keras_apps_block(model, index: int, block: str = "block35") -> KerasAppsBlock:
    """Find the layers of ``{block}_{index}`` by following the graph, never by name prefix.

    Only the layers ``_mixed``, ``_conv`` and ``_ac`` carry the block's name (the final
    ``block8_10`` has no ``_ac``: it runs without activation); the branch convolutions and the
    ``CustomScaleLayer`` have auto names. Looking them up by exact name and walking back avoids
    the ``block35_1`` / ``block35_10`` prefix trap.
    """
    require_tensorflow("keras_apps_block (keras.applications' InceptionResNetV2, as ported here)")
    block = check_block_kind(block)
    index = check_index(index, block)
    name = f"{block}_{index}"
    names = {layer.name for layer in getattr(model, "layers", [])}
    if f"{name}_mixed" not in names:
        raise ValueError(f"model: got {getattr(model, 'name', type(model).__name__)!r} without "
                         f"a layer '{name}_mixed'; expected keras.applications."
                         "InceptionResNetV2(weights=None)")
    mixed, up = model.get_layer(f"{name}_mixed"), model.get_layer(f"{name}_conv")
    # the scaled add is the one layer reading `up`; the activation, if any, reads the add
    add = next((layer for layer in model.layers if type(layer).__name__ == "CustomScaleLayer"
                and any(_op(t) is up for t in layer.input)), None)
    if add is None:
        raise ValueError(f"model: nothing reads {name}_conv as a CustomScaleLayer (Keras 3's "
                         "name for the scaled add)")
    ac = model.get_layer(f"{name}_ac") if f"{name}_ac" in names else None
    if ac is not None and _op(ac.input) is not add:
        raise ValueError(f"model: {name}_ac does not read {name}'s CustomScaleLayer")
    block_input, up_out = add.input
    if _op(up_out) is not up or _op(up.input) is not mixed:
        raise ValueError(f"model: {name} is not wired mixed -> conv -> scaled add")
    found: dict = {}
    layers: dict[str, str] = {}
    convs = {c.name: c for c in CONVS_BY_BLOCK[block]["v2"]}
    for branch_out, chain in zip(mixed.input, _branch_chains(block).values(), strict=True):
        tensor = branch_out
        for conv_name in reversed(chain):
            act, bn = _op(tensor), _op(_op(tensor).input)
            conv = _op(bn.input)
            scope = convs[conv_name].scope
            if tuple(conv.kernel.shape)[:2] != convs[conv_name].kernel or \
                    conv.filters != convs[conv_name].filters:
                raise ValueError(f"model: {conv.name} does not look like slim {scope}")
            found[f"{scope}/weights"] = conv.kernel
            for part in BN_PARTS:
                found[f"{scope}/BatchNorm/{part}"] = getattr(bn, part)
            layers[scope] = f"{conv.name} -> {bn.name} -> {act.name}"
            tensor = conv.input
        if tensor is not block_input:
            raise ValueError(f"model: branch ending in {_op(branch_out).name} does not start "
                             "at the block input")
    found[f"{UP_SCOPE}/weights"], found[f"{UP_SCOPE}/biases"] = up.kernel, up.bias
    layers = {c.scope: layers[c.scope] for c in convs.values()} | {UP_SCOPE: up.name}
    layers["scale"] = f"{add.name} (CustomScaleLayer, scale={add.scale})"
    activation = None if ac is None else getattr(ac.activation, "__name__", None)
    return KerasAppsBlock(index=index, scale=float(add.scale),
                          activation=None if activation == "linear" else activation,
                          variables={n: found[n] for n in weight_shapes("v2", block)},
                          layer_names=layers, block_input=block_input,
                          block_output=add.output if ac is None else ac.output, block=block)


def from_keras_applications(model, index: int, block: str = "block35"):
    """Our v2 block holding the weights, scale and activation of ``{block}_{index}`` of
    ``keras.applications.InceptionResNetV2`` (build it with ``weights=None``: offline)."""
    found = keras_apps_block(model, index, block)
    ours = build_block(found.block, "v2", scale=found.scale, activation=found.activation, seed=0)
    set_block_weights(ours, {n: v.numpy() for n, v in found.variables.items()})
    return ours


def to_keras_applications(weights: dict, model, index: int, block: str = "block35") -> None:
    """Load ``{slim name: array}`` (e.g. ``block_weights(our_v2_block)``) into
    ``{block}_{index}`` of a keras.applications InceptionResNetV2, in place; the inverse of the
    port above."""
    found = keras_apps_block(model, index, block)
    if not isinstance(weights, dict) or set(weights) != set(found.variables):
        got = sorted(weights) if isinstance(weights, dict) else type(weights).__name__
        raise ValueError(f"weights: got {got}; expected exactly the v2 {found.block} slim names "
                         f"{sorted(found.variables)}")
    for name, var in found.variables.items():
        value = np.asarray(weights[name], np.float32)
        if value.shape != tuple(var.shape):
            raise ValueError(f"weights[{name!r}]: got shape {value.shape}; "
                             f"expected {tuple(var.shape)}")
        var.assign(value)


def compare_keras_applications(model, index: int, x=None, block: str = "block35") -> PortCheck:
    """Port ``{block}_{index}`` to our block and compare outputs on the same input."""
    found = keras_apps_block(model, index, block)
    x = sample_input("v2", batch=1, size=REAL_SIZES[found.block], seed=index,
                     block=found.block) if x is None else x
    theirs = np.asarray(found.submodel()(np.asarray(x, np.float32), training=False))
    ours_block = from_keras_applications(model, index, found.block)
    ours = forward(ours_block, x)
    held = block_weights(ours_block)
    copied = all(np.array_equal(v.numpy(), held[n]) for n, v in found.variables.items())
    return PortCheck(f"keras.applications {found.block}_{index}", f"ours ({found.block} v2)",
                     {"net_out": max_abs(theirs, ours)},
                     [f"scale {found.scale}, activation {found.activation}, "
                      f"weights copied exactly: {copied}"])


def check_index(index: object, block: str = "block35") -> int:
    """1..10 for block35 and block8, 1..20 for block17 (a ValueError / TypeError otherwise)."""
    index = check_positive_int("index", index)
    count = KERAS_APPS_COUNTS[check_block_kind(block)]
    if index > count:
        raise ValueError(f"index: got {index}; expected 1..{count} "
                         f"(InceptionResNetV2 has {block}_1 ... {block}_{count})")
    return index
