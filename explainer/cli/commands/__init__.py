"""CLI subcommands, one module each: ``add_arguments(parser)`` and ``run(args) -> int``.

``add_arguments`` must not import TensorFlow; ``run`` may. :mod:`argtypes` holds the
argparse ``type=`` checkers shared by them.
"""
