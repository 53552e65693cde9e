"""`--format markdown`: the pull-request comment: failing findings first, escaped, under GitHub's size limit."""

from __future__ import annotations

import pytest

from auditor.report.formats import FORMATS, render
from auditor.report.markdown import LIMIT
from auditor.report.markdown_blocks import finding_block
from tests.format_support import small_report, synthetic_report


def test_markdown_puts_failing_findings_first_and_escapes():
    text = render(synthetic_report(20), "markdown")
    assert text.startswith("## token-auditor\n\n❌ **Gate failed**")
    failing = text.index("### Failing: at or above `high`")
    assert failing < text.index("<details>")
    assert "| 🟥 critical |" in text
    assert "<b>" not in text and "&lt;0&gt;" in text and "deploy\\|bot" in text
    assert "**Do (narrow):** Limit it to the repositories it uses" in text
    assert "waived until 2026-12-31" in text


@pytest.mark.parametrize("n", [5, 2000, 20000])
def test_markdown_stays_under_the_comment_limit(n):
    text = render(synthetic_report(n), "markdown")
    assert len(text) < 65_000 and len(text) <= LIMIT
    if n >= 2000:
        assert "more" in text and "see the JSON" in text
    assert text.count("<details>") == text.count("</details>")


def test_failing_block_and_rows_literal():
    text = FORMATS["markdown"].render(small_report())
    assert (
        "#### 🟧 `broad-scope` · deploy (ghp\\_…aaaa) · github · owner alice\n\n"
        "deploy holds repo\n\n"
        "<sub>inv.json:3 /tokens/1 · fingerprint `aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa`</sub>\n\n"
        "**Do (replace):** Replace it with a fine-grained token\n"
        "1. Create the token\n"
        "1. Revoke the old one\n\n"
        "Replacement:\n"
        "- ask the owner: Which other repositories?\n"
        "- repositories: acme/app\n"
        "- permissions: contents:write, metadata:read\n"
    ) in text
    assert (
        "| 🟧 high | `no-expiry` | notes (ghp\\_…bbbb) | bob | notes never expires | waived until 2026-12-31 |" in text
    )
    assert "| `no-expiry` | token\\_id=2 | moves to OIDC | lead | SEC-9 | 2026-12-31 | 1 |" in text


def test_waiver_sentence_of_a_finding_block():
    waived = small_report().findings[1]
    assert finding_block(waived).endswith(
        "\n> Waiver (active): moves to OIDC (approved by lead, SEC-9, until 2026-12-31)\n"
    )


def test_failing_section_follows_the_gate_state_not_the_severity():
    report = small_report()
    report.findings[2]["fails_gate"] = True  # the gate said so (e.g. --fail-on medium): the comment follows it
    text = FORMATS["markdown"].render(report)
    assert "❌ **Gate failed**: 2 finding(s) that count" in text
    assert "#### 🟨 `long-lived` · deploy (ghp\\_…aaaa)" in text
