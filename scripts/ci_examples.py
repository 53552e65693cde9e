#!/usr/bin/env python3
"""Write the CI examples of docs/ci.md as files, for actionlint, zizmor and the tests to check what users copy.

OUT/.github/workflows/token-audit.yml     the GitHub workflow as printed (for zizmor)
OUT/local/.github/workflows/token-audit.yml   the same with `uses: OWNER/token-auditor@SHA` → `./`, beside
OUT/local/action.yml                      this repository's action: actionlint checks the step's inputs against it
OUT/ci/token-audit.sh                     the "any other CI" script
OUT/.gitlab-ci.yml                        the GitLab job
OUT/.pre-commit-config.yaml               the pre-commit configuration
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"```(\w+)\n(.*?)```", re.S)
ACTION_REF = re.compile(r"OWNER/token-auditor@[0-9a-f]{40}")


def blocks(document: str) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in BLOCK.finditer(document)]


def examples(document: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for language, text in blocks(document):
        if language == "yaml" and text.startswith("# .github/workflows/token-audit.yml"):
            found[".github/workflows/token-audit.yml"] = text
            found["local/.github/workflows/token-audit.yml"] = ACTION_REF.sub("./", text)
        elif language == "yaml" and text.startswith("# .pre-commit-config.yaml"):
            found[".pre-commit-config.yaml"] = text
        elif language == "yaml" and text.startswith("token-audit:"):
            found[".gitlab-ci.yml"] = text
        elif language == "sh" and text.startswith("#!/bin/sh"):
            found["ci/token-audit.sh"] = text
    missing = {
        ".github/workflows/token-audit.yml",
        ".pre-commit-config.yaml",
        ".gitlab-ci.yml",
        "ci/token-audit.sh",
    } - set(found)
    if missing:
        raise SystemExit(f"docs/ci.md: CI examples not found: {', '.join(sorted(missing))}")
    return found


def main(out: str) -> None:
    target = Path(out)
    for name, text in examples((ROOT / "docs" / "ci.md").read_text(encoding="utf-8")).items():
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    shutil.copy(ROOT / "action.yml", target / "local" / "action.yml")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: ci_examples.py OUT_DIR")
    main(sys.argv[1])
