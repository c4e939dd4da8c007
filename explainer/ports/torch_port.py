"""Our blocks (block35, block17, block8) as ``torch.nn.Module``: same weights, NCHW layout,
equal outputs. The module classes are :mod:`explainer.torch_blocks`'.

PyTorch is an optional extra (``pip install 'block35-explainer[torch]'`` pins
``torch==2.13.0``, the CPU build). It is imported only inside these functions, so the rest of
the package works without it; :func:`torch_missing` says why a port cannot run.

Layout: TensorFlow kernels are HWIO ``(kh, kw, in, out)``, PyTorch's are OIHW, so each kernel
is transposed with ``(3, 2, 0, 1)``; activations go NHWC -> NCHW with ``(0, 3, 1, 2)``. slim's
BatchNorm has no gamma: PyTorch's ``BatchNorm2d`` gets weight 1, bias = beta, running mean and
variance = moving mean and variance, eps = 0.001. 'SAME' at stride 1 pads half the kernel on
each side: 3x3 -> (1, 1), 1x7 -> (0, 3). slim's BatchNorm ``decay`` 0.995 (facenet's arg_scope;
``moving = decay * moving + (1 - decay) * batch``) is PyTorch ``momentum`` 0.005
(``running = (1 - momentum) * running + momentum * batch``), not PyTorch's default 0.1:
inference does not use it, fine-tuning does.
"""

from __future__ import annotations

import importlib

import numpy as np

from ..core.inputs import check_block_input
from ..core.lesson import sample_input
from ..core.spec import UP_SCOPE, block_spec, keras_name
from ..core.tracing import forward, trace
from ..core.weights import block_weights
from .check import PortCheck, max_abs

TORCH_REASON = ("torch is not installed; install the optional extra: "
                "pip install 'block35-explainer[torch]' (pins torch==2.13.0, the CPU build)")


def torch_missing() -> str | None:
    """None when torch can be imported, else the reason a torch port cannot run."""
    try:
        importlib.import_module("torch")
    except ImportError as err:
        return f"{TORCH_REASON} ({type(err).__name__}: {err})"
    return None


def _require_torch():
    reason = torch_missing()
    if reason:
        raise ModuleNotFoundError(reason)
    import torch

    return torch


def torch_state_dict(weights: dict, spec, names=None, up: str = "up") -> dict[str, np.ndarray]:
    """slim-named weights -> PyTorch ``state_dict`` names and layouts (numpy arrays).

    ``names(conv)`` gives the (conv, BatchNorm) prefixes of a slim conv (default: our module's
    ``branches.<scope>.0`` / ``.1``; timm's differ), ``up`` the projection's prefix."""
    names = names or (lambda c: (f"branches.{keras_name(c.scope)}.0",
                                 f"branches.{keras_name(c.scope)}.1"))
    state = {}
    for conv in spec.convs:
        s, (cv, bn) = conv.scope, names(conv)
        state[f"{cv}.weight"] = np.transpose(weights[f"{s}/weights"], (3, 2, 0, 1))
        state[f"{bn}.weight"] = np.ones(conv.filters, np.float32)  # slim: no gamma
        state[f"{bn}.bias"] = weights[f"{s}/BatchNorm/beta"]
        state[f"{bn}.running_mean"] = weights[f"{s}/BatchNorm/moving_mean"]
        state[f"{bn}.running_var"] = weights[f"{s}/BatchNorm/moving_variance"]
    state[f"{up}.weight"] = np.transpose(weights[f"{UP_SCOPE}/weights"], (3, 2, 0, 1))
    state[f"{up}.bias"] = weights[f"{UP_SCOPE}/biases"]
    return state


def load_numpy_state(module, state: dict, what: str):
    """Load a numpy ``state`` into ``module``, every entry, or a RuntimeError naming the gap;
    BatchNorm's ``num_batches_tracked`` (slim has no such value; inference ignores it) is set
    to 0. Returns the module in eval mode."""
    torch = _require_torch()
    tensors = {k: torch.from_numpy(np.ascontiguousarray(v, np.float32)) for k, v in state.items()}
    missing, unexpected = module.load_state_dict(tensors, strict=False)
    left = [k for k in missing if not k.endswith("num_batches_tracked")]
    if left or unexpected:
        raise RuntimeError(f"{what}: missing {left}, unexpected {unexpected}")
    for bn in module.modules():
        if isinstance(bn, torch.nn.BatchNorm2d):
            bn.num_batches_tracked.zero_()
    return module.eval()


def to_torch(block):
    """A ``torch.nn.Module`` (eval mode) with our block's weights, transposed to NCHW: a
    :class:`~explainer.torch_blocks.Block35Torch` (or ``Block17Torch`` /
    ``Block8Torch``), whose ``scale`` is a buffer in its ``state_dict``.

    Raises ModuleNotFoundError with the reason when torch is not installed.
    """
    spec = block_spec(block)
    _require_torch()
    from ..torch_blocks import TORCH_BLOCKS

    module = TORCH_BLOCKS[spec.block](spec.variant, spec.scale, spec.activation)
    state = {**torch_state_dict(block_weights(block), spec), "scale": np.float32(spec.scale)}
    return load_numpy_state(module, state, "torch port")


def torch_forward(module, x, in_channels: int | None = None) -> np.ndarray:
    """Run the torch module on an NHWC numpy input; returns NHWC numpy output.
    ``in_channels`` defaults to the module's spec (our port's; pass it for others)."""
    torch = _require_torch()
    x = check_block_input(x, in_channels or module.spec.in_channels)
    with torch.no_grad():
        y = module(torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2))))
    return y.numpy().transpose(0, 2, 3, 1)


def compare_torch(block, x=None):
    """Port ``block`` with :func:`to_torch` and compare ``net_out`` on the same input."""
    spec = block_spec(block)
    x = sample_input(spec.variant, batch=2, size=9, seed=1, block=spec.block) if x is None else x
    module = to_torch(block)
    torch = _require_torch()
    return PortCheck(f"ours ({spec.block} {spec.variant}, Keras 3)", f"PyTorch {torch.__version__}",
                     {"net_out": max_abs(forward(block, x), torch_forward(module, x))},
                     ["kernels HWIO -> OIHW (3, 2, 0, 1); activations NHWC -> NCHW (0, 3, 1, 2)"])


def torch_report(block, x=None) -> str:
    """The torch module and its measured difference from ``block``, or why it cannot run."""
    reason = torch_missing()
    if reason:
        return f"skipped: {reason}"
    return f"{to_torch(block)}\n\n{compare_torch(block, x)}"


def torch_line_forms(block) -> str:
    """The line in PyTorch, two ways, run on ``block``'s own ``net`` and ``up``: our port's
    ``net + scale * up`` (its ``forward`` source, read with :mod:`inspect`) and timm's /
    facenet-pytorch's ``out * self.scale + x``; or why it cannot run."""
    import inspect

    reason = torch_missing()
    if reason:
        return f"skipped: {reason}"
    spec = block_spec(block)
    torch = _require_torch()
    from ..torch_blocks import ResidualBlockTorch

    source = inspect.getsource(ResidualBlockTorch.forward).splitlines()
    ours = [line.strip() for line in source if "self.scale *" in line or "net + " in line]
    tr = trace(block, sample_input(spec.variant, batch=1, size=9, seed=0, block=spec.block))
    net, up = (torch.from_numpy(np.ascontiguousarray(tr[n].value)) for n in ("net", "up"))
    scale = spec.scale
    ours_value = net + scale * up  # our port's order, as the slim line writes it
    timm_value = up * scale + net  # timm: out = out * self.scale + x (out is up, x is net)
    diff = float((ours_value - timm_value).abs().max())
    same = bool(torch.equal(ours_value, timm_value))
    fresh = all(v.data_ptr() != net.data_ptr() for v in (ours_value, timm_value))
    return "\n".join([
        "our PyTorch port's forward:  " + "  ...  ".join(ours),
        "timm / facenet-pytorch:      out = out * self.scale + x   (out = up, x = net)",
        f"on the block's own net and up {tuple(net.shape)} at scale {scale:g}, torch "
        f"{torch.__version__}: max |difference| {diff:.1e}, bit-identical: {same}",
        f"both are out of place (a new tensor, not net's storage): {fresh}; a float product "
        "or sum does not depend on the operands' order"])
