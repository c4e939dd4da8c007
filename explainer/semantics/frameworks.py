"""``scale * up`` and ``net += ...`` in JAX and PyTorch, found by running them.

The same questions :mod:`.operators` and :mod:`.inplace` ask of TensorFlow, asked of the
installed ``jax`` and ``torch`` (imported only here, inside the functions; no TensorFlow, no
Keras): how Python dispatches ``scale * up`` (``float.__mul__`` is called and returns
NotImplemented, then ``type(up).__rmul__``), which op runs (the primitives of
``jax.make_jaxpr``; the ``aten::`` ops the PyTorch profiler records), the gradient ``up``
receives, and what ``+=`` does to ``net``: JAX rebinds the name, PyTorch writes into ``net``'s
own storage, and autograd's real error when ``net`` was saved for the backward pass, next to
timm's out-of-place ``out = out * self.scale + x``. ``net`` and ``up`` are the lesson block's
own (the numpy reference on a 3x3 input, so nothing here needs TensorFlow).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field

import numpy as np

from ..core.budget import check_memory
from ..core.lesson import sample_input
from ..core.quiet import native_stderr_silenced
from ..core.reference import _block_forward
from ..core.schedule import BLOCK35_SCALE
from ..core.validate import _choice, check_scale, error_text, given
from ..core.weight_tables import _seeded_weights

FRAMEWORKS = ("jax", "torch")
_NAMES = {"jax": "JAX", "torch": "PyTorch"}


@dataclass
class FrameworkStar:
    """What ``net = relu(net + scale * up)`` does in one framework, each item measured."""

    framework: str  # "jax" or "torch"
    version: str
    scale: float
    shape: tuple[int, ...]  # of net and up
    mul_returns_notimplemented: bool  # float.__mul__(scale, up) called for real
    rmul: str  # what Python calls next, type(up).__rmul__: public name (defining function)
    rmul_matches_operator: bool  # type(up).__rmul__(up, scale) equals scale * up
    mul_ops: list[str]  # the op(s) `scale * up` runs: jaxpr primitives / aten ops
    tail_ops: list[str]  # the same for `relu(net + scale * up)`
    program: str  # the jaxpr of `scale * up`, or the profiler's op list
    grad_values: list[float]  # the distinct values of d sum(out) / d up
    grad_max_diff: float  # max |grad - scale * (net_sum > 0)|
    has_iadd: bool  # type(net) defines __iadd__
    iadd_same_object: bool  # `net` names the same object after `net += ...`
    iadd_same_storage: bool | None  # torch: data_ptr unchanged; jax: None (no pointer)
    alias_changed: bool  # another name for the old `net` sees the sum
    inplace_error: str  # JAX: item assignment's error; torch: autograd's error after +=
    out_of_place_ok: str  # timm's `out * scale + x` (torch) / `.at[].add` (jax), run
    details: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return _NAMES[self.framework]

    def __str__(self) -> str:
        chain = (f"float.__mul__(scale, up) -> "
                 f"{'NotImplemented' if self.mul_returns_notimplemented else 'a result'}, "
                 f"so Python calls {self.rmul}")
        grads = ", ".join(f"{g:g}" for g in self.grad_values)
        return "\n".join([
            f"{self.name} ({self.version}), scale = {self.scale:g}, net and up of shape "
            f"{self.shape}",
            f"1. dispatch: {chain}; equals scale * up: {self.rmul_matches_operator}",
            f"2. op of `scale * up`: {', '.join(self.mul_ops)}; of "
            f"`relu(net + scale * up)`: {', '.join(self.tail_ops)}",
            *(f"   {line}" for line in self.program.splitlines()),
            f"3. gradient of sum(relu(net + scale * up)) reaching `up`: values {{{grads}}}, "
            f"max |grad - scale * (net_sum > 0)| = {self.grad_max_diff:.1e}",
            f"4. `net += scale * up`: type(net) has __iadd__: {self.has_iadd}; same object "
            f"after: {self.iadd_same_object}; same storage: {self.iadd_same_storage}; another "
            f"name for the old net sees the sum: {self.alias_changed}",
            *(f"   {line}" for line in self.details),
            f"   in place where it is refused: {self.inplace_error}",
            f"   out of place: {self.out_of_place_ok}",
        ])


def check_framework(framework: object) -> str:
    """'jax' or 'torch'."""
    return _choice("framework", framework, FRAMEWORKS)  # type: ignore[return-value]


def lesson_net_up(size: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """The lesson block's ``net`` and ``up`` (float32) on a size x size input, by numpy."""
    x = sample_input("v1", batch=1, size=size, seed=0)
    out = _block_forward(x, _seeded_weights("v1", 0, "block35"), "v1", BLOCK35_SCALE, "relu")
    return x, out["up"].astype(np.float32)


FRAMEWORK_COPIES = 16  # float32 copies of net or up the two runs make: tensors, grads, +=


def _check_array(name: str, value: object) -> np.ndarray:
    """``net`` or ``up``: real numbers of shape (N, H, W, C), each size >= 1 (the line indexes
    ``net[0, 0, 0, 0]``), finite in float32, within the memory budget; as float32. Refused
    with one sentence naming ``name`` before any framework sees it."""
    expected = "expected a float array of shape (N, H, W, C), such as lesson_net_up()[0]"
    try:
        array = value if isinstance(value, np.ndarray) else np.asarray(value)
    except Exception as err:  # noqa: BLE001 - ragged lists, objects numpy cannot hold
        raise TypeError(f"{name}: got {given(value)}, which is not an array "
                        f"({error_text(err)[:80]}); {expected}") from None
    if array.dtype.kind not in "iuf":
        raise TypeError(f"{name}: got an array of dtype {array.dtype}; {expected}")
    if array.ndim != 4 or min(array.shape) < 1:
        raise ValueError(f"{name}: got shape {array.shape}; {expected}, N, H, W, C >= 1")
    check_memory(array.size * 4 * FRAMEWORK_COPIES, f"{name} of shape {array.shape}",
                 "running the line in the framework")
    with np.errstate(over="ignore"):
        array = array.astype(np.float32)
    if not np.isfinite(array).all():
        raise ValueError(f"{name}: got values that are NaN, inf or beyond float32's range; "
                         "expected finite numbers")
    return array


def _rmul_name(public: str, cls: type, up) -> str:
    """``type(up).__rmul__`` by the public class (checked: ``up`` is one) and by the function
    that defines it, e.g. "torch.Tensor.__rmul__ (torch._C.TensorBase.__rmul__)"."""
    fn = type(up).__rmul__
    owner = getattr(fn, "__objclass__", None)
    name = getattr(fn, "__qualname__", getattr(fn, "__name__", repr(fn)))
    module = getattr(fn, "__module__", None) or getattr(owner, "__module__", "")
    where = f"{module}.{name}" if module else name
    shown = public if isinstance(up, cls) else type(up).__name__
    return f"{shown}.__rmul__ ({where})"


def framework_star(framework: str = "torch", scale: float = BLOCK35_SCALE,
                   net: np.ndarray | None = None, up: np.ndarray | None = None) -> FrameworkStar:
    """Run ``scale * up`` and ``net += scale * up`` in ``framework`` and record what happened.

    ``net`` and ``up`` default to the lesson block's own (:func:`lesson_net_up`); pass arrays
    of one shape to try others. Raises ModuleNotFoundError naming the extra to install when
    the framework is missing.
    """
    framework, scale = check_framework(framework), check_scale(scale)
    if net is None or up is None:
        net, up = lesson_net_up()
    net, up = _check_array("net", net), _check_array("up", up)
    if net.shape != up.shape:
        raise ValueError(f"net, up: got shapes {net.shape} and {up.shape}; expected one shape")
    return _framework_star(framework, scale, net, up)


def _framework_star(framework: str, scale: float, net: np.ndarray,
                    up: np.ndarray) -> FrameworkStar:
    """:func:`framework_star` of a checked framework and scale, and ``net`` and ``up`` of
    one shape, finite float32 and small (e.g. a corner of a traced block's own tensors, as
    :func:`explainer.explain_block` passes): it trusts its caller."""
    try:
        module = importlib.import_module(framework)
    except ImportError as err:
        raise ModuleNotFoundError(f"{framework} is not installed ({error_text(err)}); install "
                                  f"the optional extra: pip install "
                                  f"'block35-explainer[{framework}]'") from None
    run = _run_jax if framework == "jax" else _run_torch
    found = run(module, scale, net, up)
    expected = np.float32(scale) * ((net + np.float32(scale) * up) > 0)
    grad = found.pop("grad")
    return FrameworkStar(framework=framework, version=f"{framework} {module.__version__}",
                         scale=scale, shape=tuple(net.shape),
                         grad_values=sorted({float(v) for v in np.unique(grad)}),
                         grad_max_diff=float(np.abs(grad - expected).max()), **found)


def _jaxpr_leaves(jaxpr) -> list[str]:
    """The primitives that compute, with calls (custom_jvp_call, jit) opened up."""
    names = []
    for eqn in jaxpr.eqns:
        inner = [v for v in eqn.params.values() if hasattr(v, "eqns") or hasattr(v, "jaxpr")]
        if inner:
            for sub in inner:
                names += _jaxpr_leaves(getattr(sub, "jaxpr", sub))
        else:
            names.append(eqn.primitive.name)
    return names


def _run_jax(jax, scale: float, net_np: np.ndarray, up_np: np.ndarray) -> dict:
    jnp = jax.numpy
    net, up = jnp.asarray(net_np), jnp.asarray(up_np)
    forward = float.__mul__(scale, up)
    reflected = type(up).__rmul__(up, scale)
    mul = jax.make_jaxpr(lambda u: scale * u)(up)
    tail = jax.make_jaxpr(lambda n, u: jax.nn.relu(n + scale * u))(net, up)
    grad = jax.grad(lambda u: jnp.sum(jax.nn.relu(net + scale * u)))(up)
    old, before = net, id(net)
    net += scale * up  # the line under study
    try:
        old[0, 0, 0, 0] += 1.0
        refused = "no error"
    except TypeError as err:
        refused = f"old_net[0, 0, 0, 0] += 1 -> {error_text(err)}"
    at = old.at[0, 0, 0, 0].add(1.0)
    return {
        "mul_returns_notimplemented": forward is NotImplemented,
        "rmul": _rmul_name("jax.Array", jax.Array, up),
        "rmul_matches_operator": bool(jnp.array_equal(reflected, scale * up)),
        "mul_ops": _jaxpr_leaves(mul.jaxpr), "tail_ops": _jaxpr_leaves(tail.jaxpr),
        "program": mul.pretty_print(use_color=False).strip(), "grad": np.asarray(grad),
        "has_iadd": hasattr(type(net), "__iadd__"), "iadd_same_object": id(net) == before,
        "iadd_same_storage": None,
        "alias_changed": not bool(jnp.array_equal(old, jnp.asarray(net_np))),
        "inplace_error": refused,
        "out_of_place_ok": f"old_net.at[0, 0, 0, 0].add(1) -> a new {type(at).__name__}; "
                           f"old_net unchanged: {bool(jnp.array_equal(old, net_np))}",
    }


def _torch_ops(torch, fn) -> list[str]:
    """The top-level aten ops the profiler records while ``fn`` runs (its native start and
    stop lines silenced)."""
    with native_stderr_silenced(), torch.profiler.profile(activities=[
            torch.profiler.ProfilerActivity.CPU]) as prof:
        fn()
    return [e.name for e in prof.events() if e.cpu_parent is None]


def _run_torch(torch, scale: float, net_np: np.ndarray, up_np: np.ndarray) -> dict:
    net, up = torch.tensor(net_np), torch.tensor(up_np)
    forward = float.__mul__(scale, up)
    reflected = type(up).__rmul__(up, scale)
    mul_ops = _torch_ops(torch, lambda: scale * up)
    tail_ops = _torch_ops(torch, lambda: torch.relu(net + scale * up))
    u = up.clone().requires_grad_(True)
    torch.relu(net + scale * u).sum().backward()
    old, before, ptr, version = net, id(net), net.data_ptr(), net._version
    net += scale * up  # the line under study
    after = f"data_ptr {ptr:#x} before and {net.data_ptr():#x} after; version {version} -> " \
            f"{net._version}"
    previous = torch.tensor(net_np - 0.5, requires_grad=True)  # a pre-activation
    saved = torch.relu(previous)  # ReLU saves its output for the backward pass
    try:
        saved += scale * up
        saved.sum().backward()
        error = "no error"
    except RuntimeError as err:
        error = f"net = relu(prev); net += scale * up; backward -> {error_text(err)}"
    previous.grad = None
    x = torch.relu(previous)
    out = up * scale + x  # timm's Block35: out = out * self.scale + x
    out.sum().backward()
    return {
        "mul_returns_notimplemented": forward is NotImplemented,
        "rmul": _rmul_name("torch.Tensor", torch.Tensor, up),
        "rmul_matches_operator": bool(torch.equal(reflected, scale * up)),
        "mul_ops": mul_ops, "tail_ops": tail_ops,
        "program": f"profiler, `scale * up`: {', '.join(mul_ops)}",
        "grad": u.grad.numpy(),
        "has_iadd": hasattr(type(net), "__iadd__"), "iadd_same_object": id(net) == before,
        "iadd_same_storage": net.data_ptr() == ptr,
        "alias_changed": not bool(torch.equal(old, torch.tensor(net_np))),
        "inplace_error": error,
        "out_of_place_ok": f"timm's out = out * self.scale + x; backward ran, the input's "
                           f"gradient has shape {tuple(previous.grad.shape)}",
        "details": [after],
    }
