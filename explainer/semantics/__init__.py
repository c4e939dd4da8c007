"""What ``*`` and ``+=`` do: Python's operator dispatch (``operators``), the ops in the graph
(``graph``), ``+=`` and in-place updates (``inplace``), and scales of every dtype (``dtypes``)."""
