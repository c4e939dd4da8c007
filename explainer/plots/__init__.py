"""Matplotlib figures for the explainer. Each function returns a Figure (never ``plt.show()``).

One submodule per topic; their public functions are re-exported here. In an IPython kernel a
displayed Figure's text form is its description (:mod:`.describe`): the static pages use it
as the figure's alt text.
"""

from __future__ import annotations

from .broadcast import broadcast_diagram, broadcast_diagram_png, plot_keep_mask  # noqa: F401
from .describe import describe_figure, show_descriptions  # noqa: F401
from .diagram import plot_block_diagram  # noqa: F401
from .folding import plot_fold_cases  # noqa: F401
from .lesson import plot_line_terms, plot_residual_ratio  # noqa: F401
from .ports import plot_port_differences  # noqa: F401
from .schemes import plot_scale_schemes  # noqa: F401
from .stages import plot_stage_profile  # noqa: F401
from .sweep import plot_depth_profile, plot_histograms, plot_sweep  # noqa: F401

show_descriptions()
