"""What the scale widgets share: reading a slider position from a number or typed text,
switching variant, and the update cycle (errors shown inside the widget). Each widget draws
its own numbers and figure in ``_show(value)``."""

from __future__ import annotations

import html

from ..core.validate import check_scale, shorten


def error_html(text: str) -> str:
    """An error sentence as the widgets show it: a warning sign, in Okabe-Ito vermillion."""
    return f"<span style='color:#D55E00'>⚠ {html.escape(text)}</span>"


def slider_value(scale: object) -> float:
    """A scale from the slider or the text box: a finite number from 0 to 1.

    Text is parsed with ``float`` (never ``eval``); anything else is a ValueError / TypeError
    whose sentence the widget shows inside itself."""
    try:
        value = check_scale(float(scale) if isinstance(scale, str) else scale)
    except (TypeError, ValueError) as err:
        if isinstance(scale, str) and "scale:" not in str(err):  # float("abc") says no name
            raise ValueError(f"scale: got {shorten(scale)}; expected a number from 0 to 1 "
                             "such as 0.17") from None
        raise
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"scale: got {shorten(value)}; expected a number from 0 to 1 (the "
                         "slider's range)")
    return value


class ScaleWidget:
    """The shared half of a scale widget with ``toggle``, ``slider``, ``error``, ``variant``,
    ``_updating`` and ``_show(value)`` (which draws that widget's numbers and figure)."""

    def show_error(self, text: str) -> None:
        """Show ``text`` inside the widget (never a traceback in the notebook)."""
        self.error.value = error_html(text)

    def update(self, scale) -> bool:
        """Show ``scale`` (a number, or text such as "0.3"): numbers, figure and slider. The
        value is checked here, once; what draws it trusts it."""
        if self._updating:  # the slider moved because update set it: checked and shown
            return True
        try:
            value = slider_value(scale)
        except (TypeError, ValueError) as err:
            self.show_error(str(err))
            self._restore_slider()
            return False
        self._updating = True
        try:
            self._show(value)
            self.error.value = ""
            self._good = value
            if not abs(self.slider.value - value) <= 1e-12:  # also when the slider holds NaN
                self.slider.value = value
        finally:
            self._updating = False
        return True

    def _restore_slider(self) -> None:
        """Put a slider set to a refused value (``slider.value = nan``) back to the last value
        shown, keeping the error in view."""
        good = getattr(self, "_good", None)
        current = self.slider.value
        if good is None or current == good:
            return
        try:
            slider_value(current)
        except (TypeError, ValueError):
            self._updating = True  # the slider's own observer must not redraw or clear
            try:
                self.slider.value = good
            finally:
                self._updating = False

    def switch(self, variant: str) -> None:
        """Show ``variant`` ("v1" or "v2") at the current scale."""
        if variant not in ("v1", "v2"):
            self.show_error(f"variant: got {shorten(variant)}; expected 'v1' or 'v2'")
            return
        self.variant = variant
        if self.toggle.value != variant:
            self.toggle.value = variant
        self.update(self.slider.value)

    def _typed(self, text: str) -> None:
        if text.strip():
            self.update(text)
