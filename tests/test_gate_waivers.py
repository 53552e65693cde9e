"""Waivers and baselines: what they mark, what still counts toward the exit code, and bad files."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from auditor.gate.waivers import apply_waivers, load_waivers, one_year_after
from auditor.inventory.validate import load_schema
from tests.conftest import NOW, ROOT, write_yaml

HEAD = ROOT / "tests" / "data" / "gate" / "head.json"
LEGACY_1 = "tok-legacy-1"  # legacy write token: high
LEGACY_2 = "tok-legacy-2"  # legacy read token: medium


def legacy(report: dict, token_id: str) -> dict:
    [finding] = [f for f in report["findings"] if f["rule_id"] == "legacy-token" and f["subject"]["id"] == token_id]
    return finding


def test_active_waiver_waives_and_exit_code_follows(audit_json, tmp_path):
    code, report, _ = audit_json(HEAD)
    assert code == 1 and legacy(report, LEGACY_1)["counts"] is True
    waivers = write_yaml(
        tmp_path / "waivers.yaml",
        f"""\
waivers:
  - rule_id: legacy-token
    match: {{token_id: "{LEGACY_1}"}}
    reason: publishing job moves to OIDC in December
    approved_by: secops-lead
    ticket: SEC-1234
    expires: 2026-12-31
""",
    )
    code, report, err = audit_json(HEAD, extra=("--waivers", str(waivers)))
    finding = legacy(report, LEGACY_1)
    assert finding["waived"] is True and finding["counts"] is False
    assert finding["waiver"] == {
        "reason": "publishing job moves to OIDC in December",
        "approved_by": "secops-lead",
        "ticket": "SEC-1234",
        "expires": "2026-12-31",
    }
    assert legacy(report, LEGACY_2)["waived"] is False and "waiver" not in legacy(report, LEGACY_2)
    # no-expiry (high) on the same token still counts: the gate still fails, on that one finding.
    assert code == 1, err
    assert report["gate"] == {
        "fail_on": "high",
        "findings": 5,
        "counted": 4,
        "waived": 1,
        "baseline": 0,
        "failing": 1,
        "passed": False,
    }
    assert [w["matched"] for w in report["waivers"]["active"]] == [1]
    assert report["waivers"]["expired"] == [] and report["waivers"]["unused"] == []
    code_medium, _, _ = audit_json(HEAD, extra=("--waivers", str(waivers), "--fail-on", "medium"))
    assert code_medium == 1
    jsonschema.validate(report, load_schema("report.v1"))


def test_waiving_every_high_finding_passes_the_gate(audit_json, tmp_path):
    """head.json has two high findings, both on tok-legacy-1: waive both and --fail-on high exits 0."""
    waivers = write_yaml(
        tmp_path / "waivers.yaml",
        f"""\
waivers:
  - rule_id: legacy-token
    match: {{token_id: "{LEGACY_1}"}}
    reason: publishing job moves to OIDC in December
    approved_by: secops-lead
    expires: 2026-12-31
  - rule_id: no-expiry
    match: {{token_id: "{LEGACY_1}"}}
    reason: replaced together with the legacy token
    approved_by: secops-lead
    expires: 2026-12-31
""",
    )
    code, report, err = audit_json(HEAD, extra=("--waivers", str(waivers)))
    assert code == 0, err
    assert report["gate"] == {
        "fail_on": "high",
        "findings": 5,
        "counted": 3,
        "waived": 2,
        "baseline": 0,
        "failing": 0,
        "passed": True,
    }
    assert sorted((f["rule_id"], f["subject"]["id"]) for f in report["findings"] if f["waived"]) == [
        ("legacy-token", LEGACY_1),
        ("no-expiry", LEGACY_1),
    ]
    # the medium findings still count: --fail-on medium fails
    code, _, err = audit_json(HEAD, extra=("--waivers", str(waivers), "--fail-on", "medium"))
    assert code == 1, err


def test_expired_waiver_no_longer_waives_and_unused_is_listed(audit_json, tmp_path):
    waivers = write_yaml(
        tmp_path / "waivers.yaml",
        """\
waivers:
  - rule_id: legacy-token
    match: {owner: alice, provider: huggingface}
    reason: was accepted for the migration
    approved_by: secops-lead
    expires: 2026-11-24
  - rule_id: legacy-token
    match: {name: "does-not-exist-*"}
    reason: nothing matches this
    approved_by: secops-lead
    expires: 2027-01-31
""",
    )
    code, report, _ = audit_json(HEAD, extra=("--waivers", str(waivers)))
    finding = legacy(report, LEGACY_1)
    assert finding["waived"] is False and finding["counts"] is True
    assert finding["waiver"]["expired"] is True and finding["waiver"]["expires"] == "2026-11-24"
    assert code == 1
    assert [w["expires"] for w in report["waivers"]["expired"]] == ["2026-11-24"]
    assert [w["match"] for w in report["waivers"]["unused"]] == [{"name": "does-not-exist-*"}]
    assert report["waivers"]["unused"][0]["source"]["line"] == 7
    assert report["gate"]["waived"] == 0


def test_waiver_on_the_last_day_still_applies(audit_json, tmp_path):
    waivers = write_yaml(
        tmp_path / "w.yaml",
        """\
waivers:
  - {rule_id: legacy-token, match: {name: "ci-*"}, reason: last day, approved_by: me, expires: 2026-11-25}
""",
    )
    _, report, _ = audit_json(HEAD, extra=("--waivers", str(waivers)))
    assert legacy(report, LEGACY_1)["waived"] is True
    assert legacy(report, LEGACY_2)["waived"] is False


def finding(rule="legacy-token", **subject):
    return {"rule_id": rule, "subject": {"type": "token", "key": "k", **subject}, "fingerprint": "f" * 32}


@pytest.mark.parametrize(
    "match,hit",
    [
        ({"token_id": "t1"}, True),
        ({"token_id": "t"}, False),
        ({"owner": "alice"}, True),
        ({"owner": "ALICE"}, False),
        ({"provider": "github"}, False),
        ({"name": "deploy-*"}, True),
        ({"name": "deploy-?rod"}, True),
        ({"name": "Deploy-*"}, False),
        ({"name": "deploy-prod", "owner": "bob"}, False),
        ({"name": "deploy-prod", "owner": "alice", "provider": "huggingface", "token_id": "t1"}, True),
    ],
)
def test_match_keys_all_must_match(tmp_path, match, hit):
    text = json.dumps(
        {
            "waivers": [
                {"rule_id": "legacy-token", "match": match, "reason": "r", "approved_by": "a", "expires": "2026-12-01"}
            ]
        }
    )
    path = tmp_path / "w.json"
    path.write_text(text)
    waivers = load_waivers(str(path), NOW, allow_broad=True)  # provider alone pins no token
    items = [
        finding(id="t1", owner="alice", provider="huggingface", name="deploy-prod"),
        finding(rule="other-rule", id="t1", owner="alice", provider="huggingface", name="deploy-prod"),
    ]
    section = apply_waivers(items, waivers, str(path))
    assert items[0]["waived"] is hit
    assert items[1]["waived"] is False  # another rule is never waived
    assert len(section["unused"]) == (0 if hit else 1)


def test_one_year_bound():
    from datetime import date

    assert one_year_after(date(2026, 11, 25)) == date(2027, 11, 25)
    assert one_year_after(date(2028, 2, 29)) == date(2029, 2, 28)


@pytest.mark.parametrize(
    "body,needle",
    [
        (
            "waivers:\n  - {rule_id: legacy-token, match: {token_id: x}, reason: r, approved_by: a, expires: 2026-12-01, "
            "colour: red}\n",
            "colour",
        ),
        (
            "waivers:\n  - {rule_id: legacy-token, match: {}, reason: r, approved_by: a, expires: 2026-12-01}\n",
            "/waivers/0/match",
        ),
        (
            "waivers:\n  - {rule_id: legacy-token, match: {team: x}, reason: r, approved_by: a, expires: 2026-12-01}\n",
            "team",
        ),
        (
            "waivers:\n  - {rule_id: legacy-token, match: {token_id: x}, approved_by: a, expires: 2026-12-01}\n",
            "reason",
        ),
        (
            "waivers:\n  - {rule_id: legacy-token, match: {token_id: x}, reason: r, expires: 2026-12-01}\n",
            "approved_by",
        ),
        ("waivers:\n  - {rule_id: legacy-token, match: {token_id: x}, reason: r, approved_by: a}\n", "expires"),
        (
            "waivers:\n  - {rule_id: legacy-token, match: {token_id: x}, reason: r, approved_by: a, expires: 2027-11-26}\n",
            "more than one year after 2026-11-25",
        ),
        (
            "waivers:\n  - {rule_id: legacy-token, match: {token_id: x}, reason: r, approved_by: a, expires: 2026-02-30}\n",
            "/waivers/0/expires",
        ),
        (
            "waivers:\n  - {rule_id: legacy-token, match: {token_id: x}, reason: '  ', approved_by: a, expires: 2026-12-01}\n",
            "/waivers/0/reason",
        ),
        ("extra: 1\nwaivers: []\n", "extra"),
    ],
)
def test_invalid_waivers_file_is_exit_2_naming_file_and_line(tmp_path, body, needle):
    from tests.conftest import run_cli

    path = write_yaml(tmp_path / "bad-waivers.yaml", body)
    result = run_cli("audit", str(HEAD), "--now", NOW, "--waivers", str(path))
    assert result.returncode == 2, result.stderr
    assert f"{path}:" in result.stderr and needle in result.stderr
    assert "Traceback" not in result.stderr


def test_waiver_one_year_exactly_is_accepted(tmp_path):
    path = write_yaml(
        tmp_path / "w.yaml",
        "waivers:\n  - {rule_id: legacy-token, match: {token_id: x}, reason: r, approved_by: a, expires: 2027-11-25}\n",
    )
    [waiver] = load_waivers(str(path), NOW)
    assert waiver.expired is False and waiver.line == 2


def test_waivers_schema_is_shipped():
    schema = load_schema("waivers.v1")
    assert schema["additionalProperties"] is False
    assert Path(ROOT / "auditor" / "schemas" / "waivers.v1.json").is_file()
