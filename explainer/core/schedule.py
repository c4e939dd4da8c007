"""The real nets' residual scales, read from the original code (not typed in as numbers).

The lines below are the residual stages as the original files write them: facenet's
``src/models/inception_resnet_v1.py`` (``inception_resnet_v1``) and tf-models'
``research/slim/nets/inception_resnet_v2.py`` (``inception_resnet_v2_base``), plus the
signature every block function shares (``def block35(net, scale=1.0, ...)``, the same for
block17 and block8), whose default is the scale of the final block8 that is called without one.
:data:`SCHEDULE` is parsed from that text with :mod:`ast`; :data:`REAL_SCALES` and
:data:`BLOCK35_SCALE` come from it.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

ORIGINAL_STAGES = {
    "v1": """\
net = slim.repeat(net, 5, block35, scale=0.17)
net = slim.repeat(net, 10, block17, scale=0.10)
net = slim.repeat(net, 5, block8, scale=0.20)
net = block8(net, activation_fn=None)
""",
    "v2": """\
net = slim.repeat(net, 10, block35, scale=0.17,
                  activation_fn=activation_fn)
net = slim.repeat(net, 20, block17, scale=0.10,
                  activation_fn=activation_fn)
net = slim.repeat(net, 9, block8, scale=0.20, activation_fn=activation_fn)
net = block8(net, activation_fn=None)
""",
}
ORIGINAL_SIGNATURE = """\
def block8(net, scale=1.0, activation_fn=tf.nn.relu, scope=None, reuse=None):
    pass
"""


@dataclass(frozen=True)
class Stage:
    """One run of identical residual blocks in a real net."""

    block: str  # "block35", "block17" or "block8"
    repeats: int
    scale: float
    activation: str | None  # "relu" (the nets' default activation_fn) or None


def _signature_default(name: str) -> object:
    func = ast.parse(ORIGINAL_SIGNATURE).body[0]
    args = func.args.args[-len(func.args.defaults):]
    defaults = {a.arg: d for a, d in zip(args, func.args.defaults, strict=True)}
    return ast.literal_eval(defaults[name])


def _stage(call: ast.Call) -> Stage:
    keywords = {k.arg: k.value for k in call.keywords}
    activation = keywords.get("activation_fn")
    act = None if isinstance(activation, ast.Constant) and activation.value is None else "relu"
    if isinstance(call.func, ast.Attribute) and call.func.attr == "repeat":  # slim.repeat(...)
        _, repeats, block = call.args
        return Stage(block.id, ast.literal_eval(repeats),
                     float(ast.literal_eval(keywords["scale"])), act)
    scale = keywords.get("scale")  # a block called once, e.g. the final block8
    value = ast.literal_eval(scale) if scale is not None else _signature_default("scale")
    return Stage(call.func.id, 1, float(value), act)


def parse_stages(text: str) -> tuple[Stage, ...]:
    """The stages of ``net = ...`` lines, in order."""
    return tuple(_stage(node.value) for node in ast.parse(text).body)


SCHEDULE = {variant: parse_stages(text) for variant, text in ORIGINAL_STAGES.items()}
# One constant per block kind: the scale its repeated stage uses (the same in v1 and v2).
REAL_SCALES = {stage.block: stage.scale for stage in SCHEDULE["v1"] if stage.repeats > 1}
BLOCK35_SCALE = REAL_SCALES["block35"]
