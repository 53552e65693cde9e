"""Regenerate the README's rule catalogue from the policies' # METADATA (`make readme`).

`--check` exits 1 when the README is stale (the test suite runs it).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from auditor.findings import load_rules  # noqa: E402

START, END = "<!-- rules:start -->", "<!-- rules:end -->"


def rule_table() -> str:
    rows = ["| id | severity | title | OWASP NHI 2025 | action |", "|---|---|---|---|---|"]
    for rule in load_rules(ROOT / "policies"):
        rows.append(
            f"| `{rule.id}` | {rule.severity} | {rule.title} | {', '.join(rule.nhi)} | {rule.recommended_action} |"
        )
    return "\n".join(rows)


def updated(text: str) -> str:
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{rule_table()}\n{END}{tail}"


def main() -> int:
    readme = ROOT / "README.md"
    text = readme.read_text()
    new = updated(text)
    if "--check" in sys.argv:
        if new != text:
            print("README.md rule table is stale: run `make readme`", file=sys.stderr)
            return 1
        return 0
    readme.write_text(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
