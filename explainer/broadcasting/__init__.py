"""The broadcasting rule for ``scale * up`` and ``net + ...``: shape text (``shapes``), the rule
axis by axis checked against numpy and TensorFlow (``rule``), and the scale shapes a porter
might try (``catalogue``)."""
