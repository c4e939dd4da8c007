"""block35, block17 and block8 as Deeplearning4j Java: ComputationGraph fragments, as text
(no JVM here).

The fragment is generated from the same spec tables as our Keras blocks
(:data:`explainer.core.block_tables.CONVS_BY_BLOCK`), with one DL4J vertex per Keras layer and
vertex names made of the slim scopes (``Block35/Branch_1/Conv2d_0b_3x3``, ``.../BatchNorm``,
``.../Relu``; ``Block17/Branch_1/Conv2d_0b_1x7`` ...). A 1x7 kernel is
``ConvolutionLayer.Builder(1, 7)``: DL4J's kernel size is (height, width) as slim's.
``scale * up`` is a ``ScaleVertex`` and ``net +`` an
``ElementWiseVertex(ElementWiseVertex.Op.Add)``.
:func:`parse_dl4j` reads the text back into ``{vertex: (class, inputs)}`` so tests and the
notebook check its wiring without Java. :data:`DL4J_DIFFERENCES` says how DL4J's own zoo block
(``InceptionResNetHelper.inceptionV1ResA``) differs from facenet's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..core.block_tables import (
    CONVS_BY_BLOCK,
    IN_CHANNELS_BY_BLOCK,
    MIXED_FROM_BY_BLOCK,
    SLIM_BLOCK_SCOPE,
    check_block_kind,
)
from ..core.schedule import REAL_SCALES
from ..core.spec import BN_EPSILON, UP_SCOPE
from ..core.validate import check_activation, check_scale, check_variant

INPUT = "input"  # the Java parameter holding the name of the vertex the block reads


@dataclass(frozen=True)
class Dl4jVertex:
    """One ``addLayer`` / ``addVertex`` call: name, Java class, builder expression, inputs."""

    name: str
    java_class: str
    expression: str
    inputs: tuple[str, ...]

    @property
    def method(self) -> str:
        layers = ("ConvolutionLayer", "BatchNormalization", "ActivationLayer")
        return "addLayer" if self.java_class in layers else "addVertex"


def _act(name: str) -> str:
    return f"new ActivationLayer.Builder().activation(Activation.{name}).build()"


def dl4j_vertices(variant: str = "v1", scale: float | None = None,
                  activation: str | None = "relu", block: str = "block35") -> list[Dl4jVertex]:
    """The fragment's vertices in graph order (inputs named; the block input is ``input``).
    ``scale=None``: the block's own in the real nets (block35 0.17, block17 0.1, block8 0.2)."""
    variant = check_variant(variant)
    block = check_block_kind(block)
    scale = check_scale(REAL_SCALES[block] if scale is None else scale)
    activation = check_activation(activation)
    prefix = SLIM_BLOCK_SCOPE[block]
    cin = IN_CHANNELS_BY_BLOCK[block][variant]
    name_of, width = {"net": INPUT}, {"net": cin}
    out: list[Dl4jVertex] = []
    for c in CONVS_BY_BLOCK[block][variant]:
        base = f"{prefix}/{c.scope}"
        out.append(Dl4jVertex(base, "ConvolutionLayer",
                              f"new ConvolutionLayer.Builder({c.kernel[0]}, {c.kernel[1]})"
                              f".nIn({width[c.source]}).nOut({c.filters}).stride(1, 1)"
                              ".convolutionMode(ConvolutionMode.Same).hasBias(false)"
                              ".activation(Activation.IDENTITY).build()", (name_of[c.source],)))
        out.append(Dl4jVertex(f"{base}/BatchNorm", "BatchNormalization",
                              f"new BatchNormalization.Builder().nIn({c.filters})"
                              f".nOut({c.filters}).decay(0.995).eps({BN_EPSILON})"
                              ".useLogStd(false).activation(Activation.IDENTITY).build()",
                              (base,)))
        out.append(Dl4jVertex(f"{base}/Relu", "ActivationLayer", _act("RELU"),
                              (f"{base}/BatchNorm",)))
        name_of[c.name], width[c.name] = f"{base}/Relu", c.filters
    mixed_from = MIXED_FROM_BY_BLOCK[block]
    mixed = f"{prefix}/mixed"
    out.append(Dl4jVertex(mixed, "MergeVertex", "new MergeVertex()",
                          tuple(name_of[n] for n in mixed_from)))
    up, mixed_width = f"{prefix}/{UP_SCOPE}", sum(width[n] for n in mixed_from)
    out.append(Dl4jVertex(up, "ConvolutionLayer",
                          f"new ConvolutionLayer.Builder(1, 1).nIn({mixed_width})"
                          f".nOut({cin}).stride(1, 1).convolutionMode(ConvolutionMode.Same)"
                          ".hasBias(true).activation(Activation.IDENTITY).build()", (mixed,)))
    scaled = f"{prefix}/scaled_up"
    out.append(Dl4jVertex(scaled, "ScaleVertex", f"new ScaleVertex({scale!r})", (up,)))
    if activation == "relu6":  # clip(v, -6, 6) == relu6(v + 6) - 6: tf-models' bandpass clip
        out += [Dl4jVertex(f"{scaled}/shift_up", "ShiftVertex", "new ShiftVertex(6.0)", (scaled,)),
                Dl4jVertex(f"{scaled}/relu6", "ActivationLayer", _act("RELU6"),
                           (f"{scaled}/shift_up",)),
                Dl4jVertex(f"{scaled}/clip", "ShiftVertex", "new ShiftVertex(-6.0)",
                           (f"{scaled}/relu6",))]
        scaled = f"{scaled}/clip"
    out.append(Dl4jVertex(f"{prefix}/net_sum", "ElementWiseVertex",
                          "new ElementWiseVertex(ElementWiseVertex.Op.Add)", (INPUT, scaled)))
    act = {"relu": "RELU", "relu6": "RELU6", None: "IDENTITY"}[activation]
    out.append(Dl4jVertex(f"{prefix}/net_out", "ActivationLayer", _act(act),
                          (f"{prefix}/net_sum",)))
    return out


def _weight_comments(variant: str, block: str) -> list[str]:
    lines = ["// Weights, slim name -> DL4J parameter (conv \"W\" is [nOut, nIn, kH, kW]:",
             "// transpose slim's HWIO kernel with (3, 2, 0, 1)). slim's batch_norm has no",
             "// gamma: set \"gamma\" to 1; \"beta\", \"mean\", \"var\" take beta, moving_mean,",
             "// moving_variance (useLogStd(false) keeps \"var\" a plain variance)."]
    prefix = SLIM_BLOCK_SCOPE[block]
    for c in CONVS_BY_BLOCK[block][variant]:
        lines.append(f"//   {c.scope}/weights -> \"{prefix}/{c.scope}\" W")
    lines.append(f"//   {UP_SCOPE}/weights, biases -> \"{prefix}/{UP_SCOPE}\" W, b")
    return lines


def to_dl4j(variant: str = "v1", scale: float | None = None,
            activation: str | None = "relu", block: str = "block35") -> str:
    """Java source of a DL4J ComputationGraph fragment that appends block35 (or ``block``:
    "block17", "block8") to a GraphBuilder; ``scale=None`` is the block's own in the real nets
    (block35 0.17, block17 0.1, block8 0.2).

    Text only: it is checked structurally (:func:`parse_dl4j`), not compiled, here.
    """
    block = check_block_kind(block)
    vertices = dl4j_vertices(variant, scale, activation, block)
    scale = REAL_SCALES[block] if scale is None else check_scale(scale)
    prefix = SLIM_BLOCK_SCOPE[block]
    classes = sorted({v.java_class for v in vertices})
    pkg = {"ConvolutionLayer": "layers", "BatchNormalization": "layers",
           "ActivationLayer": "layers", "MergeVertex": "graph", "ScaleVertex": "graph",
           "ShiftVertex": "graph", "ElementWiseVertex": "graph"}
    imports = ["org.deeplearning4j.nn.conf.ComputationGraphConfiguration",
               "org.deeplearning4j.nn.conf.ConvolutionMode",
               *(f"org.deeplearning4j.nn.conf.{pkg[c]}.{c}" for c in classes),
               "org.nd4j.linalg.activations.Activation"]
    origin = {"v1": "facenet Inception-ResNet-v1", "v2": "tf-models Inception-ResNet-v2"}
    lines = [f"// {block} ({origin[variant]}): net += {scale!r} * up, activation {activation}.",
             "// Generated by explainer.ports.to_dl4j; vertex names are the slim scopes.",
             *_weight_comments(variant, block), ""]
    lines += [f"import {i};" for i in sorted(imports)]
    lines += ["", f"public final class {prefix}Fragment {{",
              f"    /** Appends {block} reading vertex {{@code input}}; returns its output "
              "vertex. */",
              f"    public static String {block}(ComputationGraphConfiguration.GraphBuilder "
              "graph,",
              "            String input) {",
              "        graph"]
    for v in vertices:
        inputs = ", ".join(i if i == INPUT else f'"{i}"' for i in v.inputs)
        expression = v.expression.replace(").", ")\n                    .")
        lines += [f'            .{v.method}("{v.name}",', f"                {expression},",
                  f"                {inputs})"]
    lines[-1] += ";"
    lines += [f'        return "{vertices[-1].name}";', "    }", "}", ""]
    return "\n".join(lines)


def _split_args(text: str) -> list[str]:
    """Split a Java argument list at top-level commas."""
    args, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += ch in "([{"
        depth -= ch in ")]}"
        if ch == "," and depth == 0:
            args.append(text[start:i].strip())
            start = i + 1
    return args + [text[start:].strip()]


def parse_dl4j(text: str) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Read ``.addLayer(...)`` / ``.addVertex(...)`` calls back: ``{name: (class, inputs)}``.

    String inputs lose their quotes; a bare identifier (the ``input`` parameter) stays as is.
    """
    found = {}
    for match in re.finditer(r"\.add(?:Layer|Vertex)\(", text):
        depth, i = 1, match.end()
        while depth:
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            i += 1
        name, expression, *inputs = _split_args(text[match.end():i - 1])
        java_class = re.match(r"new (\w+)", expression).group(1)
        found[name.strip('"')] = (java_class, tuple(a.strip('"') for a in inputs))
    return found


# How DL4J's zoo block (deeplearning4j-zoo .../model/helper/InceptionResNetHelper.java,
# inceptionV1ResA, used by zoo.model.InceptionResNetV1) differs from facenet's block35.
DL4J_DIFFERENCES = (
    ("block input", "256 channels (35x35x256 after Conv2d_4b_3x3)",
     "192 channels: every 1x1 conv has nIn(192)", "facenet weights do not fit the zoo block"),
    ("projection `up`", "1x1 conv, with bias, normalizer_fn=None, activation_fn=None",
     "3x3 ConvolutionLayer (cnn7, 96 -> 192) followed by BatchNormalization (batch7)",
     "a different function, not a re-layout: port with this fragment instead"),
    ("after the add", "activation_fn: ReLU", "ActivationLayer TANH",
     "outputs differ in sign and range"),
    ("branch conv order", "conv (no bias) -> BatchNorm -> ReLU",
     "ConvolutionLayer with the graph-wide RELU (activation inside the conv) -> "
     "BatchNormalization", "ReLU before, not after, the normalisation"),
    ("BatchNorm gamma", "none (slim batch_norm scale=False)",
     "BatchNormalization.Builder(false): gamma and beta both learned", "set gamma to 1"),
    ("BatchNorm variance", "moving_variance", "log10stdev by default (useLogStd true)",
     "store variance with useLogStd(false), or convert"),
    ("`scale` argument", "scale: the residual scale (0.17)",
     "int scale: how many blocks to repeat (5); activationScale: the residual scale (0.17)",
     "same word, different meaning"),
    ("shortcut", "net (the tensor itself)",
     "ActivationLayer IDENTITY, then ElementWiseVertex(Op.Add)", "same result"),
    ("relu6 clip", "v1 (facenet): none; v2 (tf-models): scale*up clipped to [-6, 6] for relu6",
     "no clip", "this fragment adds ShiftVertex / RELU6 / ShiftVertex for relu6"),
)
DL4J_DIFFERENCE_COLUMNS = ("aspect", "facenet block35", "DL4J zoo inceptionV1ResA", "consequence")


def differences_text() -> str:
    """:data:`DL4J_DIFFERENCES` as plain text, one paragraph per aspect."""
    out = []
    for aspect, facenet, zoo, consequence in DL4J_DIFFERENCES:
        out += [aspect, f"  facenet:  {facenet}", f"  DL4J zoo: {zoo}",
                f"  so:       {consequence}"]
    return "\n".join(out)
