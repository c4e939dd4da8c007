"""The browser console's shared-module version warnings, and the ranges Voilà's own widget
manager declares.

A JupyterLab or Voilà page loads its extensions through webpack module federation: each
extension asks for the shared packages (``@jupyterlab/rendermime`` ...) in a version range
compiled into its ``remoteEntry.*.js``, and where the page's copy is outside that range the
console says so, in one of two forms:

``Unsatisfied version 4.2.5 from _JUPYTERLAB.CORE_OUTPUT of shared singleton module
@jupyterlab/rendermime (required ^4.5.10)``

``No satisfying version (^4.5.10) of shared module @jupyterlab/outputarea found in shared
scope default.`` followed by ``Available versions: 4.2.5 from ...``
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

UNSATISFIED = re.compile(r"Unsatisfied version (\S+) from \S+ of shared singleton module "
                         r"(\S+) \(required (\S+)\)")
NO_SATISFYING = re.compile(r"No satisfying version \((\S+)\) of shared module (\S+) found in "
                           r"shared scope \S+\s+Available versions: (\S+)")
# a compiled consume: ("default","@jupyterlab/rendermime",!1,[1,4,5,10] is ^4.5.10
CONSUME = re.compile(r'"default","(@[^"]+)",(?:!?[01],)?\[1,(\d+),(\d+),(\d+)\]')


@dataclass(frozen=True)
class Mismatch:
    module: str  # the shared package, e.g. @jupyterlab/rendermime
    provided: str  # the page's version of it, e.g. 4.2.5
    required: str  # the range an extension asked for, e.g. ^4.5.10


def mismatches(console: list[str]) -> set[Mismatch]:
    """Every version warning of ``console`` (lines as the ``page`` fixture keeps them);
    a line that names a version problem in another form fails, so that none goes unseen."""
    found = set()
    for line in console:
        if hit := UNSATISFIED.search(line):
            found.add(Mismatch(module=hit.group(2), provided=hit.group(1),
                               required=hit.group(3)))
        elif hit := NO_SATISFYING.search(line):
            found.add(Mismatch(module=hit.group(2), provided=hit.group(3),
                               required=hit.group(1)))
        else:
            assert "satisf" not in line.lower(), f"a version warning in an unknown form: {line}"
    return found


def voila_widget_manager_ranges() -> set[tuple[str, str]]:
    """``(module, range)`` for every shared package Voilà's own widget manager
    (``@voila-dashboards/widgets-manager8``, shipped in Voilà's wheel) asks for, read from
    its installed bundle, as the page the server sends loads it."""
    from jupyter_core.paths import jupyter_path

    bundles = [path for folder in jupyter_path("voila", "labextensions")
               for path in Path(folder).glob(
                   "@voila-dashboards/widgets-manager8/static/remoteEntry.*.js")]
    assert bundles, "Voilà's widgets-manager8 bundle is not installed"
    text = bundles[0].read_text()
    return {(name, f"^{major}.{minor}.{patch}")
            for name, major, minor, patch in CONSUME.findall(text)}
