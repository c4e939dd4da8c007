"""explainer.site.build and explainer.site.freeze on small real notebooks (executed, not faked).

The full site of the real notebooks is built and opened in Chromium by
tests/browser/test_static_html.py.
"""

from __future__ import annotations

import base64
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from explainer.site import build as site
from explainer.site.freeze import WIDGET_VIEW, count_figures, freeze_widgets

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

WIDGET_CELL = '''\
import io
import ipywidgets as w
from matplotlib.figure import Figure
from matplotlib.backends.backend_agg import FigureCanvasAgg

fig = Figure(figsize=(3, 2)); FigureCanvasAgg(fig)
fig.add_subplot().plot([0, 1], [0, 2])
buf = io.BytesIO(); fig.savefig(buf, format="png")
image = w.Image(value=buf.getvalue(), format="png"); image.add_class("demo-plot")
slider = w.FloatSlider(value=0.17, min=0, max=1, step=0.01, description="scale")
slider.add_class("demo-slider")
ratio = w.HTML("ratio <b>0.0886</b>"); ratio.add_class("demo-ratio")
out = w.Output()
with out:
    print("inside the output widget")
w.VBox([slider, ratio, w.HBox([image, w.Label("a <label>")]), out, w.Textarea("rows\\nof text")])
'''


def _notebook(path, *sources, markdown="# A small page\n\nYou will learn nothing new."):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell(markdown)]
    nb.cells += [nbformat.v4.new_code_cell(s) for s in sources]
    nbformat.write(nb, path)
    return path


def _pngs(page: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(r'src="data:image/png;base64,([^"]+)"', page)]


@pytest.fixture(scope="module")
def widget_notebook(tmp_path_factory):
    folder = tmp_path_factory.mktemp("widgets")
    return site.execute(_notebook(folder / "w.ipynb", WIDGET_CELL), timeout=120)


def test_execute_stores_widget_state_with_the_image_buffer(widget_notebook):
    state = widget_notebook.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]
    images = [m for m in state["state"].values() if m["model_name"] == "ImageModel"]
    assert len(images) == 1 and images[0]["buffers"][0]["path"] == ["value"]


def test_freeze_turns_the_widget_tree_into_static_html(widget_notebook):
    nb = nbformat.from_dict(widget_notebook)  # a copy: the fixture is shared
    assert count_figures(nb) == 1  # the Image widget, inside a VBox and an HBox
    assert freeze_widgets(nb) == 1
    assert "widgets" not in nb.metadata
    data = nb.cells[1].outputs[-1]["data"]
    assert WIDGET_VIEW not in data
    page = data["text/html"]
    pngs = _pngs(page)
    assert len(pngs) == 1 and pngs[0].startswith(PNG_MAGIC)
    for cls in ("demo-plot", "demo-slider", "demo-ratio"):
        assert cls in page
    assert 'type="range"' in page and 'value="0.17"' in page and "scale" in page
    assert "ratio <b>0.0886</b>" in page  # HTML widgets keep their markup
    assert "a &lt;label&gt;" in page  # labels are text, escaped
    assert "inside the output widget" in page  # an Output widget's captured stream
    assert "rows\nof text" in page


def test_export_is_self_contained(widget_notebook):
    page = site.export(nbformat.from_dict(widget_notebook), nav='<nav id="n">nav</nav>')
    assert not re.findall(r'<script[^>]+src="https?:', page)
    assert "cdnjs" not in page and "unpkg" not in page
    assert "application/vnd.jupyter.widget-state+json" not in page
    assert '<nav id="n">nav</nav>' in page
    assert len(_pngs(page)) == 1


def test_build_writes_pages_and_an_index(tmp_path):
    books = tmp_path / "notebooks"
    books.mkdir()
    _notebook(books / "00_a.ipynb", "print('hello')", markdown="# First `page`")
    _notebook(books / "01_b.ipynb", "%matplotlib inline\nimport matplotlib.pyplot as plt\n"
                                    "plt.plot([1, 2, 3]); plt.title('a line')",
              markdown="# Second page")
    pages = site.build(tmp_path / "out", books)
    assert [p.html.name for p in pages] == ["00_a.html", "01_b.html"]
    assert [p.title for p in pages] == ["First page", "Second page"]
    assert [p.figures for p in pages] == [0, 1]
    index = (tmp_path / "out" / "index.html").read_text()
    assert re.findall(r'href="([^"]+\.html)"', index) == ["00_a.html", "01_b.html"]
    second = pages[1].html.read_text()
    assert _pngs(second)[0].startswith(PNG_MAGIC)
    assert 'href="00_a.html"' in second and 'href="index.html"' in second
    first = pages[0].html.read_text()
    assert "hello" in first and 'href="01_b.html"' in first


def test_learning_goals_come_from_the_first_cell():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(
        "# T\n\n**You will learn**\n\n- one `thing`;\n- a long\n  wrapped thing.\n\nText."),
        nbformat.v4.new_markdown_cell("- not this")]
    assert site.learning_goals(nb) == ("one `thing`;", "a long wrapped thing.")
    nb.cells[0].source = "# T\n\nNo goals here.\n- a list that is not one"
    assert site.learning_goals(nb) == ()
    page = site.Page(Path("n.ipynb"), Path("n.html"), "T <1>", 1.0, 2, ("use `x` & **y**",))
    index = site.index_page([page])
    assert "<li>use <code>x</code> &amp; <b>y</b></li>" in index
    assert "T &lt;1&gt;" in index and "2 figures" in index


def test_build_only_and_bad_arguments(tmp_path):
    books = tmp_path / "nb"
    books.mkdir()
    _notebook(books / "00_a.ipynb", "1 + 1")
    with pytest.raises(ValueError, match=r"only: got \['zz'\]"):
        site.build(tmp_path / "out", books, only=["zz"])
    with pytest.raises(ValueError, match="notebooks: got"):
        site.build(tmp_path / "out", tmp_path / "missing")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="holds no .ipynb"):
        site.build(tmp_path / "out", empty)
    assert [p.html.name for p in site.build(tmp_path / "one", books, only=["00_a.ipynb"])] \
        == ["00_a.html"]


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "explainer.site.build", *map(str, args)],
                          capture_output=True, text=True, timeout=300)


def test_cli_reports_bad_folder_and_failing_notebook(tmp_path, capsys):
    """In this process (the command's own process is test_cli_builds_a_site's)."""
    assert site.main([str(tmp_path / "out"), "--notebooks", str(tmp_path / "missing")]) == 2
    assert "notebooks: got" in capsys.readouterr().err
    books = tmp_path / "nb"
    books.mkdir()
    _notebook(books / "00_broken.ipynb", "raise ValueError('this notebook is broken')")
    assert site.main([str(tmp_path / "out"), "--notebooks", str(books), "--no-apps"]) == 1
    err = capsys.readouterr().err
    assert "a notebook failed" in err and "this notebook is broken" in err


def test_cli_builds_a_site(tmp_path, monkeypatch):
    books = tmp_path / "nb"
    books.mkdir()
    _notebook(books / "00_a.ipynb", "print(6 * 7)")
    # the static apps run the real block (the static-site tests build and open them)
    done = _cli(tmp_path / "site", "--notebooks", books, "--no-apps")
    assert done.returncode == 0, done.stderr
    assert "00_a.html" in done.stdout and "total" in done.stdout
    assert "42" in (tmp_path / "site" / "00_a.html").read_text()
    assert sorted(p.name for p in (tmp_path / "site").iterdir()) == ["00_a.html", "index.html"]
    calls = []  # without --no-apps, the CLI asks build() for the apps
    monkeypatch.setattr(site, "build", lambda *args: calls.append(args) or [])
    assert site.main([str(tmp_path / "other")]) == 0 and calls[0][-1] is True


def test_default_notebooks_outside_the_checkout_is_the_checkouts_folder(tmp_path, monkeypatch):
    """Run from another folder, the build finds the notebooks beside the package (the folder
    it named before, explainer/notebooks, does not exist)."""
    monkeypatch.chdir(tmp_path)
    found = site.default_notebooks()
    assert found == Path(__file__).resolve().parent.parent / "notebooks"
    assert (found / "00_start_here.ipynb").is_file()
