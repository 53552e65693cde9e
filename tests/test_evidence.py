"""Evidence coverage: a rule whose evidence is missing does not run and is reported as not assessed, never passed.

Issue 11: an export holding only the fine-grained token list got "pass" on OWASP NHI1, NHI3, NHI4 and CIS
requirements. These tests audit such an export, and the same organization with full evidence.
"""

from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET

import pytest
from conftest import NOW, OPA_BIN, ROOT, run_cli

# GET /orgs/{org}/personal-access-tokens, one grant (GitHub's documented fields): read-only, selected
# repositories, used recently, expiring within 90 days. No token rule finds anything in it.
GRANT = {
    "id": 25381,
    "owner": {"login": "octocat", "id": 1, "type": "User"},
    "repository_selection": "subset",
    "repositories_url": "https://api.github.com/organizations/652551/personal-access-tokens/25381/repositories",
    "permissions": {"repository": {"metadata": "read", "contents": "read"}},
    "access_granted_at": "2026-11-01T08:00:00Z",
    "token_id": 98716,
    "token_name": "docs-build",
    "token_expired": False,
    "token_expires_at": "2027-01-15T08:00:00Z",
    "token_last_used_at": "2026-11-24T08:00:00Z",
}
MEMBERS = [{"login": "octocat", "id": 1, "type": "User"}, {"login": "hubot", "id": 2, "type": "User"}]
SETTINGS = {
    "classic_pats_allowed": False,
    "fine_grained_pats_allowed": True,
    "fine_grained_pats_require_approval": True,
}
AFFECTED = {
    "legacy-token",
    "org-allows-legacy-tokens",
    "owner-not-member",
    "pending-broad-request",
    "third-party-broad-access",
}


def _grants_only(tmp_path):
    folder = tmp_path / "exports" / "orgs" / "octo-org"
    folder.mkdir(parents=True)
    (folder / "personal-access-tokens.json").write_text(json.dumps([GRANT]))
    return tmp_path / "exports"


def _wrapper(tmp_path, **changes):
    document = {
        "format": "github-inventory/v1",
        "org": "octo-org",
        "collected_at": "2026-11-24T08:00:00Z",
        "org_settings": SETTINGS,
        "personal_access_tokens": [GRANT],
        "personal_access_token_requests": [],
        "credential_authorizations": [],
        "members": MEMBERS,
        "installations": {"total_count": 0, "installations": []},
    }
    document.update(changes)
    path = tmp_path / "octo-org.json"
    path.write_text(json.dumps(document))
    return path


def _statuses(report_file, framework):
    result = run_cli("frameworks", framework, "--report", str(report_file), "-f", "json")
    assert result.returncode == 0, result.stderr
    return {r["id"]: r["status"] for r in json.loads(result.stdout)[0]["requirements"]}


def _render(report_file, fmt):
    result = run_cli("report", str(report_file), "-f", fmt)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_fine_grained_list_alone_is_not_assessed_never_passed(audit_json, tmp_path):
    code, report, stderr = audit_json(_grants_only(tmp_path))
    assert code == 0, stderr
    assert report["findings"] == []
    assert {e["rule_id"] for e in report["not_assessed"]} == AFFECTED
    members = next(e for e in report["not_assessed"] if e["rule_id"] == "owner-not-member")
    assert members["provider"] == "github" and members["org"] == "octo-org"
    assert members["missing"] == [
        {
            "kind": "members",
            "status": "missing",
            "reason": "not in the inputs",
            "how": "export /orgs/octo-org/members or run `token-auditor collect github --org octo-org`",
        }
    ]
    assert report["evidence"] == [
        {
            "provider": "github",
            "org": "octo-org",
            "evidence": {
                "credential_authorizations": "missing",
                "installations": "missing",
                "members": "missing",
                "org_policies": "missing",
                "personal_access_token_requests": "missing",
                "personal_access_tokens": "present",
            },
        }
    ]

    saved = tmp_path / "report.json"
    saved.write_text(json.dumps(report))
    owasp = _statuses(saved, "owasp-nhi-2025")
    assert (owasp["NHI1"], owasp["NHI3"], owasp["NHI4"]) == ("not assessed", "not assessed", "not assessed")
    cis = _statuses(saved, "cis-github-benchmark")
    assert (cis["1.3.1"], cis["1.4.2"], cis["1.4.3"]) == ("not assessed", "not assessed", "not assessed")
    assert "pass" not in {owasp["NHI1"], owasp["NHI3"], owasp["NHI4"], cis["1.3.1"], cis["1.4.2"], cis["1.4.3"]}

    table = run_cli("frameworks", "owasp-nhi-2025", "--report", str(saved)).stdout
    assert "NHI1   Improper Offboarding" in table
    assert "owner-not-member not run in github octo-org" in table

    markdown = _render(saved, "markdown")
    assert "| NHI1 | Improper Offboarding | not assessed | owner-not-member not run in github octo-org |" in markdown
    assert (
        "| NHI3 | Vulnerable Third-Party NHI | not assessed | third-party-broad-access not run in github octo-org |"
        in markdown
    )
    assert (
        "| NHI4 | Insecure Authentication | not assessed | legacy-token not run in github octo-org; "
        "org-allows-legacy-tokens not run in github octo-org |"
    ) in markdown
    assert (
        "| 1.4.2 | Ensure stale applications are reviewed and inactive ones are removed | not assessed | "
        "no credential_authorizations for github octo-org |"
    ) in markdown
    assert "⚠️ **Not assessed**: 5 rules not assessed in 1 organization" in markdown
    assert (
        "| `owner-not-member` | github | octo-org | members (missing) | export /orgs/octo-org/members or run "
        "\\`token-auditor collect github --org octo-org\\` |"
    ) in markdown

    html = _render(saved, "html")
    for requirement in ("NHI1", "NHI3", "NHI4", "1.3.1", "1.4.2", "1.4.3"):
        row = html.split(f'<tr data-requirement="{requirement}">', 1)[1].split("</tr>", 1)[0]
        assert '<span class="status status-not-assessed">not assessed</span>' in row, requirement
        assert "status-pass" not in row
    assert '<section id="not-assessed">' in html
    assert '<tr data-not-assessed="owner-not-member"><td><code>owner-not-member</code></td><td>github</td>' in html

    table = _render(saved, "table")
    assert "NOT ASSESSED (5): 5 rules not assessed in 1 organization" in table

    sarif = json.loads(_render(saved, "sarif"))
    notes = sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert {
        "level": "warning",
        "associatedRule": {"id": "owner-not-member"},
        "message": {
            "text": "owner-not-member not assessed for github octo-org: missing members (missing). To assess it: "
            "export /orgs/octo-org/members or run `token-auditor collect github --org octo-org`."
        },
    } in notes

    junit = ET.fromstring(_render(saved, "junit"))
    suite = junit.find("testsuite[@name='third-party-broad-access']")
    case = suite.find("testcase[@name='github octo-org (not assessed)']")
    assert case.find("skipped").text.startswith(
        "not assessed: missing installations (missing); to assess it: export /orgs/octo-org/installations"
    )
    assert suite.get("skipped") == "1"


def test_full_evidence_gives_pass_and_fail_as_before(audit_json, tmp_path):
    code, report, stderr = audit_json(_wrapper(tmp_path))
    assert code == 0, stderr
    assert report["not_assessed"] == [] and report["findings"] == []
    saved = tmp_path / "report.json"
    saved.write_text(json.dumps(report))
    owasp = _statuses(saved, "owasp-nhi-2025")
    assert (owasp["NHI1"], owasp["NHI3"], owasp["NHI4"]) == ("pass", "pass", "pass")
    cis = _statuses(saved, "cis-github-benchmark")
    assert (cis["1.3.1"], cis["1.4.1"], cis["1.4.2"], cis["1.4.3"]) == ("pass", "manual", "pass", "pass")
    assert "| NHI4 | Insecure Authentication | pass |  |" in _render(saved, "markdown")

    # The same organization accepting classic tokens: NHI4 fails.
    code, report, _ = audit_json(_wrapper(tmp_path, org_settings={**SETTINGS, "classic_pats_allowed": True}))
    assert [f["rule_id"] for f in report["findings"]] == ["org-allows-legacy-tokens"]
    saved.write_text(json.dumps(report))
    assert _statuses(saved, "owasp-nhi-2025")["NHI4"] == "fail"


def test_collection_record_decides_presence_and_a_partial_list_accuses_no_one(audit_json, tmp_path):
    # The members endpoint was refused after a first page: hubot only. Without the gate octocat would be
    # reported as not a member.
    collection = {
        "tool": "token-auditor collect",
        "collected_at": "2026-11-24T08:00:00Z",
        "endpoints": {
            "members": {"status": "forbidden", "items": 1},
            "installations": {"status": "ok", "items": 0},
            "credential_authorizations": {"status": "not_applicable", "items": 0},
            "personal_access_token_requests": {"status": "skipped", "note": "only GitHub Apps can call this endpoint"},
        },
    }
    path = _wrapper(tmp_path, members=[MEMBERS[1]], collection=collection, credential_authorizations=[])
    code, report, stderr = audit_json(path)
    assert code == 0, stderr
    assert report["findings"] == []
    assert {(e["rule_id"], e["missing"][0]["status"]) for e in report["not_assessed"]} == {
        ("owner-not-member", "forbidden"),
        ("legacy-token", "not_applicable"),
        ("pending-broad-request", "skipped"),
    }
    assert report["evidence"][0]["evidence"]["installations"] == "present"

    # Plain `opa eval` of the normalized input agrees: the gate is in the policies, not in the CLI.
    normalized = tmp_path / "input.json"
    result = run_cli("normalize", str(path), "--now", NOW, "-o", str(normalized))
    assert result.returncode == 0, result.stderr
    assert json.loads(normalized.read_text())["orgs"][0]["evidence"]["members"] == "forbidden"
    evaluated = subprocess.run(
        [
            OPA_BIN,
            "eval",
            "-d",
            str(ROOT / "policies"),
            "-i",
            str(normalized),
            "--format",
            "json",
            "data.token_auditor.main.findings",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(evaluated.stdout)["result"][0]["expressions"][0]["value"] == []
    # …and without the collection record the same partial list would accuse octocat.
    without = json.loads(path.read_text())
    del without["collection"]
    path.write_text(json.dumps(without))
    _, report, _ = audit_json(path)
    assert [(f["rule_id"], f["subject"]["owner"]) for f in report["findings"]] == [("owner-not-member", "octocat")]


def test_empty_exports_are_evidence_present_and_empty(audit_json, tmp_path):
    folder = tmp_path / "orgs" / "octo-org"
    folder.mkdir(parents=True)
    (folder / "personal-access-tokens.json").write_text(json.dumps([GRANT]))
    (folder / "installations.json").write_text('[{"total_count":0,"installations":[]}]')  # gh api --paginate --slurp
    (folder / "members.json").write_text(json.dumps(MEMBERS))
    (folder / "credential-authorizations.json").write_text("[]")
    code, report, stderr = audit_json(tmp_path / "orgs")
    assert code == 0, stderr
    assert report["evidence"][0]["evidence"] == {
        "credential_authorizations": "present",
        "installations": "present",
        "members": "present",
        "org_policies": "missing",
        "personal_access_token_requests": "missing",
        "personal_access_tokens": "present",
    }
    assert {e["rule_id"] for e in report["not_assessed"]} == {"org-allows-legacy-tokens", "pending-broad-request"}
    result = run_cli("validate", str(folder / "installations.json"), "--org", "octo-org")
    assert result.returncode == 0 and result.stdout == f"ok {folder / 'installations.json'}: github-api, 0 tokens\n"


def test_huggingface_org_without_members_policy_or_spaces_is_not_assessed(audit_json, tmp_path):
    path = tmp_path / "hf.yaml"
    path.write_text("""format: huggingface-inventory/v1
collected_at: "2026-11-20T09:00:00Z"
account: {name: jdoe-ml, orgs: [{name: acme-ml, roleInOrg: admin}, {name: acme-research, roleInOrg: read}]}
org_policies: [{org: acme-ml, token_policy: require_approval}]
members: [{org: acme-ml, user: jdoe-ml, role: admin}]
tokens: []
""")
    code, report, stderr = audit_json(path)
    assert code == 0, stderr
    spaces = (
        "add `spaces` (each Space's info with `private`, its secret and variable names) or run "
        "`token-auditor collect huggingface`"
    )
    assert [(e["rule_id"], e["org"], e["missing"][0]["how"]) for e in report["not_assessed"]] == [
        ("exposed-in-public-space", "acme-ml", spaces),
        ("exposed-in-public-space", "acme-research", spaces),
        (
            "org-allows-legacy-tokens",
            "acme-research",
            "add an `org_policies` entry for acme-research (organization "
            "Settings → Tokens) or run `token-auditor collect huggingface`",
        ),
        (
            "owner-not-member",
            "acme-research",
            "add acme-research's members (`members:` entries with org "
            "acme-research) or run `token-auditor collect huggingface`",
        ),
    ]


@pytest.mark.parametrize(
    ("name", "body", "expected"),
    [
        (
            "orgs/octo-org/credential-authorizations.json",
            '{"message": "Resource not accessible by integration", "documentation_url": '
            '"https://docs.github.com/rest/orgs/orgs#list-saml-sso-authorizations-for-an-organization", "status": "403"}',
            'orgs/octo-org/credential-authorizations.json: a GitHub API error answer (403 "Resource not accessible by integration"; see '
            "https://docs.github.com/rest/orgs/orgs#list-saml-sso-authorizations-for-an-organization), not an export; "
            "fix the access and export again",
        ),
        (
            "personal_access_tokens.json",
            '{"message": "403 Forbidden"}',
            'personal_access_tokens.json: a GitLab API error answer ("403 Forbidden"), not an export; '
            "fix the access and export again",
        ),
        (
            "personal_access_tokens.json",
            '{"error": "insufficient_scope", "error_description": "The request requires higher privileges than provided '
            'by the access token.", "scope": "read_api"}',
            'personal_access_tokens.json: a GitLab API error answer ("insufficient_scope: The request requires higher '
            'privileges than provided by the access token."), not an export; fix the access and export again',
        ),
        (
            "octo-org.yaml",
            'format: github-inventory/v1\norg: octo-org\ncollected_at: "2026-11-24T08:00:00Z"\n'
            'members: {message: Must have admin rights to Repository., documentation_url: "https://docs.github.com/rest"}\n',
            'octo-org.yaml:4: /members: a GitHub API error answer ("Must have admin rights to Repository."; see '
            "https://docs.github.com/rest) instead of the export; fix the access and export again",
        ),
    ],
    ids=["github", "gitlab-message", "gitlab-oauth", "inside-wrapper"],
)
def test_provider_error_answer_is_a_one_line_error_naming_its_message(tmp_path, name, body, expected):
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body)
    result = run_cli("audit", str(path), "--org", "octo-org", "--now", NOW)
    assert result.returncode == 2
    assert result.stderr == f"token-auditor: error: {tmp_path}/{expected}\n"


def test_validate_reports_every_bad_file_in_one_run(tmp_path):
    good = tmp_path / "a-good.json"
    good.write_text(
        json.dumps(
            {
                "format": "token-inventory/v1",
                "collected_at": NOW,
                "tokens": [{"id": "a", "provider": "npm", "owner": "x"}],
            }
        )
    )
    schema = tmp_path / "b-schema.json"
    schema.write_text(
        json.dumps(
            {
                "format": "token-inventory/v1",
                "collected_at": NOW,
                "tokens": [{"id": "b", "provider": "npm", "owner": 7}],
            }
        )
    )
    broken = tmp_path / "c-broken.json"
    broken.write_text('{"format": ')
    error = tmp_path / "d-error.json"
    error.write_text('{"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}')
    expected = [
        f"token-auditor: invalid: {schema}:1: /tokens/0/owner: 7 is not of type 'string'",
        f"token-auditor: invalid: {broken}:1:12: invalid JSON: Expecting value",
        f'token-auditor: invalid: {error}: a GitHub API error answer ("Not Found"; see https://docs.github.com/rest), '
        "not an export; fix the access and export again",
        f"token-auditor: invalid: {tmp_path / 'missing.json'}: no such file or directory",
    ]
    for command in (["validate"], ["audit", "--now", NOW]):
        result = run_cli(*command, str(tmp_path), str(tmp_path / "missing.json"))
        assert result.returncode == 2
        assert result.stdout == ""
        assert sorted(result.stderr.splitlines()) == sorted(expected)
    result = run_cli("validate", str(good))
    assert (result.returncode, result.stdout) == (0, f"ok {good}: token-inventory/v1, 1 tokens\n")


HF_USAGE_UNKNOWN = """format: huggingface-inventory/v1
collected_at: "2026-11-20T09:00:00Z"
account: {name: jdoe-ml, orgs: []}
tokens:
  - inventory: {id: t-old, name: ci-read, owner: jdoe-ml, kind: user_access_token, created_at: "2026-03-01T00:00:00Z"}
"""
USAGE_RECORD = """collection:
  endpoints:
    token_usage: {status: not_applicable, note: whoami-v2 does not say when a token was last used}
"""
# last use copied in by hand from the Settings page: null there means the Hub shows "never used"
COPIED = """  - inventory: {id: t-copied, name: nightly, owner: jdoe-ml, kind: user_access_token,
                created_at: "2026-03-01T00:00:00Z", last_used_at: null}
"""
USAGE_HOW = (
    "copy each token's last use from huggingface.co/settings/tokens (for jdoe-ml's org tokens: its Settings → "
    "Access Tokens) into `inventory.last_used_at` (null when the Hub shows it never used)"
)


def test_huggingface_token_usage_unknown_is_not_assessed_never_called_unused(audit_json, tmp_path):
    path = tmp_path / "hf.yaml"
    path.write_text(HF_USAGE_UNKNOWN + USAGE_RECORD)
    code, report, stderr = audit_json(path)
    assert code == 0, stderr
    assert report["findings"] == []
    missing = [
        {
            "kind": "token_usage",
            "status": "not_applicable",
            "reason": "the provider's API does not show it for these tokens",
            "how": USAGE_HOW,
        }
    ]
    assert report["not_assessed"] == [
        {"rule_id": "never-used-token", "provider": "huggingface", "org": "jdoe-ml", "tokens": 1, "missing": missing},
        {"rule_id": "stale-token", "provider": "huggingface", "org": "jdoe-ml", "tokens": 1, "missing": missing},
    ]

    saved = tmp_path / "report.json"
    saved.write_text(json.dumps(report))
    assert _statuses(saved, "owasp-nhi-2025")["NHI1"] == "not assessed"
    markdown = _render(saved, "markdown")
    assert (
        "| `never-used-token` | huggingface | jdoe-ml (1 token) | token\\_usage (not\\_applicable) | copy each "
        "token's last use from huggingface.co/settings/tokens"
    ) in markdown
    assert (
        "| NHI1 | Improper Offboarding | not assessed | never-used-token not run in huggingface jdoe-ml; "
        "stale-token not run in huggingface jdoe-ml |"
    ) in markdown
    assert "NOT ASSESSED (2): 2 rules not assessed in 1 token of 1 owner" in _render(saved, "table")
    assert '<tr data-not-assessed="stale-token"><td><code>stale-token</code></td><td>huggingface</td>' in _render(
        saved, "html"
    )
    junit = ET.fromstring(_render(saved, "junit"))
    case = junit.find(
        "testsuite[@name='never-used-token']/testcase[@name='huggingface jdoe-ml (1 token) (not assessed)']"
    )
    assert case.find("skipped").text.startswith("not assessed: missing token_usage (not_applicable)")

    # a token whose last use was copied in is assessed: never used, so it fires
    path.write_text(HF_USAGE_UNKNOWN + COPIED + USAGE_RECORD)
    code, report, stderr = audit_json(path, extra=("--fail-on", "never"))
    assert code == 0, stderr
    assert [f["subject"]["name"] for f in report["findings"] if f["rule_id"] == "never-used-token"] == ["nightly"]
    assert [e["tokens"] for e in report["not_assessed"]] == [1, 1]


def test_huggingface_hand_written_inventory_keeps_null_as_never_used(audit_json, tmp_path):
    path = tmp_path / "hf.yaml"
    path.write_text(HF_USAGE_UNKNOWN + COPIED)
    code, report, stderr = audit_json(path, extra=("--fail-on", "never"))
    assert code == 0, stderr
    unused = sorted(f["subject"]["name"] for f in report["findings"] if f["rule_id"] == "never-used-token")
    assert unused == ["ci-read", "nightly"]
    assert report["not_assessed"] == []
