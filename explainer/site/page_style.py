"""The style every hand-made static page shares (the index, the scale and broadcasting
apps): projector-sized text, dark text on white, links and keyboard focus that are plain to
see. Colours pass WCAG AA contrast on white (4.5:1 and more; axe-core checks the pages)."""

STATIC_CSS = """
body { font: 18px/1.5 "DejaVu Sans", sans-serif; max-width: 1240px; margin: 1em auto;
       padding: 0 1em; color: #111; background: #fff; }
h1 { font-size: 30px; } a { color: #005A8C; }
a:focus, button:focus { outline: 3px solid #E69F00; outline-offset: 2px; }
code { background: #f2f2f2; padding: 0 0.2em; }
.engine { color: #444; }
"""
