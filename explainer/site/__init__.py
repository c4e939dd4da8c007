"""Static pages: every notebook executed and exported with its figures (``build``), widgets
replaced by pictures of their state (``freeze``). ``python -m explainer.site.build OUTDIR``."""
