"""Literal expectations for `diff` details that a cosmic-ray sample (make mutation) found unpinned."""

from __future__ import annotations

import re

from conftest import NOW, ROOT, run_cli
from test_gate_diff import GRANT, token

from auditor.gate.diff import token_changes

DATA = ROOT / "tests" / "data" / "gate"


def test_widening_from_one_repository_says_repository_and_later_grants_still_count():
    before = token(provider="huggingface", grants=[GRANT("model", "acme/a", ["repo.content.read"])])
    after = token(
        provider="huggingface",
        grants=[GRANT("org", "acme", ["repo.content.read"]), GRANT("space", "zed/s", ["repo.content.read"])],
    )
    assert [(c["kind"], c["summary"]) for c in token_changes(before, after)] == [
        ("repository_selection_widened", "1 selected repository → every repository of acme (repo.content.read)"),
        ("grant_added", "new grant on space zed/s: repo.content.read"),
    ]


def test_expiry_support_change_is_seen_both_ways():
    for was, now in ((True, False), (False, True)):
        changes = token_changes(token(expiry_supported=was), token(expiry_supported=now))
        assert [(c["kind"], c["before"], c["after"]) for c in changes] == [("expiry_support_changed", was, now)]


def test_diff_table_names_tokens_by_name(opa_server):
    url, secret = opa_server
    result = run_cli(
        "diff",
        str(DATA / "base.json"),
        str(DATA / "head.json"),
        "--now",
        NOW,
        "-f",
        "table",
        "--opa-url",
        url,
        "--opa-token-env",
        "TA_T",
        env={"TA_T": secret},
    )
    assert result.returncode == 1, result.stderr
    introduced = result.stdout.split("INTRODUCED FINDINGS (3)\n", 1)[1].split("RESOLVED FINDINGS", 1)[0]
    rows = re.findall(r"^(high|medium)\s+(\S+)\s+(\S+)", introduced, re.M)
    assert rows == [
        ("high", "legacy-token", "ci-publish"),
        ("high", "no-expiry", "ci-publish"),
        ("medium", "long-lived", "model-sync"),
    ]


def test_unchanged_or_newly_stated_access_is_no_change():
    read = [GRANT("repository", "acme/api", ["contents:read"], "read")]
    assert token_changes(token(grants=read), token(grants=read)) == []
    assert token_changes(token(), token(grants=read)) == []  # the same grant, its access now spelled out


def test_diff_markdown_lists_findings_below_the_gate_apart(opa_server):
    url, secret = opa_server
    result = run_cli(
        "diff",
        str(DATA / "base.json"),
        str(DATA / "head.json"),
        "--now",
        NOW,
        "-f",
        "markdown",
        "--opa-url",
        url,
        "--opa-token-env",
        "TA_T",
        env={"TA_T": secret},
    )
    assert result.returncode == 1, result.stderr
    other = result.stdout.split("<summary>Other new findings (1)</summary>\n", 1)[1].split("</details>", 1)[0]
    assert "| 🟨 medium | `long-lived` | model-sync (hf\\_…e5f6) | carol |" in other


def test_fingerprint_waiver_waives_that_finding_only(tmp_path):
    """A waiver naming a fingerprint must not waive the rule's other findings (a cosmic-ray survivor)."""
    import json

    from auditor.gate.waivers import apply_waivers, load_waivers

    path = tmp_path / "w.json"
    path.write_text(
        json.dumps(
            {
                "waivers": [
                    {
                        "rule_id": "legacy-token",
                        "match": {"fingerprint": "a" * 32},
                        "reason": "r",
                        "approved_by": "a",
                        "expires": "2026-12-01",
                    }
                ]
            }
        )
    )
    waivers = load_waivers(str(path), NOW)
    items = [
        {"rule_id": "legacy-token", "subject": {"type": "token", "key": k, "id": k}, "fingerprint": fp}
        for k, fp in (("t1", "a" * 32), ("t2", "b" * 32))
    ]
    apply_waivers(items, waivers, str(path))
    assert [(f["subject"]["id"], f["waived"]) for f in items] == [("t1", True), ("t2", False)]
