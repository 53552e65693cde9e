"""Remediation plans: one per token, ordered steps, the providers' own requests, the plan command."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from auditor.plan import Catalogue, attach_plans, build_plans
from auditor.plan.build import exceeds_today
from auditor.plan.validate import catalogue_problems, credential_problems
from tests.conftest import FIXTURES, ROOT, kept_admin, run_cli

NOW = "2026-11-25T00:00:00Z"
CATALOGUE = Catalogue.load(ROOT / "policies")


def token(**fields) -> dict:
    base = {
        "key": "",
        "id": "1",
        "provider": "github",
        "kind": "fine_grained_pat",
        "name": None,
        "owner": "carol",
        "masked": "github_pat_…",
        "legacy": False,
        "org_wide": False,
        "grants": [],
        "global_permissions": [],
        "scopes": [],
        "created_at": "2026-11-01T08:00:00Z",
        "expires_at": None,
        "last_used_at": "2026-11-20T08:00:00Z",
        "expiry_supported": True,
        "orgs": ["acme"],
        "approval": {},
        "stored_in": [],
        "observed_usage": [],
    }
    base.update(fields)
    base["key"] = base["key"] or f"{base['provider']}:{base['kind']}:{base['id']}"
    return base


def finding(tok: dict, rule: str, severity: str = "high", replacement=None, action: str = "replace") -> dict:
    return {
        "rule_id": rule,
        "severity": severity,
        "fingerprint": f"{rule:0<32}"[:32].replace("-", "0"),
        "subject": {"type": "token", "key": tok["key"], "provider": tok["provider"]},
        "recommendation": {"action": action, "steps": [], "replacement": replacement},
    }


def only(plans: list[dict]) -> dict:
    assert len(plans) == 1
    return plans[0]


# -- an admin-rated permission the job needs is kept, said why, and limited ------------------------------------
def test_secrets_manager_keeps_secrets_write_on_named_repos_with_shortest_expiry():
    tok = token(
        id="77",
        name="secrets-manager",
        revoke_id=4242,
        grants=[
            {
                "resource": {"type": "repository", "name": "acme/infra"},
                "permissions": ["metadata:read", "secrets:write"],
            },
            {"resource": {"type": "repository", "name": "acme/api"}, "permissions": ["contents:read"]},
        ],
    )
    spec = {
        "type": "fine_grained_pat",
        "resource_owner": "acme",
        "repository_selection": "subset",
        "repositories": ["acme/api", "acme/infra"],
        "permissions": {"repository": {"metadata": "read"}},
        "expires_in_days": 90,
        "expires_at": "2027-02-23",
        "github_app_recommended": False,
        "derived_from": "grants",
        "needs_owner_input": False,
    }
    plan = only(build_plans([finding(tok, "admin-permission", "critical", spec)], [tok], NOW, CATALOGUE))
    assert plan["action"] == "replace"
    [credential] = plan["credentials"]
    assert credential["type"] == "fine_grained_pat"
    assert credential["permissions"] == {"repository": {"metadata": "read", "secrets": "write"}}
    assert credential["repositories"] == ["acme/api", "acme/infra"]
    assert (credential["expires_in_days"], credential["expires_at"]) == (7, "2026-12-02")
    assert plan["decisions"] == [
        {
            "permission": "secrets: write",
            "rating": "admin",
            "decision": "keep",
            "via": "named_resources",
            "because": "the token's name or storage key (secrets-manager) says it manages Actions secrets, which needs "
            "it; kept only on the named resources, expiring after 7 days",
        }
    ]
    assert [s["kind"] for s in plan["steps"]] == ["create", "store", "verify", "revoke"]
    revoke = [r for r in plan["requests"] if r["purpose"] == "revoke"]
    assert revoke == [
        {
            "step": 4,
            "purpose": "revoke",
            "kind": "api",
            "method": "POST",
            "url": "https://api.github.com/orgs/acme/personal-access-tokens",
            "headers": {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"},
            "auth": {
                "variable": "GITHUB_APP_INSTALLATION_TOKEN",
                "needs": "a GitHub App installation token of the organization with organization "
                "permission organization_personal_access_tokens: write (these endpoints "
                "refuse personal tokens)",
            },
            "body": {"action": "revoke", "pat_ids": [4242]},
            "doc": "https://docs.github.com/en/rest/orgs/personal-access-tokens"
            "#update-the-access-to-organization-resources-via-fine-grained-personal-access-tokens",
        }
    ]
    assert plan["problems"] == []


def test_automation_with_admin_need_moves_to_a_github_app():
    tok = token(
        id="98717",
        name="secrets-sync",
        revoke_id=25382,
        grants=[
            {
                "resource": {"type": "repository", "name": "acme/infra"},
                "permissions": ["metadata:read", "secrets:write"],
            },
            {"resource": {"type": "org", "name": "acme"}, "permissions": ["organization_secrets:write"]},
        ],
    )
    plan = only(build_plans([finding(tok, "admin-permission", "critical")], [tok], NOW, CATALOGUE))
    [credential] = plan["credentials"]
    assert credential["type"] == "github_app"
    assert credential["installed_on"] == "acme"
    assert credential["repositories"] == ["acme/infra"]
    assert credential["permissions"] == {
        "repository": {"metadata": "read", "secrets": "write"},
        "organization": {"organization_secrets": "write"},
    }
    assert [(d["permission"], d["decision"], d["via"]) for d in plan["decisions"]] == [
        ("organization_secrets: write", "keep", "github_app"),
        ("secrets: write", "keep", "github_app"),
    ]
    create = plan["requests"][0]
    assert create["url"] == "https://github.com/organizations/acme/settings/apps/new"
    assert create["manifest"] == {
        "name": "secrets-sync",
        "url": "https://github.com/acme",
        "public": False,
        "default_permissions": {"metadata": "read", "organization_secrets": "write", "secrets": "write"},
    }
    assert plan["summary"] == "Move the job to a GitHub App with only the permissions it needs, then revoke the token"


def test_unknown_purpose_asks_the_owner_and_never_drops_silently():
    tok = token(
        id="5",
        kind="classic_pat",
        name="deploy-script",
        scopes=["admin:org", "repo"],
        grants=[{"resource": {"type": "org", "name": "acme"}, "permissions": ["admin:org", "repo"]}],
    )
    plan = only(build_plans([finding(tok, "admin-permission", "critical")], [tok], NOW, CATALOGUE))
    # admin:org gives members and organization_administration write; repo gives administration write (repository
    # collaborators) and secrets write (Actions secrets need the repo scope): GitHub's scopes and REST docs.
    assert [(d["permission"], d["decision"]) for d in plan["decisions"]] == [
        ("administration: write", "ask"),
        ("members: write", "ask"),
        ("organization_administration: write", "ask"),
        ("secrets: write", "ask"),
    ]
    [credential] = plan["credentials"]
    granted = {name for perms in credential["permissions"].values() for name in perms}
    assert not {"administration", "members", "organization_administration", "secrets"} & granted
    assert credential["permissions"]["organization"] == {"organization_projects": "admin"}  # a Projects level
    asks = [s["text"] for s in plan["steps"] if s["kind"] == "ask"]
    assert (
        'Ask carol: Does the job of "deploy-script" need members: write? If it does, it is granted only on the '
        "named repositories with a 7-day expiry, or to a GitHub App; if not, it is left out."
    ) in asks
    assert [s["kind"] for s in plan["steps"]][-4:] == ["create", "store", "verify", "revoke"]


def test_known_usage_drops_admin_the_job_does_not_need():
    tok = token(
        provider="gitlab",
        kind="personal_access_token",
        id="9",
        name="registry",
        owner="bob",
        orgs=["gitlab.example.com"],
        scopes=["api", "sudo"],
        masked="glpat-…",
        grants=[{"resource": {"type": "user", "name": "bob"}, "permissions": ["api", "sudo"]}],
        observed_usage=[{"resource": {"type": "project", "name": "acme/app"}, "actions": ["registry_read"]}],
    )
    spec = {
        "token_type": "personal_access_token",
        "scopes": ["read_registry", "self_rotate"],
        "access_level": None,
        "expires_in_days": 90,
        "expires_at": "2027-02-23",
        "self_rotate": True,
        "derived_from": "observed_usage",
        "needs_owner_input": False,
    }
    plan = only(build_plans([finding(tok, "admin-permission", "critical", spec)], [tok], NOW, CATALOGUE))
    assert plan["decisions"] == [
        {
            "permission": "sudo",
            "rating": "admin",
            "decision": "drop",
            "via": None,
            "because": "what the token is seen doing (observed usage) does not need it",
        }
    ]
    create = plan["requests"][0]
    assert create["method"] == "POST"
    assert create["url"] == "https://gitlab.example.com/api/v4/users/${GITLAB_USER_ID}/personal_access_tokens"
    assert create["body"] == {
        "name": "registry",
        "description": f"Replaces glpat-… (token-auditor plan {plan['id']}/1)",
        "scopes": ["read_registry", "self_rotate"],
        "expires_at": "2027-02-23",
    }
    assert plan["requests"][-1]["method"] == "DELETE"
    assert plan["requests"][-1]["url"] == "https://gitlab.example.com/api/v4/personal_access_tokens/9"


def test_token_reuse_gives_one_credential_per_place_and_never_contradicts():
    tok = token(
        provider="huggingface",
        kind="user_access_token",
        id="f4",
        name="demo",
        owner="jdoe",
        orgs=[],
        masked="hf_…e3d8",
        grants=[{"resource": {"type": "user", "name": "jdoe"}, "permissions": ["repo.content.read", "repo.write"]}],
        stored_in=[
            {"kind": "hf_space_secret", "location": "jdoe/app", "key": "HF_TOKEN", "public": True},
            {"kind": "github_actions_secret", "location": "jdoe/app-src", "key": "HF_TOKEN"},
        ],
    )
    spec = {
        "scoped": [
            {"entity": {"type": "model", "name": "jdoe/bert"}, "permissions": ["repo.content.read", "repo.write"]}
        ],
        "global": [],
        "canReadGatedRepos": False,
        "derived_from": "observed_usage",
        "needs_owner_input": False,
    }
    findings = [
        finding(tok, "namespace-wide-write", "high", spec),
        finding(tok, "token-reuse", "medium"),
        finding(tok, "exposed-in-public-space", "critical", action="narrow"),
    ]
    plan = only(build_plans(findings, [tok], NOW, CATALOGUE))
    ids = [f"{plan['id']}/1", f"{plan['id']}/2"]
    assert [(c["id"], [p["location"] for p in c["for"]], c["scoped"]) for c in plan["credentials"]] == [
        (
            ids[0],
            ["jdoe/app-src"],
            [{"entity": {"type": "model", "name": "jdoe/bert"}, "permissions": ["repo.content.read", "repo.write"]}],
        ),
        (
            ids[1],
            ["jdoe/app"],
            [{"entity": {"type": "model", "name": "jdoe/bert"}, "permissions": ["repo.content.read"]}],
        ),
    ]
    assert [(s["order"], s["kind"], s["credential"]) for s in plan["steps"]] == [
        (1, "create", ids[0]),
        (2, "create", ids[1]),
        (3, "store", ids[0]),
        (4, "store", ids[1]),
        (5, "verify", None),
        (6, "revoke", None),
    ]
    assert (
        plan["steps"][3]["text"]
        == f"Store credential {ids[1]} in hf_space_secret jdoe/app (HF_TOKEN) in place of hf_…e3d8"
    )
    assert plan["rules"] == ["exposed-in-public-space", "namespace-wide-write", "token-reuse"]


def test_every_finding_carries_its_plan_id_and_org_findings_none():
    tok = token(
        id="3",
        name="x",
        grants=[{"resource": {"type": "repository", "name": "acme/a"}, "permissions": ["contents:write"]}],
    )
    org = {
        "rule_id": "org-allows-legacy-tokens",
        "severity": "medium",
        "fingerprint": "0" * 32,
        "subject": {"type": "org", "key": "org:github:acme"},
        "recommendation": {"action": "set-policy"},
    }
    data = {"now": NOW, "findings": [finding(tok, "no-expiry"), finding(tok, "long-lived", "medium"), org]}
    attach_plans(data, [tok], CATALOGUE)
    plan = only(data["plans"])
    assert [f["plan_id"] for f in data["findings"]] == [plan["id"], plan["id"], None]
    assert re.fullmatch(r"plan-[0-9a-f]{12}", plan["id"])


def test_stale_token_is_revoked_without_a_replacement():
    tok = token(
        provider="gitlab",
        kind="project_access_token",
        id="12",
        name="old",
        orgs=["gitlab.example.com"],
        scopes=["read_repository"],
        grants=[
            {
                "resource": {"type": "project", "name": "acme/app"},
                "permissions": ["access_level:reporter", "read_repository"],
            }
        ],
    )
    plan = only(build_plans([finding(tok, "stale-token", "medium", action="revoke")], [tok], NOW, CATALOGUE))
    assert (plan["action"], plan["credentials"]) == ("revoke", [])
    assert [r["method"] + " " + r["url"] for r in plan["requests"]] == [
        "DELETE https://gitlab.example.com/api/v4/projects/acme%2Fapp/access_tokens/12"
    ]


def test_a_credential_broader_than_today_is_reported():
    tok = token(grants=[{"resource": {"type": "repository", "name": "acme/a"}, "permissions": ["contents:read"]}])
    broader = {
        "provider": "github",
        "type": "fine_grained_pat",
        "permissions": {"repository": {"contents": "write", "metadata": "read"}},
    }
    assert exceeds_today(broader, tok, CATALOGUE) == ["grants contents: write; the token holds read"]


def test_catalogue_validation_refuses_what_the_provider_does_not_offer():
    assert catalogue_problems(
        {
            "provider": "gitlab",
            "token_type": "personal_access_token",
            "scopes": ["read_api", "write_everything"],
            "access_level": 40,
        },
        CATALOGUE,
    ) == ["gitlab scope write_everything does not exist", "a gitlab personal access token has no access_level"]
    assert catalogue_problems(
        {"provider": "github", "type": "fine_grained_pat", "permissions": {"organization": {"contents": "read"}}},
        CATALOGUE,
    ) == ["github permission contents is a repository permission, not organization"]


# -- end to end on the shipped fixtures, with the real OPA ------------------------------------------------------
@pytest.fixture(scope="module")
def fixture_report(tmp_path_factory):
    from tests.conftest import OPA_BIN

    out = tmp_path_factory.mktemp("plans") / "report.json"
    result = run_cli("audit", str(FIXTURES), "--format", "json", "-o", str(out), "--now", NOW, env={"OPA_BIN": OPA_BIN})
    assert result.returncode == 1, result.stderr
    return out, json.loads(out.read_text())


def test_fixture_plans_are_creatable_and_never_broader_than_today(fixture_report):
    _, report = fixture_report
    tokens = {t["key"]: t for t in report["tokens"]}
    assert len(report["plans"]) == report["summary"]["tokens_with_findings"] == 29
    for plan in report["plans"]:
        assert plan["problems"] == [], plan["id"]
        kept = set(kept_admin(plan))
        for credential in plan["credentials"]:
            assert credential_problems(credential, CATALOGUE, tuple(kept)) == [], credential["id"]
            assert exceeds_today(credential, tokens[plan["token"]["key"]], CATALOGUE) == [], credential["id"]
            assert plan["token"]["key"] in tokens
            for group in (credential.get("permissions") or {}).values():
                for name, level in group.items():
                    if CATALOGUE.access_of("github", f"{name}:{level}") == "admin":
                        assert f"{name}:{level}" in kept, (plan["id"], name)
        orders = [s["order"] for s in plan["steps"]]
        assert orders == list(range(1, len(orders) + 1))
        kinds = [s["kind"] for s in plan["steps"]]
        if "revoke" in kinds and "create" in kinds:
            assert kinds.index("create") < kinds.index("verify") < kinds.index("revoke")
    planned = {p["id"] for p in report["plans"]}
    for f in report["findings"]:
        if f["subject"]["type"] == "token":
            assert f["plan_id"] in planned


def test_fixture_secrets_sync_keeps_its_job(fixture_report):
    _, report = fixture_report
    [plan] = [p for p in report["plans"] if p["token"].get("name") == "secrets-sync"]
    [credential] = plan["credentials"]
    assert credential["type"] == "github_app"
    assert credential["permissions"] == {
        "repository": {"metadata": "read", "secrets": "write"},
        "organization": {"organization_secrets": "write"},
    }
    assert [r["body"] for r in plan["requests"] if r["purpose"] == "revoke"] == [
        {"action": "revoke", "pat_ids": [25382]}
    ]


def test_plan_command_sh_is_valid_bash_and_holds_no_values(fixture_report, tmp_path):
    path, report = fixture_report
    out = tmp_path / "plan.sh"
    result = run_cli("plan", str(path), "-f", "sh", "-o", str(out))
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    assert subprocess.run(["bash", "-n", str(out)], capture_output=True).returncode == 0
    assert '--data \'{"action":"revoke","pat_ids":[25382]}\'' in text
    assert (
        'echo \'  or register it from this App manifest: {"name":"secrets-sync","url":'
        '"https://github.com/acme-corp","public":false,"default_permissions":{"metadata":"read",'
        '"organization_secrets":"write","secrets":"write"}}\''
    ) in text
    assert '"Authorization: Bearer ${GITHUB_APP_INSTALLATION_TOKEN:?' in text
    assert not re.search(r"(ghp|gho|glpat-|hf)_?[A-Za-z0-9]{20,}", text)
    listing = subprocess.run(["bash", str(out)], capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
    assert listing.returncode == 0 and listing.stdout.splitlines()[0].startswith("plan-")
    step = next(
        r
        for p in report["plans"]
        for r in p["requests"]
        if r["purpose"] == "revoke" and r["kind"] == "api" and r["auth"]["variable"] == "GITHUB_APP_INSTALLATION_TOKEN"
    )
    plan_id = next(p["id"] for p in report["plans"] if step in p["requests"])
    refused = subprocess.run(
        ["bash", str(out), f"{plan_id}/{step['step']}"], capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"}
    )
    assert refused.returncode != 0
    assert "GITHUB_APP_INSTALLATION_TOKEN: a GitHub App installation token" in refused.stderr


def test_plan_command_rebuilds_plans_of_a_report_saved_without_them(fixture_report, tmp_path):
    path, report = fixture_report
    old = dict(report)
    old.pop("plans")
    old["findings"] = [{k: v for k, v in f.items() if k != "plan_id"} for f in report["findings"]]
    old_path = tmp_path / "old.json"
    old_path.write_text(json.dumps(old))
    assert run_cli("report", str(old_path), "-f", "table").returncode == 0
    result = run_cli("plan", str(old_path), "-f", "json")
    assert result.returncode == 0, result.stderr
    rebuilt = json.loads(result.stdout)["plans"]
    assert [p["id"] for p in rebuilt] == [p["id"] for p in report["plans"]]
    assert [p["steps"] for p in rebuilt] == [p["steps"] for p in report["plans"]]


def test_plan_command_markdown_and_bad_input(fixture_report, tmp_path):
    path, _ = fixture_report
    result = run_cli("plan", str(path), "-f", "markdown")
    assert result.returncode == 0
    assert result.stdout.startswith("## token-auditor remediation plans\n\n29 plan(s)")
    assert "`POST https://api.github.com/orgs/acme-corp/personal-access-tokens`" in result.stdout
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    result = run_cli("plan", str(bad))
    assert result.returncode == 2
    assert result.stderr.startswith(f"token-auditor: error: {bad}:1: not JSON")


def test_sh_quotes_inventory_text_and_expands_only_declared_variables(tmp_path):
    from auditor.plan.render import shell

    hostile = "x$(touch pwned)'\n${HOME}"
    plan = {
        "id": "plan-0123456789ab",
        "token": {"provider": "gitlab", "name": hostile, "masked": "glpat-…"},
        "steps": [{"order": 1, "kind": "create", "text": hostile}],
        "requests": [
            {
                "step": 1,
                "purpose": "create",
                "kind": "settings",
                "url": "https://h/new",
                "fields": {"Token name": hostile},
            },
            {
                "step": 1,
                "purpose": "create",
                "kind": "api",
                "method": "POST",
                "url": "https://h/api/v4/users/${GITLAB_USER_ID}/x/${HOME}",
                "auth": {"variable": "GITLAB_TOKEN", "needs": "a token with scope api"},
                "headers": {},
                "body": {"name": hostile},
                "variables": {"GITLAB_USER_ID": "the user id of bob"},
            },
        ],
    }
    script = tmp_path / "p.sh"
    script.write_text(shell([plan], NOW))
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
    result = subprocess.run(
        ["bash", str(script), "plan-0123456789ab/1"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.returncode != 0 and "GITLAB_TOKEN: a token with scope api" in result.stderr
    assert result.stdout.splitlines() == ["Open https://h/new and set:", "  Token name: x$(touch pwned)' ${HOME}"]
    assert not (tmp_path / "pwned").exists()
    assert "    https://h/api/v4/users/\"${GITLAB_USER_ID:?the user id of bob}\"'/x/${HOME}'\n" in script.read_text()


def test_a_pending_request_is_denied_then_the_requester_asked_for_less():
    spec = {
        "type": "fine_grained_pat",
        "resource_owner": "acme",
        "repositories": [],
        "permissions": {},
        "needs_owner_input": True,
        "question": "Which repositories of acme does it need?",
    }
    request = {
        "rule_id": "pending-broad-request",
        "severity": "medium",
        "fingerprint": "c" * 32,
        "subject": {
            "type": "token",
            "key": "github:fine_grained_pat_request:4101",
            "id": "4101",
            "provider": "github",
            "kind": "fine_grained_pat_request",
            "name": "org-admin-tool",
            "owner": "bob",
            "masked": None,
        },
        "recommendation": {"action": "deny", "replacement": spec},
    }
    plan = only(build_plans([request], [], NOW, CATALOGUE))
    assert (plan["action"], plan["credentials"]) == ("deny", [])
    assert [s["text"] for s in plan["steps"]] == [
        "Deny the pending request 4101 of bob",
        "Ask bob to request instead only what this answers: Which repositories of acme does it need?",
    ]
    assert [(r["method"], r["url"], r["body"]) for r in plan["requests"]] == [
        (
            "POST",
            "https://api.github.com/orgs/acme/personal-access-token-requests/4101",
            {"action": "deny", "reason": "Request only the repositories and permissions the job needs"},
        )
    ]


def test_plans_validate_with_the_provider_registry():
    bogus = {
        "provider": "gitlab",
        "type": "project_access_token",
        "token_type": "project_access_token",
        "scopes": ["write_everything"],
        "access_level": 30,
    }
    fine = {
        "provider": "gitlab",
        "type": "project_access_token",
        "token_type": "project_access_token",
        "scopes": ["read_repository"],
        "access_level": 20,
    }
    assert credential_problems(bogus, CATALOGUE) == [
        "gitlab project_access_token does not accept scope 'write_everything'"
    ]
    assert credential_problems(fine, CATALOGUE) == []


def test_huggingface_member_manager_keeps_org_members_write_on_its_org_only():
    tok = token(
        provider="huggingface",
        kind="user_access_token",
        id="h1",
        name="member-invites",
        owner="jdoe",
        orgs=["acme-ml"],
        masked="hf_…0001",
        expiry_supported=False,
        grants=[
            {
                "resource": {"type": "org", "name": "acme-ml"},
                "permissions": ["org.members.write", "org.read", "repo.content.read"],
            }
        ],
    )
    plan = only(build_plans([finding(tok, "admin-permission", "critical")], [tok], NOW, CATALOGUE))
    [credential] = plan["credentials"]
    assert credential["scoped"] == [
        {
            "entity": {"type": "org", "name": "acme-ml"},
            "permissions": ["org.members.write", "org.read", "repo.content.read"],
        }
    ]
    assert plan["decisions"] == [
        {
            "permission": "org.members.write on org acme-ml",
            "rating": "admin",
            "decision": "keep",
            "via": "named_resources",
            "because": "the token's name or storage key (member-invites) says it manages organization members, which "
            "needs it; kept only on the resources it is granted on today (this kind of token cannot expire)",
        }
    ]
    assert plan["problems"] == []


def test_a_token_in_use_whose_owner_left_gets_a_replacement_with_a_new_owner():
    tok = token(
        id="8",
        name="nightly",
        owner="dave-former",
        grants=[{"resource": {"type": "repository", "name": "acme/a"}, "permissions": ["contents:read"]}],
        stored_in=[{"kind": "github_actions_secret", "location": "acme/a", "key": "NIGHTLY"}],
    )
    gone = finding(tok, "owner-not-member", action="revoke")
    gone["evidence"] = {"org": "acme", "owner": "dave-former"}
    plan = only(build_plans([gone], [tok], NOW, CATALOGUE))
    assert plan["action"] == "replace"
    assert plan["questions"] == [
        "dave-former is not a member of acme: which member, or which app or service account, owns the new credentials?"
    ]
    assert [s["kind"] for s in plan["steps"]] == ["ask", "create", "store", "verify", "revoke"]
    tok["stored_in"] = []
    assert only(build_plans([gone], [tok], NOW, CATALOGUE))["action"] == "revoke"


def test_unknown_permission_alone_is_a_review_that_names_it():
    tok = token(id="9", name="mystery", scopes=["read:quantum"])
    unknown = finding(tok, "unknown-permission", "low", action="review")
    unknown["evidence"] = {"unknown": ["read:quantum"], "catalogue_version": "x"}
    plan = only(build_plans([unknown], [tok], NOW, CATALOGUE))
    assert (plan["action"], plan["credentials"], plan["requests"]) == ("review", [], [])
    assert [s["text"] for s in plan["steps"]] == ['Ask carol: What does "mystery" do, and what is read:quantum?']


def test_a_classic_spec_is_created_as_a_classic_token_with_only_its_scopes():
    tok = token(
        id="4",
        kind="classic_pat",
        name="pull-images",
        scopes=["read:packages", "repo"],
        grants=[{"resource": {"type": "org", "name": "acme"}, "permissions": ["read:packages", "repo"]}],
    )
    spec = {
        "type": "classic_pat",
        "scopes": ["read:packages"],
        "expires_in_days": 90,
        "expires_at": "2027-02-23",
        "derived_from": "scopes",
        "needs_owner_input": False,
    }
    plan = only(build_plans([finding(tok, "broad-scope", "high", spec)], [tok], NOW, CATALOGUE))
    [credential] = plan["credentials"]
    assert (credential["type"], credential["scopes"]) == ("classic_pat", ["read:packages"])
    # repo holds administration and secrets write: nothing says the job needs them, so the owner is asked first
    assert [(s["kind"], s["text"]) for s in plan["steps"][:3]] == [
        (
            "ask",
            'Ask carol: Does the job of "pull-images" need administration: write? If it does, it is granted only '
            "on the named repositories with a 7-day expiry, or to a GitHub App; if not, it is left out.",
        ),
        (
            "ask",
            'Ask carol: Does the job of "pull-images" need secrets: write? If it does, it is granted only on the '
            "named repositories with a 7-day expiry, or to a GitHub App; if not, it is left out.",
        ),
        (
            "create",
            'Create a personal access token (classic) "pull-images" with only the scopes read:packages, '
            "expiring on 2027-02-23",
        ),
    ]
    assert plan["requests"][0]["fields"] == {
        "Note": "pull-images",
        "Expiration": "Custom: 2027-02-23",
        "Select scopes": "read:packages",
    }
    wider = {"provider": "github", "type": "classic_pat", "scopes": ["read:packages", "write:packages"]}
    assert exceeds_today(wider, tok, CATALOGUE) == ["grants scope write:packages, which the token does not hold"]


def test_what_the_token_does_not_hold_today_is_left_out_and_asked():
    tok = token(
        provider="huggingface",
        kind="user_access_token",
        id="h2",
        name="space-reader",
        owner="jdoe",
        orgs=[],
        masked="hf_…0002",
        grants=[{"resource": {"type": "model", "name": "acme/bert"}, "permissions": ["repo.content.read"]}],
        stored_in=[{"kind": "hf_space_secret", "location": "acme/app", "key": "HF_TOKEN", "public": False}],
    )
    spec = {
        "scoped": [
            {"entity": {"type": "space", "name": "acme/app"}, "permissions": ["repo.content.read"]},
            {"entity": {"type": "model", "name": "acme/bert"}, "permissions": ["repo.content.read"]},
        ],
        "global": [],
        "canReadGatedRepos": False,
        "derived_from": "storage",
        "needs_owner_input": False,
    }
    plan = only(build_plans([finding(tok, "namespace-wide-write", "high", spec)], [tok], NOW, CATALOGUE))
    [credential] = plan["credentials"]
    assert credential["scoped"] == [
        {"entity": {"type": "model", "name": "acme/bert"}, "permissions": ["repo.content.read"]}
    ]
    assert credential["left_out_not_held_today"] == ["repo.content.read on space acme/app"]
    assert plan["questions"] == [
        '"space-reader" does not hold repo.content.read on space acme/app today, so the new '
        "credential leaves it out: which resources does the job really need?"
    ]
    assert plan["problems"] == []


def test_what_a_fine_grained_token_cannot_be_granted_there_is_left_out_and_asked():
    tok = token(
        provider="huggingface",
        kind="user_access_token",
        id="h3",
        name="notebook",
        owner="jdoe",
        orgs=[],
        masked="hf_…0003",
        expiry_supported=False,
        grants=[
            {
                "resource": {"type": "model", "name": "acme/bert"},
                "permissions": ["org.billing.read", "repo.content.read", "role.read"],
            }
        ],
    )
    plan = only(
        build_plans(
            [finding(tok, "unrotated-token", "medium"), finding(tok, "broad-scope", "high")], [tok], NOW, CATALOGUE
        )
    )
    [credential] = plan["credentials"]
    assert credential["type"] == "user_access_token"
    assert credential["scoped"] == [
        {"entity": {"type": "model", "name": "acme/bert"}, "permissions": ["repo.content.read"]}
    ]
    assert credential["left_out_not_grantable"] == [
        "org.billing.read on model acme/bert",
        "role.read on model acme/bert",
    ]
    assert plan["questions"] == [
        '"notebook" holds org.billing.read on model acme/bert, role.read on model acme/bert '
        "today, which a fine-grained token cannot be granted there, so the new credential "
        "leaves it out: what does the job need instead?"
    ]
    assert plan["problems"] == []
