"""`python -m explainer star` (placeholder until its issue lands)."""


def add_arguments(parser) -> None:
    pass


def run(args) -> int:
    print("not built yet")
    return 1
