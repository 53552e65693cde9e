"""`collect huggingface`: introspect token values where they are kept, through huggingface_hub.

Token values come from environment variables, dotenv files, Kubernetes Secret manifests, a CI secrets
export, or a file of values. Each distinct value is introspected once (whoami-v2) and then forgotten:
the file keeps its prefix, last 4 characters, and an HMAC-SHA256 under a per-run (or given) salt, so
the same value found in several places is one token with several `stored_in` places. With an org
token (`--token-env`), org members and each Space's secret and variable NAMES are added; a variable's
value is only compared (by HMAC) with the collected tokens and checked for a token shape, never kept.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
from dataclasses import dataclass, field

import httpx2
import yaml
from dotenv import dotenv_values
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError
from huggingface_hub.utils import _http as hf_http
from huggingface_hub.utils import build_hf_headers, hf_raise_for_status

from auditor.collectors import common
from auditor.collectors.common import FAILED, FORBIDDEN, CollectionFailed, EndpointLog, Progress, RetryBudget, one_line
from auditor.errors import InputError
from auditor.redaction import contains_secret

FORMAT = "huggingface-inventory/v1"
TOKEN_SHAPE = re.compile(r"^(hf_oauth_|api_org_|hf_)[A-Za-z0-9]{30,}$")
KINDS = {"hf_oauth_": "oauth_token_exchange", "api_org_": "org_api_token", "hf_": "user_access_token"}
STORED_KINDS = {
    "hf_space_secret",
    "hf_space_variable",
    "github_actions_secret",
    "ci_variable",
    "k8s_secret",
    "notebook_env",
    "other",
}
MEMBER_ROLES = {"no_access", "read", "contributor", "write", "admin"}
# What the org token (--token-env) must be allowed (huggingface.co/docs/hub/security-tokens).
PERMISSIONS = {
    "members": "a token of an org member (read access to the org)",
    "spaces": "read access to the org's repositories",
    "space_secrets": "write access to the org's Spaces (the Hub lists secret names to Space writers only)",
    "space_variables": "write access to the org's Spaces",
}
NO_USAGE_API = (
    "whoami-v2 does not say when a token was last used: the tokens' last_used_at is unknown, not "
    "'never' (copy it from the Settings → Access Tokens page to assess unused and stale tokens)"
)
NO_POLICY_API = (
    "the Hub API does not expose an org's token policy; add org_policies by hand from the org's "
    "Settings → Tokens page (see docs/collect.md)"
)


@dataclass
class Found:
    """A distinct token value (kept in memory only) and every place it was found."""

    value: str
    places: list[dict] = field(default_factory=list)


def _prefix(value: str) -> str:
    return next(p for p in KINDS if value.startswith(p))


def _masked(value: str) -> str:
    return f"{_prefix(value)}…{value[-4:]}"


class TokenSources:
    """Reads values from every source; errors name the file and place, never the value."""

    def __init__(self):
        self.found: dict[str, Found] = {}
        self.ignored = 0

    def add(self, value, place: dict, strict_where: str | None = None) -> None:
        value = value.strip() if isinstance(value, str) else ""
        if not TOKEN_SHAPE.match(value):
            if strict_where:
                raise InputError(f"{strict_where}: not a Hugging Face token (hf_…, api_org_…, hf_oauth_…)")
            self.ignored += 1
            return
        entry = self.found.setdefault(value, Found(value))
        if place not in entry.places:
            entry.places.append(place)

    def env(self, name: str) -> None:
        value = os.environ.get(name)
        if value is None:
            raise InputError(f"--env {name}: that variable is not set")
        self.add(value, {"kind": "other", "location": "environment", "key": name}, f"--env {name}")

    def dotenv(self, path: str) -> None:
        common.read_text(path)
        for key, value in dotenv_values(path).items():
            self.add(value, {"kind": "other", "location": path, "key": key})

    def k8s(self, path: str) -> None:
        documents = _yaml_documents(path)
        for index, doc in enumerate(documents):
            items = doc.get("items") if isinstance(doc, dict) and doc.get("kind") == "List" else [doc]
            for item in items or []:
                if not isinstance(item, dict) or item.get("kind") != "Secret":
                    continue
                meta = item.get("metadata") or {}
                location = f"{meta.get('namespace') or 'default'}/{meta.get('name') or f'document-{index}'}"
                for key, encoded in (item.get("data") or {}).items():
                    try:
                        value = base64.b64decode(str(encoded), validate=True).decode("utf-8")
                    except (binascii.Error, UnicodeDecodeError):
                        raise InputError(f"{path}: Secret {location} data.{key}: not valid base64 text") from None
                    self.add(value, {"kind": "k8s_secret", "location": location, "key": key})
                for key, value in (item.get("stringData") or {}).items():
                    self.add(value, {"kind": "k8s_secret", "location": location, "key": key})

    def ci(self, path: str) -> None:
        documents = _yaml_documents(path)
        entries = documents[0] if len(documents) == 1 else None
        if isinstance(entries, dict):
            entries = entries.get("secrets")
        if not isinstance(entries, list):
            raise InputError(
                f"{path}: a CI secrets export is a list of {{location, key, value, kind?}} (or {{secrets: [...]}})"
            )
        for index, entry in enumerate(entries):
            if not isinstance(entry, dict) or not entry.get("location") or "value" not in entry:
                raise InputError(f"{path}: item {index}: needs location and value (and key)")
            kind = entry.get("kind") or "ci_variable"
            if kind not in STORED_KINDS:
                raise InputError(f"{path}: item {index}: kind {kind!r} is not one of {', '.join(sorted(STORED_KINDS))}")
            self.add(
                entry["value"],
                {"kind": kind, "location": str(entry["location"]), "key": entry.get("key") or entry.get("name")},
            )

    def values_file(self, path: str) -> None:
        text = common.read_text(path)
        for number, line in enumerate(text.splitlines(), 1):
            if line.strip() and not line.lstrip().startswith("#"):
                self.add(line, {"kind": "other", "location": path, "key": f"line {number}"}, f"{path}: line {number}")


def _yaml_documents(path: str) -> list:
    text = common.read_text(path)
    try:
        return [doc for doc in yaml.safe_load_all(text) if doc is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "somewhere"
        # never str(exc): PyYAML quotes the offending line, which may hold a value
        raise InputError(f"{path}: {where}: not valid YAML/JSON") from None


def _client_factory(timeout: float):
    def factory() -> httpx2.Client:
        return httpx2.Client(
            event_hooks={"request": [hf_http.hf_request_event_hook]}, follow_redirects=True, timeout=timeout
        )

    return factory


class HuggingFaceCollector:
    def __init__(
        self, endpoint: str, progress: Progress, budget: RetryBudget, salt: bytes | None, timeout: float = 30.0
    ):
        self.endpoint = endpoint.rstrip("/")
        self.progress = progress
        self.budget = budget
        self.salt = salt or os.urandom(32)
        self.salt_source = "given" if salt else "per-run"
        self.log = EndpointLog()
        hf_http.set_client_factory(_client_factory(timeout))
        self.api = HfApi(endpoint=self.endpoint)
        self.auth_mode = f"salt {self.salt_source}"

    def digest(self, value: str) -> str:
        return hmac.new(self.salt, value.encode("utf-8"), hashlib.sha256).hexdigest()

    def _whoami(self, value: str, target: str) -> tuple[dict | None, bool]:
        """(whoami-v2 answer or None, refused): a refused value is invalid or revoked."""
        attempt = 0
        while True:
            try:
                return self.api.whoami(token=value), False
            except HfHubHTTPError as exc:
                status = exc.response.status_code if exc.response is not None else None
                if status == 401:
                    return None, True
                if status == 429:
                    wait = _retry_after(exc.response.headers.get("Retry-After"))
                    if self.budget.allows(attempt, wait):
                        self.budget.wait("whoami-v2", attempt, wait)
                        attempt += 1
                        continue
                self.log.problem("whoami", FAILED, _hf_message(exc), None, target, status)
                self.progress(f"whoami-v2 {target}: failed: {one_line(_hf_message(exc))}")
                return None, False
            except httpx2.HTTPError as exc:
                self.log.problem("whoami", FAILED, f"{type(exc).__name__}", None, target)
                self.progress(f"whoami-v2 {target}: failed: cannot reach {self.endpoint}")
                return None, False

    def tokens(self, sources: TokenSources) -> list[dict]:
        out: list[dict] = []
        total = len(sources.found)
        for index, found in enumerate(sorted(sources.found.values(), key=lambda f: self.digest(f.value)), 1):
            target = _masked(found.value)
            self.progress(f"whoami-v2: {index}/{total} {target}")
            whoami, refused = self._whoami(found.value, target)
            digest = self.digest(found.value)
            access = ((whoami or {}).get("auth") or {}).get("accessToken") or {}
            prefix = _prefix(found.value)
            inventory = {
                "id": f"hmac-{digest[:24]}",
                "owner": (whoami or {}).get("name") or "unknown",
                "kind": KINDS[prefix],
                "prefix": prefix,
                "last4": found.value[-4:],
                "name": access.get("displayName"),
                "value_hmac": {"algorithm": "hmac-sha256", "salt": self.salt_source, "digest": digest},
                "stored_in": sorted(found.places, key=lambda p: (p["kind"], p["location"], p.get("key") or "")),
            }
            if refused:
                inventory["revoked"] = True
                inventory["note"] = "whoami-v2 answered 401: the value is invalid or revoked"
            out.append({"whoami": _trim_whoami(whoami), "inventory": inventory})
        self.log.ok("whoami", sum(1 for t in out if t["whoami"] is not None or t["inventory"].get("revoked")))
        return out

    def _paged(self, path: str, params: dict | None, token: str | None) -> list[dict]:
        """Every item of a paged Hub list (Link rel=next). Not huggingface_hub's own paging: it retries five
        times, whatever --max-retries and --max-wait say."""
        items: list[dict] = []
        url: str | None = f"{self.endpoint}{path}"
        attempt = 0
        while url:
            response = hf_http.get_session().get(url, params=params, headers=build_hf_headers(token=token))
            if response.status_code == 429:
                wait = _retry_after(response.headers.get("Retry-After"))
                if self.budget.allows(attempt, wait):
                    self.budget.wait(path, attempt, wait)
                    attempt += 1
                    continue
            hf_raise_for_status(response)
            items.extend(response.json())
            # the next link carries the query; httpx would replace it with any params given, even empty ones
            url, params, attempt = response.links.get("next", {}).get("url"), None, 0
        return items

    def _call(self, endpoint: str, func, target: str | None = None):
        try:
            return func()
        except HfHubHTTPError as exc:
            status = exc.response.status_code if exc.response is not None else None
            if status == 401:
                raise CollectionFailed(
                    f"huggingface: {endpoint}: the org token (--token-env) was refused ({_hf_message(exc)})"
                ) from None
            outcome = FORBIDDEN if status == 403 else FAILED
            self.log.problem(endpoint, outcome, _hf_message(exc), PERMISSIONS.get(endpoint), target, status)
            self.progress(f"{endpoint}{' ' + target if target else ''}: {outcome}: {one_line(_hf_message(exc))}")
        except httpx2.HTTPError as exc:
            self.log.problem(endpoint, FAILED, type(exc).__name__, None, target)
        return None

    def org(self, org: str, token: str | None, tokens: list[dict], document: dict) -> None:
        self.progress(f"{org}: members")
        members = self._call("members", lambda: self._paged(f"/api/organizations/{org}/members", {}, token), org)
        if members is not None:
            self.log.ok("members", len(members))
            for member in members:
                role = member.get("role")
                document.setdefault("members", []).append(
                    {"org": org, "user": member.get("user"), "role": role if role in MEMBER_ROLES else None}
                )
        self.progress(f"{org}: Spaces")
        spaces = self._call("spaces", lambda: self._paged("/api/spaces", {"author": org}, token), org)
        if spaces is None:
            return
        self.log.ok("spaces", len(spaces))
        by_digest = {t["inventory"]["value_hmac"]["digest"]: t for t in tokens}
        for index, space in enumerate(spaces, 1):
            space_id = space["id"]
            self.progress(f"{org}: Space {index}/{len(spaces)} {space_id}")
            entry = {"info": {"id": space_id, "private": space.get("private")}}
            secrets = self._call(
                "space_secrets", lambda space_id=space_id: self.api.get_space_secrets(space_id, token=token), space_id
            )
            if secrets is not None:
                self.log.ok("space_secrets", len(secrets))
                entry["secrets"] = {key: {"description": s.description} for key, s in sorted(secrets.items())}
            variables = self._call(
                "space_variables",
                lambda space_id=space_id: self.api.get_space_variables(space_id, token=token),
                space_id,
            )
            if variables is not None:
                self.log.ok("space_variables", len(variables))
                entry["variables"] = {}
                for key, variable in sorted(variables.items()):
                    value = variable.value or ""
                    token_like = bool(TOKEN_SHAPE.match(value.strip()) or contains_secret(value))
                    entry["variables"][key] = {"description": variable.description, "token_like": token_like}
                    match = by_digest.get(self.digest(value.strip())) if token_like else None
                    if match is not None:
                        place = {"kind": "hf_space_variable", "location": space_id, "key": key}
                        if place not in match["inventory"]["stored_in"]:
                            match["inventory"]["stored_in"].append(place)
            document.setdefault("spaces", []).append(entry)

    def account(self, token: str) -> dict | None:
        whoami = self._call("account", lambda: self.api.whoami(token=token))
        if whoami is None:
            return None
        self.log.ok("account", 1)
        return {
            "name": whoami.get("name"),
            "type": whoami.get("type"),
            "orgs": [
                {"name": o.get("name"), "roleInOrg": o.get("roleInOrg"), "plan": o.get("plan")}
                for o in whoami.get("orgs") or []
                if o.get("name")
            ],
        }

    def collect(self, sources: TokenSources, orgs: list[str], org_token: str | None) -> dict:
        document: dict = {"format": FORMAT, "collected_at": None}
        if org_token:
            self.progress("account: whoami-v2 of the org token")
            document["account"] = self.account(org_token)
        tokens = self.tokens(sources)
        for org in orgs:
            self.org(org, org_token, tokens, document)
        if orgs:
            self.log.note(NO_POLICY_API)
        if tokens:
            self.log.not_applicable("token_usage", NO_USAGE_API)
        document["tokens"] = tokens
        if sources.ignored:
            self.log.ok("sources", 0, f"{sources.ignored} value(s) without a Hugging Face token shape ignored")
        return document


def _retry_after(header: str | None) -> float:
    """Retry-After in seconds (the Hub sends delay-seconds); 1 s when absent or a date."""
    try:
        return max(0.0, float(header)) if header is not None else 1.0
    except ValueError:
        return 1.0


def _trim_whoami(whoami: dict | None) -> dict | None:
    """whoami-v2 without personal details (email, avatar): who, which orgs, and what the token may do."""
    if whoami is None:
        return None
    return {
        "type": whoami.get("type"),
        "name": whoami.get("name"),
        "orgs": [{"name": o.get("name"), "roleInOrg": o.get("roleInOrg")} for o in whoami.get("orgs") or []],
        "auth": whoami.get("auth") or {},
    }


def _hf_message(exc: HfHubHTTPError) -> str:
    status = exc.response.status_code if exc.response is not None else None
    text = None
    try:
        body = exc.response.json() if exc.response is not None else None
        text = body.get("error") or body.get("message") if isinstance(body, dict) else None
    except (ValueError, json.JSONDecodeError):
        text = None
    return f"HTTP {status}: {text or 'error'}" if status else one_line(exc)
