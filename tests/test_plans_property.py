"""Property test: on seeded, generated inventories of every provider (written in the documented neutral format and
audited by the real OPA), every plan is creatable, grants no more than the token has today, holds an admin-rated
permission only where a decision says which purpose needs it, and orders its steps create → verify → revoke."""

from __future__ import annotations

import json
import random
import subprocess

import yaml

from auditor.plan import Catalogue
from auditor.plan.build import exceeds_today
from auditor.plan.render import render
from auditor.plan.validate import credential_problems
from tests.conftest import ROOT, kept_admin

CATALOGUE = Catalogue.load(ROOT / "policies")
NAMES = [
    "secrets-sync",
    "secrets-manager",
    "deploy-bot",
    "member-invites",
    "release",
    "notebook",
    "x",
    None,
    "branch-protection-job",
    "pat-review",
    "billing-report",
    "service-account-sync",
]
PLACES = [
    ("github_actions_secret", False),
    ("hf_space_secret", True),
    ("hf_space_secret", False),
    ("hf_space_variable", None),
    ("gitlab_ci_variable", False),
    ("k8s_secret", None),
]


def _places(rng: random.Random, index: int) -> list[dict]:
    chosen = rng.sample(PLACES, rng.choice([0, 0, 1, 1, 2, 3]))
    return [
        {
            "kind": kind,
            "location": f"acme/app-{index}-{n}",
            "key": "TOKEN",
            **({"public": public} if public is not None else {}),
        }
        for n, (kind, public) in enumerate(chosen)
    ]


def _github(rng: random.Random, index: int) -> dict:
    entry = CATALOGUE.of("github")
    repos = [f"acme/repo-{n}" for n in range(rng.randint(1, 3))]
    usage = [
        {
            "resource": {"type": "repository", "name": r},
            "actions": rng.sample(sorted(entry["usage_permissions"]), rng.randint(1, 3)),
        }
        for r in repos
        if rng.random() < 0.5
    ]
    if rng.random() < 0.4:
        scopes = rng.sample(sorted(entry["scopes"]), rng.randint(1, 5))
        return {
            "kind": "classic_pat",
            "legacy": True,
            "org_wide": True,
            "scopes": scopes,
            "grants": [{"resource": {"type": "org", "name": "acme"}, "permissions": scopes}],
            "observed_usage": usage,
        }
    groups = entry["permission_groups"]
    names = sorted(n for n in groups if groups[n] in ("repository", "organization"))
    picked = {n: rng.choice(["read", "write"]) for n in rng.sample(names, rng.randint(1, 5))}
    picked = {n: level for n, level in picked.items() if f"{n}:{level}" in entry["permissions"]}
    repo_perms = [f"{n}:{level}" for n, level in picked.items() if groups[n] == "repository"] or ["metadata:read"]
    org_perms = [f"{n}:{level}" for n, level in picked.items() if groups[n] == "organization"]
    grants = [{"resource": {"type": "repository", "name": r}, "permissions": repo_perms} for r in repos]
    if org_perms:
        grants.append({"resource": {"type": "org", "name": "acme"}, "permissions": org_perms})
    return {
        "kind": "fine_grained_pat",
        "legacy": False,
        "org_wide": rng.random() < 0.3,
        "scopes": [],
        "grants": grants,
        "observed_usage": usage,
    }


def _gitlab(rng: random.Random, index: int) -> dict:
    entry = CATALOGUE.of("gitlab")
    kind = rng.choice(["personal_access_token", "group_access_token", "project_access_token"])
    scopes = rng.sample(sorted(entry["scopes"]), rng.randint(1, 4))
    resource = {
        "personal_access_token": {"type": "user", "name": "bob"},
        "group_access_token": {"type": "group", "name": "acme"},
        "project_access_token": {"type": "project", "name": "acme/app"},
    }[kind]
    permissions = list(scopes)
    if kind != "personal_access_token":
        permissions.append("access_level:" + rng.choice(["guest", "reporter", "developer", "maintainer", "owner"]))
    usage = (
        [
            {
                "resource": {"type": "project", "name": "acme/app"},
                "actions": rng.sample(sorted(entry["usage_scopes"]), rng.randint(1, 3)),
            }
        ]
        if rng.random() < 0.5
        else []
    )
    return {
        "kind": kind,
        "legacy": False,
        "org_wide": kind == "group_access_token",
        "scopes": scopes,
        "grants": [{"resource": resource, "permissions": permissions}],
        "observed_usage": usage,
    }


def _huggingface(rng: random.Random, index: int) -> dict:
    entry = CATALOGUE.of("huggingface")
    permissions = sorted(entry["permissions"])
    entities = [
        {"type": t, "name": f"acme/{t}-{n}"}
        for n, t in enumerate(rng.sample(["model", "dataset", "space"], rng.randint(1, 2)))
    ]
    grants = [{"resource": e, "permissions": rng.sample(permissions, rng.randint(1, 3))} for e in entities]
    if rng.random() < 0.3:
        grants.append({"resource": {"type": "org", "name": "acme"}, "permissions": rng.sample(permissions, 2)})
    usage = [
        {"resource": e, "actions": rng.sample(["read", "write", "inference"], rng.randint(1, 2))}
        for e in entities
        if rng.random() < 0.5
    ]
    kind = rng.choice(["user_access_token", "user_access_token", "service_account_token"])
    return {
        "kind": kind,
        "legacy": False,
        "org_wide": False,
        "scopes": [],
        "grants": grants,
        "observed_usage": usage,
        "expiry_supported": False,
    }


def _inventory(n: int, seed: int) -> dict:
    rng = random.Random(seed)
    tokens = []
    for index in range(n):
        provider = ("github", "gitlab", "huggingface")[index % 3]
        body = {"github": _github, "gitlab": _gitlab, "huggingface": _huggingface}[provider](rng, index)
        name = rng.choice(NAMES)
        tokens.append(
            {
                "id": f"g{index}",
                "provider": provider,
                "name": name,
                "owner": rng.choice(["alice", "ci-bot"]),
                "created_at": "2025-06-01T00:00:00Z",
                "expires_at": rng.choice([None, "2026-12-20T00:00:00Z", "2028-01-01T00:00:00Z"]),
                "last_used_at": rng.choice(
                    [None, "2026-11-20T00:00:00Z", "2026-11-20T00:00:00Z", "2026-03-01T00:00:00Z"]
                ),
                "orgs": ["acme"] if provider != "gitlab" else ["gitlab.example.com"],
                "stored_in": _places(rng, index),
                **body,
            }
        )
    return {"format": "token-inventory/v1", "collected_at": "2026-11-24T00:00:00Z", "tokens": tokens}


LEVELS = {"Read-only": "read", "Read and write": "write", "Admin": "admin"}


def _as_credential(request: dict) -> dict:
    """What an emitted create request asks the provider for, in the credential shape the registry checks."""
    groups = CATALOGUE.of("github").get("permission_groups") or {}
    if request.get("manifest"):
        permissions: dict = {}
        for name, level in request["manifest"]["default_permissions"].items():
            permissions.setdefault(groups.get(name, "repository"), {})[name] = level
        return {"provider": "github", "type": "github_app", "permissions": permissions}
    if "github.com/settings/personal-access-tokens" in request.get("url", ""):
        fields = request["fields"]
        return {
            "provider": "github",
            "type": "fine_grained_pat",
            "permissions": {
                key.split()[0].lower(): {n: LEVELS[t] for n, t in value.items()}
                for key, value in fields.items()
                if key.endswith(" permissions")
            },
        }
    if request["kind"] == "api" and "/api/v4/" in request["url"]:
        kind = (
            "group_access_token"
            if "/groups/" in request["url"]
            else "project_access_token"
            if "/projects/" in request["url"]
            else "personal_access_token"
        )
        return {
            "provider": "gitlab",
            "token_type": kind,
            "scopes": request["body"]["scopes"],
            "access_level": request["body"].get("access_level"),
        }
    kind = (
        "service_account_token"
        if "service-accounts" in request["url"] or "Where" in request["fields"]
        else "user_access_token"
    )
    return {
        "provider": "huggingface",
        "type": kind,
        "scoped": [
            {
                "entity": {"type": value.split(" ", 1)[0], "name": value.split(" ", 2)[1].rstrip(":")},
                "permissions": value.split(": ", 1)[1].split(", "),
            }
            for key, value in request["fields"].items()
            if key.startswith("Repositories permissions")
        ],
    }


def test_generated_inventories_of_every_provider_get_sound_plans(audit_json, tmp_path):
    path = tmp_path / "generated.yaml"
    path.write_text(yaml.safe_dump(_inventory(240, seed=11), sort_keys=False))
    code, report, stderr = audit_json(path)
    assert code in (0, 1), stderr
    tokens = {t["key"]: t for t in report["tokens"]}
    plans = report["plans"]
    assert {p["token"]["provider"] for p in plans} == {"github", "gitlab", "huggingface"}
    assert sum(1 for p in plans if p["credentials"]) > 60
    for plan in plans:
        assert plan["problems"] == [], (plan["id"], plan["problems"])
        token = tokens[plan["token"]["key"]]
        kept = {d["permission"] for d in plan["decisions"] if d["decision"] == "keep"}
        for credential in plan["credentials"]:
            assert credential_problems(credential, CATALOGUE, kept_admin(plan)) == [], credential
            assert exceeds_today(credential, token, CATALOGUE) == [], credential
            for perms in (credential.get("permissions") or {}).values():
                for name, level in perms.items():
                    if CATALOGUE.access_of("github", f"{name}:{level}") == "admin":
                        assert f"{name}: {level}" in kept, (plan["id"], name, level)
            for scope in credential.get("scopes") or []:
                assert CATALOGUE.access_of("gitlab", scope) != "admin", (plan["id"], scope)
            assert credential.get("access_level") != 50, plan["id"]
            for scoped in credential.get("scoped") or []:
                for permission in scoped["permissions"]:
                    if CATALOGUE.access_of("huggingface", permission) == "admin":
                        assert any(k.startswith(permission) for k in kept), (plan["id"], permission)
        kinds = [s["kind"] for s in plan["steps"]]
        assert [s["order"] for s in plan["steps"]] == list(range(1, len(kinds) + 1))
        if "create" in kinds:
            assert kinds.index("create") < kinds.index("verify") < kinds.index("revoke")
            assert not {"create", "store"} & set(kinds[kinds.index("revoke") :])
        for decision in plan["decisions"]:
            assert decision["because"] and decision["decision"] in ("keep", "ask", "drop")
            if decision["decision"] == "ask":
                assert any(decision["permission"] in q for q in plan["questions"]), plan["id"]
        orders = {s["order"] for s in plan["steps"]}
        for request in plan["requests"]:
            assert request["step"] in orders, (plan["id"], request)
            if request["purpose"] == "create":
                assert credential_problems(_as_credential(request), CATALOGUE, kept_admin(plan)) == [], request
    planned = {p["id"] for p in plans}
    assert all(f["plan_id"] in planned for f in report["findings"] if f["subject"]["type"] == "token")
    script = tmp_path / "plan.sh"
    script.write_text(render(plans, "sh", report))
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
    assert json.loads(render(plans, "json", report))["plans"] == plans
