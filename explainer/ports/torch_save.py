"""Saving the PyTorch block and loading it back in a fresh process, with its scale.

PyTorch's two ways, both run: ``torch.save(module.state_dict(), path)`` (tensors only: the
weights, BatchNorm's statistics and the ``scale`` buffer) and ``torch.save(module, path)`` (the
whole module, pickled by its class' import path,
:class:`explainer.torch_blocks.Block35Torch`). A new Python process (no state shared
with this one) then loads each with ``torch.load`` as current PyTorch calls it, where
``weights_only`` defaults to True: the state_dict loads into a block built with another scale,
and the scale comes back from the file; the whole module is refused (the error is PyTorch's
own) and loads with ``weights_only=False``, which runs the pickle's code and is for files
you trust. Each loaded block is run on the same input and compared with the saved one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.lesson import sample_input
from ..core.spec import block_spec
from .torch_port import to_torch, torch_forward

_CHILD = r"""
import json, re, sys
import numpy as np
import torch
from explainer.torch_blocks import TORCH_BLOCKS
folder, block, variant, activation = sys.argv[1:5]
x = torch.from_numpy(np.load(f"{folder}/x.npy").transpose(0, 3, 1, 2).copy())
expected = np.load(f"{folder}/expected.npy")
found = {"torch": torch.__version__}
fresh = TORCH_BLOCKS[block](variant, 1.0, None if activation == "None" else activation)
found["scale_before_load"] = float(fresh.scale)
fresh.load_state_dict(torch.load(f"{folder}/state_dict.pt"))
found["scale_after_load"] = float(fresh.scale)
with torch.no_grad():
    out = fresh.eval()(x).numpy().transpose(0, 2, 3, 1)
found["state_dict_max_diff"] = float(np.abs(out - expected).max())
try:
    torch.load(f"{folder}/module.pt")
    found["module_default"] = "loaded"
except Exception as err:
    first = re.sub(r"\x1b\[[0-9;]*m", "", str(err).splitlines()[0]).strip()  # no ANSI bold
    found["module_default"] = f"{type(err).__name__}: {first}"
whole = torch.load(f"{folder}/module.pt", weights_only=False)
found["module_class"] = f"{type(whole).__module__}.{type(whole).__qualname__}"
found["module_scale"] = float(whole.scale)
with torch.no_grad():
    out = whole.eval()(x).numpy().transpose(0, 2, 3, 1)
found["module_max_diff"] = float(np.abs(out - expected).max())
print(json.dumps(found))
"""


@dataclass(frozen=True)
class TorchSaveCheck:
    """What a fresh process found when it loaded the saved block (see the module docstring)."""

    torch: str
    scale: float  # the saved block's scale
    state_dict_keys: int  # entries in the saved state_dict, ``scale`` among them
    scale_before_load: float  # the fresh block's constructor scale (1.0)
    scale_after_load: float  # ... after load_state_dict: the saved scale, from the file
    state_dict_max_diff: float  # max |loaded - saved| output on the same input
    module_default: str  # torch.load(module.pt) with the default weights_only: PyTorch's words
    module_class: str
    module_scale: float
    module_max_diff: float

    def __str__(self) -> str:
        return "\n".join([
            f"torch {self.torch}, in a fresh process:",
            f"  torch.save(module.state_dict()) -> {self.state_dict_keys} tensors, `scale` "
            f"among them; a new block built with scale {self.scale_before_load:g} loads it "
            f"(weights_only=True, the default): scale {self.scale_after_load:g}, max |output "
            f"difference| {self.state_dict_max_diff:.1e}",
            f"  torch.save(module) -> torch.load with the default weights_only: "
            f"{self.module_default}",
            f"  torch.load(..., weights_only=False) (a file you trust): {self.module_class}, "
            f"scale {self.module_scale:g}, max |output difference| {self.module_max_diff:.1e}",
        ])


def torch_save_check(block, folder: str | os.PathLike | None = None) -> TorchSaveCheck:
    """Port ``block`` to PyTorch, save its state_dict and the whole module, and load both in a
    new Python process. ``folder`` (default: a temporary one, removed afterwards) receives
    ``state_dict.pt``, ``module.pt`` and the input and output used for the comparison."""
    if folder is None:
        with tempfile.TemporaryDirectory(prefix="block35-torch-save-") as tmp:
            return _check(block, Path(tmp))
    return _check(block, Path(folder))


def _check(block, folder: Path) -> TorchSaveCheck:
    import torch

    spec = block_spec(block)
    module = to_torch(block)
    x = sample_input(spec.variant, batch=1, size=9, seed=1, block=spec.block)
    np.save(folder / "x.npy", x)
    np.save(folder / "expected.npy", torch_forward(module, x))
    state = module.state_dict()
    torch.save(state, folder / "state_dict.pt")
    torch.save(module, folder / "module.pt")
    root = str(Path(__file__).resolve().parents[2])  # the checkout, for an uninstalled package
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (root, os.environ.get("PYTHONPATH", "")) if p)}
    out = subprocess.run([sys.executable, "-c", _CHILD, str(folder), spec.block, spec.variant,
                          str(spec.activation)], capture_output=True, text=True, env=env,
                         timeout=300)
    if out.returncode != 0:
        raise RuntimeError(f"the loading process failed: {out.stderr.strip()[-2000:]}")
    found = json.loads(out.stdout.strip().splitlines()[-1])
    return TorchSaveCheck(scale=spec.scale, state_dict_keys=len(state), **found)
