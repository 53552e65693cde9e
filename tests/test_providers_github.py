"""GitHub: `gh api` answers read as-is (bare, --paginate pages, --slurp, wrapper) and audited on a real OPA."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT, audit_to_json, run_cli

from auditor.errors import InputError
from auditor.inventory.loader import load_document
from auditor.providers import adapter_for
from auditor.providers.github import ADAPTER, endpoint_of, token_policy

WRAPPER = FIXTURES / "github" / "acme-corp.json"
PAGINATED = FIXTURES / "github" / "orgs" / "acme-labs" / "personal-access-tokens.json"
EXAMPLES = ROOT / "tests" / "data" / "github-rest-examples"


def normalize(path: Path, **options):
    document = load_document(str(path))
    assert adapter_for(document) is ADAPTER
    return document, ADAPTER.normalize(document, {"org": None, "collected_at": None, **options})


def findings_by_token(report: dict) -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for f in report["findings"]:
        if f["subject"]["provider"] == "github":
            out[f["subject"]["name"] or f["subject"]["id"]].add(f["rule_id"])
    return out


def grant(token_id: int, selection: str = "subset", **extra) -> dict:
    item = {
        "id": token_id + 1000,
        "owner": {"login": "erin", "id": 7},
        "repository_selection": selection,
        "repositories_url": f"https://api.github.com/organizations/1/personal-access-tokens/{token_id + 1000}/repositories",
        "permissions": {"repository": {"contents": "read", "metadata": "read"}},
        "access_granted_at": "2026-11-10T08:00:00Z",
        "token_id": token_id,
        "token_name": f"t{token_id}",
        "token_expired": False,
        "token_expires_at": "2026-12-20T08:00:00Z",
        "token_last_used_at": "2026-11-24T08:00:00Z",
    }
    item.update(extra)
    return item


# --- reading what `gh api` writes -------------------------------------------------------------------------------


def test_paginated_pages_back_to_back_are_one_list_and_org_comes_from_the_path():
    assert "][" in PAGINATED.read_text()  # really `gh api --paginate` output, not one array
    document, inventory = normalize(PAGINATED)
    assert document.pages == 2
    assert sorted(t["name"] for t in inventory.tokens) == ["bulk-updater", "model-sync-read"]
    assert {t["key"] for t in inventory.tokens} == {"github:fine_grained_pat:99001", "github:fine_grained_pat:99002"}
    assert [o["name"] for o in inventory.orgs] == ["acme-labs"]
    assert inventory.inputs[0].format == "github-api"
    assert inventory.tokens[1]["source"]["pointer"] == "/1"


def test_slurp_array_of_pages_reads_like_the_paginated_file(tmp_path):
    pages = [json.loads(p) for p in PAGINATED.read_text().replace("][", "]\n[").splitlines()]
    slurped = tmp_path / "orgs" / "acme-labs" / "pats.json"
    slurped.parent.mkdir(parents=True)
    slurped.write_text(json.dumps(pages))
    _, paginated = normalize(PAGINATED)
    _, inventory = normalize(slurped)
    strip = lambda tokens: sorted((t["key"], t["grants"], t["expires_at"]) for t in tokens)  # noqa: E731
    assert strip(inventory.tokens) == strip(paginated.tokens)
    assert inventory.tokens[1]["source"]["pointer"] == "/1/0"


def test_bare_file_takes_org_from_option_and_errors_without_it(tmp_path):
    bare = tmp_path / "pats.json"
    bare.write_text(json.dumps([grant(1)]))
    _, inventory = normalize(bare, org="acme")
    assert inventory.tokens[0]["orgs"] == ["acme"]
    with pytest.raises(InputError, match="pats.json: a bare `gh api` export .*pass --org"):
        normalize(bare)
    result = run_cli("validate", str(bare))
    assert result.returncode == 2
    assert str(bare) in result.stderr and "--org" in result.stderr and "Traceback" not in result.stderr
    assert run_cli("validate", str(bare), "--org", "acme", "--collected-at", "2026-11-24T00:00:00Z").returncode == 0
    bad_time = run_cli("validate", str(bare), "--org", "acme", "--collected-at", "yesterday")
    assert bad_time.returncode == 2 and "--collected-at" in bad_time.stderr


def test_endpoints_are_recognised_by_shape():
    assert endpoint_of(grant(1)) == "grants"
    request = {k: v for k, v in grant(1).items() if k != "access_granted_at"} | {
        "reason": "r",
        "created_at": "2026-11-01T00:00:00Z",
    }
    assert endpoint_of(request) == "requests"
    assert endpoint_of({"login": "a", "credential_id": 1, "credential_type": "SSH key"}) == "credentials"
    assert endpoint_of({"id": 1, "app_slug": "x", "permissions": {}}) == "installations"
    assert endpoint_of({"login": "a", "id": 1, "type": "User"}) == "members"
    assert endpoint_of({"name": "?"}) is None


def test_installations_answer_object_and_members_array(tmp_path):
    root = tmp_path / "orgs" / "octo"
    root.mkdir(parents=True)
    (root / "installations.json").write_text(
        json.dumps(
            {
                "total_count": 2,
                "installations": [
                    {
                        "id": 1,
                        "app_slug": "ci",
                        "repository_selection": "all",
                        "permissions": {"contents": "write"},
                        "suspended_at": None,
                    },
                    {
                        "id": 2,
                        "app_slug": "old",
                        "repository_selection": "all",
                        "permissions": {"contents": "write"},
                        "suspended_at": "2026-01-01T00:00:00Z",
                    },
                ],
            }
        )
    )
    (root / "members.json").write_text(json.dumps([{"login": "b", "id": 2}, {"login": "a", "id": 1}]))
    _, inventory = normalize(root / "installations.json")
    assert inventory.tokens == []
    [installation] = inventory.orgs[0]["settings"]["installations"]
    assert installation["key"] == "github:github_app_installation:1" and installation["org_wide"]
    assert [(s.name, s.reason) for s in inventory.skipped] == [("old", "suspended GitHub App installation")]
    _, members = normalize(root / "members.json")
    assert members.orgs[0]["members"] == ["a", "b"]


def test_ssh_keys_are_skipped_unknown_types_and_scopes_kept(tmp_path):
    path = tmp_path / "orgs" / "acme" / "credential-authorizations.json"
    path.parent.mkdir(parents=True)
    path.write_text(
        json.dumps(
            [
                {
                    "login": "a",
                    "credential_id": 1,
                    "credential_type": "SSH key",
                    "credential_authorized_at": "2026-01-01T00:00:00Z",
                    "fingerprint": "SHA256:abc",
                    "authorized_credential_title": "laptop",
                },
                {
                    "login": "a",
                    "credential_id": 2,
                    "credential_type": "personal access token",
                    "token_last_eight": "12345678",
                    "credential_authorized_at": "2026-11-01T00:00:00Z",
                    "scopes": ["repo", "read:quantum"],
                },
                {
                    "login": "a",
                    "credential_id": 3,
                    "credential_type": "passkey token",
                    "token_last_eight": "87654321",
                    "credential_authorized_at": "2026-11-01T00:00:00Z",
                    "scopes": [],
                },
            ]
        )
    )
    _, inventory = normalize(path)
    assert [(s.id, s.name, s.reason) for s in inventory.skipped] == [("1", "SSH key laptop", "not a token")]
    classic, unknown = inventory.tokens
    assert classic["kind"] == "classic_pat" and classic["legacy"] and classic["scopes"] == ["read:quantum", "repo"]
    assert classic["masked"] == "ghp_…12345678"
    assert unknown["kind"] == "unknown_credential" and unknown["credential_type"] == "passkey token"


def test_wrapper_with_an_object_of_the_wrong_endpoint_is_an_input_error(tmp_path):
    path = tmp_path / "inv.json"
    path.write_text(
        json.dumps(
            {
                "format": "github-inventory/v1",
                "org": "acme",
                "collected_at": "2026-11-24T00:00:00Z",
                "personal_access_tokens": [
                    {
                        "login": "x",
                        "id": 1,
                        "repository_selection": "all",
                        "permissions": {},
                        "owner": {"login": "x"},
                        "access_granted_at": "2026-11-01T00:00:00Z",
                        "token_id": 1,
                        "credential_id": 5,
                        "credential_type": "SSH key",
                    }
                ],
            }
        )
    )
    result = run_cli("validate", str(path))
    assert result.returncode == 2
    assert f"{path}:1: /personal_access_tokens/0" in result.stderr and "expected a grants object" in result.stderr


def test_schema_errors_name_file_and_pointer(tmp_path):
    path = tmp_path / "inv.json"
    path.write_text(
        json.dumps(
            {
                "format": "github-inventory/v1",
                "org": "acme",
                "collected_at": "2026-11-24T00:00:00Z",
                "credential_authorizations": [
                    {
                        "login": "x",
                        "credential_type": "personal access token",
                        "credential_authorized_at": "2026-11-01T00:00:00Z",
                    }
                ],
            }
        )
    )
    result = run_cli("validate", str(path))
    assert result.returncode == 2
    assert "/credential_authorizations/0" in result.stderr and "credential_id" in result.stderr


def test_org_settings_map_to_token_policy():
    assert token_policy({"classic_pats_allowed": True}) == "allow_all"
    assert (
        token_policy({"classic_pats_allowed": False, "fine_grained_pats_require_approval": False})
        == "fine_grained_without_approval"
    )
    assert (
        token_policy({"classic_pats_allowed": False, "fine_grained_pats_require_approval": True}) == "require_approval"
    )
    assert token_policy({"classic_pats_allowed": False, "fine_grained_pats_allowed": False}) == "no_personal_tokens"
    assert token_policy({"classic_pats_allowed": False}) == "fine_grained_only"
    assert token_policy({}) is None


def test_schema_command_prints_the_shipped_schema():
    result = run_cli("schema", "github-inventory")
    assert result.returncode == 0
    assert json.loads(result.stdout)["$id"].endswith("github-inventory.v1.json")


# --- audited on the real OPA -----------------------------------------------------------------------------------

EXPECTED = {  # token → the checks that must fire on it (fixtures/github)
    "deploy-script": {"legacy-token", "broad-scope", "admin-permission", "no-expiry"},
    "dashboards": {"legacy-token"},
    "old-laptop": {"legacy-token", "broad-scope", "owner-not-member", "stale-token", "long-lived"},
    "161199": {"third-party-broad-access"},  # OAuth app token (no note)
    "release-bot": {"org-wide-token", "long-lived"},
    "secrets-sync": {"admin-permission"},
    "never-started": {"never-used-token"},
    "old-report": {"expired-token"},
    "infra-read": {"no-expiry"},
    "org-admin-tool": {"pending-broad-request"},
    "acme-deployer": {"third-party-broad-access"},
    "bulk-updater": {"org-wide-token", "no-expiry"},
    "acme-corp": {"org-allows-legacy-tokens"},
}
CLEAN = {"docs-reader", "model-sync-read", "handbook-reader", "stale-issue-bot", "161200"}


@pytest.fixture(scope="module")
def github_report(opa_server, tmp_path_factory):
    code, report, stderr = audit_to_json(opa_server, tmp_path_factory.mktemp("gh"), FIXTURES / "github")
    assert code == 1, stderr
    return report


def test_every_check_fires_where_the_fixture_says(github_report):
    found = findings_by_token(github_report)
    for token, rules in EXPECTED.items():
        assert rules <= found[token], (token, found[token])


def test_well_scoped_tokens_and_apps_produce_nothing(github_report):
    found = findings_by_token(github_report)
    assert {name for name in CLEAN if found.get(name)} == set()
    assert "legacy-token" not in found["release-bot"] and "broad-scope" not in found["161199"]
    assert "long-lived" not in found["old-report"] and "no-expiry" not in found["dashboards"]


def test_severities_follow_write_capability(github_report):
    severity = {(f["rule_id"], f["subject"]["name"]): f["severity"] for f in github_report["findings"]}
    assert severity[("legacy-token", "deploy-script")] == "high"
    assert severity[("legacy-token", "dashboards")] == "medium"
    assert severity[("admin-permission", "secrets-sync")] == "critical"
    assert severity[("no-expiry", "deploy-script")] == "high" and severity[("no-expiry", "infra-read")] == "medium"


def test_replacement_is_a_fine_grained_spec_from_observed_usage(github_report):
    [finding] = [
        f
        for f in github_report["findings"]
        if f["rule_id"] == "org-wide-token" and f["subject"]["name"] == "release-bot"
    ]
    spec = finding["recommendation"]["replacement"]
    assert spec["type"] == "fine_grained_pat" and spec["repository_selection"] == "subset"
    assert spec["repositories"] == ["acme-corp/api", "acme-corp/web"]
    assert spec["permissions"] == {"repository": {"contents": "write", "metadata": "read", "pull_requests": "write"}}
    assert spec["expires_at"] == "2027-02-23" and not spec["needs_owner_input"]
    assert spec["github_app_recommended"]
    assert any("GitHub App installed on acme-corp" in s for s in finding["recommendation"]["steps"])
    assert any("personal-access-tokens/25381" in s for s in finding["recommendation"]["steps"])


def test_without_usage_the_owner_is_asked(github_report):
    [finding] = [
        f
        for f in github_report["findings"]
        if f["rule_id"] == "legacy-token" and f["subject"]["name"] == "deploy-script"
    ]
    spec = finding["recommendation"]["replacement"]
    assert spec["needs_owner_input"] and "Which repositories of acme-corp" in spec["question"]
    # admin:org's organization administration is never carried nor asked for; its Projects level is not administration
    assert spec["permissions"]["organization"] == {"organization_projects": "admin"}
    assert spec["permissions"]["repository"]["contents"] == "write"
    assert "organization_administration" not in spec["question"]


def test_pending_request_lists_the_checks_it_would_trigger(github_report):
    [finding] = [f for f in github_report["findings"] if f["rule_id"] == "pending-broad-request"]
    assert finding["evidence"]["would_trigger"] == ["admin-permission", "no-expiry", "org-wide-token"]
    assert finding["subject"]["kind"] == "fine_grained_pat_request"
    assert finding["recommendation"]["action"] == "deny"


def test_skipped_items_say_why(github_report):
    skipped = {(s["name"], s["reason"]) for s in github_report["skipped"] if s["provider"] == "github"}
    assert skipped == {("SSH key carol-laptop", "not a token"), ("retired-ci", "suspended GitHub App installation")}


def test_unknown_scope_is_reported_not_dropped(audit_json, tmp_path):
    path = tmp_path / "orgs" / "acme" / "credential-authorizations.json"
    path.parent.mkdir(parents=True)
    path.write_text(
        json.dumps(
            [
                {
                    "login": "a",
                    "credential_id": 2,
                    "credential_type": "personal access token",
                    "token_last_eight": "12345678",
                    "credential_authorized_at": "2026-11-01T00:00:00Z",
                    "credential_accessed_at": "2026-11-20T00:00:00Z",
                    "authorized_credential_expires_at": "2026-12-01T00:00:00Z",
                    "scopes": ["admin:quantum", "read:org"],
                },
                {
                    "login": "a",
                    "credential_id": 3,
                    "credential_type": "passkey token",
                    "token_last_eight": "87654321",
                    "credential_authorized_at": "2026-11-01T00:00:00Z",
                    "credential_accessed_at": "2026-11-20T00:00:00Z",
                    "authorized_credential_expires_at": "2026-12-01T00:00:00Z",
                    "scopes": [],
                },
            ]
        )
    )
    code, report, stderr = audit_json(path)
    assert code == 1, stderr  # admin:quantum is rated admin by its name
    unknown = {
        (f["subject"]["id"], f["instance"]): f for f in report["findings"] if f["rule_id"] == "unknown-permission"
    }
    assert unknown[("2", "permissions")]["evidence"]["unknown"] == ["admin:quantum"]
    assert unknown[("3", "kind")]["evidence"]["credential_type"] == "passkey token"
    assert {f["rule_id"] for f in report["findings"] if f["subject"]["id"] == "2"} >= {
        "admin-permission",
        "legacy-token",
    }


def test_config_catalogue_overrides_a_scope(audit_json, tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("catalogue:\n  providers:\n    github:\n      broad_scopes: [read:org]\n")
    code, report, stderr = audit_json(FIXTURES / "github" / "acme-corp.json", extra=("--config", str(config)))
    assert code == 1, stderr
    broad = {f["subject"]["name"] for f in report["findings"] if f["rule_id"] == "broad-scope"}
    assert broad == {"dashboards"}  # the override replaced the list: only read:org is broad now


def test_published_rest_api_examples_parse_and_audit(audit_json):
    code, report, stderr = audit_json(EXAMPLES)
    assert code == 1, stderr
    assert report["gate"]["failing"] == 7  # the examples' classic PATs carry high findings
    assert "Traceback" not in stderr
    assert {i["format"] for i in report["inputs"]} == {"github-api"}
    assert len(report["inputs"]) == 5
    kinds = {f["subject"]["kind"] for f in report["findings"]}
    assert {"classic_pat", "fine_grained_pat"} <= kinds
    assert report["summary"]["tokens_by_provider"] == {"github": 3}


def test_requests_and_installations_of_one_org_from_several_files_add_up(tmp_path):
    from auditor.audit import AuditOptions, read_inventory

    root = tmp_path / "orgs" / "acme"
    root.mkdir(parents=True)

    def request(request_id: int) -> dict:
        return {
            "id": request_id,
            "reason": "r",
            "owner": {"login": "erin", "id": 7},
            "repository_selection": "subset",
            "permissions": {"repository": {"contents": "read"}},
            "created_at": "2026-11-20T00:00:00Z",
            "token_id": request_id,
            "token_name": f"r{request_id}",
            "token_expired": False,
            "token_expires_at": "2026-12-01T00:00:00Z",
            "token_last_used_at": None,
        }

    (root / "requests-1.json").write_text(json.dumps([request(1), request(2)]))
    (root / "requests-2.json").write_text(json.dumps([request(2), request(3)]))
    (root / "members.json").write_text(json.dumps([{"login": "erin", "id": 7}]))
    inventory, _ = read_inventory([str(tmp_path)], AuditOptions())
    [org] = inventory.orgs
    assert [r["key"] for r in org["settings"]["pending_requests"]] == [
        "github:fine_grained_pat_request:1",
        "github:fine_grained_pat_request:2",
        "github:fine_grained_pat_request:3",
    ]
    assert org["members"] == ["erin"]
    assert inventory.tokens == []


def test_empty_pages_are_an_empty_export(tmp_path):
    path = tmp_path / "requests.json"
    path.write_text("[][]")  # `gh api --paginate` of an org with nothing pending
    document, inventory = normalize(path)
    assert document.pages == 2
    assert inventory.tokens == [] and inventory.orgs == [] and inventory.inputs[0].tokens == 0
