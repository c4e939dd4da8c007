"""Statements of the lessons and the README held against what the code and the Makefile do
(issue 30, item 3): each test reads the text and the thing it speaks of, cheaply."""

from __future__ import annotations

import importlib.metadata
import inspect
import json
import re
from pathlib import Path

from explainer.core.schedule import SCHEDULE
from explainer.scaling.stages import StageProfile

ROOT = Path(__file__).resolve().parent.parent


def markdown(notebook: str) -> str:
    cells = json.loads((ROOT / "notebooks" / f"{notebook}.ipynb").read_text())["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")


def make_recipe(target: str) -> str:
    text = (ROOT / "Makefile").read_text()
    return re.search(rf"^{target}:.*\n((?:\t.*\n|  .*\n)+)", text, re.M).group(1)


def test_notebook_00_says_what_make_classroom_and_make_html_do():
    text = markdown("00_start_here")
    classroom = next(line for line in text.splitlines() if line.startswith("- `make classroom`"))
    assert "notebooks/apps/" in make_recipe("classroom") and "`notebooks/apps/`" in classroom
    assert "the lessons\n  themselves stay in `make lab`" in text
    assert "explainer.site.build" in make_recipe("html")
    assert "Building them needs the\n  install (make does it) and runs every notebook" in text


def test_the_first_0_0886_says_where_it_comes_from():
    text = markdown("00_start_here")
    assert "seeded random numbers, not a trained\nnet's" in text
    readme = (ROOT / "README.md").read_text()
    line3 = next(line for line in readme.splitlines() if line.startswith("3. So the residual"))
    assert "seeded random weights on a synthetic input" in line3


def test_readme_says_which_torch_build_and_why_torchvision_is_patched():
    readme = " ".join((ROOT / "README.md").read_text().split())
    torch = importlib.metadata.version("torch")
    assert torch.endswith("+cpu") and f"its CPU build, `{torch}`" in readme
    assert "PyPI's torchvision wheel is a CUDA build" in readme
    assert "declares its two operators (`nms`, `qnms`) without kernels" in readme
    from explainer.ports import timm_port

    assert all(f"{name}(Tensor dets" in " ".join(timm_port._SCHEMAS) for name in ("nms", "qnms"))


def test_notebook_03_defines_every_column_of_the_stage_table():
    header = inspect.getsource(StageProfile.__str__)
    columns = re.findall(r"\{'([^']+)':[<>]\d+\}", header)
    assert {"growth", "std in", "std out", "max ratio", "|grad|"} <= set(columns)
    text = markdown("03_residual_scaling")
    for column in columns:
        if column not in ("stage", "width", "schedule"):
            assert f"**{column}**" in text, column
    assert "**growth** = ||stage output|| / ||stage input||" in text


def test_notebook_03_gives_the_paper_figure_and_the_codes_block_counts():
    text = markdown("03_residual_scaling")
    repeats = [s.repeats for s in SCHEDULE["v2"]]
    assert repeats[:3] == [10, 20, 9] and repeats[3] == 1
    assert "draws 5 × Inception-ResNet-A, 10 × B and 5 × C" in text
    assert "tf-models' v2 code repeats 10, 20 and 9, plus the last block8" in text


def test_notebook_05_figure_heading_counts_what_it_plots():
    cells = json.loads((ROOT / "notebooks" / "05_porting.ipynb").read_text())["cells"]
    at = next(i for i, c in enumerate(cells) if "".join(c["source"]).startswith(
        "## Three ports on one figure"))
    code = "".join(cells[at + 1]["source"])
    labels = [a or b for a, b in re.findall(r'"([^"]+)":\s|checks\["([^"]+)"\]', code)]
    assert len(labels) == 3 and not any("keras" in label.lower() for label in labels), labels
    assert "exactly 0" in "".join(cells[at]["source"])
