"""Regenerate the README's generated blocks from the real CLI (`make readme`).

Blocks sit between `<!-- NAME:start -->` and `<!-- NAME:end -->` markers; tests/test_readme.py
checks that they equal what the code prints now.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def cli_output(*args: str) -> str:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    out = subprocess.run([sys.executable, "-m", "explainer", *args], capture_output=True,
                         text=True, check=True, env=env, cwd=ROOT)
    return out.stdout.rstrip("\n")


def generated_blocks() -> dict[str, str]:
    """Marker name -> the text that belongs between its markers."""
    import json

    answer = json.loads(cli_output("--json"))["answer"]
    return {
        "answer": "\n".join(f"{i}. {line}" for i, line in enumerate(answer, 1)),
        "cli-output": "```text\n$ python -m explainer\n" + cli_output() + "\n```",
    }


def replace_block(text: str, name: str, body: str) -> str:
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    pattern = re.compile(rf"{re.escape(start)}\n.*?{re.escape(end)}", re.S)
    if not pattern.search(text):
        raise ValueError(f"README.md has no {start} ... {end} markers")
    return pattern.sub(lambda m: f"{start}\n{body}\n{end}", text)


def read_block(text: str, name: str) -> str:
    match = re.search(rf"<!-- {name}:start -->\n(.*?)\n<!-- {name}:end -->", text, re.S)
    if not match:
        raise ValueError(f"README.md has no <!-- {name}:start/end --> markers")
    return match.group(1)


def main() -> None:
    text = README.read_text()
    for name, body in generated_blocks().items():
        text = replace_block(text, name, body)
    README.write_text(text)
    print("README.md regenerated")


if __name__ == "__main__":
    main()
