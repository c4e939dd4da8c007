"""A figure in words, for a text alternative: its titles, which state the finding with its
numbers (every ``plot_*`` writes one), else what it plots against what.

In an IPython kernel, :func:`show_descriptions` makes the description a figure's ``text/plain``
output next to its PNG, so the static pages (:mod:`explainer.site.freeze`) can give each figure
an ``alt`` text made from its numbers, and a screen reader in JupyterLab reads it too.
"""

from __future__ import annotations

from matplotlib.figure import Figure

PREFIX = "Figure: "  # how a description starts, so a reader of the output knows it is one


def _flat(text: str) -> str:
    return " ".join(text.split())


def describe_figure(fig: Figure) -> str:
    """``"Figure: <title>; <panel title or y against x>; ..."``: the figure title, then each
    panel's title, or its y label against its x label where it has no title."""
    if not isinstance(fig, Figure):
        raise TypeError(f"fig: got {type(fig).__name__}; expected a matplotlib Figure")
    parts = []
    if fig._suptitle is not None and fig._suptitle.get_text().strip():
        parts.append(_flat(fig._suptitle.get_text()))
    for ax in fig.axes:
        if ax.get_title().strip():
            parts.append(_flat(ax.get_title()))
        elif ax.get_xlabel() and ax.get_ylabel():
            parts.append(f"{_flat(ax.get_ylabel())} against {_flat(ax.get_xlabel())}")
    return PREFIX + ("; ".join(dict.fromkeys(parts)) or f"{len(fig.axes)} panels, no titles")


def show_descriptions() -> bool:
    """In an IPython kernel, a displayed Figure's ``text/plain`` becomes its description
    (instead of ``<Figure size ... with N Axes>``); True when registered."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None:
        return False
    shell.display_formatter.formatters["text/plain"].for_type(
        Figure, lambda fig, printer, cycle: printer.text(describe_figure(fig)))
    return True
