"""What the scale does: a sweep over scales from one run of the branches (``sweep``, with the
exact piecewise form kept apart as an optimisation in ``exact``), stacks of blocks (``depth``),
and folding the scale into the projection's weights (``folding``)."""
