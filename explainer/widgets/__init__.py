"""ipywidgets apps for the notebooks. Errors show inside the widget, never as a traceback.

One submodule per app; their public functions are re-exported here.
"""

from __future__ import annotations

from .broadcast_playground import broadcast_playground  # noqa: F401
from .scale_explorer import ScaleExplorer, scale_explorer  # noqa: F401
