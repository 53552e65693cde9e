"""Hostile values in inventories: terminal escapes, Markdown mentions and headings, XML-forbidden characters,
huge names. Every human output shows them inert and capped; the JSON report keeps them whole (issue 9, items 7,
8, 10 and 11)."""

from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET

import xmlschema

from tests.conftest import NOW, ROOT, run_cli

JUNIT_XSD = xmlschema.XMLSchema(str(ROOT / "tests" / "data" / "jenkins-junit.xsd"))

OSC52 = "\x1b]52;c;ZXZpbA==\x07"  # writes "evil" to the clipboard of the terminal that prints it
OSC8 = "\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\"  # a hidden hyperlink
CLEAR = "\x1b[2J"  # clears the screen
RAW_CONTROLS = ("\x1b", "\x07", "\x9b", "\x01")


def token(number: int, name: str, owner: str) -> dict:
    """A legacy npm token that never expires: legacy-token and no-expiry fire (both high)."""
    return {
        "id": f"npm-{number}",
        "provider": "npm",
        "kind": "classic_publish_token",
        "name": name,
        "owner": owner,
        "legacy": True,
        "created_at": "2026-01-01T00:00:00Z",
        "expires_at": None,
        "last_used_at": "2026-11-20T00:00:00Z",
        "grants": [
            {"resource": {"type": "org", "name": "acme"}, "permissions": ["package.publish"], "access": "write"}
        ],
    }


def inventory(path, tokens: list[dict]):
    path.write_text(
        json.dumps(
            {"format": "token-inventory/v1", "collected_at": "2026-11-24T00:00:00Z", "tokens": tokens},
            ensure_ascii=False,
            indent=2,
        ),
        encoding="utf-8",
    )
    return path


HOSTILE = [
    token(1, f"clip{OSC52}board", f"own{CLEAR}er"),
    token(2, f"link {OSC8} c1\x9b31m", "@team"),
    token(3, "# ✅ Gate passed", "nonchar\ufffe\uffff\U0001fffe\x01end"),
]


def audit(opa_server, *args: str, cwd=None):
    url, secret = opa_server
    return run_cli("audit", *args, "--now", NOW, "--opa-url", url, "--opa-token-env", "T", env={"T": secret}, cwd=cwd)


def test_table_shows_terminal_escapes_as_text(opa_server, tmp_path):
    head = inventory(tmp_path / "head.json", HOSTILE)
    result = audit(opa_server, str(head))
    assert result.returncode == 1, result.stderr
    for control in RAW_CONTROLS:
        assert control not in result.stdout
    assert "clip\\x1b]52;c;ZXZpbA==\\x07" in result.stdout  # name, first line of its cell
    assert "own\\x1b[2Jer" in result.stdout
    assert "link \\x1b]8;;https://evil." in result.stdout
    assert "c1\\x9b31m" in result.stdout


def test_diff_table_shows_terminal_escapes_as_text(opa_server, tmp_path):
    base = inventory(tmp_path / "base.json", [])
    head = inventory(tmp_path / "head.json", HOSTILE)
    url, secret = opa_server
    result = run_cli(
        "diff",
        str(base),
        str(head),
        "--now",
        NOW,
        "--fail-on",
        "never",
        "--opa-url",
        url,
        "--opa-token-env",
        "T",
        env={"T": secret},
    )
    assert result.returncode == 0, result.stderr
    for control in RAW_CONTROLS:
        assert control not in result.stdout
    assert "own\\x1b[2Jer" in result.stdout
    assert "clip\\x1b]52;c;ZXZpbA==\\x07" in result.stdout


def test_file_names_on_stderr_show_escapes_as_text(tmp_path):
    missing = tmp_path / f"inv{CLEAR}{OSC52}.json"
    result = run_cli("validate", str(missing))
    assert result.returncode == 2
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr
    assert "inv\\x1b[2J\\x1b]52;c;ZXZpbA==\\x07.json" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_validate_lists_file_names_without_escapes(tmp_path):
    path = inventory(tmp_path / f"ok{CLEAR}.json", HOSTILE[:1])
    result = run_cli("validate", str(path))
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"ok {tmp_path}/ok\\x1b[2J.json: token-inventory/v1, 1 tokens\n"


def test_markdown_neither_mentions_nor_renders_headings(opa_server, tmp_path):
    head = inventory(tmp_path / "head.json", HOSTILE)
    out = tmp_path / "comment.md"
    result = audit(opa_server, str(head), "-f", "markdown", "-o", str(out))
    assert result.returncode == 1, result.stderr
    text = out.read_text(encoding="utf-8")
    assert "@team" not in text
    assert "owner @\u2060team" in text  # a word joiner after @: shown as @team, never a mention
    assert "\\# ✅ Gate passed" in text
    assert not [line for line in text.splitlines() if line.startswith("# ")]
    assert text.count("✅ **Gate passed**") == 0 and "❌ **Gate failed**" in text
    for control in RAW_CONTROLS:
        assert control not in text


def test_junit_with_non_characters_is_valid_xml(opa_server, tmp_path):
    head = inventory(tmp_path / "head.json", HOSTILE)
    out = tmp_path / "junit.xml"
    result = audit(opa_server, str(head), "-f", "junit", "-o", str(out))
    assert result.returncode == 1, result.stderr
    JUNIT_XSD.validate(str(out))
    root = ET.parse(out).getroot()
    names = [case.get("name") for case in root.iter("testcase")]
    assert "npm # ✅ Gate passed (owner nonchar\ufffd\ufffd\ufffd\ufffdend)" in names
    text = out.read_text(encoding="utf-8")
    for forbidden in ("\ufffe", "\uffff", "\U0001fffe", "\x01", "\x1b", "\x07"):
        assert forbidden not in text


def test_inventory_name_longer_than_the_schema_allows_is_exit_2(tmp_path):
    path = inventory(tmp_path / "long.json", [token(1, "n" * 5000, "alice")])
    result = run_cli("validate", str(path))
    assert result.returncode == 2
    assert result.stderr == (
        f"token-auditor: invalid: {path}:9: /tokens/0/name: 5000 characters, more than the 4096 the schema allows\n"
    )


def test_a_one_megabyte_name_renders_fast_and_capped(opa_server, tmp_path):
    """A saved report is not bound by the inventory schemas: its values reach every renderer whole."""
    head = inventory(tmp_path / "head.json", HOSTILE[:1])
    saved = tmp_path / "report.json"
    assert audit(opa_server, str(head), "-f", "json", "-o", str(saved)).returncode == 1
    report = json.loads(saved.read_text(encoding="utf-8"))
    huge = "N" * 1_000_000
    for finding in report["findings"]:
        finding["subject"]["name"] = huge
        finding["message"] = f"token {huge} is legacy"
    report["tokens"][0]["name"] = huge
    saved.write_text(json.dumps(report), encoding="utf-8")
    sizes = {}
    for fmt in ("table", "markdown", "html", "json"):
        started = time.monotonic()
        result = run_cli("report", str(saved), "-f", fmt)
        sizes[fmt] = (time.monotonic() - started, len(result.stdout))
        assert result.returncode == 0, result.stderr
        if fmt == "table":
            assert "NNNN…" in result.stdout
            assert max(len(line) for line in result.stdout.splitlines()) < 400
    assert sizes["table"][0] < 20, sizes  # was 339 s for one such name
    assert sizes["table"][1] < 20_000 and sizes["markdown"][1] < 20_000 and sizes["html"][1] < 200_000, sizes
    assert sizes["json"][1] > 3_000_000, sizes  # the JSON keeps every value whole


def test_text_helpers_literal_cases():
    from auditor.report.text import cap_cell, markdown_code, markdown_escape, terminal_safe, xml_safe

    assert terminal_safe(f"a{OSC52}b\u202e\n") == "a\\x1b]52;c;ZXZpbA==\\x07b\\u202e\\x0a"
    assert terminal_safe("line\nnext\x1b", keep_newlines=True) == "line\nnext\\x1b"
    assert cap_cell("x" * 10_000_000) == "x" * 199 + "…"
    assert cap_cell("\x1b" * 300) == "\\x1b" * 49 + "\\x1…"
    assert markdown_escape("# ✅ Gate passed") == "\\# ✅ Gate passed"
    assert markdown_escape("cc @team and @org/admins") == "cc @\u2060team and @\u2060org/admins"
    assert markdown_escape("- item\n\n> quote") == "\\- item &gt; quote"
    assert markdown_escape("1. first") == "1\\. first"
    assert markdown_escape("<img src=x> [a](http://e) *b* `c` |d|") == (
        "&lt;img src=x&gt; \\[a\\](http://e) \\*b\\* \\`c\\` \\|d\\|"
    )
    assert markdown_escape("n" * 600) == "n" * 499 + "…"
    assert markdown_code("rule`x|y\nz\x1b") == "`rule'x\\|y z\\x1b`"
    assert xml_safe("a\ufffe\uffff\ufdd0\U0010ffff\x00\x85\ud800é😀\t\n") == (
        "a\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd\ufffdé😀\t\n"
    )
