"""The course's static pages built in Python: the why-scale page holds today's grid (792
runs: 324 at first, then the lead's rerun with six learning rates and the decomposition arms)
within 1 MB at the file's own 6 figures, and a grid a quarter larger still fits, with fewer."""

from __future__ import annotations

import copy
import json
import random
import re

from explainer.scaling.why_scale.experiment import RESULTS_PATH
from explainer.scaling.why_scale.results import read_results_document
from explainer.site.why_scale_page import PAGE_BUDGET, STEP0_ARRAYS, STEP_ARRAYS, why_scale_page

MAX_PAGE_BYTES = 2**20


def _figures(page: str) -> int:
    return int(re.search(r"keep (\d) significant figures", page).group(1))


def test_a_larger_grid_still_fits_one_page(tmp_path):
    """A quarter more runs (copies of seed-0 runs as a new seed, every value moved by ~1 %, so
    gzip cannot share the copies): the page drops to fewer figures, not past 1 MB."""
    document = read_results_document(RESULTS_PATH)
    rng = random.Random(0)
    seeds = document["config"]["seeds"]
    new_seed = max(seeds) + 1
    runs = list(document["runs"])
    today = len(runs)
    for record in [r for r in document["runs"] if r["seed"] == seeds[0]][: today // 4 + 1]:
        copied = copy.deepcopy(record)
        copied["seed"], copied["key"] = new_seed, f"{record['key']}-copy{new_seed}"
        for name in STEP_ARRAYS + STEP0_ARRAYS:
            copied[name] = [None if v is None else
                            float(f"{v * (1 + 0.01 * rng.gauss(0, 1)):.6g}")
                            for v in record[name]]
        runs.append(copied)
    document["runs"], document["config"]["seeds"] = runs, seeds + [new_seed]
    assert len(runs) >= 1.25 * today
    path = tmp_path / "why_scale.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    page = why_scale_page(path)
    assert len(page.encode()) <= PAGE_BUDGET < MAX_PAGE_BYTES
    assert 4 <= _figures(page) < 6  # fewer figures than the file's, still readable curves
    assert f"Each of the {len(runs)} runs" in page
