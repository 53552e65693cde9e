"""The documentation's promises: the rule table is the policies' catalogue, the README is short and leads with the two
setup commands and links every document, and every relative link points to a file (and heading) that exists."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

from conftest import ROOT, run

UPDATE_RULES_DOC = ROOT / "scripts" / "update_rules_doc.py"
CODE = re.compile(r"^```[^\n]*\n(.*?)^```|`([^`\n]+)`", re.S | re.M)
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)


def documents(root: Path) -> list[Path]:
    return sorted([root / "README.md", root / "DEVELOPMENT.md", *(root / "docs").rglob("*.md")])


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    return {slug(m.group(1)) for m in re.finditer(r"^#{1,6} (.+)$", text, re.M)}


def broken_links(paths: list[Path], root: Path) -> list[str]:
    broken = []
    for path in paths:
        text = FENCE.sub("", path.read_text(encoding="utf-8"))
        for target in LINK.findall(text):
            if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto:
                continue
            file, _, anchor = target.partition("#")
            resolved = (path.parent / file).resolve() if file else path
            where = f"{path.relative_to(root)}: {target}"
            if not resolved.exists():
                broken.append(f"{where}: no such file")
            elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
                broken.append(f"{where}: no such heading")
    return broken


def invocations(text: str) -> list[list[str]]:
    """Every `token-auditor …` command line in the code blocks and code spans of a document, as words."""
    found = []
    for block, span in CODE.findall(text):
        for line in (block or span).replace("\\\n", " ").splitlines():
            for part in re.split(r"\s(?:\||&&|;)\s", line.split(" #", 1)[0]):
                words = part.split()
                starts = [i for i, w in enumerate(words) if w == "token-auditor" or w.endswith("/token-auditor")]
                if starts and len(words) > starts[0] + 1 and re.match(r"[a-z-]", words[starts[0] + 1]):
                    found.append(words[starts[0] + 1 :])
    return found


def unknown_options(paths: list[Path], root: Path) -> list[str]:
    """Commands and options the documents show that `token-auditor … --help` does not know."""
    import click

    from auditor.cli import main

    unknown = []
    for path in paths:
        for words in invocations(path.read_text(encoding="utf-8")):
            command: click.Command = main
            rest = words
            while isinstance(command, click.Group) and rest and not rest[0].startswith("-"):
                sub = command.commands.get(rest[0])
                if sub is None:
                    unknown.append(f"{path.relative_to(root)}: token-auditor {' '.join(words)}: no command {rest[0]}")
                    break
                command, rest = sub, rest[1:]
            else:
                known = {o for p in command.params for o in (*p.opts, *p.secondary_opts)} | {"-h", "--help"}
                for word in rest:
                    option = word.split("=", 1)[0]
                    if re.fullmatch(r"--?[a-z][a-z-]*", option) and option not in known:
                        unknown.append(f"{path.relative_to(root)}: token-auditor {' '.join(words)}: no option {option}")
    return unknown


def test_rule_table_in_docs_is_generated_from_the_policies():
    result = run([sys.executable, str(UPDATE_RULES_DOC), "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_a_stale_rule_table_fails_the_check(tmp_path):
    stale = tmp_path / "rules.md"
    text = (ROOT / "docs" / "rules.md").read_text()
    row = "| `stale-token` | medium | Stale token | NHI1 | revoke |"
    assert row in text
    stale.write_text(text.replace(row, "| `stale-token` | low | Stale token | NHI1 | revoke |"))
    result = run([sys.executable, str(UPDATE_RULES_DOC), "--check", str(stale)], capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr == f"{stale}: the rule table is stale: run `make docs`\n"
    run([sys.executable, str(UPDATE_RULES_DOC), str(stale)], check=True)
    assert row in stale.read_text()


def test_readme_leads_with_the_two_setup_commands():
    text = (ROOT / "README.md").read_text()
    first_code = text.index("```")
    block = text[first_code : text.index("```", first_code + 3)]
    assert "make demo" in block and "make test" in block
    assert (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1] == "make test"


def test_readme_is_short_and_links_every_document():
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= 200
    linked = {(ROOT / target.partition("#")[0]).resolve() for target in LINK.findall(text)}
    unlinked = [
        str(p.relative_to(ROOT)) for p in documents(ROOT) if p != ROOT / "README.md" and p.resolve() not in linked
    ]
    assert unlinked == []


def test_every_relative_link_in_the_docs_resolves():
    assert broken_links(documents(ROOT), ROOT) == []


def test_a_broken_link_or_anchor_is_reported(tmp_path):
    (tmp_path / "docs").mkdir()
    shutil.copy(ROOT / "docs" / "plans.md", tmp_path / "docs" / "plans.md")
    (tmp_path / "DEVELOPMENT.md").write_text("# Development\n\n## Add a check\n")
    (tmp_path / "README.md").write_text(
        "# t\n\n[ok](DEVELOPMENT.md#add-a-check) [gone](docs/missing.md) [bad](docs/plans.md#no-such-part)\n"
        "[web](https://example.com/x) ![img](docs/shot.png) [self](#t)\n\n```md\n[in code](nowhere.md)\n```\n"
    )
    assert broken_links(documents(tmp_path), tmp_path) == [
        "README.md: docs/missing.md: no such file",
        "README.md: docs/plans.md#no-such-part: no such heading",
        "README.md: docs/shot.png: no such file",
    ]


def test_every_documented_command_and_option_exists():
    assert len([w for p in documents(ROOT) for w in invocations(p.read_text())]) > 60
    assert unknown_options(documents(ROOT), ROOT) == []


def test_an_unknown_documented_command_or_option_is_reported(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "README.md").write_text(
        "```sh\ntoken-auditor audit x/ --fail-on high --colour \\\n  -o r.json  # --not-an-option\n"
        "cat x | .venv/bin/token-auditor collect gitlab --url u -o o.json --gruop g\n```\n"
        'Run `token-auditor lint x` or `token-auditor --version`; `eval "$(_TOKEN_AUDITOR_COMPLETE=x token-auditor)"`.\n'
    )
    assert unknown_options([tmp_path / "README.md"], tmp_path) == [
        "README.md: token-auditor audit x/ --fail-on high --colour -o r.json: no option --colour",
        "README.md: token-auditor collect gitlab --url u -o o.json --gruop g: no option --gruop",
        "README.md: token-auditor lint x: no command lint",
    ]
