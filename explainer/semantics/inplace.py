"""What ``net += x`` does to ``net`` (and to another name for the same object), by running it.

Side by side: a ``tf.Tensor`` (immutable: ``+=`` builds a new tensor and rebinds the name),
a numpy array (mutated in place; an int array refuses a float increment), a ``tf.Variable``
(``+=`` raises; ``assign_add`` mutates) and, when installed, PyTorch (in place, which can
break autograd). Every message recorded here is the one the installed library raised.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from ..core.validate import error_text


@dataclass
class InplaceCase:
    """One experiment: ``code`` run, then whether the alias saw the change, or the error."""

    library: str
    code: str
    has_iadd: bool | None  # whether the type defines __iadd__ (None: not applicable)
    same_object: bool | None  # `net is alias` after the statement (None: it raised / skipped)
    alias_sees_change: bool | None
    error: str | None  # "ErrorType: message" exactly as raised, when it raised
    verdict: str  # one-line reading of the outcome, built from the fields above
    skipped: str | None = None  # the reason, when the library is not installed

    def __str__(self) -> str:
        head = f"[{self.library}] {self.code}"
        if self.skipped:
            return f"{head}\n    skipped: {self.skipped}"
        tail = f"\n    error: {self.error}" if self.error else ""
        return f"{head}\n    {self.verdict}{tail}"


def _case(library: str, code: str, cls: type | None, make: Callable, step: Callable,
          read: Callable, modified: Callable | None = None) -> InplaceCase:
    """Run ``net = make(); alias = net; net = step(net)`` and compare ``read`` of both.

    ``modified()``, when given, names the other tensor the code changed in place before it
    raised (read from that tensor itself after the step), e.g. "`up` was changed in place"."""
    net = make()
    alias = net
    before = read(alias).copy()
    try:
        net = step(net)
    except Exception as err:  # noqa: BLE001 - the error is the finding
        held = "the alias" if "alias" in code else "net"  # only speak of an alias the code has
        other = modified() if modified else None
        verdict = (f"raised; {held} still holds the old value"
                   if np.array_equal(read(alias), before)
                   else f"raised after changing {held}'s value")
        return InplaceCase(library, code, _iadd(cls), None, None, error_text(err),
                           f"{verdict}; {other}" if other else verdict)
    sees = not np.array_equal(read(alias), before)
    same = net is alias
    if same and sees:
        verdict = "mutated in place: the alias sees the new value"
    elif not same and not sees:
        verdict = "rebound the name to a new object: the alias keeps the old value"
    else:
        verdict = f"same object: {same}, alias sees the change: {sees}"
    return InplaceCase(library, code, _iadd(cls), same, sees, None, verdict)


def _iadd(cls: type | None) -> bool | None:
    return None if cls is None else hasattr(cls, "__iadd__")


def _plus_equals(x: object) -> Callable:
    """A step that runs the real statement ``net += x`` and returns what ``net`` names after."""
    def step(net):
        net += x
        return net
    return step


def _assign_add(var):
    var.assign_add([1.0, 1.0])
    return var


def _torch_available() -> bool:
    return importlib.util.find_spec("torch") is not None


def _torch_cases() -> list[InplaceCase]:
    if not _torch_available():
        reason = "PyTorch is not installed (optional extra: pip install -e '.[torch]')"
        return [InplaceCase("torch", "net += 1", None, None, None, None, "", skipped=reason)]
    import torch

    cases = [_case("torch", "net = torch.tensor([1., 2.]); alias = net; net += 1",
                   torch.Tensor, lambda: torch.tensor([1.0, 2.0]), _plus_equals(1.0),
                   lambda t: t.detach().numpy())]

    cases.append(_case("torch", "net = torch.ones(2, requires_grad=True); net += 1",
                       torch.Tensor, lambda: torch.ones(2, requires_grad=True), _plus_equals(1.0),
                       lambda t: t.detach().numpy()))

    made: list = []  # the `up` of the step, to read after it raised

    def autograd_step(net):
        up = net.exp()  # exp saves its output for the backward pass
        made.append(up)
        up += 1.0  # ... which this in-place add then changes
        up.sum().backward()
        return net

    def up_changed() -> str | None:
        if not made:
            return None
        up = made[0]
        values = ", ".join(f"{v:.4f}" for v in up.detach().numpy().ravel())
        return (f"the tensor changed in place is `up` (version counter {up._version}, values "
                f"{values} = exp(1) + 1), which exp had saved for the backward pass")

    cases.append(_case("torch", "up = net.exp(); up += 1; up.sum().backward()",
                       torch.Tensor, lambda: torch.ones(2, requires_grad=True), autograd_step,
                       lambda t: t.detach().numpy(), modified=up_changed))
    return cases


def inplace_semantics() -> list[InplaceCase]:
    """Run ``net += x`` (and its relatives) in TensorFlow, numpy and PyTorch; report each."""
    as_np = np.asarray
    cases = [
        _case("tensorflow", "net = tf.constant([1., 2.]); alias = net; net += 1.0",
              tf.Tensor, lambda: tf.constant([1.0, 2.0]), _plus_equals(1.0), lambda t: t.numpy()),
        _case("numpy", "net = np.array([1., 2.]); alias = net; net += 1.0", np.ndarray,
              lambda: np.array([1.0, 2.0]), _plus_equals(1.0), as_np),
        _case("numpy", "net = np.array([1, 2]); net += 0.5  # int array", np.ndarray,
              lambda: np.array([1, 2]), _plus_equals(0.5), as_np),
        _case("tensorflow", "net = tf.Variable([1., 2.]); alias = net; net += 1.0",
              tf.Variable, lambda: tf.Variable([1.0, 2.0]), _plus_equals(1.0), lambda v: v.numpy()),
        _case("tensorflow", "net = tf.Variable([1., 2.]); alias = net; net.assign_add([1., 1.])",
              tf.Variable, lambda: tf.Variable([1.0, 2.0]), _assign_add, lambda v: v.numpy()),
    ]
    return cases + _torch_cases()
