"""The PyTorch blocks as module-level classes, so PyTorch can save and load them.

``Block35Torch``, ``Block17Torch`` and ``Block8Torch`` are ``torch.nn.Module`` subclasses
defined here, at module level: ``torch.save(module)`` pickles a module by its class' import
path, which a class made inside a function does not have. ``scale`` is a buffer (a float32
0-d tensor in the ``state_dict``), so a saved ``state_dict`` carries the block's scale with its
weights; the constructor's arguments (``variant``, ``scale``, ``activation``) build the layers.

A top-level module, not in ``ports/``: unpickling imports the class' module and every package
above it, and the ``ports`` package loads TensorFlow; this one needs only torch and the spec
tables. :mod:`explainer.ports.torch_port` fills it with a Keras block's weights and
:mod:`explainer.ports.torch_save` runs the save-and-load lesson.
"""

from __future__ import annotations

import torch
from torch import nn

from .core.spec import BN_EPSILON, BlockSpec, keras_name
from .core.validate import check_activation, check_scale, check_variant

SLIM_BN_DECAY = 0.995  # facenet's batch_norm_params; keras.applications' momentum is 0.99
TORCH_BN_MOMENTUM = round(1.0 - SLIM_BN_DECAY, 6)  # 0.005: torch weights the new batch


class ResidualBlockTorch(nn.Module):
    """block35 / block17 / block8 in PyTorch; ``forward`` takes and returns NCHW tensors.

    ``ResidualBlockTorch(variant, scale, activation)`` builds the layers of :attr:`block`
    (set by the three subclasses); ``scale`` is stored as a buffer, so ``state_dict()`` holds
    it and ``load_state_dict`` restores it."""

    block = "block35"

    def __init__(self, variant: str = "v1", scale: float = 1.0,
                 activation: str | None = "relu"):
        super().__init__()
        spec = BlockSpec(variant=check_variant(variant), scale=check_scale(scale),
                         activation=check_activation(activation), seed=0, device="cpu",
                         block=self.block)
        self.spec = spec
        self.branches = nn.ModuleDict()
        width = {"net": spec.in_channels}
        for conv in spec.convs:
            self.branches[keras_name(conv.scope)] = nn.Sequential(
                nn.Conv2d(width[conv.source], conv.filters, conv.kernel,
                          padding=(conv.kernel[0] // 2, conv.kernel[1] // 2), bias=False),
                nn.BatchNorm2d(conv.filters, eps=BN_EPSILON, momentum=TORCH_BN_MOMENTUM),
                nn.ReLU())
            width[conv.name] = conv.filters
        self.up = nn.Conv2d(spec.mixed_channels, spec.in_channels, 1, bias=True)
        self.register_buffer("scale", torch.tensor(spec.scale, dtype=torch.float32))
        self.clip = spec.activation == "relu6"
        self.activation = {"relu": nn.ReLU(), "relu6": nn.ReLU6(),
                           None: nn.Identity()}[spec.activation]

    def forward(self, net):
        out = {"net": net}
        for conv in self.spec.convs:
            out[conv.name] = self.branches[keras_name(conv.scope)](out[conv.source])
        mixed = torch.cat([out[n] for n in self.spec.mixed_from], dim=1)
        scaled_up = self.scale * self.up(mixed)
        if self.clip:
            scaled_up = torch.clamp(scaled_up, -6.0, 6.0)
        return self.activation(net + scaled_up)

    def extra_repr(self) -> str:
        return (f"block={self.spec.block}, variant={self.spec.variant}, "
                f"scale={float(self.scale):g} (buffer), activation={self.spec.activation}, "
                f"clip={self.clip}")


class Block35Torch(ResidualBlockTorch):
    """Inception-ResNet-A, 35x35 in the real nets."""

    block = "block35"


class Block17Torch(ResidualBlockTorch):
    """Inception-ResNet-B, 17x17 in the real nets."""

    block = "block17"


class Block8Torch(ResidualBlockTorch):
    """Inception-ResNet-C, 8x8 in the real nets."""

    block = "block8"


TORCH_BLOCKS = {"block35": Block35Torch, "block17": Block17Torch, "block8": Block8Torch}
