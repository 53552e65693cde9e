"""Property test: over generated inventories of every provider, each finding's replacement is one the
provider accepts (auditor.registry) and grants nothing the token cannot do today. Real OPA, real
normalization; hypothesis writes the inventories in the documented token-inventory/v1 format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor.audit import AuditOptions, read_inventory
from auditor.engine.client import Engine, EngineSettings
from auditor.registry import POLICY_DIR, credential_problems, registry, step_problems
from tests.conftest import FIXTURES, NOW

GH = registry("github")
GL = registry("gitlab")
HF = registry("huggingface")
RANK = {"read": 1, "write": 2, "admin": 3}
REPOS = ["acme/api", "acme/web", "acme/infra"]
GH_ACTIONS = [
    "read",
    "clone",
    "push",
    "write",
    "release",
    "pull_request",
    "issue",
    "status",
    "deploy",
    "workflow",
    "packages_read",
    "packages_write",
    "members_read",
]
GL_ACTIONS = [
    "read",
    "clone",
    "write",
    "push",
    "api_read",
    "api_write",
    "registry_read",
    "registry_write",
    "runner",
    "maintain",
]
HF_ACTIONS = ["read", "write", "inference"]
STORED = [
    {"kind": "github_actions_secret", "location": "acme/api", "key": "TOKEN"},
    {"kind": "gitlab_ci_variable", "location": "acme/app", "key": "TOKEN"},
    {"kind": "hf_space_secret", "location": "acme/demo", "key": "HF_TOKEN"},
]


@pytest.fixture(scope="module")
def engine(opa_server):
    url, token = opa_server
    eng = Engine(EngineSettings(url=url, token=token, workers=1))
    eng.check()
    eng.load_policies(POLICY_DIR)
    yield eng
    eng.close()


def _usage(draw, resources, actions):
    return [
        {"resource": r, "actions": draw(st.lists(st.sampled_from(actions), min_size=1, max_size=3, unique=True))}
        for r in draw(st.lists(st.sampled_from(resources), max_size=2, unique_by=lambda r: r["name"]))
    ]


@st.composite
def github_token(draw, index):
    kind = draw(st.sampled_from(["classic_pat", "fine_grained_pat", "oauth_app_token"]))
    token = {
        "id": f"gh{index}",
        "provider": "github",
        "kind": kind,
        "owner": draw(st.sampled_from(["bob", "deploy-bot"])),
        "prefix": {"classic_pat": "ghp_", "fine_grained_pat": "github_pat_", "oauth_app_token": "gho_"}[kind],
        "orgs": ["acme"],
        "legacy": kind == "classic_pat",
    }
    if kind == "fine_grained_pat":
        names = draw(st.lists(st.sampled_from(sorted(GH["permissions"])), min_size=1, max_size=6, unique=True))
        perms = [f"{n}:{draw(st.sampled_from(GH['permissions'][n]['levels']))}" for n in names]
        resource = draw(
            st.sampled_from(
                [{"type": "org_repositories", "name": "acme"}] + [{"type": "repository", "name": r} for r in REPOS]
            )
        )
        token["grants"] = [{"resource": resource, "permissions": perms}]
        token["org_wide"] = resource["type"] == "org_repositories"
    else:
        token["scopes"] = draw(
            st.lists(st.sampled_from(sorted(GH["classic_scopes"])), min_size=1, max_size=6, unique=True)
        )
    token["observed_usage"] = _usage(draw, [{"type": "repository", "name": r} for r in REPOS], GH_ACTIONS)
    return token


@st.composite
def gitlab_token(draw, index):
    kind = draw(st.sampled_from(["personal_access_token", "group_access_token", "project_access_token"]))
    spec = GL["token_types"][kind]
    token = {
        "id": f"gl{index}",
        "provider": "gitlab",
        "kind": kind,
        "prefix": "glpat-",
        "owner": "alice" if kind == "personal_access_token" else f"{kind.split('_')[0]}_{index}_bot",
        "scopes": draw(st.lists(st.sampled_from(spec["scopes"]), min_size=1, max_size=5, unique=True)),
        "org_wide": kind == "group_access_token",
        "orgs": ["acme"],
    }
    if spec["access_level"]:
        token["access_level"] = int(draw(st.sampled_from(sorted(GL["access_levels"]))))
    token["observed_usage"] = _usage(draw, [{"type": "project", "name": "acme/app"}], GL_ACTIONS)
    return token


def _hf_grant(draw):
    entity = draw(
        st.sampled_from(
            [
                {"type": "model", "name": "acme/bert"},
                {"type": "dataset", "name": "acme/data"},
                {"type": "space", "name": "acme/demo"},
                {"type": "org", "name": "acme"},
                {"type": "user", "name": "jdoe"},
            ]
        )
    )
    where = "repo" if entity["type"] in HF["repo_entity_types"] else entity["type"]
    offered = sorted(p for p, info in HF["permissions"].items() if where in info["on"])
    return {
        "resource": entity,
        "permissions": draw(st.lists(st.sampled_from(offered), min_size=1, max_size=4, unique=True)),
    }


@st.composite
def huggingface_token(draw, index):
    kind = draw(st.sampled_from(["user_access_token", "user_access_token", "service_account_token", "org_api_token"]))
    legacy = kind == "org_api_token" or (kind == "user_access_token" and draw(st.booleans()))
    owner = {"service_account_token": "acme-sa", "org_api_token": "acme"}.get(kind, "jdoe")
    token = {
        "id": f"hf{index}",
        "provider": "huggingface",
        "kind": kind,
        "owner": owner,
        "legacy": legacy,
        "prefix": "api_org_" if kind == "org_api_token" else "hf_",
        "orgs": ["acme"],
        "expiry_supported": False,
        "org_wide": kind == "org_api_token",
    }
    if legacy:
        role = draw(st.sampled_from(["role.read", "role.write"]))
        token["grants"] = [
            {"resource": {"type": "user" if kind != "org_api_token" else "org", "name": owner}, "permissions": [role]}
        ]
    else:
        token["grants"] = [_hf_grant(draw) for _ in range(draw(st.integers(1, 3)))]
        globals_ = sorted(p for p, info in HF["permissions"].items() if "global" in info["on"])
        token["global_permissions"] = draw(st.lists(st.sampled_from(globals_), max_size=2, unique=True))
    resources = [
        {"type": "model", "name": "acme/bert"},
        {"type": "dataset", "name": "jdoe/data"},
        {"type": "space", "name": "acme/demo"},
    ]
    token["observed_usage"] = _usage(draw, resources, HF_ACTIONS)
    return token


@st.composite
def neutral_token(draw, index):
    provider = draw(st.sampled_from(["npm", "pypi"]))
    return {
        "id": f"{provider}{index}",
        "provider": provider,
        "kind": "classic" if provider == "npm" else "api_token",
        "owner": "jdoe",
        "legacy": draw(st.booleans()),
        "grants": [
            {"resource": {"type": "package", "name": "acme-lib"}, "permissions": ["publish"], "access": "write"}
        ],
    }


@st.composite
def inventory(draw):
    makers = [github_token, gitlab_token, huggingface_token, neutral_token]
    tokens = []
    for index in range(draw(st.integers(4, 9))):
        token = draw(makers[index % 4](index))
        token["created_at"] = draw(st.sampled_from(["2024-01-01T00:00:00Z", "2026-11-01T00:00:00Z"]))
        token["last_used_at"] = draw(st.sampled_from([None, "2026-11-20T00:00:00Z"]))
        token["stored_in"] = draw(st.lists(st.sampled_from(STORED), max_size=2, unique_by=lambda p: p["kind"]))
        tokens.append(token)
    return {
        "format": "token-inventory/v1",
        "collected_at": "2026-11-20T09:00:00Z",
        "tokens": tokens,
        "orgs": [{"provider": "huggingface", "name": "acme", "members": ["jdoe"]}],
    }


# --- what a token can do today ---------------------------------------------------------------


def _gh_held(token: dict) -> dict[str, int]:
    held: dict[str, int] = {}
    pairs = [
        pair for s in token.get("scopes") or [] for pair in (GH["classic_scopes"][s]["fine_grained"] or {}).items()
    ]
    # a classic token's grants repeat its scopes
    pairs += [
        tuple(p.split(":"))
        for g in token.get("grants") or []
        for p in g["permissions"]
        if p not in (token.get("scopes") or []) and p.count(":") == 1
    ]
    for name, level in pairs:
        held[name] = max(held.get(name, 0), RANK[level])
    return held


def _gh_excess(token: dict, spec: dict) -> list[str]:
    if spec.get("type") == "classic_pat":
        scopes = set(token.get("scopes") or [])
        allowed = scopes | ({"read:packages"} if scopes & {"write:packages", "delete:packages"} else set())
        return [f"scope {s}" for s in spec["scopes"] if s not in allowed]
    held = _gh_held(token)
    return [
        f"{name}:{level}"
        for entries in (spec.get("permissions") or {}).values()
        for name, level in entries.items()
        if RANK[level] > held.get(name, 0)
    ]


def _gl_excess(token: dict, spec: dict) -> list[str]:
    kind = token["kind"]
    allowed = set(token["scopes"]) | {"self_rotate"}
    for scope in token["scopes"]:
        for included in GL["scope_includes"].get(scope, []):
            if (
                scope == "api"
                and included.endswith("_repository")
                and not GL["token_types"][kind]["git_over_http_with_api"]
            ):
                continue
            allowed.add(included)
    excess = [f"scope {s}" for s in spec.get("scopes") or [] if s not in allowed]
    if spec.get("access_level") is not None and spec["access_level"] > token.get("access_level", 0):
        excess.append(f"access level {spec['access_level']}")
    return excess


def _hf_holds(token: dict, permission: str, entity: dict | None) -> bool:
    if token["kind"] == "org_api_token" and entity is None:
        return permission == "inference.serverless.write"  # every org API token role could call inference
    if token.get("legacy"):
        roles = {p for g in token["grants"] for p in g["permissions"]}
        return "role.write" in roles or permission.endswith(".read") or permission == "inference.serverless.write"
    if entity is None:
        return permission in (token.get("global_permissions") or []) or any(
            permission in g["permissions"] for g in token["grants"]
        )
    for grant in token["grants"]:
        resource = grant["resource"]
        covers = resource == entity or (
            resource["type"] in ("user", "org") and entity["name"].split("/")[0] == resource["name"]
        )
        if covers and (
            permission in grant["permissions"]
            or (permission == "repo.content.read" and "repo.write" in grant["permissions"])
        ):
            return True
    return False


def _hf_excess(token: dict, spec: dict) -> list[str]:
    excess = [
        f"{e['entity']['type']} {e['entity']['name']}: {p}"
        for e in spec.get("scoped") or []
        for p in e["permissions"]
        if not _hf_holds(token, p, e["entity"])
    ]
    excess += [f"global {p}" for p in spec.get("global") or [] if not _hf_holds(token, p, None)]
    if spec.get("type") == "service_account_token" and token["kind"] != "service_account_token":
        excess.append("a service-account token for a user's token")
    return excess


EXCESS = {"github": _gh_excess, "gitlab": _gl_excess, "huggingface": _hf_excess}


def _check(findings: list[dict], tokens: dict[str, dict]) -> list[str]:
    failures = []
    for finding in findings:
        recommendation = finding["recommendation"]
        where = f"{finding['rule_id']} on {finding['subject']['key']}"
        failures += [f"{where}: {p}" for p in step_problems(finding["subject"]["provider"], recommendation["steps"])]
        spec = recommendation.get("replacement")
        if not isinstance(spec, dict) or "provider" not in spec:
            continue
        failures += [f"{where}: {p}" for p in credential_problems(spec)]
        token = tokens[finding["subject"]["key"]]
        excess = EXCESS.get(token["provider"])
        if excess:
            for credential in [spec, *spec.get("also", [])]:
                failures += [f"{where}: grants more than today: {e}" for e in excess(token, credential)]
    return failures


def _audit(engine: Engine, path: Path) -> tuple[list[dict], dict[str, dict]]:
    inv, _ = read_inventory([str(path)], AuditOptions(now=NOW))
    # pending GitHub requests and App installations live on their org entry, token-shaped
    subjects = [
        *inv.tokens,
        *(
            t
            for org in inv.orgs
            for group in ("pending_requests", "installations")
            for t in (org.get("settings") or {}).get(group, [])
        ),
    ]
    return engine.evaluate(inv, NOW), {t["key"]: t for t in subjects}


@settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=inventory())
def test_every_replacement_is_creatable_and_never_broader(engine, tmp_path, document):
    path = tmp_path / "inventory.json"
    path.write_text(json.dumps(document))
    findings, tokens = _audit(engine, path)
    assert _check(findings, tokens) == []


def test_fixtures_replacements_are_creatable_and_never_broader(engine):
    findings, tokens = _audit(engine, FIXTURES)
    assert len([f for f in findings if isinstance(f["recommendation"].get("replacement"), dict)]) > 20
    assert _check(findings, tokens) == []


def test_the_checker_catches_a_broader_or_refused_replacement():
    token = {"provider": "gitlab", "kind": "project_access_token", "scopes": ["api"], "access_level": 30}
    finding = {
        "rule_id": "broad-scope",
        "subject": {"key": "k", "provider": "gitlab"},
        "recommendation": {
            "steps": ["Rotate: POST /personal_access_tokens/self/rotatex"],
            "replacement": {
                "provider": "gitlab",
                "type": "project_access_token",
                "scopes": ["write_repository", "write_registry"],
                "access_level": 40,
            },
        },
    }
    assert _check([finding], {"k": token}) == [
        "broad-scope on k: gitlab endpoint POST /personal_access_tokens/self/rotatex is not in the registry",
        "broad-scope on k: gitlab project_access_token with write_registry also needs read_registry",
        "broad-scope on k: grants more than today: scope write_repository",
        "broad-scope on k: grants more than today: access level 40",
    ]
