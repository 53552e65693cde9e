"""GitLab: token API answers (bare or wrapped) normalized with kind-qualified identity and audited on a real OPA."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT, audit_to_json, run_cli

from auditor.errors import InputError
from auditor.inventory.loader import load_document
from auditor.providers import adapter_for
from auditor.providers.gitlab import ADAPTER

WRAPPER = FIXTURES / "gitlab" / "gitlab-example.json"
EXAMPLES = ROOT / "tests" / "data" / "gitlab-api-examples"


def token(token_id: int, **extra) -> dict:
    item = {
        "id": token_id,
        "name": f"t{token_id}",
        "revoked": False,
        "created_at": "2026-11-01T10:00:00.000Z",
        "description": "",
        "scopes": ["read_api"],
        "user_id": 11,
        "last_used_at": "2026-11-24T10:00:00.000Z",
        "active": True,
        "expires_at": "2026-12-31",
    }
    item.update(extra)
    return item


def normalize(path: Path, **options):
    document = load_document(str(path))
    assert adapter_for(document) is ADAPTER
    return ADAPTER.normalize(document, {"org": None, "collected_at": None, **options})


def by_token(report: dict) -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for f in report["findings"]:
        if f["subject"]["provider"] == "gitlab":
            out[f["subject"]["name"]].add(f["rule_id"])
    return out


# --- reading -----------------------------------------------------------------------------------------------------


def test_wrapper_identity_includes_kind_and_users_name_owners():
    inventory = normalize(WRAPPER)
    keys = {t["key"] for t in inventory.tokens}
    # id 1 exists as a personal, a group and a project token: three different tokens
    assert {"gitlab:personal_access_token:1", "gitlab:group_access_token:1", "gitlab:project_access_token:1"} <= keys
    by_name = {t["name"]: t for t in inventory.tokens}
    assert by_name["admin-script"]["owner"] == "bob"
    assert by_name["group-deploy"]["grants"] == [
        {
            "resource": {"type": "group", "name": "acme"},
            "permissions": ["access_level:maintainer", "read_api", "write_repository"],
        }
    ]
    assert by_name["group-deploy"]["org_wide"] and not by_name["ci-reader"]["org_wide"]
    assert by_name["ci-reader"]["grants"][0]["resource"] == {"type": "project", "name": "acme/app"}
    assert by_name["read-only-reports"]["expires_at"] == "2027-01-20T00:00:00Z"
    assert by_name["group-deploy"]["source"]["pointer"] == "/group_access_tokens/acme/0"
    assert [o["name"] for o in inventory.orgs] == ["gitlab.example.com"]


def test_revoked_and_inactive_tokens_are_skipped_with_the_reason():
    inventory = normalize(WRAPPER)
    assert sorted((s.name, s.reason) for s in inventory.skipped) == [
        ("lapsed", "inactive (expired or revoked)"),
        ("old-revoked", "revoked"),
    ]
    assert inventory.inputs[0].tokens == 8


def test_bare_exports_kind_from_path_and_org_from_option(tmp_path):
    personal = tmp_path / "personal_access_tokens.json"
    personal.write_text(json.dumps([[token(1)], [token(2, user_id=99)]]))  # pages, as --slurp writes them
    with pytest.raises(InputError, match="personal_access_tokens.json: a bare GitLab token export .*--org"):
        normalize(personal)
    inventory = normalize(personal, org="gitlab.example.com")
    assert [t["key"] for t in inventory.tokens] == ["gitlab:personal_access_token:1", "gitlab:personal_access_token:2"]
    assert inventory.tokens[1]["owner"] == "user-99" and inventory.tokens[1]["source"]["pointer"] == "/1/0"
    group = tmp_path / "groups" / "acme" / "platform" / "access_tokens.json"
    group.parent.mkdir(parents=True)
    group.write_text(json.dumps([token(5, access_level=30)]))
    [tok] = normalize(group).tokens
    assert tok["kind"] == "group_access_token" and tok["grants"][0]["resource"]["name"] == "acme/platform"
    assert tok["orgs"] == ["acme"]
    unclear = tmp_path / "tokens.json"
    unclear.write_text(json.dumps([token(6, access_level=30)]))
    result = run_cli("validate", str(unclear), "--org", "gitlab.example.com")
    assert (
        result.returncode == 2 and "group or project access tokens?" in result.stderr and str(unclear) in result.stderr
    )


def test_a_bot_token_in_the_admin_personal_listing_is_audited_once_as_its_group_token(tmp_path):
    from auditor.audit import AuditOptions, read_inventory

    personal = tmp_path / "personal_access_tokens.json"
    # an administrator's GET /personal_access_tokens lists the group bot's token (id 7, bot user 140) too
    personal.write_text(json.dumps([token(7, user_id=140, scopes=["api"]), token(8, user_id=11)]))
    group = tmp_path / "groups" / "acme" / "access_tokens.json"
    group.parent.mkdir(parents=True)
    group.write_text(json.dumps([token(7, user_id=140, scopes=["api"], access_level=40)]))
    inventory, _ = read_inventory(
        [str(personal), str(group)], AuditOptions(provider_options={"org": "acme", "collected_at": None})
    )
    assert sorted(t["key"] for t in inventory.tokens) == [
        "gitlab:group_access_token:7",
        "gitlab:personal_access_token:8",
    ]
    assert [(s.id, s.reason) for s in inventory.skipped] == [
        ("7", f"the same GitLab token as the group access token at {group}#/0")
    ]
    # the same id under another user is another token (a second instance, or a stale export)
    other = tmp_path / "projects" / "acme" / "app" / "access_tokens.json"
    other.parent.mkdir(parents=True)
    other.write_text(json.dumps([token(7, user_id=141, access_level=30)]))
    inventory, _ = read_inventory(
        [str(personal), str(other)], AuditOptions(provider_options={"org": "acme", "collected_at": None})
    )
    assert len(inventory.tokens) == 3 and inventory.skipped == []


def test_unknown_scope_and_access_level_are_kept(tmp_path):
    path = tmp_path / "projects" / "acme" / "app" / "access_tokens.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps([token(7, scopes=["read_api", "admin_quantum"], access_level=60)]))
    [tok] = normalize(path, org="gitlab.example.com").tokens
    assert tok["scopes"] == ["admin_quantum", "read_api"]
    assert "access_level:60" in tok["grants"][0]["permissions"]


def test_schema_error_names_the_place(tmp_path):
    path = tmp_path / "inv.json"
    path.write_text(
        json.dumps(
            {
                "format": "gitlab-inventory/v1",
                "instance": "gl",
                "collected_at": "2026-11-24T00:00:00Z",
                "personal_access_tokens": [{"id": "x", "scopes": [], "revoked": False, "user_id": 1}],
            }
        )
    )
    result = run_cli("validate", str(path))
    assert result.returncode == 2 and "/personal_access_tokens/0/id" in result.stderr


# --- audited on the real OPA -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gitlab_report(opa_server, tmp_path_factory):
    code, report, stderr = audit_to_json(opa_server, tmp_path_factory.mktemp("gl"), WRAPPER)
    assert code == 1, stderr
    return report


def test_every_gitlab_check_fires_where_expected(gitlab_report):
    found = by_token(gitlab_report)
    assert found["admin-script"] >= {"broad-scope", "admin-permission", "no-expiry"}
    assert found["registry-push"] >= {"broad-scope", "long-lived"}
    assert found["group-deploy"] >= {"broad-scope", "org-wide-token"}
    assert found["group-owner"] >= {"admin-permission"}
    assert "legacy-token" not in set().union(*found.values())  # GitLab tokens are judged by scope


def test_well_scoped_gitlab_tokens_produce_nothing(gitlab_report):
    found = by_token(gitlab_report)
    assert not found.get("read-only-reports") and not found.get("ci-reader")
    assert "broad-scope" not in found["group-owner"] and "no-expiry" not in found["registry-push"]
    assert "org-wide-token" not in found["group-owner"]  # owner role, but read_api: cannot write


def test_gitlab_replacement_narrows_scopes_lowers_role_and_rotates(gitlab_report):
    [finding] = [
        f
        for f in gitlab_report["findings"]
        if f["rule_id"] == "broad-scope" and f["subject"]["name"] == "registry-push"
    ]
    spec = finding["recommendation"]["replacement"]
    assert spec["scopes"] == ["read_registry", "self_rotate"] and not spec["needs_owner_input"]
    assert spec["expires_at"] == "2027-02-23" and spec["self_rotate"]
    [group] = [
        f
        for f in gitlab_report["findings"]
        if f["rule_id"] == "org-wide-token" and f["subject"]["name"] == "group-deploy"
    ]
    spec = group["recommendation"]["replacement"]
    assert spec["needs_owner_input"] and spec["access_level"] == 20
    assert spec["scopes"] == ["read_api", "read_repository", "self_rotate"]
    steps = group["recommendation"]["steps"]
    assert any("gitlab_ci_variable acme/app (DEPLOY_TOKEN)" in s for s in steps)
    assert any("DELETE /groups/:id/access_tokens/1" in s for s in steps)


def test_published_api_examples_parse_and_audit(audit_json):
    code, report, stderr = audit_json(EXAMPLES, extra=("--org", "gitlab.example.com"))
    assert code == 1, stderr
    assert report["gate"]["failing"] == 2
    assert sorted(t for t in report["summary"]["tokens_by_provider"]) == ["gitlab"]
    kinds = {f["subject"]["kind"] for f in report["findings"]}
    assert kinds == {"personal_access_token", "group_access_token", "project_access_token"}


def test_one_run_covers_huggingface_github_and_gitlab(audit_json):
    code, report, stderr = audit_json(FIXTURES)
    assert code == 1, stderr
    assert set(report["summary"]["tokens_by_provider"]) >= {"huggingface", "github", "gitlab"}
    assert {i["provider"] for i in report["inputs"]} >= {"huggingface", "github", "gitlab"}
    assert {f["subject"]["provider"] for f in report["findings"]} >= {"huggingface", "github", "gitlab"}
    assert report["policy"]["catalogue_version"]


def test_wrappers_must_name_their_org_or_instance(tmp_path):
    github = tmp_path / "gh.json"
    github.write_text(json.dumps({"format": "github-inventory/v1", "collected_at": "2026-11-24T00:00:00Z"}))
    gitlab = tmp_path / "gl.json"
    gitlab.write_text(json.dumps({"format": "gitlab-inventory/v1", "collected_at": "2026-11-24T00:00:00Z"}))
    for path, missing in ((github, "'org' is a required property"), (gitlab, "instance")):
        result = run_cli("validate", str(path))
        assert result.returncode == 2 and str(path) in result.stderr and missing in result.stderr, result.stderr
