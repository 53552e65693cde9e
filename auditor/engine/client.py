"""Talk to OPA through opa-python-client: load policies and data, evaluate chunks in parallel.

Tokens go to OPA in chunks inside one input each (`input.tokens`), never one request per token;
chunks run in parallel up to the core count, one client (HTTP session) per worker thread.
"""

from __future__ import annotations

import json
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import requests
from opa_client.errors import ConnectionsError, RegoParseError
from opa_client.opa import OpaClient

from auditor.errors import EngineError
from auditor.model.inventory import Inventory
from auditor.secrets import redact_text

POLICY_PREFIX = "token-auditor"
ENTRY_PACKAGE = "token_auditor.main"
ENTRY_RULE = "findings"
MAX_BODY_BYTES = 64 * 1024 * 1024  # OPA refuses bodies over 128 MB; stay far below


@dataclass(frozen=True)
class EngineSettings:
    """Where OPA is and how to talk to it."""

    url: str
    token: str | None = None
    ca_file: str | None = None
    timeout: float = 600.0
    chunk_size: int = 2000
    workers: int = max(1, os.cpu_count() or 1)


def policy_files(policy_dir: Path) -> list[Path]:
    """The modules to load: every .rego file but tests and test fixtures."""
    return sorted(
        p for p in policy_dir.rglob("*.rego")
        if not p.name.endswith("_test.rego") and "testing" not in p.relative_to(policy_dir).parts
    )


def data_files(policy_dir: Path) -> list[Path]:
    return sorted(policy_dir.rglob("data.json"))


class Engine:
    """A connection to one OPA server holding token-auditor's policies."""

    def __init__(self, settings: EngineSettings):
        self.settings = settings
        parsed = urlparse(settings.url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise EngineError(f"--opa-url {settings.url!r} is not an http(s) URL")
        self._host = parsed.hostname
        self._https = parsed.scheme == "https"
        self._port = parsed.port or (443 if self._https else 80)
        self._local = threading.local()

    def _client(self) -> OpaClient:
        client = getattr(self._local, "client", None)
        if client is None:
            ssl = (self.settings.ca_file or True) if self._https else False
            client = OpaClient(host=self._host, port=self._port, ssl=ssl, token=self.settings.token,
                               timeout=self.settings.timeout, retries=0)
            self._local.client = client
        return client

    def _fail(self, what: str, exc: Exception) -> EngineError:
        if isinstance(exc, requests.HTTPError) and exc.response is not None:
            status = exc.response.status_code
            if status == 401:
                return EngineError(f"OPA at {self.settings.url} refused our bearer token (401 Unauthorized) while {what}")
            try:
                body = exc.response.json()
                detail = body.get("message", "")
                errors = body.get("errors") or []
                if errors:
                    detail = "; ".join(_located(e) for e in errors[:3])
            except ValueError:
                detail = exc.response.text[:300]
            return EngineError(f"OPA evaluation error while {what} (HTTP {status}): {redact_text(detail)}")
        if isinstance(exc, (requests.ConnectionError, ConnectionsError, requests.Timeout)):
            return EngineError(f"OPA at {self.settings.url} is unreachable while {what}")
        return EngineError(f"OPA error while {what}: {redact_text(str(exc))[:300]}")

    def check(self) -> None:
        try:
            response = self._client()._session.get(f"{self.settings.url.rstrip('/')}/health",
                                                   timeout=min(self.settings.timeout, 10))
        except requests.RequestException as exc:
            raise self._fail("checking /health", exc) from None
        if response.status_code == 401:
            raise EngineError(f"OPA at {self.settings.url} refused our bearer token (401 Unauthorized)")
        if response.status_code != 200:
            raise EngineError(f"OPA at {self.settings.url} is not healthy (HTTP {response.status_code})")

    def server_version(self) -> str | None:
        try:
            answer = self._client().ad_hoc_query("v := opa.runtime().version")
            return answer["result"][0]["v"]
        except (requests.RequestException, KeyError, IndexError, ValueError):
            return None

    def load_policies(self, policy_dir: Path) -> None:
        """PUT every module (dependency order found by retrying) and the data documents."""
        if not policy_dir.is_dir():
            raise EngineError(f"policy directory {policy_dir} not found")
        client = self._client()
        for path in data_files(policy_dir):
            endpoint = "/".join(path.relative_to(policy_dir).parts[:-1])
            try:
                document = json.loads(path.read_text())
            except ValueError as exc:
                raise EngineError(f"{path}: invalid JSON data document: {exc}") from None
            try:
                client.update_or_create_data(document, endpoint)
            except RegoParseError as exc:
                raise EngineError(f"{path}: OPA refused the data document: {exc.message}") from None
            except requests.RequestException as exc:
                raise self._fail(f"loading {path}", exc) from None
        pending = policy_files(policy_dir)
        if not pending:
            raise EngineError(f"no .rego policies under {policy_dir}")
        while pending:
            failed: list[tuple[Path, RegoParseError]] = []
            for path in pending:
                policy_id = f"{POLICY_PREFIX}/{path.relative_to(policy_dir).as_posix()}"
                try:
                    client.update_policy_from_string(path.read_text(), policy_id, rego_compat=False)
                except RegoParseError as exc:
                    failed.append((path, exc))
                except (requests.RequestException, ValueError) as exc:
                    if isinstance(exc, ValueError) and not isinstance(exc, requests.RequestException):
                        raise EngineError(f"OPA at {self.settings.url} answered a policy upload with non-JSON (wrong URL?)") from None
                    raise self._fail(f"loading {path.name}", exc) from None
            if len(failed) == len(pending):  # no progress: a real compile error
                path, exc = failed[0]
                raise EngineError(f"policy compile error: {self._compile_error(exc, policy_dir)}")
            pending = [p for p, _ in failed]

    def _compile_error(self, exc: RegoParseError, policy_dir: Path) -> str:
        if exc.errors:
            first = exc.errors[0]
            location = first.get("location") or {}
            file = str(location.get("file", "")).removeprefix(f"{POLICY_PREFIX}/")
            shown = str(Path(policy_dir.name) / file) if file else str(policy_dir)
            return f"{shown}:{location.get('row', '?')}: {first.get('message', exc.message)}"
        if exc.expression == "unauthorized" or (exc.message and "unauthorized" in str(exc.message)):
            return f"OPA at {self.settings.url} refused our bearer token (401 Unauthorized)"
        return str(exc.message)

    def evaluate_chunk(self, document: dict) -> list[dict]:
        try:
            answer = self._client().query_rule(document, ENTRY_PACKAGE, ENTRY_RULE)
        except requests.RequestException as exc:
            raise self._fail("evaluating tokens", exc) from None
        if "result" not in answer:
            raise EngineError(f"OPA at {self.settings.url} has no {ENTRY_PACKAGE}.{ENTRY_RULE} rule (policies not loaded?)")
        return answer["result"]

    def evaluate(self, inventory: Inventory, now: str, config: dict | None = None) -> list[dict]:
        """All findings for the inventory, deduplicated and in OPA's order per chunk."""
        size = max(1, self.settings.chunk_size)
        chunks = [inventory.tokens[i:i + size] for i in range(0, len(inventory.tokens), size)] or [[]]
        documents = [
            inventory.policy_input(now, config, tokens=chunk, with_global=(index == 0))
            for index, chunk in enumerate(chunks)
        ]
        workers = min(self.settings.workers, len(documents))
        if workers == 1:
            results = [self.evaluate_chunk(d) for d in documents]
        else:
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="opa-chunk") as pool:
                results = list(pool.map(self.evaluate_chunk, documents))
        seen: set[tuple] = set()
        findings: list[dict] = []
        for result in results:
            for finding in result:
                identity = (finding["rule_id"], finding["subject"].get("key"), finding.get("instance", ""))
                if identity not in seen:
                    seen.add(identity)
                    findings.append(finding)
        return findings

    def close(self) -> None:
        client = getattr(self._local, "client", None)
        if client is not None:
            client.close_connection()


def _located(error: dict) -> str:
    location = error.get("location") or {}
    where = f"{location.get('file', '')}:{location.get('row', '')}: " if location else ""
    return f"{where}{error.get('message', '')}"
