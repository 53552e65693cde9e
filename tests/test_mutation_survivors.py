"""Literal expectations that kill the mutants a probe found surviving the suite (issue 9).

Each test spells out what the user sees (exit codes, rule ids, absent strings) and never derives it from the
code under test: thresholds at exactly 90/30/365 days and expires_at == now, a --fail-on × severity matrix,
one fixed sample per secret pattern absent from every format, and SARIF's ruleIndex.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import NOW, ROOT, run_cli

TIME_RULES = {"stale-token", "never-used-token", "unrotated-token", "long-lived", "expired-token"}


def _inventory(path: Path, tokens: list[dict]) -> Path:
    path.write_text(
        json.dumps({"format": "token-inventory/v1", "collected_at": "2026-11-24T00:00:00Z", "tokens": tokens})
    )
    return path


def _token(token_id: str, **overrides) -> dict:
    """A read-only npm token with a 59-day lifetime, used yesterday: no finding of its own."""
    return {
        "id": token_id,
        "provider": "npm",
        "kind": "granular_access_token",
        "name": token_id,
        "owner": "release-bot",
        "expiry_supported": True,
        "grants": [
            {"resource": {"type": "package", "name": "@acme/sdk"}, "permissions": ["package.read"], "access": "read"}
        ],
        "created_at": "2026-11-01T00:00:00Z",
        "expires_at": "2026-12-30T00:00:00Z",
        "last_used_at": "2026-11-24T00:00:00Z",
        **overrides,
    }


def _audit(opa_server, *args: str, env: dict | None = None):
    url, token = opa_server
    return run_cli(
        "audit", *args, "--now", NOW, "--opa-url", url, "--opa-token-env", "TA_T", env={"TA_T": token, **(env or {})}
    )


# --- thresholds: "more than N days" means exactly N days does not fire (now = 2026-11-25T00:00:00Z) ---

THRESHOLD_TOKENS = [
    # stale_days = 90: last used exactly 90 days ago, then one second more
    _token("stale-at", created_at="2026-08-17T00:00:00Z", last_used_at="2026-08-27T00:00:00Z", expires_at=None),
    _token("stale-past", created_at="2026-08-17T00:00:00Z", last_used_at="2026-08-26T23:59:59Z", expires_at=None),
    # unused_grace_days = 30: never used, created exactly 30 days ago, then one second more
    _token("unused-at", created_at="2026-10-26T00:00:00Z", last_used_at=None),
    _token("unused-past", created_at="2026-10-25T23:59:59Z", last_used_at=None),
    # max_age_days = 365: created exactly 365 days ago, then one second more
    _token("unrotated-at", created_at="2025-11-25T00:00:00Z", expires_at=None),
    _token("unrotated-past", created_at="2025-11-24T23:59:59Z", expires_at=None),
    # (no expiry: long-lived stays out of it; no-expiry is not a time rule)
    # max_lifetime_days = 90: expires exactly 90 days after creation, then one second more
    _token("lifetime-at", created_at="2026-11-15T00:00:00Z", expires_at="2027-02-13T00:00:00Z"),
    _token("lifetime-past", created_at="2026-11-15T00:00:00Z", expires_at="2027-02-13T00:00:01Z"),
    # expired: expires_at == now is not yet expired; one second earlier is
    _token("expiry-at", created_at="2026-11-15T00:00:00Z", expires_at="2026-11-25T00:00:00Z"),
    _token("expiry-past", created_at="2026-11-15T00:00:00Z", expires_at="2026-11-24T23:59:59Z"),
]


def test_exact_thresholds_do_not_fire_one_second_more_does(opa_server, tmp_path):
    path = _inventory(tmp_path / "thresholds.json", THRESHOLD_TOKENS)
    result = _audit(opa_server, str(path), "-f", "json", "--fail-on", "never")
    assert result.returncode == 0, result.stderr
    fired = sorted(
        (f["rule_id"], f["subject"]["id"]) for f in json.loads(result.stdout)["findings"] if f["rule_id"] in TIME_RULES
    )
    assert fired == [
        ("expired-token", "expiry-past"),
        ("long-lived", "lifetime-past"),
        ("never-used-token", "unused-past"),
        ("stale-token", "stale-past"),
        ("unrotated-token", "unrotated-past"),
    ]


def test_thresholds_from_config_are_exact_too(opa_server, tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("thresholds: {stale_days: 10, unused_grace_days: 5, max_age_days: 20, max_lifetime_days: 15}\n")
    path = _inventory(
        tmp_path / "cfg.json",
        [
            _token("stale-at", created_at="2026-11-10T00:00:00Z", last_used_at="2026-11-15T00:00:00Z", expires_at=None),
            _token(
                "stale-past", created_at="2026-11-10T00:00:00Z", last_used_at="2026-11-14T23:59:59Z", expires_at=None
            ),
            _token(
                "unused-at", created_at="2026-11-20T00:00:00Z", last_used_at=None, expires_at="2026-12-01T00:00:00Z"
            ),
            _token(
                "unused-past", created_at="2026-11-19T23:59:59Z", last_used_at=None, expires_at="2026-12-01T00:00:00Z"
            ),
            _token("unrotated-at", created_at="2026-11-05T00:00:00Z", expires_at="2026-11-20T00:00:00Z"),
            _token("lifetime-at", created_at="2026-11-20T00:00:00Z", expires_at="2026-12-05T00:00:00Z"),
            _token("lifetime-past", created_at="2026-11-20T00:00:00Z", expires_at="2026-12-05T00:00:01Z"),
        ],
    )
    result = _audit(opa_server, str(path), "-f", "json", "--fail-on", "never", "--config", str(config))
    assert result.returncode == 0, result.stderr
    fired = sorted(
        (f["rule_id"], f["subject"]["id"]) for f in json.loads(result.stdout)["findings"] if f["rule_id"] in TIME_RULES
    )
    # unrotated-at expired on 2026-11-20, so only expired-token speaks for it
    assert fired == [
        ("expired-token", "unrotated-at"),
        ("long-lived", "lifetime-past"),
        ("never-used-token", "unused-past"),
        ("stale-token", "stale-past"),
    ]


# --- --fail-on × severity: one inventory per severity, each with exactly one finding ---

SEVERITY_TOKENS = {
    "critical": _token("critical", name="sdk ghp_SAMPLEmatrixBODY0123456789abcdefXYZ9"),  # raw-secret-in-inventory
    "high": _token(
        "high",
        expires_at=None,
        grants=[
            {
                "resource": {"type": "package", "name": "@acme/sdk"},
                "permissions": ["package.publish"],
                "access": "write",
            }
        ],
    ),
    "medium": _token(
        "medium",
        created_at="2026-09-01T00:00:00Z",
        last_used_at="2026-08-20T00:00:00Z",
        expires_at="2026-11-29T00:00:00Z",
    ),  # stale-token
    "low": _token("low", expires_at="2026-11-20T00:00:00Z"),  # expired-token
    "none": _token("none"),
}
SEVERITY_RULE = {
    "critical": "raw-secret-in-inventory",
    "high": "no-expiry",
    "medium": "stale-token",
    "low": "expired-token",
}

# rows: the one finding's severity; columns: --fail-on critical, high, medium, low, never
FAIL_ON = ("critical", "high", "medium", "low", "never")
EXIT_MATRIX = {
    "critical": (1, 1, 1, 1, 0),
    "high": (0, 1, 1, 1, 0),
    "medium": (0, 0, 1, 1, 0),
    "low": (0, 0, 0, 1, 0),
    "none": (0, 0, 0, 0, 0),
}


@pytest.mark.parametrize("severity", list(EXIT_MATRIX))
def test_fail_on_severity_matrix(opa_server, tmp_path, severity):
    path = _inventory(tmp_path / f"{severity}.json", [SEVERITY_TOKENS[severity]])
    report = json.loads(_audit(opa_server, str(path), "-f", "json", "--fail-on", "never").stdout)
    found = [(f["rule_id"], f["severity"]) for f in report["findings"]]
    assert found == ([(SEVERITY_RULE[severity], severity)] if severity != "none" else [])
    codes = []
    for threshold in FAIL_ON:
        result = _audit(opa_server, str(path), "-f", "json", "-o", str(tmp_path / "r.json"), "--fail-on", threshold)
        assert result.stderr == "", result.stderr
        codes.append(result.returncode)
    assert tuple(codes) == EXIT_MATRIX[severity]


def test_fail_on_matrix_holds_for_diff(opa_server, tmp_path):
    """`diff` gates on introduced findings with the same ranks."""
    base = _inventory(tmp_path / "base.json", [SEVERITY_TOKENS["none"]])
    head = _inventory(tmp_path / "head.json", [SEVERITY_TOKENS["none"], SEVERITY_TOKENS["medium"]])
    url, token = opa_server
    codes = [
        run_cli(
            "diff",
            str(base),
            str(head),
            "--now",
            NOW,
            "--fail-on",
            threshold,
            "--opa-url",
            url,
            "--opa-token-env",
            "TA_T",
            env={"TA_T": token},
        ).returncode
        for threshold in FAIL_ON
    ]
    assert codes == [0, 0, 1, 1, 0]


# --- one literal sample per secret pattern of auditor/redaction.py, absent from every output ---

SECRET_SAMPLES = (
    "hf_oauth_SAMPLEoauthBODY0123456789abcdefXYZ1",
    "hf_jwt_SAMPLEjwtHEADER012345678.SAMPLEjwtPAYLOAD01.SAMPLEjwtSIGN012",
    "api_org_SAMPLEorgBODY0123456789abcdefXYZ2",
    "hf_SAMPLEuserBODY0123456789abcdefXYZ3",
    "github_pat_11SAMPLEPAT0123456789_SAMPLEfinegrainedBODY0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ",
    "ghp_SAMPLEclassicBODY0123456789abcdefXY4",
    "gho_SAMPLEoauthappBODY0123456789abcdefX5",
    "ghu_SAMPLEusertoserverBODY0123456789abc6",
    "ghs_SAMPLEservertoserverBODY0123456789a7",
    "ghr_SAMPLErefreshBODY0123456789abcdefXY8",
    "glpat-SAMPLEgitlabPATbody0123",
    "gldt-SAMPLEgitlabDEPLOYbody012",
    "glrt-SAMPLEgitlabRUNNERbody012",
    "glptt-SAMPLEgitlabTRIGGERbody01",
    "glft-SAMPLEgitlabFEEDbody01234",
    "glimt-SAMPLEgitlabINCIDENTbody0",
    "glagent-SAMPLEgitlabAGENTbody01",
    "gloas-SAMPLEgitlabOAUTHbody0123",
    "glcbt-SAMPLEgitlabCIJOBbody0123",
    "glsoat-SAMPLEgitlabSCIMbody0123",
    "glffct-SAMPLEgitlabFLAGSbody012",
    "npm_SAMPLEnpmBODY0123456789abcdefghijXY5",
    "pypi-AgEIcHlwaS5vcmcSAMPLEpypiBODY0123456789abcdefghijklmnopqrstu",
    "AKIASAMPLE0123456789",
    "ASIASAMPLE9876543210",
    "xoxa-SAMPLEslackAPP01",
    "xoxb-SAMPLE012345-slackBOT",
    "xoxp-SAMPLE012345-slackUSER",
    "xoxo-SAMPLE012345-slackOLD",
    "xoxs-SAMPLE012345-slackSESSION",
    "xoxr-SAMPLE012345-slackREFRESH",
    "xoxe-SAMPLE012345-slackEXPIRING",
    "xoxe.xoxb-1-SAMPLErotatingBOT012",
    "xapp-1-SAMPLE0123-slackAPPLEVEL",
    "https://hooks.slack.com/services/T00SAMPLE/B00SAMPLE/SAMPLEwebhookBODY012345",
)
# An AWS secret access key is 40 base64 characters: a secret only beside its key name.
AWS_SECRET = "wJalrSAMPLEsecretKEYbody0123456789abcdEF"
AWS_SECRET_SAMPLE = f"aws_secret_access_key={AWS_SECRET}"


def _leaks(text: str) -> list[str]:
    """The samples (or their bodies without the last four) found in text."""
    return [
        value for value in (*SECRET_SAMPLES, AWS_SECRET) if value in text or value[:-4] in text or value[4:-4] in text
    ]


def test_every_secret_pattern_is_redacted_in_every_format(opa_server, tmp_path):
    tokens = [
        _token(f"planted-{index:02d}", name=f"deploy {value} key")
        for index, value in enumerate((*SECRET_SAMPLES, AWS_SECRET_SAMPLE))
    ]
    path = _inventory(tmp_path / "planted.json", tokens)
    out = tmp_path / "out"
    result = _audit(
        opa_server,
        str(path),
        "--output-dir",
        str(out),
        "--fail-on",
        "never",
        *[arg for fmt in ("table", "json", "sarif", "junit", "markdown", "html") for arg in ("-f", fmt)],
    )
    assert result.returncode == 0, result.stderr
    written = sorted(p.name for p in out.iterdir())
    assert written == [
        "token-auditor.html",
        "token-auditor.json",
        "token-auditor.md",
        "token-auditor.sarif",
        "token-auditor.txt",
        "token-auditor.xml",
    ]
    texts = {name: (out / name).read_text() for name in written}
    texts["stdout+stderr"] = result.stdout + result.stderr
    normalized = run_cli("normalize", str(path), "--now", NOW)
    texts["normalize"] = normalized.stdout + normalized.stderr
    validated = run_cli("validate", str(path))
    texts["validate"] = validated.stdout + validated.stderr
    rendered = run_cli("report", str(out / "token-auditor.json"), "-f", "table")
    texts["report"] = rendered.stdout + rendered.stderr
    for where, text in texts.items():
        assert _leaks(text) == [], where
    report = json.loads(texts["token-auditor.json"])
    assert report["secrets_redacted"] == 36
    raw = [f for f in report["findings"] if f["rule_id"] == "raw-secret-in-inventory"]
    assert len(raw) == 36
    assert "ghp_…fXY4" in texts["token-auditor.json"] and "AKIA…6789" in texts["token-auditor.json"]


def test_secret_samples_are_what_the_providers_issue_in_shape():
    """Guards the samples themselves: known prefix, no whitespace, unique (so a leak names one)."""
    assert len(set(SECRET_SAMPLES)) == len(SECRET_SAMPLES) == 35
    assert len(AWS_SECRET) == 40
    assert all(" " not in value and len(value) >= 20 for value in SECRET_SAMPLES)


# --- SARIF: every result names its rule by index too ---


def test_sarif_results_carry_rule_index(opa_server):
    result = _audit(
        opa_server, str(ROOT / "tests" / "data" / "gate" / "head.json"), "-f", "sarif", "--fail-on", "never"
    )
    assert result.returncode == 0, result.stderr
    run = json.loads(result.stdout)["runs"][0]
    assert [rule["id"] for rule in run["tool"]["driver"]["rules"]] == ["legacy-token", "long-lived", "no-expiry"]
    pairs = sorted((r["ruleId"], r["ruleIndex"]) for r in run["results"])
    assert pairs == [("legacy-token", 0), ("legacy-token", 0), ("long-lived", 1), ("long-lived", 1), ("no-expiry", 2)]
