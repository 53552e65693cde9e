#!/usr/bin/env python3
"""Differential test data: seeded inventories of every provider and the findings the policies give.

Each provider gets a generated inventory in its own export format, from a fixed seed: GitHub
(`github-inventory/v1`: fine-grained PATs, requests, credential authorizations, App installations),
GitLab (`gitlab-inventory/v1`: personal, group and project access tokens), Hugging Face
(scripts/generate_inventory.py) and npm/PyPI (`token-inventory/v1`). Permission and scope names
are drawn from the policy catalogue and registries (plus a few unknown ones, as a provider adds
them), so every rule has something to say.

`--write` audits them with the policies of --policy-dir through the real pipeline
(`token-auditor audit -f json`) and stores the report's findings, sorted, with their counts, as
tests/data/differential/<provider>.json.gz: the golden files tests/test_differential.py compares
the current policies with, byte for byte. They were written with the policies of e6df284, before
the Rego was made cheaper:

    mkdir /tmp/orig && git archive e6df284 policies | tar -x -C /tmp/orig
    .venv/bin/python scripts/differential.py --write --policy-dir /tmp/orig/policies

Report schema 2.0 then renamed two things the policies do not decide (subject `fingerprint` → `masked`, and
each finding's gate state `fails_gate`, false with --fail-on never). `--migrate-schema-2` applied exactly those
renames to the golden files, so they still hold the original policies' verdicts.

Without --write it compares (exit 1 when a report differs).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import string
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from generate_inventory import huggingface_inventory, write_json  # noqa: E402

NOW = "2026-11-25T00:00:00Z"
BASE = datetime(2026, 11, 20, 9, 0, 0, tzinfo=UTC)
GOLDEN = ROOT / "tests" / "data" / "differential"
SIZES = {"github": 300, "gitlab": 300, "huggingface": 300, "registries": 300}
SEED = 12
POLICIES = ROOT / "policies" / "token_auditor"


def _catalogue(provider: str) -> dict:
    return json.loads((POLICIES / "catalogue" / "providers" / provider / "data.json").read_text())


def _registry(provider: str) -> dict:
    return json.loads((POLICIES / "registry" / provider / "data.json").read_text())


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _days(rng: random.Random, low: int, high: int) -> datetime:
    return BASE + timedelta(days=rng.randint(low, high), minutes=rng.randrange(1440))


def _maybe(rng: random.Random, chance: float, value):
    return value if rng.random() < chance else None


def _user(login: str, number: int) -> dict:
    return {"login": login, "id": number, "type": "User", "site_admin": False}


def github_inventory(n_tokens: int, seed: int) -> dict:
    """One organization's `github-inventory/v1` export with n_tokens credentials of every kind."""
    rng = random.Random(seed)
    org = "diff-org"
    registry = _registry("github")
    permissions = sorted(registry["permissions"].items())
    scopes = sorted(registry["classic_scopes"]) + ["read:future_thing"]
    people = [f"dev-{i:03d}" for i in range(max(4, n_tokens // 6))]
    members = people[: len(people) * 3 // 4]
    repos = [f"{org}/svc-{i}" for i in range(12)]

    def fine_permissions() -> dict:
        chosen: dict = {}
        for name, spec in rng.sample(permissions, rng.randint(1, 4)):
            chosen.setdefault(spec["group"], {})[name] = rng.choice(spec["levels"])
        if rng.random() < 0.05:
            chosen.setdefault("repository", {})["future_permission"] = "write"
        return chosen

    def stored() -> list:
        places = []
        for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
            places.append(
                {
                    "kind": rng.choice(["github_actions_secret", "github_actions_variable", "other"]),
                    "location": rng.choice(repos),
                    "key": rng.choice(["GH_TOKEN", "RELEASE_TOKEN", None]),
                    "public": rng.choice([None, False, True]),
                }
            )
        return places

    pats: list[dict] = []
    requests: list[dict] = []
    authorizations: list[dict] = []
    for i in range(n_tokens):
        owner = rng.choice(people)
        kind = rng.random()
        expires = _maybe(rng, 0.7, _iso(_days(rng, -60, 500)))
        if kind < 0.45:
            pat = {
                "id": 30000 + i,
                "owner": _user(owner, 2000 + people.index(owner)),
                "repository_selection": rng.choice(["all", "subset", "subset"]),
                "permissions": fine_permissions(),
                "access_granted_at": _iso(_days(rng, -700, -1)),
                "token_id": 90000 + i,
                "token_name": f"pat-{i}",
                "token_expired": False,
                "token_expires_at": expires,
                "token_last_used_at": _maybe(rng, 0.8, _iso(_days(rng, -400, 0))),
                "stored_in": stored(),
            }
            if pat["repository_selection"] == "subset":
                pat["repositories"] = sorted(set(rng.sample(repos, rng.randint(1, 3))))
            if rng.random() < 0.2:
                pat["observed_usage"] = [
                    {"resource": {"type": "repository", "name": rng.choice(repos)}, "actions": ["read"]}
                ]
            pats.append(pat)
        elif kind < 0.55:
            requests.append(
                {
                    "id": 4000 + i,
                    "reason": rng.choice(["Automate releases", None]),
                    "owner": _user(owner, 2000 + people.index(owner)),
                    "repository_selection": rng.choice(["all", "subset"]),
                    "permissions": fine_permissions(),
                    "created_at": _iso(_days(rng, -30, -1)),
                    "token_id": 90000 + i,
                    "token_name": f"request-{i}",
                    "token_expired": False,
                    "token_expires_at": expires,
                    "token_last_used_at": None,
                }
            )
        else:
            credential_type = rng.choice(["personal access token"] * 4 + ["OAuth app token", "GitHub app token"])
            authorizations.append(
                {
                    "login": owner,
                    "credential_id": 160000 + i,
                    "credential_type": credential_type,
                    "token_last_eight": "".join(rng.choice(string.hexdigits) for _ in range(8)),
                    "credential_authorized_at": _iso(_days(rng, -900, -1)),
                    "credential_accessed_at": _maybe(rng, 0.85, _iso(_days(rng, -300, 0))),
                    "scopes": sorted(set(rng.sample(scopes, rng.randint(0, 4)))),
                    "authorized_credential_id": 8000 + i,
                    "authorized_credential_note": rng.choice([f"note-{i}", None]),
                    "authorized_credential_expires_at": expires,
                }
            )
    installations: list[dict] = [
        {
            "id": 7000 + i,
            "account": {"login": org, "id": 90001, "type": "Organization"},
            "repository_selection": rng.choice(["all", "selected"]),
            "app_id": 300 + i,
            "app_slug": f"app-{i}",
            "target_id": 90001,
            "target_type": "Organization",
            "permissions": {
                name: rng.choice(spec["levels"])
                for name, spec in rng.sample(permissions, 3)
                if spec["group"] == "repository"
            },
            "events": [],
            "created_at": _iso(_days(rng, -700, -100)),
            "updated_at": _iso(_days(rng, -99, -1)),
            "suspended_by": None,
            "suspended_at": None,
        }
        for i in range(6)
    ]
    return {
        "format": "github-inventory/v1",
        "org": org,
        "collected_at": _iso(BASE),
        "org_settings": {
            "classic_pats_allowed": True,
            "fine_grained_pats_allowed": True,
            "fine_grained_pats_require_approval": False,
        },
        "members": [_user(login, 2000 + people.index(login)) for login in members],
        "admins": [_user(members[0], 2000)],
        "credential_authorizations": authorizations,
        "personal_access_tokens": pats,
        "personal_access_token_requests": requests,
        "installations": {"total_count": len(installations), "installations": installations},
    }


def gitlab_inventory(n_tokens: int, seed: int) -> dict:
    """A `gitlab-inventory/v1` export: personal, group and project access tokens on one instance."""
    rng = random.Random(seed)
    registry = _registry("gitlab")
    users = [{"id": 10 + i, "username": f"user-{i:03d}"} for i in range(max(4, n_tokens // 5))]
    levels = [10, 15, 20, 30, 40, 50]
    groups = [f"group-{i}" for i in range(4)]
    projects = [f"{g}/app-{j}" for g in groups for j in range(3)]

    def token(i: int, kind: str) -> dict:
        accepted = sorted(registry["token_types"][kind]["scopes"])
        expires = _maybe(rng, 0.75, (BASE + timedelta(days=rng.randint(-40, 500))).strftime("%Y-%m-%d"))
        item = {
            "id": i,
            "name": f"{kind.split('_')[0]}-{i}",
            "revoked": rng.random() < 0.05,
            "created_at": _iso(_days(rng, -800, -1)).replace("Z", ".000Z"),
            "description": "",
            "scopes": sorted(set(rng.sample(accepted, rng.randint(1, 3)))),
            "user_id": rng.choice(users)["id"],
            "last_used_at": _maybe(rng, 0.8, _iso(_days(rng, -300, 0)).replace("Z", ".000Z")),
            "active": rng.random() > 0.05,
            "expires_at": expires,
        }
        if kind != "personal_access_token":
            item["access_level"] = rng.choice(levels)
        if rng.random() < 0.3:
            item["stored_in"] = [
                {
                    "kind": "gitlab_ci_variable",
                    "location": rng.choice(projects),
                    "key": "DEPLOY_TOKEN",
                    "public": rng.choice([False, True]),
                }
                for _ in range(rng.randint(1, 2))
            ]
        return item

    personal: list[dict] = []
    group_tokens: dict[str, list[dict]] = {}
    project_tokens: dict[str, list[dict]] = {}
    for i in range(n_tokens):
        pick = rng.random()
        if pick < 0.6:
            personal.append(token(i, "personal_access_token"))
        elif pick < 0.8:
            group_tokens.setdefault(rng.choice(groups), []).append(token(i, "group_access_token"))
        else:
            project_tokens.setdefault(rng.choice(projects), []).append(token(i, "project_access_token"))
    return {
        "format": "gitlab-inventory/v1",
        "instance": "gitlab.example.com",
        "collected_at": _iso(BASE),
        "users": users,
        "personal_access_tokens": personal,
        "group_access_tokens": dict(sorted(group_tokens.items())),
        "project_access_tokens": dict(sorted(project_tokens.items())),
    }


def registries_inventory(n_tokens: int, seed: int) -> dict:
    """A `token-inventory/v1` document of npm and PyPI tokens (providers without an adapter)."""
    rng = random.Random(seed)
    orgs = ["acme", "globex"]
    people = [f"maint-{i:03d}" for i in range(max(4, n_tokens // 5))]
    kinds = [
        ("npm", "classic_publish_token", True, "write", ["package.publish"]),
        ("npm", "granular_access_token", False, "write", ["package.publish"]),
        ("npm", "granular_access_token", False, "read", ["package.read"]),
        ("pypi", "api_token", False, "write", ["upload"]),
        ("pypi", "api_token", True, "write", ["upload"]),
    ]
    tokens = []
    for i in range(n_tokens):
        provider, kind, legacy, access, permissions = rng.choice(kinds)
        org = rng.choice(orgs)
        created = _days(rng, -900, -1)
        expires = None if provider == "pypi" else _maybe(rng, 0.6, _iso(created + timedelta(days=rng.randint(7, 400))))
        resource = (
            {"type": "org", "name": org}
            if legacy
            else {"type": "package" if provider == "npm" else "project", "name": f"@{org}/pkg-{rng.randrange(30)}"}
        )
        tokens.append(
            {
                "id": f"{provider}-{i:05d}",
                "provider": provider,
                "kind": kind,
                "name": f"{provider} token {i}",
                "owner": rng.choice(people),
                "prefix": "npm_" if provider == "npm" else "pypi-",
                "last4": "".join(rng.choice(string.ascii_lowercase + string.digits) for _ in range(4)),
                "legacy": legacy,
                "grants": [{"resource": resource, "permissions": permissions, "access": access}],
                "created_at": _iso(created),
                "expires_at": expires,
                "last_used_at": _maybe(rng, 0.8, _iso(_days(rng, -400, 0))),
                "orgs": [org],
                "stored_in": [
                    {
                        "kind": rng.choice(["github_actions_secret", "ci_variable", "other"]),
                        "location": f"{org}/repo-{j}",
                    }
                    for j in range(rng.choice([0, 0, 1, 2]))
                ],
            }
        )
    return {
        "format": "token-inventory/v1",
        "collected_at": _iso(BASE),
        "orgs": [
            {"provider": "npm", "name": org, "token_policy": "allow_all", "members": people[: len(people) // 2]}
            for org in orgs
        ],
        "tokens": tokens,
    }


GENERATORS = {
    "github": github_inventory,
    "gitlab": gitlab_inventory,
    "huggingface": huggingface_inventory,
    "registries": registries_inventory,
}


def write_inventory(provider: str, directory: Path) -> Path:
    return write_json(GENERATORS[provider](SIZES[provider], SEED), directory / f"{provider}.json")


def audit(inventory: Path, policy_dir: Path | None, report: Path) -> None:
    """The real pipeline: token-auditor audit with a managed OPA."""
    # Run where the inventory is, named relatively: findings name their source file as given.
    command = [sys.executable, "-m", "auditor", "audit", inventory.name, "-f", "json", "-o", str(report)]
    command += ["--fail-on", "never", "--now", NOW, "--no-config"]
    if policy_dir:
        command += ["--policy-dir", str(policy_dir.resolve())]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(command, cwd=inventory.parent, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"differential: audit of {inventory.name} failed ({result.returncode}): {result.stderr}")


def findings_document(report: Path) -> bytes:
    """The JSON report with its findings sorted and counted (nothing in it changes from run to run)."""
    return _canonical(json.loads(report.read_text()))


def _canonical(document: dict) -> bytes:
    document["findings"] = sorted(document["findings"], key=lambda f: json.dumps(f, sort_keys=True))
    by_rule: dict[str, int] = {}
    for finding in document["findings"]:
        by_rule[finding["rule_id"]] = by_rule.get(finding["rule_id"], 0) + 1
    document["differential_counts"] = {"findings": len(document["findings"]), "by_rule": dict(sorted(by_rule.items()))}
    text = json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False)
    return (text + "\n").encode()


def current(provider: str, policy_dir: Path | None = None) -> bytes:
    with tempfile.TemporaryDirectory() as work:
        inventory = write_inventory(provider, Path(work))
        report = Path(work) / "report.json"
        audit(inventory, policy_dir, report)
        return findings_document(report)


def golden(provider: str) -> bytes:
    return gzip.decompress((GOLDEN / f"{provider}.json.gz").read_bytes())


def migrate_schema_2(document: dict) -> dict:
    """A 1.0 golden report in schema 2.0: the two documented renames, nothing else."""
    document["schema_version"] = "2.0"
    for finding in document["findings"]:
        subject = finding["subject"]
        subject["masked"] = subject.pop("fingerprint")
        finding["fails_gate"] = False  # --fail-on never: nothing fails the gate
    return document


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="write the golden files from --policy-dir")
    parser.add_argument("--policy-dir", type=Path, help="policies to audit with (default: policies/)")
    parser.add_argument(
        "--migrate-schema-2", action="store_true", help="apply the schema 2.0 renames to the golden files"
    )
    parser.add_argument("--provider", action="append", choices=sorted(GENERATORS), help="default: all")
    args = parser.parse_args(argv)
    differ = 0
    for provider in args.provider or sorted(GENERATORS):
        if args.migrate_schema_2:
            document = migrate_schema_2(json.loads(golden(provider)))
            document.pop("differential_counts")
            (GOLDEN / f"{provider}.json.gz").write_bytes(gzip.compress(_canonical(document), mtime=0))
            continue
        produced = current(provider, args.policy_dir)
        if args.write:
            GOLDEN.mkdir(parents=True, exist_ok=True)
            # mtime 0: the same findings give the same file
            (GOLDEN / f"{provider}.json.gz").write_bytes(gzip.compress(produced, mtime=0))
            print(f"{provider}: {json.loads(produced)['differential_counts']}")
        elif produced != golden(provider):
            differ += 1
            print(f"{provider}: findings differ from {GOLDEN / provider}.json.gz")
        else:
            print(f"{provider}: identical")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
