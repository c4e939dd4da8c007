"""The why-scale grid's files: resuming, the --out rules, overwrite protection, partial files
that do not read back, and the CLI's one-line refusals (all before any training)."""

from __future__ import annotations

import dataclasses
import json
import os

import pytest
from cli_support import run_cli_without_tensorflow, run_here

from explainer.scaling.why_scale.experiment import (
    FULL,
    QUICK,
    RESULTS_PATH,
    GridConfig,
    GridLocked,
    acquire_lock,
    lock_path,
    partial_path,
    read_partial,
    release_lock,
    run_grid,
    run_key,
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
        f.write('{"protocol_version": 2, "key": "d1_w8')  # cut mid-line
    notes = []
    assert [run_key(run) for run in read_partial(out, notes.append).values()] \
        == ["d1_w8_s1_lr0.1_seed0"]
    assert len(notes) == 1 and "half-written" in notes[0]
    document = run_grid(TINY, out, note=notes.append)
    assert len(document["runs"]) == 2


@pytest.mark.parametrize("content, why", [
    ("not json\n{}\n", "does not read back"),
    ('{"protocol_version": 1, "key": "k", "run": {}}\n\n', "protocol"),
    ('{"protocol_version": 2, "key": "k", "run": {"width": 8}}\n\n', "without"),
    ("my notes", "does not read back"),  # a user's file: set aside whole, never cut
    ("my notes\n", "does not read back"),
])
def test_a_partial_file_that_does_not_read_back_is_set_aside(tmp_path, content, why):
    out = tmp_path / "grid.json"
    partial_path(out).write_text(content)
    notes = []
    assert read_partial(out, notes.append) == {}
    assert len(notes) == 1 and "set aside" in notes[0] and why in notes[0], notes
    assert not partial_path(out).exists()
    kept = list(tmp_path.glob("grid.partial.jsonl.set-aside-*"))
    assert len(kept) == 1 and kept[0].read_text() == content  # nothing of it lost


def test_a_grid_that_adds_and_removes_settings_reuses_every_stored_run(tmp_path):
    out = tmp_path / "grid.json"
    run_grid(TINY, out)
    first = {r["key"]: r for r in json.loads(out.read_text())["runs"]}
    grown = dataclasses.replace(TINY, lrs=(0.2, 0.3))  # drops 0.1, keeps 0.2, adds 0.3
    notes, trained = [], []
    document = run_grid(grown, out, note=notes.append,
                        on_run=lambda key, run: run is not None and trained.append(key))
    assert "reused 1 of 2 runs" in notes
    assert trained == ["d1_w8_s1_lr0.3_seed0"]
    runs = {r["key"]: r for r in document["runs"]}
    assert runs["d1_w8_s1_lr0.2_seed0"] == first["d1_w8_s1_lr0.2_seed0"]  # reused as stored
    # the removed setting's run is kept in the file, and a grid that asks for it again reuses it
    assert [r["key"] for r in document["other_runs"]] == ["d1_w8_s1_lr0.1_seed0"]
    forced = run_grid(grown, out, force=True, note=notes.append)
    assert [r["key"] for r in forced["other_runs"]] == ["d1_w8_s1_lr0.1_seed0"]
    assert {r["machine"] for r in forced["runs"] + forced["other_runs"]} <= set(
        forced["machines"])  # every run's machine is described, kept runs' too
    notes.clear()
    trained.clear()
    run_grid(TINY, out, note=notes.append,
             on_run=lambda key, run: run is None or pytest.fail(f"trained {key} again"))
    assert "reused 2 of 2 runs" in notes
    assert json.loads(out.read_text())["runs"][0] == {"key": "d1_w8_s1_lr0.1_seed0",
                                                      **{k: v for k, v in first[
                                                          "d1_w8_s1_lr0.1_seed0"].items()
                                                         if k != "key"}}


def test_force_trains_every_run_again(tmp_path):
    out = tmp_path / "grid.json"
    run_grid(TINY, out)
    notes, trained = [], []
    run_grid(TINY, out, force=True, note=notes.append,
             on_run=lambda key, run: trained.append(run is not None))
    assert "reused 0 of 2 runs" in notes and trained == [True, True]


def test_each_run_records_the_machine_that_made_it(tmp_path):
    out = tmp_path / "grid.json"
    document = run_grid(TINY, out)
    ids = {run["machine"] for run in document["runs"]}
    assert len(ids) == 1 and ids <= set(document["machines"])
    assert document["machines"][ids.pop()]["cpu_model"] == document["machine"]["cpu_model"]


@pytest.mark.parametrize("link", ["out", "partial"])
def test_results_are_never_written_through_a_symlink(tmp_path, link):
    target = tmp_path / "thesis.txt"
    target.write_text("mine")
    out = tmp_path / "grid.json"
    (out if link == "out" else partial_path(out)).symlink_to(target)
    with pytest.raises(ValueError, match="link"):
        run_grid(TINY, out, on_run=lambda key, run: pytest.fail("trained"))
    assert target.read_text() == "mine"


def test_a_second_process_on_the_same_out_is_refused_before_training(tmp_path):
    out = tmp_path / "grid.json"
    acquire_lock(out)  # this process holds it, as a running why-scale would
    try:
        done = run_cli_without_tensorflow("why-scale", "--quick", "--out", str(out),
                                          "--no-progress")
    finally:
        release_lock(out)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "in use by pid" in lines[0] and str(os.getpid()) in lines[0]
    assert not out.exists() and not partial_path(out).exists()
    assert not lock_path(out).exists()  # released: the lock file goes with it
    assert issubclass(GridLocked, ValueError)  # the CLI's one line and exit 2


def test_ctrl_c_is_one_line_and_says_what_was_kept(tmp_path, monkeypatch):
    from explainer.cli.commands import why_scale as command

    def interrupted(config, out, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(command, "run_grid", interrupted)
    out = tmp_path / "q.json"
    done = run_here("why-scale", "--quick", "--out", str(out), "--no-progress")
    assert done.returncode == 130
    assert done.stderr.strip().splitlines() == [
        "why-scale: interrupted; no run had finished, nothing was written"]
    partial_path(out).write_text("")  # as after a finished run
    done = run_here("why-scale", "--quick", "--out", str(out), "--no-progress")
    assert done.returncode == 130
    assert done.stderr.strip().splitlines() == [
        f"why-scale: interrupted; the finished runs are kept in {partial_path(out)}: run the "
        "same command again to resume"]


def test_a_huge_out_file_is_refused_before_it_is_read(tmp_path):
    """A 1 GB file (sparse: no disk used) is refused by its size, not read into memory."""
    out = tmp_path / "big.json"
    with open(out, "wb") as f:
        f.truncate(2**30)
    done = run_cli_without_tensorflow("why-scale", "--out", str(out), "--no-progress")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "1,073,741,824 bytes" in lines[0] and "not a why-scale" in lines[0]
    assert out.stat().st_size == 2**30


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


def test_cli_grid_flags_replace_the_default_axes():
    from explainer.cli import build_parser
    from explainer.cli.commands.why_scale import grid_of

    args = build_parser().parse_args(
        ["why-scale", "--depths", "3,10", "--widths", "64", "--scales", "1,0.1,ReZero",
         "--lrs", "0.1", "--seeds", "0,1", "--steps", "20", "--arms", "up_init=0.1,up_lr=0.01"])
    name, config = grid_of(args)
    assert name == "custom"
    assert (config.depths, config.widths, config.scales, config.lrs, config.seeds,
            config.steps) == ((3, 10), (64,), (1.0, 0.1, "rezero"), (0.1,), (0, 1), 20)
    assert config.arms == ((0.1, 1.0), (1.0, 0.01)) and config.arm_depths == (10,)
    assert config.batch == FULL.batch and config.optimizer == FULL.optimizer
    assert len(config.runs()) == 2 * 2 * 3 + 2 * 2  # arms at depth 10 only
    assert grid_of(build_parser().parse_args(["why-scale"])) == ("full", FULL)


@pytest.mark.parametrize("flag, value, words", [
    ("--depths", "3,,10", "comma list"), ("--widths", "0", "from 1"),
    ("--scales", "1,big", "scales"), ("--lrs", "-0.1", "lr"), ("--seeds", "x", "whole"),
    ("--steps", "1e3", "whole"), ("--arms", "up_size=2", "up_init=X"),
    ("--arms", "up_lr=0", "> 0"), ("--workers", "0", "from 1"), ("--depths", "1" * 40, "whole"),
])
def test_cli_refuses_a_bad_grid_flag_in_one_line_before_loading_tensorflow(tmp_path, flag,
                                                                           value, words):
    done = run_cli_without_tensorflow("why-scale", "--out", str(tmp_path / "g.json"),
                                      f"{flag}={value}", "--no-progress")
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], lines
    assert not list(tmp_path.iterdir())


def test_cli_quick_on_the_full_results_loses_none_of_its_runs(tmp_path):
    """A smaller grid written over a results file keeps the other runs in it: the first grid
    asked again reuses every one (checked here on a copy of the stored file)."""
    out = tmp_path / "why_scale.json"
    out.write_bytes(RESULTS_PATH.read_bytes())
    stored = json.loads(out.read_text())
    done = run_here("why-scale", "--quick", "--out", str(out), "--no-progress",
                    "--depths", str(stored["config"]["depths"][0]), "--widths",
                    str(stored["config"]["widths"][0]), "--scales", "1", "--lrs",
                    str(stored["config"]["lrs"][0]), "--seeds", "0", "--steps",
                    str(stored["config"]["steps"]), "--arms", "none")
    assert done.returncode == 0, done.stderr
    assert "reused 1 of 1 runs" in done.stderr
    after = json.loads(out.read_text())
    assert len(after["runs"]) + len(after["other_runs"]) == len(stored["runs"]) + len(
        stored.get("other_runs", []))


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
