"""Regenerate the README's generated blocks from the real CLI (`make readme`).

Blocks sit between `<!-- NAME:start -->` and `<!-- NAME:end -->` markers; tests/test_readme.py
checks that they equal what the code prints now.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the checkout's package, also without an install
README = ROOT / "README.md"


def cli_output(*args: str) -> str:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    out = subprocess.run([sys.executable, "-m", "explainer", *args], capture_output=True,
                         text=True, check=True, env=env, cwd=ROOT)
    return out.stdout.rstrip("\n")


def summary(path: Path, width: int = 66) -> str:
    """The first sentence of a module's docstring, cut to ``width`` characters."""
    doc = ast.get_docstring(ast.parse(path.read_text())) or ""
    first = " ".join(doc.split("\n\n")[0].split())
    first = re.split(r"(?<=[a-z)`])\. ", first)[0].rstrip(".")
    return first if len(first) <= width else first[: width - 1] + "…"


def layout_block() -> str:
    """The package layout, layer by layer (``explainer.LAYERS``), from the files on disk."""
    import explainer  # light: the package imports nothing heavy until a name is used

    package = ROOT / "explainer"
    lines = ["explainer/" + " " * 25 + summary(package / "__init__.py")]
    for rank, group in enumerate(explainer.LAYERS):
        lines.append(f"  # layer {rank}: " + ", ".join(group))
        for name in group:
            folder = package / name
            if not folder.is_dir():
                lines.append(f"  {name + '.py':<31}{summary(package / f'{name}.py')}")
                continue
            lines.append(f"  {name + '/':<31}{summary(folder / '__init__.py')}")
            for path in sorted(folder.rglob("*.py")):
                if path.name != "__init__.py":
                    rel = path.relative_to(folder).as_posix()
                    lines.append(f"    {rel + ' ':<31}{summary(path, 65)}")
    return "```text\n" + "\n".join(lines) + "\n```"


def generated_blocks() -> dict[str, str]:
    """Marker name -> the text that belongs between its markers."""
    import json

    answer = json.loads(cli_output("--json"))["answer"]
    return {
        "answer": "\n".join(f"{i}. {line}" for i, line in enumerate(answer, 1)),
        "cli-output": "```text\n$ python -m explainer\n" + cli_output() + "\n```",
        "layout": layout_block(),
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
