"""The public API: every exported name resolves, has a docstring, and import is light."""

from __future__ import annotations

import inspect
import subprocess
import sys

import explainer


def test_every_export_resolves_and_is_documented():
    for name in explainer._EXPORTS:
        obj = getattr(explainer, name)
        if callable(obj) and not isinstance(obj, type(sys)):
            assert inspect.getdoc(obj), f"explainer.{name} has no docstring"


def test_import_does_not_load_tensorflow():
    code = "import sys, explainer; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_unknown_attribute_is_an_attribute_error():
    try:
        explainer.no_such_thing  # noqa: B018
    except AttributeError as err:
        assert "no_such_thing" in str(err)
    else:
        raise AssertionError("expected AttributeError")


def test_listed_submodules_are_reachable_as_attributes():
    import pkgutil

    on_disk = [m.name for m in pkgutil.iter_modules(explainer.__path__)
               if not m.name.startswith("_")]
    assert {"core", "plots", "widgets", "exercises", "answer"} <= set(on_disk)
    for name in on_disk:  # found on disk, served by the one table
        assert explainer._EXPORTS[name] == f"{name}:"
        assert getattr(explainer, name).__name__ == f"explainer.{name}", name


# `python -m explainer notebooks DIR`: the lessons travel with the package

def _notebooks(capsys, *argv: str) -> tuple[int, str, str]:
    from explainer.cli import main

    status = main(["notebooks", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def _tree(folder) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_symlink()}


def test_notebooks_copies_the_lessons_and_apps_without_tensorflow(tmp_path):
    from pathlib import Path

    target = tmp_path / "new" / "lessons"
    code = ("import sys; from explainer.cli import main; status = main(['notebooks', "
            f"{str(target)!r}]); print('tensorflow' in sys.modules); sys.exit(status)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=Path(__file__).parent.parent)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [f"copied 7 lessons and 2 apps to {target}: "
                                       f"jupyter lab {target}", "False"]
    notebooks = Path(__file__).parent.parent / "notebooks"
    assert _tree(target) == {name: data for name, data in _tree(notebooks).items()
                             if name.endswith(".ipynb") and name.count("/") <= 1}
    assert sorted(_tree(target)) == ["00_start_here.ipynb", "01_what_does_star_do.ipynb",
                                     "02_block35_walkthrough.ipynb", "03_residual_scaling.ipynb",
                                     "04_broadcasting.ipynb", "05_porting.ipynb",
                                     "06_why_scale.ipynb", "apps/broadcast_playground.ipynb",
                                     "apps/scale_explorer.ipynb"]


def test_notebooks_replaces_only_with_force_and_keeps_other_files(tmp_path, capsys):
    (tmp_path / "mine.txt").write_text("my notes")
    (tmp_path / "00_start_here.ipynb").write_text("my edits")
    status, out, err = _notebooks(capsys, str(tmp_path))
    assert (status, out) == (2, "")
    assert err == (f"python -m explainer: error: dir: got {str(tmp_path)!r}, a folder that holds "
                   "2 entries; expected a new or empty folder, or --force to replace the "
                   "lessons' files in it\n")
    assert _tree(tmp_path) == {"mine.txt": b"my notes", "00_start_here.ipynb": b"my edits"}
    status, out, err = _notebooks(capsys, str(tmp_path), "--force")
    assert (status, err) == (0, "")
    files = _tree(tmp_path)
    assert files["mine.txt"] == b"my notes" and files["00_start_here.ipynb"] != b"my edits"
    assert len(files) == 10 and not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_notebooks_never_writes_through_a_symlink(tmp_path, capsys):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "precious.ipynb").write_text("precious")
    (tmp_path / "link").symlink_to(elsewhere)
    status, _, err = _notebooks(capsys, str(tmp_path / "link"), "--force")
    assert status == 2 and "a symlink (nothing is written through a symlink)" in err
    lessons = tmp_path / "lessons"
    lessons.mkdir()
    for name, to in (("05_porting.ipynb", elsewhere / "precious.ipynb"), ("apps", elsewhere)):
        (lessons / name).symlink_to(to)
        status, _, err = _notebooks(capsys, str(lessons), "--force")
        assert status == 2 and err.count("\n") == 1, err
        assert f"{lessons / name}', which is a symlink" in err, err
        (lessons / name).unlink()
    assert _tree(elsewhere) == {"precious.ipynb": b"precious"}
    assert sorted(p.name for p in lessons.iterdir()) == []  # nothing was written


def test_notebooks_refuses_a_file_and_a_name_that_is_no_folder(tmp_path, capsys):
    (tmp_path / "f.txt").write_text("x")
    for given, why in ((str(tmp_path / "f.txt"), "which is a file"),
                       ("", "which is not a folder name")):
        status, out, err = _notebooks(capsys, given, "--force")
        assert (status, out) == (2, "") and why in err and err.count("\n") == 1, err
    assert _tree(tmp_path) == {"f.txt": b"x"}
