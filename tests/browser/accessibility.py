"""axe-core (4.12, shipped inside ``axe-playwright-python``) on a page open in Playwright:
the violations a user of a screen reader or the keyboard would meet."""

from __future__ import annotations

BLOCKING = ("serious", "critical")


def axe_violations(page, impacts=BLOCKING) -> list[str]:
    """``"rule (impact): N nodes, e.g. <targets>"`` for each axe violation of ``impacts``."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    found = []
    for violation in results.response["violations"]:
        if violation["impact"] in impacts:
            nodes = violation["nodes"]
            targets = "; ".join(" ".join(n["target"]) for n in nodes[:3])
            found.append(f"{violation['id']} ({violation['impact']}): {len(nodes)} nodes, "
                         f"e.g. {targets}")
    return found
