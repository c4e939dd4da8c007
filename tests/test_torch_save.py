"""The PyTorch block saves and loads with its scale: a module-level class, `scale` a buffer in
the state_dict, and both of PyTorch's save forms loaded back in a fresh process."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import explainer

torch = pytest.importorskip("torch", reason="torch is an optional extra "
                            "(pip install 'block35-explainer[torch]', torch==2.13.0 CPU)")

from explainer.ports.torch_port import to_torch, torch_forward  # noqa: E402
from explainer.ports.torch_save import torch_save_check  # noqa: E402
from explainer.torch_blocks import TORCH_BLOCKS, Block17Torch, Block35Torch  # noqa: E402


def test_the_block_class_lives_at_module_level_and_holds_its_scale():
    block = explainer.build_block35("v2", scale=0.3, seed=2)
    module = to_torch(block)
    assert type(module) is Block35Torch
    assert f"{type(module).__module__}.{type(module).__qualname__}" == \
        "explainer.torch_blocks.Block35Torch"
    state = module.state_dict()
    assert state["scale"].dtype == torch.float32 and float(state["scale"]) == np.float32(0.3)
    assert "scale" in dict(module.named_buffers())
    copy = pickle.loads(pickle.dumps(module))  # what torch.save(module) needs
    x = explainer.sample_input("v2", batch=1, size=5, seed=4)
    np.testing.assert_array_equal(torch_forward(copy, x), torch_forward(module, x))
    # loading the state_dict into a block built with another scale brings the saved scale
    other = Block35Torch("v2", scale=1.0)
    other.load_state_dict(state)
    assert float(other.scale) == np.float32(0.3)
    np.testing.assert_array_equal(torch_forward(other.eval(), x), torch_forward(module, x))
    assert set(TORCH_BLOCKS) == {"block35", "block17", "block8"}
    assert Block17Torch("v1").spec.in_channels == 896


def test_the_constructor_checks_its_arguments():
    with pytest.raises(ValueError, match="variant"):
        Block35Torch("v3")
    with pytest.raises(TypeError, match="scale"):
        Block35Torch("v1", scale="big")


def test_saved_block_loads_in_a_fresh_process(tmp_path):
    block = explainer.lesson_setup().block
    found = torch_save_check(block, tmp_path)
    assert {p.name for p in tmp_path.iterdir()} >= {"state_dict.pt", "module.pt"}
    assert found.scale_before_load == 1.0 and found.scale_after_load == pytest.approx(0.17)
    assert found.state_dict_max_diff == 0.0 and found.module_max_diff == 0.0
    assert found.module_default.startswith("UnpicklingError: Weights only load failed")
    assert found.module_class == "explainer.torch_blocks.Block35Torch"
    assert found.module_scale == pytest.approx(0.17)
    assert found.state_dict_keys == len(to_torch(block).state_dict())
    text = str(found)
    assert "`scale` among them" in text and "weights_only=False" in text
