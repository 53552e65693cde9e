"""One remediation plan per token: the narrowest set of new credentials that fixes all of its findings at once.

Plans are built here, in Python, from what the policies already decided: each finding's recommendation and its
replacement spec (lib/replacement, Rego) and the token's facts. A plan needs only one token's findings, so this
runs after the chunked OPA evaluation without changing it, and `token-auditor plan REPORT.json` rebuilds plans
from any saved report (also from reports written before plans existed) without OPA.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from auditor.findings.finding import severity_rank
from auditor.plan.catalogue import RANK, Catalogue
from auditor.plan.validate import credential_problems
from auditor.registry import registry
from auditor.report.model import subject_identity

KEEP_ADMIN_DAYS = 7  # an admin-rated permission the job needs is kept only on the shortest usual expiry
REVOKE_RULES = ("expired-token", "never-used-token", "stale-token")
ROTATE_RULES = ("unrotated-token", "long-lived", "raw-secret-in-inventory")
APP_KINDS = ("oauth_app_token", "github_app_user_token", "github_app_installation", "oauth_token_exchange")

# What a token's name or storage key says it is for, and the admin-rated permissions that purpose needs.
# Only these ever keep an admin-rated permission; anything else is asked about (no evidence) or dropped.
PURPOSES: dict[str, list[tuple[str, str, tuple[str, ...]]]] = {
    "github": [
        (
            r"secret",
            "manages Actions secrets",
            ("secrets", "organization_secrets", "dependabot_secrets", "codespaces_secrets"),
        ),
        (r"member|team|invite|onboard|offboard", "manages organization members", ("members",)),
        (r"branch.?protect|ruleset|repo.?settings|repo.?admin", "administers repository settings", ("administration",)),
        (
            r"pat.?review|token.?review|token.?approv",
            "reviews fine-grained token requests",
            ("organization_personal_access_tokens", "organization_personal_access_token_requests"),
        ),
    ],
    "huggingface": [
        (r"member|invite", "manages organization members", ("org.members.write",)),
        (r"service.?account", "manages service accounts", ("org.serviceAccounts.write",)),
        (r"billing", "manages billing", ("org.billing.write",)),
    ],
}


def plan_id(token_key: str) -> str:
    return "plan-" + hashlib.sha256(token_key.encode()).hexdigest()[:12]


def token_key_of(finding: dict) -> str | None:
    """The token a finding is about: its subject, or the token a leaked value belongs to."""
    subject = finding.get("subject") or {}
    if subject.get("type") == "token":
        return subject.get("key")
    if subject.get("type") == "secret":
        return subject.get("token")
    return None


def build_plans(findings: list[dict], tokens: list[dict], now: str, catalogue: Catalogue) -> list[dict]:
    by_key = {t["key"]: t for t in tokens}
    grouped: dict[str, list[dict]] = defaultdict(list)
    for finding in findings:
        key = token_key_of(finding)
        if key is None:  # about an organization or instance, not one token
            continue
        if key not in by_key and (finding.get("subject") or {}).get("type") == "token":
            by_key[key] = _token_from_subject(finding)  # e.g. a pending request: not a token (yet)
        if key in by_key:
            grouped[key].append(finding)
    return [Planner(by_key[key], grouped[key], now, catalogue).plan() for key in sorted(grouped)]


def attach_plans(data: dict, tokens: list[dict], catalogue: Catalogue) -> None:
    """Put plans into a report document and the plan id on each finding it covers."""
    plans = build_plans(data["findings"], tokens, data["now"], catalogue)
    ids = {p["token"]["key"]: p["id"] for p in plans}
    for finding in data["findings"]:
        finding["plan_id"] = ids.get(token_key_of(finding))
    data["plans"] = plans


def _token_from_subject(finding: dict) -> dict:
    subject = finding["subject"]
    replacement = (finding.get("recommendation") or {}).get("replacement") or {}
    owner_org = replacement.get("resource_owner")
    return {
        **subject_identity(subject),
        "orgs": [owner_org] if owner_org else [],
        "grants": [],
        "global_permissions": [],
        "scopes": [],
        "stored_in": [],
        "observed_usage": [],
    }


def _clone(value):
    """A copy of JSON data (several times faster than copy.deepcopy, which plans call per token)."""
    if isinstance(value, dict):
        return {k: _clone(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clone(v) for v in value]
    return value


def _date(now: str, days: int) -> str:
    moment = datetime.strptime(now[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    return (moment + timedelta(days=days)).strftime("%Y-%m-%d")


def _places(token: dict) -> list[dict]:
    seen, places = set(), []
    for place in token.get("stored_in") or []:
        identity = (place.get("kind"), place.get("location"))
        if identity not in seen:
            seen.add(identity)
            places.append(
                {
                    "kind": place.get("kind"),
                    "location": place.get("location"),
                    "key": place.get("key"),
                    "public": place.get("public"),
                }
            )
    return sorted(places, key=lambda p: (str(p["kind"]), str(p["location"])))


def _masked(token: dict) -> str:
    return token.get("masked") or token.get("id") or token["key"]


def _label(token: dict) -> str:
    return f'"{token["name"]}"' if token.get("name") else token.get("id") or token["key"]


class Planner:
    def __init__(self, token: dict, findings: list[dict], now: str, catalogue: Catalogue):
        self.token = token
        self.findings = sorted(findings, key=lambda f: (severity_rank(f["severity"]), f["rule_id"]))
        self.now = now
        self.catalogue = catalogue
        self.provider = token["provider"]
        self.entry = catalogue.of(self.provider)
        self.rules = sorted({f["rule_id"] for f in findings})
        self.places = _places(token)
        self.questions: list[str] = []
        self.decisions: list[dict] = []
        self.kept_admin: list[str] = []  # admin-rated permissions kept on purpose (each with a decision saying why)

    # -- the plan -------------------------------------------------------------------------------------------
    def plan(self) -> dict:
        kind = self.token.get("kind")
        credentials: list[dict]
        if kind == "fine_grained_pat_request":
            action, summary, credentials = "deny", self._deny_summary(), []
            self._base_spec()  # its question is what the requester is asked to request instead
        elif kind in APP_KINDS:
            action, credentials = "restrict-app", []
            summary = (
                "Restrict or remove the app's authorization; a personal token does not replace an app, "
                "so the advice concerns the app and its access restrictions"
            )
        elif set(self.rules) & set(REVOKE_RULES) or ("owner-not-member" in self.rules and not self._in_use()):
            action, credentials = "revoke", []
            summary = self._revoke_summary()
        elif set(self.rules) <= set(ROTATE_RULES):
            action, credentials = "rotate", []
            summary = "Rotate it: a new value with the same permissions and an expiry within the allowed lifetime"
        elif set(self.rules) <= {"unknown-permission"}:
            action, credentials = "review", []
            summary = "Find out what the unknown permission or credential type is before changing anything"
            self.questions.append(f"What does {_label(self.token)} do, and what is {', '.join(self._unknown())}?")
        else:
            action = "replace"
            credentials = self._credentials()
            summary = self._replace_summary(credentials)
            for finding in self.findings:
                if finding["rule_id"] == "owner-not-member":
                    org = (finding.get("evidence") or {}).get("org") or "the organization"
                    self.questions.append(
                        f"{self.token.get('owner')} is not a member of {org}: which member, or "
                        "which app or service account, owns the new credentials?"
                    )
        plan = {
            "id": plan_id(self.token["key"]),
            "token": {
                name: self.token.get(name)
                for name in ("key", "id", "provider", "kind", "name", "owner", "masked", "revoke_id")
                if self.token.get(name) is not None
            },
            "action": action,
            "summary": summary,
            "severity": self.findings[0]["severity"],
            "rules": self.rules,
            "findings": [f.get("fingerprint") for f in self.findings],
            "credentials": credentials,
            "decisions": self.decisions,
            "questions": list(dict.fromkeys(self.questions)),
        }
        plan["steps"] = self._steps(plan)
        from auditor.plan.emit import requests_for

        plan["requests"] = requests_for(plan, self.token, self.catalogue, self.now)
        plan["problems"] = [
            f"{c['id']}: {p}"
            for c in credentials
            for p in credential_problems(c, self.catalogue, tuple(self.kept_admin))
            + exceeds_today(c, self.token, self.catalogue)
        ]
        return plan

    def _in_use(self) -> bool:
        return bool(self.token.get("stored_in") or self.token.get("observed_usage"))

    def _unknown(self) -> list[str]:
        names = []
        for f in self.findings:
            if f["rule_id"] == "unknown-permission":
                evidence = f.get("evidence") or {}
                names += [str(v) for v in evidence.get("unknown") or []]
                if evidence.get("credential_type"):
                    names.append(f"a {evidence['credential_type']} credential")
        return sorted(set(names)) or ["the unknown entry"]

    def _deny_summary(self) -> str:
        return "Deny the request; ask the requester to request only the repositories and permissions the job needs"

    def _revoke_summary(self) -> str:
        if "expired-token" in self.rules:
            return "Remove the expired token; it no longer works"
        if "owner-not-member" in self.rules:
            return "Revoke it: its owner is not a member and nothing shows it in use"
        return "Revoke it: nothing uses it, so no replacement is needed"

    def _replace_summary(self, credentials: list[dict]) -> str:
        count = len(credentials)
        if count and credentials[0]["type"] == "github_app":
            return "Move the job to a GitHub App with only the permissions it needs, then revoke the token"
        if count > 1:
            return (
                f"Replace it with {count} credentials, one for each place it is stored, each with only what "
                "that place needs; then revoke it"
            )
        return "Replace it with one credential holding only what the job needs, then revoke it"

    # -- credentials ----------------------------------------------------------------------------------------
    def _base_spec(self) -> dict:
        for finding in self.findings:
            replacement = (finding.get("recommendation") or {}).get("replacement")
            if isinstance(replacement, dict) and "needs_owner_input" in replacement:
                spec = _clone(replacement)
                if spec.get("needs_owner_input") and spec.get("question"):
                    self.questions.append(spec["question"])
                return spec
        return self._current_spec()

    def _current_spec(self) -> dict:
        """Today's permissions (admin-rated ones decided below), with an expiry: the spec when no rule proposed one."""
        token, days = self.token, self.catalogue.lifetime_days
        if self.provider == "github":
            pairs = {
                name: level
                for name, level in _github_held(token, self.entry).items()
                if self.catalogue.access_of("github", f"{name}:{level}") != "admin"
            }
            return {
                "type": "fine_grained_pat",
                "resource_owner": (token.get("orgs") or [token.get("owner")])[0],
                "repository_selection": "subset",
                "repositories": _github_repos(token),
                "permissions": self._group(pairs),
                "expires_in_days": days,
                "expires_at": _date(self.now, days),
                "derived_from": "grants",
                "needs_owner_input": False,
            }
        if self.provider == "gitlab":
            level = _gitlab_level(token, self.entry)
            scopes = {s for s in token.get("scopes") or [] if self.catalogue.access_of("gitlab", s) != "admin"}
            return {
                "token_type": token.get("kind"),
                "scopes": sorted(scopes | {"self_rotate"}),
                "access_level": 40 if level == 50 else level,
                "expires_in_days": days,
                "expires_at": _date(self.now, days),
                "self_rotate": True,
                "derived_from": "scopes",
                "needs_owner_input": False,
            }
        if self.provider == "huggingface":
            scoped = [
                {"entity": g["resource"], "permissions": kept}
                for g in token.get("grants") or []
                if (
                    kept := sorted(
                        p for p in g.get("permissions") or [] if self.catalogue.access_of("huggingface", p) != "admin"
                    )
                )
            ]
            return {
                "scoped": scoped,
                "global": sorted(token.get("global_permissions") or []),
                "canReadGatedRepos": False,
                "derived_from": "grants",
                "needs_owner_input": False,
            }
        question = (
            f"Which resources does {_label(token)} (owner {token.get('owner')}) need, with which "
            "permissions, and for how long?"
        )
        self.questions.append(question)
        return {"needs_owner_input": True, "derived_from": "none", "question": question}

    def _group(self, pairs: dict) -> dict:
        groups = self.entry.get("permission_groups") or {}
        grouped: dict[str, dict] = {}
        for name, level in sorted(pairs.items()):
            grouped.setdefault(groups.get(name, "repository"), {})[name] = level
        return grouped

    def _credentials(self) -> list[dict]:
        base = self._base_spec()
        kept = self._decide_admin(base)
        if "sensitive-permission" in self.rules:
            self._decide_sensitive(base)
        github_app = self.provider == "github" and bool(kept) and _automation(self.token, self.entry)
        split = "token-reuse" in self.rules and len(self.places) >= 2 and not github_app
        groups = [[p] for p in self.places] if split else [self.places]
        credentials = []
        for index, places in enumerate(groups, start=1):
            spec = _clone(base)
            public = [p for p in places if self._public(p)]
            if public:
                spec = self._read_only(spec)
            if kept:
                spec = self._with_kept(spec, kept, github_app)
            spec = self._within_today(spec)
            spec = self._grantable(spec)
            credential = {
                "id": f"{plan_id(self.token['key'])}/{index}",
                "provider": self.provider,
                "type": self._type(spec, github_app),
                "name": self._name(places if split else []),
                "for": places,
                **{k: v for k, v in spec.items() if k not in ("question", "type")},
            }
            if public:
                credential["read_only_because"] = (
                    f"{', '.join(p['location'] for p in public)} is readable by anyone: it gets read access only "
                    "(make it private first if it must write)"
                )
            credentials.append(credential)
        return credentials

    def _within_today(self, spec: dict) -> dict:
        """Leave out (and say so) anything a proposed spec would grant beyond what the token holds today."""
        probe = {"provider": self.provider, **spec}
        if not exceeds_today(probe, self.token, self.catalogue):
            return spec
        left_out: list[str] = []
        if self.provider == "github" and isinstance(spec.get("permissions"), dict):
            held = _github_held(self.token, self.entry)
            for group, perms in list(spec["permissions"].items()):
                for name, level in list(perms.items()):
                    single = {"provider": "github", "permissions": {group: {name: level}}}
                    if exceeds_today(single, self.token, self.catalogue):
                        left_out.append(f"{name}: {level}")
                        if held.get(name) == "read" and f"{name}:read" in (self.entry.get("permissions") or {}):
                            perms[name] = "read"
                        else:
                            del perms[name]
            spec["permissions"] = {g: p for g, p in spec["permissions"].items() if p}
        if self.provider == "github" and isinstance(spec.get("scopes"), list):
            held_scopes = self.token.get("scopes") or []
            left_out += [s for s in spec["scopes"] if s not in held_scopes]
            spec["scopes"] = [s for s in spec["scopes"] if s in held_scopes]
        if self.provider == "gitlab":
            for scope in list(spec.get("scopes") or []):
                if exceeds_today({"provider": "gitlab", "scopes": [scope]}, self.token, self.catalogue):
                    left_out.append(scope)
                    spec["scopes"] = [s for s in spec["scopes"] if s != scope]
            today = _gitlab_level(self.token, self.entry)
            if spec.get("access_level") is not None and today is not None and spec["access_level"] > today:
                left_out.append(f"access level {spec['access_level']}")
                spec["access_level"] = today
        elif self.provider == "huggingface":
            scoped = []
            for entry in spec.get("scoped") or []:
                kept = []
                for permission in entry.get("permissions") or []:
                    single = {
                        "provider": "huggingface",
                        "scoped": [{"entity": entry["entity"], "permissions": [permission]}],
                    }
                    if exceeds_today(single, self.token, self.catalogue):
                        left_out.append(f"{permission} on {entry['entity'].get('type')} {entry['entity'].get('name')}")
                    else:
                        kept.append(permission)
                if kept:
                    scoped.append({**entry, "permissions": kept})
            spec["scoped"] = scoped
        if left_out:
            spec["left_out_not_held_today"] = sorted(set(left_out))
            self.questions.append(
                f"{_label(self.token)} does not hold {', '.join(sorted(set(left_out)))} today, so "
                "the new credential leaves it out: which resources does the job really need?"
            )
        return spec

    def _grantable(self, spec: dict) -> dict:
        """Leave out (and say so) what a fine-grained Hugging Face token cannot be granted where the token holds it
        today: a legacy role (role.read) or a user or org permission recorded on a repository."""
        if self.provider != "huggingface" or not isinstance(spec.get("scoped"), list):
            return spec
        reg = registry("huggingface")
        offered, repo_types = reg.get("permissions") or {}, set(reg.get("repo_entity_types") or [])
        left_out, scoped = [], []
        for entry in spec["scoped"]:
            entity = entry.get("entity") or {}
            where = "repo" if entity.get("type") in repo_types else entity.get("type")
            kept = [p for p in entry.get("permissions") or [] if where in (offered.get(p) or {}).get("on", [])]
            left_out += [
                f"{p} on {entity.get('type')} {entity.get('name')}"
                for p in entry.get("permissions") or []
                if p not in kept
            ]
            if kept:
                scoped.append({**entry, "permissions": kept})
        spec["scoped"] = scoped
        if isinstance(spec.get("global"), list):
            left_out += [
                f"{p} (global)" for p in spec["global"] if "global" not in (offered.get(p) or {}).get("on", [])
            ]
            spec["global"] = [p for p in spec["global"] if "global" in (offered.get(p) or {}).get("on", [])]
        if left_out:
            spec["left_out_not_grantable"] = sorted(set(left_out))
            self.questions.append(
                f"{_label(self.token)} holds {', '.join(sorted(set(left_out)))} today, which a "
                "fine-grained token cannot be granted there, so the new credential leaves it out: "
                "what does the job need instead?"
            )
        return spec

    def _type(self, spec: dict, github_app: bool) -> str:
        if github_app:
            return "github_app"
        if self.provider == "github":
            return spec.get("type") or "fine_grained_pat"
        if self.provider == "gitlab":
            return spec.get("token_type") or self.token.get("kind") or "token"
        if self.provider == "huggingface":
            # the registry's token types: a fine-grained token is a user access token with the fineGrained role
            return spec.get("type") or (
                "service_account_token" if self.token.get("kind") == "service_account_token" else "user_access_token"
            )
        return self.token.get("kind") or "token"

    def _name(self, places: list[dict]) -> str:
        base = self.token.get("name") or f"{self.token.get('kind')}-{self.token.get('id')}"
        if not places:
            return base
        return f"{base}-{re.sub(r'[^A-Za-z0-9._-]+', '-', places[0]['location'] or 'place').strip('-')}"

    def _public(self, place: dict) -> bool:
        if place.get("public") is True:
            return True
        for catalogue in self.catalogue.providers.values():
            if (catalogue.get("storage_kinds") or {}).get(place.get("kind")) == "public_variable":
                return True
        return False

    def _read_only(self, spec: dict) -> dict:
        if self.provider == "github" and isinstance(spec.get("permissions"), dict):
            known = self.entry.get("permissions") or {}
            spec["permissions"] = {
                group: {name: "read" for name in perms if f"{name}:read" in known}
                for group, perms in spec["permissions"].items()
            }
            spec["permissions"] = {g: p for g, p in spec["permissions"].items() if p}
        elif self.provider == "gitlab" and isinstance(spec.get("scopes"), list):
            swap = {
                "api": "read_api",
                "write_repository": "read_repository",
                "write_registry": "read_registry",
                "write_virtual_registry": "read_virtual_registry",
            }
            spec["scopes"] = sorted(
                {swap.get(s, s) for s in spec["scopes"] if self.catalogue.access_of("gitlab", swap.get(s, s)) == "read"}
            )
            if spec.get("access_level") is not None:
                spec["access_level"] = min(spec["access_level"], 20)
        elif self.provider == "huggingface" and isinstance(spec.get("scoped"), list):
            scoped = []
            for entry in spec["scoped"]:
                permissions = [
                    p
                    for p in entry.get("permissions") or []
                    if self.catalogue.access_of("huggingface", p) == "read" and "inference" not in p
                ]
                if permissions:
                    scoped.append({**entry, "permissions": permissions})
            spec["scoped"] = scoped
        return spec

    # -- admin-rated permissions ----------------------------------------------------------------------------
    def _evidence_text(self) -> str:
        names = [self.token.get("name") or ""] + [p.get("key") or "" for p in self.places]
        return " ".join(n for n in names if n)

    def _held_admin(self) -> list[tuple[str, str]]:
        """(display name, permission) of every admin-rated thing the token holds."""
        token, found = self.token, []
        if self.provider == "github":
            for name, level in sorted(_github_held(token, self.entry).items()):
                if self.catalogue.access_of("github", f"{name}:{level}") == "admin":
                    found.append((f"{name}: {level}", f"{name}:{level}"))
            mapped = self.entry.get("classic_to_fine_grained") or {}
            for scope in token.get("scopes") or []:
                if self.catalogue.access_of("github", scope) == "admin" and not mapped.get(scope):
                    found.append((scope, scope))
        elif self.provider == "gitlab":
            for scope in token.get("scopes") or []:
                if self.catalogue.access_of("gitlab", scope) == "admin":
                    found.append((scope, scope))
            if _gitlab_level(token, self.entry) == 50:
                found.append(("access_level owner (50)", "access_level:owner"))
        elif self.provider == "huggingface":
            for grant in token.get("grants") or []:
                for permission in grant.get("permissions") or []:
                    if self.catalogue.access_of("huggingface", permission) == "admin":
                        found.append(
                            (
                                f"{permission} on {grant['resource'].get('type')} {grant['resource'].get('name')}",
                                permission,
                            )
                        )
        return sorted(set(found))

    def _decide_admin(self, base: dict) -> list[str]:
        """Keep what the job's purpose needs, ask where nothing shows the purpose, drop the rest; never silently."""
        held = self._held_admin()
        if not held:
            return []
        evidence = self._evidence_text()
        purposes = [
            (why, needs)
            for pattern, why, needs in PURPOSES.get(self.provider, [])
            if re.search(pattern, evidence, re.IGNORECASE)
        ]
        usage = bool(self.token.get("observed_usage"))
        automation = self.provider == "github" and _automation(self.token, self.entry)
        kept = []
        for shown, permission in held:
            name = permission.split(":")[0]
            reasons = [why for why, needs in purposes if name in needs or permission in needs]
            if reasons:
                via = "github_app" if automation else "named_resources"
                if via == "github_app":
                    limit = (
                        "it serves automation, so it moves to a GitHub App whose installation tokens expire "
                        "after an hour and belong to no person"
                    )
                elif self.token.get("expiry_supported") is False:
                    limit = "kept only on the resources it is granted on today (this kind of token cannot expire)"
                else:
                    limit = f"kept only on the named resources, expiring after {KEEP_ADMIN_DAYS} days"
                because = f"the token's name or storage key ({evidence}) says it {reasons[0]}, which needs it; {limit}"
                self.decisions.append(
                    {"permission": shown, "rating": "admin", "decision": "keep", "via": via, "because": because}
                )
                kept.append(permission)
                self.kept_admin.append(permission)
            elif usage or purposes:
                self.decisions.append(
                    {
                        "permission": shown,
                        "rating": "admin",
                        "decision": "drop",
                        "via": None,
                        "because": "what the token is seen doing "
                        + ("(observed usage)" if usage else f"({purposes[0][0]})")
                        + " does not need it",
                    }
                )
            else:
                self.decisions.append(
                    {
                        "permission": shown,
                        "rating": "admin",
                        "decision": "ask",
                        "via": None,
                        "because": "nothing shows what the token does (no observed usage, no purpose "
                        "in its name): left out of the new credential until its owner says the job "
                        "needs it",
                    }
                )
                where = (
                    "only on the named repositories with a {d}-day expiry, or to a GitHub App"
                    if self.provider == "github"
                    else "only on the named resources with a {d}-day expiry"
                )
                self.questions.append(
                    f"Does the job of {_label(self.token)} need {shown}? If it does, it is granted "
                    f"{where.format(d=KEEP_ADMIN_DAYS)}; if not, it is left out."
                )
        return kept

    def _usage_needs(self) -> set[str]:
        """Permission strings (provider form) that observed usage needs."""
        table = self.entry.get("usage_permissions") or self.entry.get("usage_scopes") or {}
        needs: set[str] = set()
        for usage in self.token.get("observed_usage") or []:
            for action in usage.get("actions") or []:
                entry = table.get(action)
                if isinstance(entry, dict) and "scopes" in entry:
                    needs |= set(entry["scopes"])
                elif isinstance(entry, dict):
                    needs |= {f"{n}:{level}" for n, level in entry.items()}
                elif isinstance(entry, list):
                    needs |= set(entry)
        return needs

    def _decide_sensitive(self, spec: dict) -> None:
        """Spend or persistence permissions (sensitive-permission): kept where usage needs them, else asked."""
        sensitive = set(self.entry.get("sensitive") or [])
        needs, usage = self._usage_needs(), bool(self.token.get("observed_usage"))

        def decide(permission: str, shown: str) -> bool:
            if permission not in sensitive:
                return True
            if permission in needs:
                self.decisions.append(
                    {
                        "permission": shown,
                        "rating": "sensitive",
                        "decision": "keep",
                        "via": None,
                        "because": "observed usage needs it",
                    }
                )
                return True
            decision = "drop" if usage else "ask"
            self.decisions.append(
                {
                    "permission": shown,
                    "rating": "sensitive",
                    "decision": decision,
                    "via": None,
                    "because": "observed usage does not need it"
                    if usage
                    else "nothing shows the job needs it: left out until its owner says it does",
                }
            )
            if not usage:
                self.questions.append(
                    f"Does the job of {_label(self.token)} need {shown}? It is left out unless it does."
                )
            return False

        if isinstance(spec.get("permissions"), dict):
            spec["permissions"] = {
                g: {n: level for n, level in perms.items() if decide(f"{n}:{level}", f"{n}: {level}")}
                for g, perms in spec["permissions"].items()
            }
            spec["permissions"] = {g: p for g, p in spec["permissions"].items() if p}
        if isinstance(spec.get("scopes"), list):
            spec["scopes"] = [s for s in spec["scopes"] if decide(s, s)]
        if isinstance(spec.get("scoped"), list):
            for entry in spec["scoped"]:
                entry["permissions"] = [p for p in entry.get("permissions") or [] if decide(p, p)]
            spec["scoped"] = [e for e in spec["scoped"] if e["permissions"]]

    def _with_kept(self, spec: dict, kept: list[str], github_app: bool) -> dict:
        if self.provider == "github":
            groups = self.entry.get("permission_groups") or {}
            permissions = spec.setdefault("permissions", {})
            for permission in kept:
                if ":" not in permission:
                    continue
                name, level = permission.split(":", 1)
                permissions.setdefault(groups.get(name, "repository"), {})[name] = level
            if github_app:
                spec = {
                    "installed_on": spec.get("resource_owner"),
                    "repository_selection": "selected",
                    "repositories": spec.get("repositories") or _github_repos(self.token),
                    "permissions": permissions,
                    "derived_from": spec.get("derived_from"),
                    "needs_owner_input": spec.get("needs_owner_input", False),
                }
            else:
                spec["expires_in_days"] = KEEP_ADMIN_DAYS
                spec["expires_at"] = _date(self.now, KEEP_ADMIN_DAYS)
            if not spec.get("repositories"):
                self.questions.append(
                    f"Which repositories does {_label(self.token)} manage? The admin-rated "
                    "permissions it keeps are granted on those only."
                )
        elif self.provider == "huggingface":
            scoped = spec.setdefault("scoped", [])
            for grant in self.token.get("grants") or []:
                extra = [p for p in grant.get("permissions") or [] if p in kept]
                if extra:
                    for entry in scoped:
                        if entry.get("entity") == grant["resource"]:
                            entry["permissions"] = sorted(set(entry["permissions"]) | set(extra))
                            break
                    else:
                        scoped.append({"entity": grant["resource"], "permissions": sorted(extra)})
        return spec

    # -- steps ----------------------------------------------------------------------------------------------
    def _steps(self, plan: dict) -> list[dict]:
        steps: list[dict] = []

        def add(kind: str, text: str, credential: str | None = None) -> None:
            steps.append({"order": len(steps) + 1, "kind": kind, "text": text, "credential": credential})

        token, masked = self.token, _masked(self.token)
        for finding in self.findings:
            if finding["rule_id"] == "raw-secret-in-inventory":
                source = finding.get("source") or {}
                add(
                    "purge",
                    f"Delete the token value from {source.get('file')} at {source.get('pointer')}; "
                    f"it stays valid until {masked} is revoked below",
                )
        action = plan["action"]
        if action == "deny":
            add("deny", f"Deny the pending request {token.get('id')} of {token.get('owner')}")
            for question in plan["questions"]:
                add("ask", f"Ask {token.get('owner')} to request instead only what this answers: {question}")
            return steps
        for question in plan["questions"]:
            add("ask", f"Ask {token.get('owner')}: {question}")
        if action == "restrict-app":
            add(
                "restrict",
                "Review the app's access: limit it to the repositories it needs, or remove its "
                f"authorization of {token.get('owner')} if the app is not needed",
            )
            return steps
        if action == "review":
            return steps
        if action == "rotate":
            add("rotate", f"Rotate {masked}: new value, same permissions, expiring within the allowed lifetime")
            self._store_steps(add, [{"id": None, "for": self.places}], "the rotated value")
            add("verify", f"Check that usage has moved: the old value of {masked} is rejected and every place works")
            return steps
        if action == "revoke":
            for place in self.places:
                add(
                    "store",
                    f"Remove {masked} from {place['kind']} {place['location']}"
                    + (f" ({place['key']})" if place.get("key") else ""),
                )
            add("revoke", f"Revoke {masked}")
            return steps
        for credential in plan["credentials"]:
            add("create", describe(credential), credential["id"])
        for credential in plan["credentials"]:
            self._store_steps(add, [credential], credential["id"])
        add(
            "verify",
            f"Check that usage has moved: once every place holds its new credential, {masked} shows no "
            f"new use (last used {token.get('last_used_at') or 'never'}) in the provider's audit log or "
            "the next export",
        )
        add("revoke", f"Revoke {masked}")
        return steps

    def _store_steps(self, add, credentials: list[dict], what: str) -> None:
        masked = _masked(self.token)
        for credential in credentials:
            places = credential.get("for") or []
            if not places:
                add(
                    "store",
                    f"Put the new {'credential ' + what if what.startswith('plan-') else what} where "
                    f"{masked} is used today (the inventory lists no place: ask "
                    f"{self.token.get('owner')})",
                    credential.get("id"),
                )
            for place in places:
                key = f" ({place['key']})" if place.get("key") else ""
                how = (
                    " as a secret, not a plain-text variable"
                    if self._public(place) and "variable" in str(place.get("kind"))
                    else ""
                )
                if credential.get("type") == "github_app":
                    add(
                        "store",
                        f"In {place['kind']} {place['location']}{key}, store the App's ID and private key as "
                        "secrets and mint an installation token per run (actions/create-github-app-token) "
                        f"instead of {masked}",
                        credential.get("id"),
                    )
                else:
                    add(
                        "store",
                        f"Store {'credential ' + what if what.startswith('plan-') else what} in "
                        f"{place['kind']} {place['location']}{key}{how} in place of "
                        f"{masked}",
                        credential.get("id"),
                    )


def describe(credential: dict) -> str:
    """One line naming every field of a planned credential."""
    provider, kind = credential["provider"], credential["type"]
    if kind == "github_app":
        return (
            f"Register a GitHub App owned by {credential.get('installed_on')} with {_github_perms(credential)}, "
            f"install it on {', '.join(credential.get('repositories') or []) or 'the repositories the owner names'}"
            " only"
        )
    if provider == "github" and kind == "classic_pat":
        return (
            f'Create a personal access token (classic) "{credential["name"]}" with only the scopes '
            f"{', '.join(credential.get('scopes') or [])}, expiring on {credential.get('expires_at')}"
        )
    if provider == "github":
        return (
            f'Create a fine-grained personal access token "{credential["name"]}": resource owner '
            f"{credential.get('resource_owner')}, only repositories "
            f"{', '.join(credential.get('repositories') or []) or '(those the owner names)'}, "
            f"{_github_perms(credential)}, expiring on {credential.get('expires_at')}"
        )
    if provider == "gitlab":
        level = credential.get("access_level")
        return (
            f'Create a {str(kind).replace("_", " ")} "{credential["name"]}" with scopes '
            f"{', '.join(credential.get('scopes') or [])}"
            + (f", access level {level}" if level is not None else "")
            + f", expiring on {credential.get('expires_at')}"
        )
    if provider == "huggingface":
        scoped = "; ".join(
            f"{s['entity'].get('type')} {s['entity'].get('name')}: {', '.join(s['permissions'])}"
            for s in credential.get("scoped") or []
        )
        what = "service-account token" if kind == "service_account_token" else "fine-grained token"
        return f'Create a {what} "{credential["name"]}" with only: {scoped or "(what the owner names)"}' + (
            f"; global: {', '.join(credential['global'])}" if credential.get("global") else ""
        )
    return f'Create a narrowly scoped, expiring {provider} token "{credential["name"]}" with what the owner names'


def _github_perms(credential: dict) -> str:
    parts = []
    for group, perms in sorted((credential.get("permissions") or {}).items()):
        parts.append(f"{group} permissions " + ", ".join(f"{n}: {level}" for n, level in sorted(perms.items())))
    return "; ".join(parts) or "permissions the owner names"


# -- what a token holds today ---------------------------------------------------------------------------------
def _github_held(token: dict, entry: dict) -> dict[str, str]:
    held: dict[str, str] = {}

    def hold(name: str, level: str) -> None:
        if RANK.get(level, 0) > RANK.get(held.get(name, "none"), 0):
            held[name] = level

    mapping = entry.get("classic_to_fine_grained") or {}
    for scope in token.get("scopes") or []:
        for name, level in (mapping.get(scope) or {}).items():
            hold(name, level)
    scopes = set(token.get("scopes") or [])
    for grant in token.get("grants") or []:
        for permission in grant.get("permissions") or []:
            if permission in scopes or permission.count(":") != 1:
                continue
            name, level = permission.split(":")
            hold(name, level)
    return held


def _github_repos(token: dict) -> list[str]:
    return sorted(
        {
            g["resource"]["name"]
            for g in token.get("grants") or []
            if (g.get("resource") or {}).get("type") == "repository"
        }
    )


def _gitlab_level(token: dict, entry: dict) -> int | None:
    names = {v: int(k) for k, v in (entry.get("access_levels") or {}).items()}
    for grant in token.get("grants") or []:
        for permission in grant.get("permissions") or []:
            if permission.startswith("access_level:"):
                return names.get(permission.split(":", 1)[1])
    return None


def _automation(token: dict, entry: dict) -> bool:
    pattern = entry.get("automation_pattern")
    if any(
        p.get("kind") in ("github_actions_secret", "github_dependabot_secret", "gitlab_ci_variable")
        for p in token.get("stored_in") or []
    ):
        return True
    if not pattern:
        return False
    return any(re.search(pattern, str(v)) for v in (token.get("owner"), token.get("name")) if v)


def exceeds_today(credential: dict, token: dict, catalogue: Catalogue) -> list[str]:
    """What a planned credential would grant beyond what the token holds today (must be nothing)."""
    provider, problems = credential["provider"], []
    entry = catalogue.of(provider)
    if provider == "github":
        held = _github_held(token, entry)
        repository_held = any(
            g == "repository" for g in ((entry.get("permission_groups") or {}).get(n, "repository") for n in held)
        )
        for perms in (credential.get("permissions") or {}).values():
            for name, level in perms.items():
                if name == "metadata" and level == "read" and repository_held:
                    continue  # granted with any repository permission
                if RANK.get(level, 9) > RANK.get(held.get(name, "none"), 0):
                    problems.append(f"grants {name}: {level}; the token holds {held.get(name, 'nothing')}")
        problems += [
            f"grants scope {s}, which the token does not hold"
            for s in credential.get("scopes") or []
            if s not in (token.get("scopes") or [])
        ]
    elif provider == "gitlab":
        scopes = set(token.get("scopes") or [])
        narrow = entry.get("narrow_alternatives") or {}
        allowed = scopes | {a for s in scopes for a in narrow.get(s, [])} | {"self_rotate"}
        problems += [
            f"grants scope {s}, which the token does not hold"
            for s in credential.get("scopes") or []
            if s not in allowed
        ]
        today, level = _gitlab_level(token, entry), credential.get("access_level")
        if level is not None and today is not None and level > today:
            problems.append(f"grants access level {level}; the token has {today}")
    elif provider == "huggingface" and not token.get("legacy") and token.get("kind") != "org_api_token":
        # a legacy token, or a (deprecated) organization API token, reaches everything of its owner
        grants = token.get("grants") or []
        global_held = set(token.get("global_permissions") or [])
        for scoped in credential.get("scoped") or []:
            entity = scoped.get("entity") or {}
            for permission in scoped.get("permissions") or []:
                if permission in global_held:
                    continue
                if not any(
                    permission in (g.get("permissions") or []) and _covers(g.get("resource") or {}, entity)
                    for g in grants
                ):
                    problems.append(
                        f"grants {permission} on {entity.get('type')} {entity.get('name')}, "
                        "which the token does not hold there"
                    )
    return problems


def _covers(resource: dict, entity: dict) -> bool:
    if resource == entity:
        return True
    return resource.get("type") in ("user", "org") and str(entity.get("name", "")).split("/")[0] == resource.get("name")
