"""Static pages: every notebook executed and exported with its figures (``build``), widgets
replaced by pictures of their state (``freeze``), each exercise checked in its lesson's page
(``exercise_page``), the apps and explorables (``scale_page``, ``broadcast_page``,
``why_scale_page``, ``block_page``), the questions, the worksheet and its answers.
``python -m explainer.site.build OUTDIR``."""
