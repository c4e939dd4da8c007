"""The static pages' styles: :data:`STATIC_CSS`, which every hand-made page shares (the index,
the scale and broadcasting apps): projector-sized text, dark text on white, links and keyboard
focus that are plain to see; and :data:`NOTEBOOK_PAGE_CSS`, added to each exported notebook.
Colours pass WCAG AA contrast on white (4.5:1 and more; axe-core checks the pages)."""

STATIC_CSS = """
body { font: 18px/1.5 "DejaVu Sans", sans-serif; max-width: 1240px; margin: 1em auto;
       padding: 0 1em; color: #111; background: #fff; }
h1 { font-size: 30px; } a { color: #005A8C; }
a:focus, button:focus { outline: 3px solid #E69F00; outline-offset: 2px; }
code { background: #f2f2f2; padding: 0 0.2em; }
.engine { color: #444; }
"""

NOTEBOOK_PAGE_CSS = """<style>
/* projector-friendly: larger text and code, wide figures that still fit the page */
:root { --jp-code-font-size: 15px; --jp-content-font-size1: 17px;
/* readable colours: JupyterLab's code highlighting, prompts and faint text are below WCAG
   AA contrast (4.5:1) on the code cells' grey; these are 5.5:1 or more (axe-core checks) */
  --jp-mirror-editor-keyword-color: #006b00; --jp-mirror-editor-builtin-color: #006b00;
  --jp-mirror-editor-number-color: #006b00; --jp-mirror-editor-comment-color: #3d6b6b;
  --jp-mirror-editor-string-color: #a31515; --jp-mirror-editor-operator-color: #7a1fa2;
  --jp-mirror-editor-meta-color: #7a1fa2; --jp-mirror-editor-atom-color: #19177c;
  --jp-mirror-editor-def-color: #0033b3; --jp-mirror-editor-attribute-color: #0033b3;
  --jp-mirror-editor-link-color: #0033b3; --jp-mirror-editor-header-color: #0033b3;
  --jp-mirror-editor-property-color: #0033b3; --jp-mirror-editor-punctuation-color: #0033b3;
  --jp-mirror-editor-quote-color: #006b00; --jp-mirror-editor-tag-color: #006b00;
  --jp-mirror-editor-bracket-color: #555; --jp-mirror-editor-hr-color: #555;
  --jp-mirror-editor-error-color: #b00000;
  --jp-cell-inprompt-font-color: #1a5e99; --jp-cell-outprompt-font-color: #a3452a;
  --jp-cell-prompt-not-active-font-color: #555; --jp-cell-prompt-not-active-opacity: 1;
  --jp-content-font-color2: rgba(0, 0, 0, 0.7); --jp-content-font-color3: rgba(0, 0, 0, 0.6);
  --jp-ui-font-color2: rgba(0, 0, 0, 0.7); --jp-ui-font-color3: rgba(0, 0, 0, 0.6); }
body { font-size: 17px; }
.jp-RenderedHTMLCommon { font-size: 17px; line-height: 1.5; }
.jp-RenderedHTMLCommon a:link, .jp-RenderedHTMLCommon a:visited {
  text-decoration: underline; }  /* a link in text is told apart by more than its colour */
.jp-RenderedImage img, .static-figure { max-width: 100%; height: auto; }
.static-nav { font: 16px sans-serif; padding: 8px 16px; background: #f2f2f2; }
.static-nav a { color: #005A8C; margin-right: 1.5em; }
</style>"""
