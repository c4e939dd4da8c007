"""A block as ONNX, run by onnxruntime and compared with our Keras output.

ONNX is the format that Deeplearning4j's SameDiff, OpenVINO, TensorRT and onnxruntime-web
import, so it is the route we can check here for the runtimes we cannot run (no JVM, no GPU
toolchains). :func:`to_onnx` writes the block with Keras 3's own exporter
(``model.export(path, format="onnx")``, which uses tf2onnx), runs the file with onnxruntime on
the same input, and reports what the exporter made of the block: the op sequence, the ``Mul``
that carries the scale (a scalar constant, 0.17 for the lesson's block) and how far
onnxruntime's output is from ours.

What the exporter does, read from the graph rather than assumed: each conv -> BatchNorm pair
becomes one ``Conv`` (inference BatchNorm is an affine map per channel, folded into the
kernel and a bias), while ``scale * up`` stays a separate ``Mul`` after the projection's
``Conv``: the scale is not folded into the projection, although it could be (see
:func:`explainer.fold_scale`). At scale 1 the optimiser drops the ``Mul`` altogether.

onnx, onnxruntime and tf2onnx are the optional extra ``onnx``; they are imported inside
these functions, so the rest of the package works without them.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import warnings
from dataclasses import dataclass, field

from ..core.backend import require_tensorflow
from ..core.inputs import check_block_input
from ..core.lesson import sample_input
from ..core.spec import block_spec
from ..core.tracing import forward
from ..core.validate import atomic_output, check_output_path
from .check import PortCheck, max_abs

ONNX_MODULES = ("onnx", "onnxruntime", "tf2onnx")
ONNX_REASON = ("the onnx extra is not installed; install it with "
               "pip install 'block35-explainer[onnx]' (tf2onnx, onnx, onnxruntime)")


def onnx_missing() -> str | None:
    """None when onnx, onnxruntime and tf2onnx import, else the reason an ONNX port cannot run."""
    for name in ONNX_MODULES:
        try:
            importlib.import_module(name)
        except ImportError as err:
            return f"{ONNX_REASON} ({type(err).__name__}: {err})"
    return None


@dataclass(frozen=True)
class OnnxMul:
    """The ``Mul`` node of the exported graph and its scalar constant input."""

    node: str  # the node's name in the ONNX graph
    constant_input: str  # which input is the constant
    other_input: str  # the tensor it multiplies (the projection's output)
    value: float  # the constant, as stored (float32)


@dataclass
class OnnxReport:
    """One export and one onnxruntime run, compared with our Keras block."""

    path: str
    block: str
    variant: str
    scale: float
    activation: str | None
    ops: tuple[str, ...]  # op types in graph order
    mul: OnnxMul | None  # None when the exporter removed the multiplication (scale 1)
    max_abs_diff: float  # max |onnxruntime - ours| over the whole output
    input_shape: tuple[int, ...]
    file_bytes: int
    versions: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def op_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for op in self.ops:
            counts[op] = counts.get(op, 0) + 1
        return counts

    def check(self) -> PortCheck:
        """The comparison as a :class:`PortCheck` (``net_out`` only: ONNX keeps the output)."""
        return PortCheck(f"ours ({self.block} {self.variant}, Keras 3)",
                         f"ONNX (onnxruntime {self.versions.get('onnxruntime', '?')})",
                         {"net_out": self.max_abs_diff}, list(self.notes))

    def to_dict(self) -> dict:
        return {"path": self.path, "block": self.block, "variant": self.variant,
                "scale": self.scale, "activation": self.activation, "ops": list(self.ops),
                "mul": None if self.mul is None else vars(self.mul),
                "max_abs_diff": self.max_abs_diff, "input_shape": list(self.input_shape),
                "file_bytes": self.file_bytes, "versions": self.versions, "notes": self.notes}

    def __str__(self) -> str:
        mul = ("no Mul: the exporter removed the multiplication" if self.mul is None else
               f"{self.mul.node}: {self.mul.other_input} * {self.mul.value!r} "
               f"(constant {self.mul.constant_input})")
        lines = [f"{self.block} {self.variant} (scale {self.scale:g}, activation "
                 f"{self.activation}) -> {self.path} ({self.file_bytes:,} bytes)",
                 f"  ops: {' -> '.join(self.ops)}",
                 f"  scale: {mul}",
                 f"  max |onnxruntime - ours| on input {self.input_shape}: "
                 f"{self.max_abs_diff:.3e}"]
        return "\n".join(lines + [f"  note: {n}" for n in self.notes])


def _scalar_constants(model) -> dict[str, float]:
    """Names of one-element constants in the graph (initializers and Constant nodes) -> value."""
    from onnx import numpy_helper

    found = {}
    for tensor in model.graph.initializer:
        value = numpy_helper.to_array(tensor)
        if value.size == 1:
            found[tensor.name] = float(value.reshape(()))
    for node in model.graph.node:
        if node.op_type == "Constant":
            for attr in node.attribute:
                if attr.name == "value":
                    value = numpy_helper.to_array(attr.t)
                    if value.size == 1:
                        found[node.output[0]] = float(value.reshape(()))
    return found


def find_scale_mul(model) -> OnnxMul | None:
    """The ``Mul`` node one of whose inputs is a scalar constant (the block's scale), or None."""
    constants = _scalar_constants(model)
    for node in model.graph.node:
        if node.op_type != "Mul":
            continue
        for i, name in enumerate(node.input):
            if name in constants:
                return OnnxMul(node.name, name, node.input[1 - i], constants[name])
    return None


def _notes(ops: tuple[str, ...], mul: OnnxMul | None, spec) -> list[str]:
    convs = ops.count("Conv")
    notes = [f"{convs} Conv for {len(spec.convs)} conv + BatchNorm pairs and the projection, "
             f"{ops.count('BatchNormalization')} BatchNormalization nodes: the exporter folded "
             "each inference BatchNorm into its conv's kernel and bias"]
    if mul is None:
        notes.append(f"scale {spec.scale:g}: the optimiser removed `scale * up` (a multiply "
                     "by 1), so the graph adds `up` directly")
    else:
        notes.append("the scale stays a separate Mul after the projection's Conv (not "
                     "folded into its weights)")
    if spec.activation == "relu6":
        notes.append("relu6: the clip of scale * up is Min / Max, the activation a Clip")
    return notes


def to_onnx(block, path, x=None, replace: bool = True) -> OnnxReport:
    """Write ``block`` as ONNX to ``path``, run it with onnxruntime on ``x``, compare with ours.

    Args:
        block: a block made by ``build_block35`` / ``build_block17`` / ``build_block8``.
        path: where to write the ``.onnx`` file (its folder must exist).
        x: the input (N, H, W, C_in); default ``sample_input`` of the block's kind, 2 x 9 x 9.
        replace: whether an existing file at ``path`` may be replaced (never a read-only one,
            never through a symlink); the CLI passes its ``--force``.

    The block is called once on ``x`` first if it has never been called (Keras' exporter
    refuses a model that was not). Raises ModuleNotFoundError with the reason when the onnx
    extra is missing.
    """
    require_tensorflow("to_onnx (tf2onnx, from the block's TensorFlow graph)")
    spec = block_spec(block)
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path: got {type(path).__name__}; expected a file path such as "
                        "'block35.onnx'")
    path = os.fspath(path)
    # a regular file in a writable folder, before any work
    check_output_path("path", path, replace=replace)
    reason = onnx_missing()
    if reason:
        raise ModuleNotFoundError(reason)
    import onnx
    import onnxruntime

    x = sample_input(spec.variant, batch=2, size=9, seed=1, block=spec.block) if x is None else x
    x = check_block_input(x, spec.in_channels)
    if not getattr(block, "_called", False):
        block(x, training=False)  # Keras' exporter needs a model that has run once
    with (contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings(),
          atomic_output("path", path, replace=replace) as tmp):  # all or nothing
        # the exporter prints where it saved; tf2onnx 1.17 probes np.object (a FutureWarning)
        warnings.filterwarnings("ignore", message=".*np.object.*", category=FutureWarning)
        block.export(str(tmp), format="onnx", verbose=False)
    model = onnx.load(path)
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    theirs = session.run(None, {session.get_inputs()[0].name: x})[0]
    ops = tuple(n.op_type for n in model.graph.node)
    mul = find_scale_mul(model)
    versions = {m: importlib.import_module(m).__version__ for m in ONNX_MODULES}
    return OnnxReport(path=path, block=spec.block, variant=spec.variant, scale=spec.scale,
                      activation=spec.activation, ops=ops, mul=mul,
                      max_abs_diff=max_abs(theirs, forward(block, x)),
                      input_shape=tuple(x.shape), file_bytes=os.path.getsize(path),
                      versions=versions, notes=_notes(ops, mul, spec))


def compare_onnx(block, path, x=None) -> PortCheck:
    """:func:`to_onnx`, as a :class:`PortCheck` like the other ports."""
    return to_onnx(block, path, x).check()
