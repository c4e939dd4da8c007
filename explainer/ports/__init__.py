"""Ports: the original tf-slim code running, the TF1 -> TF2 table, and the block in other
frameworks (keras.applications, PyTorch, ONNX, Deeplearning4j), each with a measured comparison.

``from explainer import port`` gives this package; its entry points are gathered here:
``port.from_slim``, ``port.from_keras_applications``, ``port.compare_slim``,
``port.to_torch``, ``port.compare_torch``, ``port.to_onnx``, ``port.to_dl4j``,
``port.to_timm``, ``port.compare_timm``. timm's own blocks are a port too (:mod:`.timm_port`),
and :mod:`.spellings` runs the line as facenet, tf-models, Keras and timm each write it;
:mod:`.torch_save` saves the PyTorch block and loads it back in a fresh process.
"""

from .check import PortCheck, max_abs  # noqa: F401
from .dl4j_port import DL4J_DIFFERENCES, differences_text, dl4j_vertices, parse_dl4j, to_dl4j  # noqa: F401
from .keras_port import (  # noqa: F401
    KERAS_APPS_BLOCKS,
    compare_keras_applications,
    compare_slim,
    from_keras_applications,
    from_slim,
    keras_apps_block,
    slim_side_by_side,
    to_keras_applications,
)
from .keras_serialisation import SavedForm, lambda_vs_layer  # noqa: F401
from .onnx_port import OnnxReport, compare_onnx, find_scale_mul, onnx_missing, to_onnx  # noqa: F401
from .timm_port import compare_timm, timm_missing, to_timm  # noqa: F401
from .torch_port import (  # noqa: F401
    compare_torch,
    to_torch,
    torch_forward,
    torch_line_forms,
    torch_missing,
    torch_report,
)
