"""Regenerate the rule catalogue in docs/rules.md from the policies' # METADATA (`make docs`).

`--check` exits 1 when the table is stale (the test suite runs it). An optional path names another copy of the
document (the tests check a deliberately stale one).

    python scripts/update_rules_doc.py [--check] [PATH]
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from auditor.findings import load_rules  # noqa: E402

DOCUMENT = ROOT / "docs" / "rules.md"
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


def main(argv: list[str]) -> int:
    check = "--check" in argv
    paths = [a for a in argv if a != "--check"]
    document = Path(paths[0]) if paths else DOCUMENT
    text = document.read_text(encoding="utf-8")
    new = updated(text)
    if check:
        if new != text:
            print(f"{document}: the rule table is stale: run `make docs`", file=sys.stderr)
            return 1
        return 0
    document.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
