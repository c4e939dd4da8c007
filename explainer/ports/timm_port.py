"""timm's Inception-ResNet-v2 blocks as an oracle: our v2 weights in timm's own modules.

timm (``pip install 'block35-explainer[timm]'``, pinned) is the PyTorch code most PyTorch users
trust for this net. Its ``Block35`` ends ``out = out * self.scale + x`` (out of place, so
autograd can keep ``x``); its convs are timm's ``ConvNormAct`` (conv without bias, BatchNorm
with eps 0.001, ReLU). The block is taken from a real ``timm.create_model("inception_resnet_v2")``
(``model.repeat[0]`` is its first block35, built as timm builds it; ``repeat_1[0]`` block17,
``repeat_2[0]`` block8), our slim-named weights are loaded into it (kernels HWIO -> OIHW,
BatchNorm weight 1 since slim has no gamma), and both run on the same input.

PyPI's torchvision wheels are CUDA builds: next to the CPU build of torch their compiled ops do
not load, and ``import torchvision`` (which timm needs) then fails registering fake kernels
for two of them: ``RuntimeError: operator torchvision::nms does not exist`` (torchvision's
import does not guard these two registrations; pytorch/vision PR 9086 proposed it). Where
that happens, :func:`import_timm` declares the two operators' schemas, with no kernels
(calling them still fails; nothing here does), and imports again; it says so in its result.
timm's model code runs unchanged.
"""

from __future__ import annotations

import importlib
import inspect
import sys

import numpy as np

from ..core.lesson import sample_input
from ..core.spec import block_spec
from ..core.tracing import forward
from ..core.weights import block_weights
from .check import PortCheck, max_abs
from .torch_port import load_numpy_state, torch_forward, torch_state_dict

TIMM_REASON = ("timm is not installed; install the optional extra: pip install "
               "'block35-explainer[timm]' (pins timm and torchvision next to torch==2.13.0)")
TIMM_BLOCKS = {"block35": "repeat", "block17": "repeat_1", "block8": "repeat_2"}
_SCHEMAS = ("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
            "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
_SHIM: list[str] = []  # what import_timm had to declare, if anything


def import_timm():
    """``timm``, imported; ModuleNotFoundError with the reason when it cannot be."""
    try:
        return importlib.import_module("timm")
    except ImportError as err:
        raise ModuleNotFoundError(f"{TIMM_REASON} ({type(err).__name__}: {err})") from None
    except RuntimeError as err:
        if "torchvision::" not in str(err):
            raise
        first = f"{type(err).__name__}: {err}"
    torch = importlib.import_module("torch")
    for name in [m for m in sys.modules if m.split(".")[0] in ("timm", "torchvision")]:
        del sys.modules[name]  # the half-imported modules of the failed attempt
    library = torch.library.Library("torchvision", "FRAGMENT")
    for schema in _SCHEMAS:
        library.define(schema)
    _SHIM.append(f"torchvision's import failed ({first}); declared torchvision::nms and ::qnms "
                 "without kernels (torch is a CPU build, torchvision a CUDA one) and imported "
                 "again")
    _SHIM.append(library)  # kept alive: the declarations last as long as the library object
    return importlib.import_module("timm")


def timm_missing() -> str | None:
    """None when timm imports, else why a timm port cannot run."""
    try:
        import_timm()
    except (ImportError, RuntimeError) as err:
        return str(err)
    return None


def timm_block(block: str = "block35"):
    """timm's own first block of that kind, from ``create_model("inception_resnet_v2")``, in
    eval mode, its tensors allocated on the CPU but not initialised (load weights next).

    The model is built on PyTorch's "meta" device (shapes only: 0.5 s instead of 2.4 s for its
    55.8 million random weights); the block is then given real, empty storage."""
    timm = import_timm()
    model = timm.create_model("inception_resnet_v2", pretrained=False, device="meta")
    return getattr(model, TIMM_BLOCKS[block])[0].to_empty(device="cpu").eval()


def _timm_names(spec):
    """slim conv -> timm's (conv, BatchNorm) prefixes: ``branch0.conv`` / ``branch0.bn`` for a
    branch of one conv, ``branch1.1.conv`` ... for a branch that is a Sequential."""
    def names(conv):
        branch = conv.scope.split("/")[0]  # Branch_0, Branch_1, Branch_2
        index = int(branch.split("_")[1])
        in_branch = [c for c in spec.convs if c.scope.startswith(branch + "/")]
        name = f"branch{index}" if len(in_branch) == 1 else \
            f"branch{index}.{in_branch.index(conv)}"
        return f"{name}.conv", f"{name}.bn"
    return names


def timm_state_dict(weights: dict, spec) -> dict[str, np.ndarray]:
    """slim-named weights -> the names of timm's block: ``branch0.conv.weight``,
    ``branch1.1.bn.running_var``, ``conv2d.bias`` ... (numpy arrays, OIHW kernels)."""
    return torch_state_dict(weights, spec, _timm_names(spec), up="conv2d")


def to_timm(block):
    """timm's block of the same kind, holding our v2 block's weights, every tensor set (eval
    mode).

    Only v2 blocks at timm's own scale and with ReLU fit: timm builds Inception-ResNet-v2."""
    spec = block_spec(block)
    if spec.variant != "v2":
        raise ValueError(f"block: got a {spec.variant} block; expected v2 (timm builds "
                         "Inception-ResNet-v2 only)")
    module = timm_block(spec.block)
    if abs(module.scale - spec.scale) > 1e-9 or spec.activation != "relu":
        raise ValueError(f"block: got scale {spec.scale:g}, activation {spec.activation}; "
                         f"expected timm's own: scale {module.scale:g}, relu")
    return load_numpy_state(module, timm_state_dict(block_weights(block), spec), "timm port")


def timm_line(module) -> str:
    """The line of timm's ``forward`` that adds the residual, read from its source."""
    lines = inspect.getsource(type(module).forward).splitlines()
    return next(line.strip() for line in lines if "self.scale" in line)


def compare_timm(block, x=None) -> tuple[PortCheck, dict]:
    """Load ``block``'s weights into timm's block and compare ``net_out`` on one input;
    returns the check and details (timm's line, BatchNorm eps, versions, any import shim)."""
    spec = block_spec(block)
    x = sample_input(spec.variant, batch=2, size=9, seed=1, block=spec.block) if x is None else x
    module = to_timm(block)
    timm, torch = import_timm(), importlib.import_module("torch")
    diff = max_abs(forward(block, x), torch_forward(module, x, spec.in_channels))
    eps = sorted({m.eps for m in module.modules() if isinstance(m, torch.nn.BatchNorm2d)})
    details = {"timm_class": f"{type(module).__module__}.{type(module).__qualname__}",
               "timm_line": timm_line(module), "batchnorm_eps": eps,
               "versions": f"timm {timm.__version__}, torch {torch.__version__}",
               "import_note": next((s for s in _SHIM if isinstance(s, str)), None)}
    return PortCheck(f"ours ({spec.block} {spec.variant}, Keras 3)",
                     f"timm {timm.__version__} {type(module).__name__}", {"net_out": diff},
                     ["kernels HWIO -> OIHW (3, 2, 0, 1); activations NHWC -> NCHW; "
                      "BatchNorm weight 1 (slim has no gamma)"]), details
