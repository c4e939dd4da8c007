"""Build hook; the project's metadata is in pyproject.toml.

The wheel carries the lessons and the stored why-scale grid, which live beside the package in a
checkout: ``notebooks/*.ipynb`` and ``notebooks/apps/*.ipynb`` go to ``explainer/_lessons/``
(``python -m explainer notebooks DIR`` copies them out), ``results/why_scale*.json`` to
``explainer/scaling/results/`` (where the stored grid is read first). MANIFEST.in puts them in
the sdist, so ``python -m build`` (sdist, then the wheel from it) and ``pip wheel .`` agree.
An editable install copies nothing: the checkout's own files are read in place.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
# folder of the checkout -> (folder inside the package, the files taken)
PACKAGE_DATA = {
    "notebooks": ("explainer/_lessons", ("*.ipynb", "apps/*.ipynb")),
    "results": ("explainer/scaling/results", ("why_scale.json", "why_scale_portability.json")),
}


class BuildPyWithData(build_py):
    """setuptools' build_py, then the lessons and the stored grid copied into the build."""

    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for source, (target, patterns) in PACKAGE_DATA.items():
            for pattern in patterns:
                for path in sorted((ROOT / source).glob(pattern)):
                    relative = path.relative_to(ROOT / source)
                    if (ROOT / target / relative).exists():  # already package data
                        continue
                    dest = Path(self.build_lib) / target / relative
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(path, dest)


setup(cmdclass={"build_py": BuildPyWithData})
