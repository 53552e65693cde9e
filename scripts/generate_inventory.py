#!/usr/bin/env python3
"""Synthetic token inventories for the benchmark and for load tests.

A seeded, realistic mix of Hugging Face tokens (`huggingface-inventory/v1`): legacy read/write
tokens, fine-grained tokens scoped to repos and namespaces, org API tokens, OAuth exchanges,
tokens that can no longer be introspected, revoked ones, tokens stored in Space secrets and
variables, CI secrets and notebooks, observed usage, org members, Spaces, and a few planted fake
token values (so the redaction path is exercised). Optionally a provider-neutral
`token-inventory/v1` file of GitHub/GitLab/npm-shaped tokens.

Same arguments and seed → byte-identical output. Nothing here reads the clock.

    python scripts/generate_inventory.py --tokens 10000 --seed 7 -o /tmp/hf.json
    python scripts/generate_inventory.py --tokens 1000 --neutral 500 -o /tmp/hf.json --neutral-output /tmp/n.json
"""

from __future__ import annotations

import argparse
import json
import random
import string
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

# Every date is an offset from this fixed instant, never from the clock.
BASE = datetime(2026, 11, 20, 9, 0, 0, tzinfo=UTC)
COLLECTED_AT = "2026-11-20T09:00:00Z"
ALNUM = string.ascii_letters + string.digits

FINE_GLOBAL = ["discussion.write", "post.write"]
REPO_PERMS = [
    ["repo.content.read"],
    ["repo.content.read"],
    ["repo.content.read", "repo.write"],
    ["repo.content.read", "repo.write", "discussion.write"],
]
NAMESPACE_PERMS = [
    ["repo.content.read"],
    ["repo.content.read", "repo.write"],
    ["repo.content.read", "repo.write", "collection.write"],
]
ORG_ADMIN_PERMS = [
    "org.write",
    "org.members.write",
    "org.serviceAccounts.write",
    "org.networkSecurity.write",
    "resourceGroup.write",
    "org.read",
    "org.members.read",
]
SENSITIVE_PERMS = [
    "inference.endpoints.write",
    "user.webhooks.write",
    "job.write",
    "user.billing.read",
    "inference.serverless.write",
    "user.webhooks.read",
]
CI_KINDS = ["github_actions_secret", "ci_variable", "k8s_secret", "notebook_env", "other"]
WORDS = [
    "sentiment",
    "bert",
    "llama",
    "whisper",
    "vision",
    "chat",
    "embed",
    "rerank",
    "ocr",
    "tts",
    "summarizer",
    "coder",
    "tiny",
    "base",
    "large",
    "qa",
    "ner",
    "translate",
    "diffusion",
    "clip",
]
TOKEN_NAMES = [
    "ci-publish",
    "laptop",
    "colab",
    "space-runtime",
    "eval-bot",
    "nightly-sync",
    "inference",
    "datasets-upload",
    "notebook",
    "deploy",
    "mirror",
    "research",
    "backup",
    "gradio-app",
]


def _iso(moment: datetime, millis: bool = False) -> str:
    if millis:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _hex(rng: random.Random, length: int = 24) -> str:
    return f"{rng.getrandbits(length * 4):0{length}x}"


def _fake_secret(rng: random.Random, prefix: str = "hf_") -> str:
    """A value shaped like a real token (random, never valid) that the loader must redact."""
    return prefix + "".join(rng.choice(ALNUM) for _ in range(34))


class _World:
    """Users, orgs, repos and Spaces the tokens refer to, sized to the token count."""

    def __init__(self, rng: random.Random, n_tokens: int):
        self.rng = rng
        n_orgs = max(2, n_tokens // 400)
        n_users = max(3, n_tokens // 4)
        self.orgs = [f"org-{i:05d}" for i in range(n_orgs)]
        self.users = [f"user-{i:06d}" for i in range(n_users)]
        self.policies = {
            o: rng.choices(["allow_all", "fine_grained_only", "require_approval"], [3, 3, 4])[0] for o in self.orgs
        }
        # Each user belongs to 0-2 orgs; some token owners are later missing from members (left the org).
        self.membership: dict[str, list[str]] = {}
        for user in self.users:
            k = rng.choices([0, 1, 2], [2, 6, 2])[0]
            self.membership[user] = sorted(rng.sample(self.orgs, min(k, len(self.orgs))))
        self.spaces: list[dict] = []
        for i in range(max(2, n_tokens // 10)):
            namespace = rng.choice(self.orgs) if rng.random() < 0.6 else rng.choice(self.users)
            self.spaces.append({"id": f"{namespace}/{rng.choice(WORDS)}-demo-{i}", "private": rng.random() < 0.55})

    def repo(self, namespace: str | None = None) -> tuple[str, str]:
        kind = self.rng.choices(["model", "dataset", "space"], [6, 3, 1])[0]
        owner = namespace or (self.rng.choice(self.orgs) if self.rng.random() < 0.6 else self.rng.choice(self.users))
        return kind, f"{owner}/{self.rng.choice(WORDS)}-{self.rng.choice(WORDS)}-{self.rng.randrange(1000)}"


def _fine_grained(rng: random.Random, world: _World, owner: str, orgs: list[str]) -> dict:
    scoped = []
    for _ in range(rng.choices([1, 2, 3, 5], [5, 3, 2, 1])[0]):
        entity_type, name = world.repo(rng.choice([owner, *orgs]) if rng.random() < 0.7 else None)
        scoped.append(
            {
                "entity": {"_id": _hex(rng), "type": entity_type, "name": name},
                "permissions": list(rng.choice(REPO_PERMS)),
            }
        )
    roll = rng.random()
    if roll < 0.12:  # namespace-wide: every repo of the user or an org
        target = ("org", rng.choice(orgs)) if orgs and rng.random() < 0.6 else ("user", owner)
        scoped.append(
            {
                "entity": {"_id": _hex(rng), "type": target[0], "name": target[1]},
                "permissions": list(rng.choice(NAMESPACE_PERMS)),
            }
        )
    elif roll < 0.17 and orgs:  # org administration
        perms = sorted(set(rng.sample(ORG_ADMIN_PERMS, rng.randint(1, 3))))
        scoped.append({"entity": {"_id": _hex(rng), "type": "org", "name": rng.choice(orgs)}, "permissions": perms})
    elif roll < 0.25:  # spend / persistence
        scoped.append(
            {
                "entity": {"_id": _hex(rng), "type": "user", "name": owner},
                "permissions": sorted(set(rng.sample(SENSITIVE_PERMS, rng.randint(1, 2)))),
            }
        )
    glob = sorted(set(rng.sample(FINE_GLOBAL, rng.randint(0, 2)))) if rng.random() < 0.3 else []
    return {"canReadGatedRepos": rng.random() < 0.2, "global": glob, "scoped": scoped}


def _token(rng: random.Random, world: _World, index: int, planted: set[int]) -> dict:
    kind = rng.choices(
        ["user_access_token", "org_api_token", "oauth_token_exchange", "service_account_token"], [85, 4, 6, 5]
    )[0]
    if kind == "org_api_token":
        owner = rng.choice(world.orgs)
        orgs = [owner]
    else:
        owner = rng.choice(world.users)
        orgs = list(world.membership[owner])
        if rng.random() < 0.03:  # scoped to an org the owner has left
            orgs.append(rng.choice(world.orgs))
    created = BASE - timedelta(days=rng.randint(1, 1400), seconds=rng.randrange(86400))
    roll = rng.random()
    if kind == "org_api_token":
        access = {"displayName": f"org-token-{index}", "role": "write", "createdAt": _iso(created, True)}
    elif roll < 0.2:
        access = {"displayName": rng.choice(TOKEN_NAMES), "role": "read", "createdAt": _iso(created, True)}
    elif roll < 0.32:
        access = {
            "displayName": rng.choice(TOKEN_NAMES),
            "role": rng.choice(["write", "write", "god"]),
            "createdAt": _iso(created, True),
        }
    else:
        access = {
            "displayName": rng.choice(TOKEN_NAMES),
            "role": "fineGrained",
            "createdAt": _iso(created, True),
            "fineGrained": _fine_grained(rng, world, owner, orgs),
        }
    shape = rng.random()
    if shape < 0.05:
        whoami = None  # can no longer be introspected
    elif shape < 0.35:
        whoami = {"auth": {"type": "access_token", "accessToken": access}}  # just the auth object
    else:
        whoami = {
            "type": "user",
            "name": owner,
            "fullname": owner.replace("-", " ").title(),
            "orgs": [{"name": o, "roleInOrg": rng.choice(["read", "write", "admin"])} for o in orgs],
            "auth": {"type": "access_token", "accessToken": access},
        }
    usage_roll = rng.random()
    last_used = (
        None
        if usage_roll < 0.12
        else _iso(
            BASE
            - timedelta(
                days=rng.choices([rng.randint(0, 30), rng.randint(31, 89), rng.randint(90, 700)], [6, 2, 2])[0],
                seconds=rng.randrange(86400),
            )
        )
    )
    facts: dict = {
        "id": _hex(rng),
        "owner": owner,
        "kind": kind,
        "prefix": {"org_api_token": "api_org_", "oauth_token_exchange": "hf_oauth_"}.get(kind, "hf_"),
        "last4": "".join(rng.choice(string.ascii_lowercase + string.digits) for _ in range(4)),
        "created_at": _iso(created),
        "expires_at": None,
        "last_used_at": last_used,
    }
    if kind == "oauth_token_exchange":
        facts["expires_at"] = _iso(created + timedelta(days=rng.choice([1, 7, 30, 90, 2000])))
    if rng.random() < 0.01:
        facts["revoked"] = True
    if orgs and rng.random() < 0.4:
        facts["org_approval_status"] = {
            o: rng.choice(["APPROVED", "APPROVED", "PENDING", "DENIED", None]) for o in orgs
        }
    stored = []
    for _ in range(rng.choices([0, 1, 2, 3], [3, 5, 2, 1])[0]):
        if rng.random() < 0.5:
            space = rng.choice(world.spaces)
            stored.append(
                {
                    "kind": "hf_space_variable" if rng.random() < 0.05 else "hf_space_secret",
                    "location": space["id"],
                    "key": "HF_TOKEN",
                }
            )
        else:
            ci = rng.choice(CI_KINDS)
            stored.append(
                {
                    "kind": ci,
                    "location": f"github.com/{owner}/{rng.choice(WORDS)}-pipeline",
                    "key": rng.choice(["HF_TOKEN", "HUGGINGFACE_TOKEN", "HF_API_KEY"]),
                }
            )
    if stored:
        facts["stored_in"] = stored
    if rng.random() < 0.5:
        usage = []
        for _ in range(rng.randint(1, 3)):
            entity_type, name = world.repo(rng.choice([owner, *orgs]))
            usage.append(
                {
                    "entity": {"type": entity_type, "name": name},
                    "actions": sorted(set(rng.sample(["read", "write", "inference"], rng.randint(1, 2)))),
                }
            )
        facts["observed_usage"] = usage
    if index in planted:  # a careless collector pasted the secret into a free-text field
        facts["name"] = f"copied from .env {_fake_secret(rng)}"
    return {"whoami": whoami, "inventory": facts}


def huggingface_inventory(n_tokens: int, seed: int = 0) -> dict:
    """A `huggingface-inventory/v1` document of n_tokens tokens (an org-wide export)."""
    rng = random.Random(seed)
    world = _World(rng, n_tokens)
    planted = set(rng.sample(range(n_tokens), min(n_tokens, max(1, n_tokens // 5000)))) if n_tokens else set()
    tokens = [_token(rng, world, i, planted) for i in range(n_tokens)]
    admin = world.users[0]
    members = []
    for user in world.users:
        for org in world.membership[user]:
            members.append(
                {"org": org, "user": user, "role": rng.choice(["read", "contributor", "write", "admin", "read"])}
            )
    spaces = []
    for i, space in enumerate(world.spaces):
        entry: dict = {
            "info": {"id": space["id"], "private": space["private"], "sdk": "gradio"},
            "secrets": {"HF_TOKEN": {"description": None, "updatedAt": _iso(BASE - timedelta(days=i % 400))}},
            "variables": {"MODEL_REPO_ID": {"value": world.repo()[1], "description": None, "updatedAt": None}},
        }
        if i % 997 == 3:  # a token pasted into a public variable
            entry["variables"]["HF_TOKEN"] = {"value": _fake_secret(rng), "description": None, "updatedAt": None}
        spaces.append(entry)
    return {
        "format": "huggingface-inventory/v1",
        "collected_at": COLLECTED_AT,
        "account": {
            "name": admin,
            "type": "user",
            "orgs": [{"name": o, "roleInOrg": "admin", "plan": "enterprise"} for o in world.membership[admin]],
        },
        "org_policies": [{"org": o, "token_policy": world.policies[o]} for o in world.orgs],
        "members": members,
        "tokens": tokens,
        "spaces": spaces,
    }


def neutral_inventory(n_tokens: int, seed: int = 0) -> dict:
    """A `token-inventory/v1` document: GitHub/GitLab/npm-shaped tokens in the normalized model."""
    rng = random.Random(seed + 1_000_003)
    orgs = [f"corp-{i:03d}" for i in range(max(2, n_tokens // 500))]
    tokens = []
    for i in range(n_tokens):
        provider, kind, prefix = rng.choice(
            [
                ("github", "classic_pat", "ghp_"),
                ("github", "fine_grained_pat", "github_pat_"),
                ("gitlab", "personal_access_token", "glpat-"),
                ("npm", "automation", "npm_"),
            ]
        )
        owner = f"dev-{rng.randrange(max(3, n_tokens // 4)):06d}"
        org = rng.choice(orgs)
        legacy = kind == "classic_pat"
        scopes = (
            sorted(
                set(
                    rng.sample(
                        ["repo", "read:org", "admin:org", "workflow", "write:packages", "read_api", "api"],
                        rng.randint(1, 3),
                    )
                )
            )
            if legacy
            else []
        )
        grants = (
            []
            if legacy
            else [
                {
                    "resource": {"type": "repository", "name": f"{org}/svc-{rng.randrange(500)}"},
                    "permissions": rng.choice(
                        [["contents:read"], ["contents:write"], ["contents:read", "metadata:read"]]
                    ),
                }
            ]
        )
        created = BASE - timedelta(days=rng.randint(1, 900))
        tokens.append(
            {
                "id": f"{provider}-{_hex(rng, 12)}",
                "provider": provider,
                "kind": kind,
                "name": f"{rng.choice(TOKEN_NAMES)}-{i}",
                "owner": owner,
                "prefix": prefix,
                "last4": "".join(rng.choice(string.ascii_lowercase + string.digits) for _ in range(4)),
                "legacy": legacy,
                "org_wide": rng.random() < 0.05,
                "grants": grants,
                "scopes": scopes,
                "created_at": _iso(created),
                "expires_at": None if rng.random() < 0.5 else _iso(created + timedelta(days=rng.choice([30, 90, 365]))),
                "last_used_at": None if rng.random() < 0.1 else _iso(BASE - timedelta(days=rng.randint(0, 400))),
                "active": rng.random() > 0.01,
                "orgs": [org],
                "stored_in": [
                    {
                        "kind": "github_actions_secret",
                        "location": f"github.com/{org}/svc",
                        "key": "TOKEN",
                        "public": False,
                    }
                ]
                if rng.random() < 0.4
                else [],
            }
        )
    return {
        "format": "token-inventory/v1",
        "collected_at": COLLECTED_AT,
        "tokens": tokens,
        "orgs": [{"provider": "github", "name": o, "token_policy": None, "members": None} for o in orgs],
    }


def write_json(document: dict, path: str | Path) -> Path:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "w", encoding="utf-8") as out:
        json.dump(document, out, separators=(",", ":"), ensure_ascii=False)
        out.write("\n")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, required=True, help="Hugging Face tokens to generate")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("-o", "--output", required=True, help="huggingface-inventory/v1 JSON file to write")
    parser.add_argument("--neutral", type=int, default=0, help="also generate this many token-inventory/v1 tokens")
    parser.add_argument("--neutral-output", help="where to write the token-inventory/v1 file")
    args = parser.parse_args(argv)
    if args.tokens < 0 or args.neutral < 0:
        parser.error("token counts must be >= 0")
    if args.neutral and not args.neutral_output:
        parser.error("--neutral needs --neutral-output")
    write_json(huggingface_inventory(args.tokens, args.seed), args.output)
    if args.neutral:
        write_json(neutral_inventory(args.neutral, args.seed), args.neutral_output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
