"""The course's static pages built in Python: the why-scale page's compaction holds a grid
~2.3 times today's within 1 MB (the lead's rerun stores ~650-700 runs)."""

from __future__ import annotations

import copy
import json
import random
import re

from explainer.scaling.experiment import RESULTS_PATH
from explainer.scaling.why_scale_results import read_results_document
from explainer.site.why_scale_page import PAGE_BUDGET, STEP0_ARRAYS, STEP_ARRAYS, why_scale_page

MAX_PAGE_BYTES = 2**20


def test_a_grid_over_twice_as_large_still_fits_one_page(tmp_path):
    """Today's runs and four more seeds of the seed-0 runs, every value moved by ~1 % (so
    gzip cannot share the copies): the page drops to fewer figures, not past 1 MB."""
    document = read_results_document(RESULTS_PATH)
    rng = random.Random(0)
    seeds = document["config"]["seeds"]
    first, more = seeds[0], list(range(max(seeds) + 1, max(seeds) + 5))
    runs = list(document["runs"])
    today = len(runs)
    for seed in more:
        for record in document["runs"]:
            if record["seed"] != first:
                continue
            copied = copy.deepcopy(record)
            copied["seed"], copied["key"] = seed, f"{record['key']}-copy{seed}"
            for name in STEP_ARRAYS + STEP0_ARRAYS:
                copied[name] = [None if v is None else
                                float(f"{v * (1 + 0.01 * rng.gauss(0, 1)):.6g}")
                                for v in record[name]]
            runs.append(copied)
    document["runs"], document["config"]["seeds"] = runs, seeds + more
    assert len(runs) >= 2.2 * today
    path = tmp_path / "why_scale.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    page = why_scale_page(path)
    assert len(page.encode()) <= PAGE_BUDGET < MAX_PAGE_BYTES
    digits = int(re.search(r"keep (\d) significant figures", page).group(1))
    assert 4 <= digits < 6  # fewer figures than today's page, still readable curves
    assert f"Each of the {len(runs)} runs" in page
