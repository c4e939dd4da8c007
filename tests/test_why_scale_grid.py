"""The why-scale grid's files: resuming, the --out rules, overwrite protection, partial files
that do not read back, and the CLI's one-line refusals (all before any training)."""

from __future__ import annotations

import json
import os

import pytest
from cli_support import run_cli_without_tensorflow, run_here

from explainer.scaling.experiment import (
    FULL,
    QUICK,
    RESULTS_PATH,
    GridConfig,
    partial_path,
    read_partial,
    run_grid,
)

TINY = GridConfig(depths=(1,), widths=(8,), scales=(1.0,), lrs=(0.1, 0.2), steps=2, seeds=(0,),
                  batch=4)
OTHER = GridConfig(depths=(1,), widths=(8,), scales=(0.5,), lrs=(0.1,), steps=2, seeds=(0,),
                   batch=4)


def test_grid_resumes_after_an_interruption(tmp_path):
    out = tmp_path / "grid.json"
    seen = []

    def interrupt(key, run):
        seen.append((key, run is None))
        raise KeyboardInterrupt  # after the first run has been written to the partial file

    with pytest.raises(KeyboardInterrupt):
        run_grid(TINY, out, on_run=interrupt)
    assert partial_path(out).exists() and not out.exists()
    resumed = []
    document = run_grid(TINY, out, on_run=lambda key, run: resumed.append((key, run is None)))
    assert resumed == [(seen[0][0], True), ("d1_w8_s1_lr0.2_seed0", False)]
    assert [r["key"] for r in document["runs"]] == ["d1_w8_s1_lr0.1_seed0",
                                                    "d1_w8_s1_lr0.2_seed0"]
    assert not partial_path(out).exists()
    stored = json.loads(out.read_text())
    assert stored["config_hash"] == TINY.hash()
    assert {"cpu_model", "cpu_flags", "onednn"} <= set(stored["machine"])


def test_a_half_written_last_line_is_cut_and_the_grid_resumes(tmp_path):
    out = tmp_path / "grid.json"
    with pytest.raises(KeyboardInterrupt):
        run_grid(TINY, out, on_run=lambda key, run: (_ for _ in ()).throw(KeyboardInterrupt))
    with partial_path(out).open("a") as f:
        f.write('{"config_hash": "' + TINY.hash() + '", "key": "d1_w8')  # cut mid-line
    notes = []
    assert list(read_partial(out, TINY.hash(), notes.append)) == ["d1_w8_s1_lr0.1_seed0"]
    assert len(notes) == 1 and "half-written" in notes[0]
    document = run_grid(TINY, out, note=notes.append)
    assert len(document["runs"]) == 2


@pytest.mark.parametrize("content, why", [
    ("not json\n{}\n", "does not read back"),
    ('{"config_hash": "0123456789abcdef", "key": "k", "run": {}}\n\n', "another grid"),
    ('{"config_hash": "HASH", "key": "k", "run": {"width": 8}}\n\n', "without"),
])
def test_a_partial_file_that_does_not_read_back_is_set_aside(tmp_path, content, why):
    out = tmp_path / "grid.json"
    partial_path(out).write_text(content.replace("HASH", TINY.hash()))
    notes = []
    assert read_partial(out, TINY.hash(), notes.append) == {}
    assert len(notes) == 1 and "set aside" in notes[0]
    assert not partial_path(out).exists()
    assert len(list(tmp_path.glob("grid.partial.jsonl.set-aside-*"))) == 1


def test_another_grids_results_are_not_overwritten_without_force(tmp_path):
    out = tmp_path / "grid.json"
    run_grid(OTHER, out)
    before = out.read_text()
    with pytest.raises(ValueError, match="another grid's results.*--force"):
        run_grid(TINY, out, on_run=lambda key, run: pytest.fail("trained before refusing"))
    assert out.read_text() == before
    run_grid(TINY, out, force=True)
    assert json.loads(out.read_text())["config_hash"] == TINY.hash()


def test_a_file_that_is_not_results_is_not_overwritten(tmp_path):
    out = tmp_path / "notes.json"
    out.write_text('{"mine": 1}')
    with pytest.raises(ValueError, match="not a why-scale results file"):
        run_grid(TINY, out)
    assert out.read_text() == '{"mine": 1}'


def test_complete_results_of_the_same_grid_are_returned_without_training(tmp_path):
    out = tmp_path / "grid.json"
    run_grid(TINY, out)
    stamp = out.stat().st_mtime_ns
    notes = []
    document = run_grid(TINY, out, note=notes.append,
                        on_run=lambda key, run: pytest.fail("trained again"))
    assert document["config_hash"] == TINY.hash() and out.stat().st_mtime_ns == stamp
    assert "already holds" in notes[0]


@pytest.mark.parametrize("make", ["folder", "missing folder", "long name", "proc", "fifo"])
def test_bad_out_paths_are_refused_before_training(tmp_path, make):
    path = {"folder": tmp_path, "missing folder": tmp_path / "no" / "x.json",
            "long name": tmp_path / ("x" * 300 + ".json"), "proc": "/proc/x.json",
            "fifo": tmp_path / "fifo.json"}[make]
    if make == "fifo":
        os.mkfifo(path)
    with pytest.raises(ValueError, match="out"):
        run_grid(TINY, path, on_run=lambda key, run: pytest.fail("trained"))
    assert not list(tmp_path.glob("*.partial.jsonl"))


@pytest.mark.parametrize("out", ["DIR", "/proc/x.json", "x" * 300 + ".json", "x.txt",
                                 "DIR/missing/x.json"])
def test_cli_refuses_a_bad_out_in_one_line_before_loading_tensorflow(tmp_path, out):
    done = run_cli_without_tensorflow("why-scale", "--out", out.replace("DIR", str(tmp_path)),
                                      "--no-progress")
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "out" in lines[0], lines  # refused before TensorFlow loads
    assert not list(tmp_path.iterdir())


def test_cli_quick_never_replaces_the_full_results():
    before = RESULTS_PATH.read_bytes()
    done = run_cli_without_tensorflow("why-scale", "--quick", "--out", str(RESULTS_PATH),
                                      "--no-progress")  # refused before TensorFlow loads
    assert done.returncode == 2
    assert "another grid's results" in done.stderr and "--force" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert RESULTS_PATH.read_bytes() == before
    assert not partial_path(RESULTS_PATH).exists()


def test_quick_grid_is_a_small_other_grid():
    assert QUICK.hash() != FULL.hash()
    assert len(QUICK.runs()) * 10 < len(FULL.runs())


@pytest.mark.slow
def test_cli_quick_is_a_smoke_test(tmp_path):
    out = tmp_path / "quick.json"
    done = run_here("why-scale", "--quick", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "run/s" in done.stderr or "s/run" in done.stderr  # the tqdm progress bar
    document = json.loads(out.read_text())
    assert document["config_hash"] == QUICK.hash()
    assert len(document["runs"]) == len(QUICK.runs())
    assert "smoke test" in done.stdout
    for claim in ("stability edge", "Scale 1", "lower", "higher"):  # no conclusion printed
        assert claim not in done.stdout
