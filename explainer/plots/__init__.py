"""Matplotlib figures for the explainer. Each function returns a Figure (never ``plt.show()``).

One submodule per topic; their public functions are re-exported here.
"""

from __future__ import annotations
