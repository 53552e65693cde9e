"""Talk to OPA through opa-python-client: evaluate chunks in parallel; load policies and data where needed.

A managed server starts with the policies already loaded (auditor/engine/server.py) and a fleet serves a bundle
(auditor/engine/fleet.py): policies go over REST only to a lone --opa-url server without a bundle, or to a managed
server whose start with them failed, so that the compile error names its file and line.

Tokens go to OPA in chunks inside one input each (`input.tokens`), never one request per token;
chunks run in parallel up to the core count, one client (HTTP session) per worker thread.
"""

from __future__ import annotations

import copy
import json
import os
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlparse

import requests
from opa_client.errors import ConnectionsError, RegoParseError
from opa_client.opa import OpaClient
from requests.adapters import HTTPAdapter, Retry

from auditor import json_pointer
from auditor.errors import EngineError, InputError
from auditor.findings.finding import expand_findings
from auditor.findings.rules import Rule, load_rules
from auditor.model.inventory import Inventory
from auditor.redaction import redact_text

POLICY_PREFIX = "token-auditor"
ENTRY_PACKAGE = "token_auditor.main"
ENTRY_RULE = "findings"
BUILTIN_POLICY_DIR = Path(__file__).resolve().parents[1] / "policies"


DEFAULT_TIMEOUT = 120.0  # one request: an upload, or one chunk of tokens evaluated
DEFAULT_DEADLINE = 1800.0  # the whole conversation with OPA


@dataclass(frozen=True)
class EngineSettings:
    """Where OPA is and how to talk to it."""

    url: str
    token: str | None = None
    ca_file: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    chunk_size: int = 2000
    workers: int = max(1, os.cpu_count() or 1)
    deadline: float = DEFAULT_DEADLINE
    policy_dir: Path = BUILTIN_POLICY_DIR  # whose METADATA completes OPA's compact findings (expand_findings)


LOOPBACK = {"127.0.0.1", "localhost", "::1"}

# (tokens evaluated so far, tokens in the run, findings so far), called from any worker thread.
ProgressCallback = Callable[[int, int, int], None]


class ChunkProgress:
    """Counts what completed chunks hold and tells the callback after each one, one call at a time.

    A finding on something other than a chunk's own tokens (an organization) comes back from every chunk;
    like merge_results it is counted once."""

    def __init__(self, callback: ProgressCallback | None, total_tokens: int):
        self._callback = callback
        self._lock = threading.Lock()
        self._shared: set[tuple] = set()
        self.total = total_tokens
        self.done = 0
        self.findings = 0
        if callback is not None:
            callback(0, total_tokens, 0)

    def chunk_done(self, document: dict, findings: list[dict]) -> None:
        if self._callback is None:
            return
        tokens = document.get("tokens") or []
        own = {token.get("key") for token in tokens}
        with self._lock:
            for finding in findings:
                key = finding["subject"].get("key")
                if key in own:
                    self.findings += 1
                    continue
                identity = (finding["rule_id"], key, finding.get("instance", ""))
                if identity not in self._shared:
                    self._shared.add(identity)
                    self.findings += 1
            self.done += len(tokens)
            self._callback(self.done, self.total, self.findings)


class EndpointError(EngineError):
    """This server failed where another may not: unreachable, an HTTP 5xx, no answer within --opa-timeout.
    `down`: the server itself is gone or hung (not worth another request), not just this request failing."""

    def __init__(self, message: str, down: bool):
        super().__init__(message)
        self.down = down


def pin_session(session: requests.Session, loopback: bool, ca_file: str | None) -> None:
    """Keep the environment out of how we reach OPA. Loopback: no proxy, CA bundle or .netrc from the
    environment at all. A pinned CA (--opa-ca): REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE cannot replace it, since
    requests lets them override a session's `verify`; proxies still apply to a remote server."""
    if loopback:
        session.trust_env = False
    if ca_file:
        session.verify = ca_file
        retries = getattr(session.get_adapter("https://"), "max_retries", 0)
        session.mount("https://", _PinnedCaAdapter(ca_file, retries))


class _PinnedCaAdapter(HTTPAdapter):
    """Verifies against one CA bundle, whatever `verify` the session took from the environment."""

    def __init__(self, ca_file: str, max_retries: Retry | int) -> None:
        super().__init__(max_retries=max_retries)
        self.ca_file = ca_file

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        return super().send(request, stream=stream, timeout=timeout, verify=self.ca_file, cert=cert, proxies=proxies)


def policy_files(policy_dir: Path) -> list[Path]:
    """The modules to load: every .rego file but tests and test fixtures."""
    return sorted(
        p
        for p in policy_dir.rglob("*.rego")
        if not p.name.endswith("_test.rego") and "testing" not in p.relative_to(policy_dir).parts
    )


@dataclass(frozen=True)
class PolicyUnit:
    """One upload: a package's files joined into one module, so files of one package that call
    each other load together (the REST API compiles one module per PUT)."""

    policy_id: str
    text: str
    files: tuple[Path, ...]
    segments: tuple[tuple[int, int, int], ...]  # (first line in text, file index, first line in file)

    def origin(self, row: int) -> tuple[Path, int]:
        """The file and line of a line of the joined text."""
        for start, index, first in reversed(self.segments):
            if row >= start:
                return self.files[index], first + (row - start)
        return self.files[0], row


_PACKAGE = re.compile(r"^package\s+([\w.]+)\s*$", re.MULTILINE)


def policy_units(policy_dir: Path) -> list[PolicyUnit]:
    groups: dict[str, list[Path]] = {}
    for path in policy_files(policy_dir):
        match = _PACKAGE.search(path.read_text())
        groups.setdefault(match.group(1) if match else str(path), []).append(path)
    units = []
    for package, files in groups.items():
        first = files[0]
        if len(files) == 1:
            policy_id = f"{POLICY_PREFIX}/{first.relative_to(policy_dir).as_posix()}"
            units.append(PolicyUnit(policy_id, first.read_text(), (first,), ((1, 0, 1),)))
            continue
        header: list[str] = []
        imports: list[str] = []
        bodies: list[tuple[int, int, list[str]]] = []
        for index, path in enumerate(files):
            lines = path.read_text().splitlines()
            package_line = next(i for i, line in enumerate(lines) if _PACKAGE.match(line))
            if index == 0:
                header = lines[: package_line + 1]
            rest = lines[package_line + 1 :]
            body_start = 0
            for offset, line in enumerate(rest):
                if line.startswith("import "):
                    if line not in imports:
                        imports.append(line)
                    body_start = offset + 1
                elif line.strip() and not line.startswith("#"):
                    break
            bodies.append((index, package_line + 2 + body_start, rest[body_start:]))
        text_lines = header + imports
        segments = []
        for index, first_line, body in bodies:
            segments.append((len(text_lines) + 1, index, first_line))
            text_lines += body
        policy_id = f"{POLICY_PREFIX}/{package.replace('.', '/')}.rego"
        units.append(PolicyUnit(policy_id, "\n".join(text_lines) + "\n", tuple(files), tuple(segments)))
    return units


def data_files(policy_dir: Path) -> list[Path]:
    return sorted(policy_dir.rglob("data.json"))


class Engine:
    """A connection to one OPA server holding token-auditor's policies."""

    def __init__(self, settings: EngineSettings):
        self.settings = settings
        parsed = urlparse(settings.url)
        try:
            port = parsed.port
        except ValueError:
            raise InputError(f"--opa-url {settings.url!r}: the port is not a number from 1 to 65535") from None
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise InputError(f"--opa-url {settings.url!r} is not an http(s) URL")
        if parsed.username or parsed.password:
            raise InputError("--opa-url must not hold credentials; pass the bearer token with --opa-token-env VAR")
        self._host = parsed.hostname
        self._https = parsed.scheme == "https"
        self._port = port or (443 if self._https else 80)
        self._local = threading.local()
        self._clients: list[OpaClient] = []
        self._clients_lock = threading.Lock()
        self._deadline = time.monotonic() + settings.deadline

    def _client(self) -> OpaClient:
        client = getattr(self._local, "client", None)
        if client is None:
            ssl = (self.settings.ca_file or True) if self._https else False
            client = OpaClient(
                host=self._host,
                port=self._port,
                ssl=ssl,
                token=self.settings.token,
                timeout=self.settings.timeout,
                retries=0,
            )
            pin_session(client._session, self._host in LOOPBACK, self.settings.ca_file if self._https else None)
            self._local.client = client
            with self._clients_lock:
                self._clients.append(client)
        return client

    def _call(self, what: str, func, *args, **kwargs):
        """func(*args) within --opa-timeout and what is left of --opa-deadline, whatever the server does: a
        socket timeout alone lets a server that drips one byte at a time hold us forever."""
        remaining = self._deadline - time.monotonic()
        wait = min(self.settings.timeout, remaining)
        if wait <= 0:
            raise self._deadline_error(what)
        outcome: dict = {}

        def run():
            try:
                outcome["value"] = func(*args, **kwargs)
            except BaseException as exc:  # handed to the caller's thread
                outcome["error"] = exc

        worker = threading.Thread(target=run, name="opa-request", daemon=True)
        worker.start()
        worker.join(wait)
        if worker.is_alive():  # left behind as a daemon: it cannot outlive the process
            if wait < self.settings.timeout:
                raise self._deadline_error(what)
            raise EndpointError(
                f"OPA at {self.settings.url} did not answer within {self.settings.timeout:g}s "
                f"while {what} (--opa-timeout)",
                down=True,
            )
        if "error" in outcome:
            raise outcome["error"]
        return outcome["value"]

    def _deadline_error(self, what: str) -> EngineError:
        return EngineError(
            f"OPA at {self.settings.url} did not finish within the overall deadline of "
            f"{self.settings.deadline:g}s; stopped while {what} (--opa-deadline)"
        )

    def _unexpected(self, endpoint: str, detail: str) -> EngineError:
        return EngineError(
            f"OPA at {self.settings.url} answered {endpoint} with an unexpected shape: {redact_text(detail)[:200]}"
        )

    def _engine_error(self, what: str, exc: Exception) -> EngineError:
        if isinstance(exc, requests.HTTPError) and exc.response is not None:
            status = exc.response.status_code
            if status == 401:
                return EngineError(
                    f"OPA at {self.settings.url} refused our bearer token (401 Unauthorized) while {what}"
                )
            try:
                body = exc.response.json()
                detail = str(body.get("message", ""))
                errors = body.get("errors") or []
                if errors:
                    detail = "; ".join(_located(e) for e in errors[:3])
            except (ValueError, AttributeError, TypeError):  # not JSON, or not OPA's error object
                detail = exc.response.text[:300]
            message = f"OPA evaluation error while {what} (HTTP {status}): {redact_text(detail)}"
            if status >= 500:  # OPA's internal error or a proxy/load balancer in front of it
                return EndpointError(message, down=False)
            return EngineError(message)
        if isinstance(exc, requests.exceptions.SSLError):
            trusted = (
                "--opa-ca does not trust" if self.settings.ca_file else "is not trusted (give its CA with --opa-ca)"
            )
            return EngineError(f"OPA at {self.settings.url} presented a certificate that {trusted} while {what}")
        if isinstance(exc, requests.ReadTimeout):
            return EndpointError(
                f"OPA at {self.settings.url} did not answer within {self.settings.timeout:g}s "
                f"while {what} (--opa-timeout)",
                down=True,
            )
        if isinstance(exc, (requests.ConnectionError, ConnectionsError, requests.Timeout)):
            return EndpointError(f"OPA at {self.settings.url} is unreachable while {what}", down=True)
        return EngineError(f"OPA error while {what}: {redact_text(str(exc))[:300]}")

    def check(self) -> None:
        session = self._client()._session
        try:
            response = self._call(
                "checking /health",
                session.get,
                f"{self.settings.url.rstrip('/')}/health",
                timeout=min(self.settings.timeout, 10),
            )
        except requests.RequestException as exc:
            raise self._engine_error("checking /health", exc) from None
        if response.status_code == 401:
            raise EngineError(f"OPA at {self.settings.url} refused our bearer token (401 Unauthorized)")
        if response.status_code != 200:
            raise EngineError(f"OPA at {self.settings.url} is not healthy (HTTP {response.status_code})")

    def bundles(self) -> dict:
        """The bundles the server has activated: {name: manifest} from GET /v1/data/system/bundles."""
        endpoint = "GET /v1/data/system/bundles"
        session = self._client()._session
        try:
            response = self._call(
                "asking its bundles",
                session.get,
                f"{self.settings.url.rstrip('/')}/v1/data/system/bundles",
                timeout=self.settings.timeout,
            )
            response.raise_for_status()
            answer = response.json()
        except requests.RequestException as exc:
            raise self._engine_error("asking its bundles", exc) from None
        except ValueError:
            raise self._unexpected(endpoint, "not JSON") from None
        if not isinstance(answer, dict):
            raise self._unexpected(endpoint, f"/: {type(answer).__name__}, not an object")
        result = answer.get("result", {})  # no bundle at all: {} (the document is undefined)
        if not isinstance(result, dict):
            raise self._unexpected(endpoint, "/result: not an object")
        manifests = {}
        for name, entry in result.items():
            manifest = entry.get("manifest") if isinstance(entry, dict) else None
            if not isinstance(manifest, dict):
                raise self._unexpected(endpoint, f"/result/{name}/manifest: not an object")
            manifests[name] = manifest
        return manifests

    def server_version(self) -> str | None:
        try:
            answer = self._call("asking its version", self._client().ad_hoc_query, "v := opa.runtime().version")
            version = answer["result"][0]["v"]
        except (requests.RequestException, KeyError, IndexError, ValueError, TypeError, AttributeError):
            return None
        return version if isinstance(version, str) else None

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
                self._call(f"loading {path}", client.update_or_create_data, document, endpoint)
            except RegoParseError as exc:
                raise EngineError(f"{path}: OPA refused the data document: {exc.message}") from None
            except requests.RequestException as exc:
                raise self._engine_error(f"loading {path}", exc) from None
            except (AttributeError, TypeError, KeyError, IndexError, ValueError):
                raise self._unexpected(f"PUT /v1/data/{endpoint}", "not an OPA error document") from None
        pending = policy_units(policy_dir)
        if not pending:
            raise EngineError(f"no .rego policies under {policy_dir}")
        while pending:
            failed: list[tuple[PolicyUnit, RegoParseError]] = []
            for unit in pending:
                try:
                    self._call(
                        f"loading {unit.policy_id}",
                        client.update_policy_from_string,
                        unit.text,
                        unit.policy_id,
                        rego_compat=False,
                    )
                except RegoParseError as exc:
                    failed.append((unit, exc))
                except (requests.RequestException, ValueError) as exc:
                    if isinstance(exc, ValueError) and not isinstance(exc, requests.RequestException):
                        raise EngineError(
                            f"OPA at {self.settings.url} answered a policy upload with non-JSON (wrong URL?)"
                        ) from None
                    raise self._engine_error(f"loading {unit.policy_id}", exc) from None
                except (AttributeError, TypeError, KeyError, IndexError):
                    raise self._unexpected(f"PUT /v1/policies/{unit.policy_id}", "not an OPA error document") from None
            if len(failed) == len(pending):  # no progress: a real compile error
                # Report a cause, not a module that only failed because a dependency did not load.
                unit, cause = min(failed, key=lambda item: _is_knock_on(item[1]))
                raise EngineError(f"policy compile error: {self._compile_error(cause, unit, policy_dir)}")
            pending = [unit for unit, _ in failed]

    def _compile_error(self, exc: RegoParseError, unit: PolicyUnit, policy_dir: Path) -> str:
        if exc.errors:
            first = exc.errors[0]
            row = (first.get("location") or {}).get("row")
            file, line = unit.origin(row) if isinstance(row, int) else (unit.files[0], "?")
            shown = Path(policy_dir.name) / file.relative_to(policy_dir)
            return f"{shown}:{line}: {first.get('message', exc.message)}"
        if exc.expression == "unauthorized" or (exc.message and "unauthorized" in str(exc.message)):
            return f"OPA at {self.settings.url} refused our bearer token (401 Unauthorized)"
        return str(exc.message)

    def evaluate_chunk(self, document: dict, progress: ChunkProgress | None = None) -> list[dict]:
        endpoint = f"POST /v1/data/{ENTRY_PACKAGE.replace('.', '/')}/{ENTRY_RULE}"
        try:
            answer = self._call("evaluating tokens", self._client().query_rule, document, ENTRY_PACKAGE, ENTRY_RULE)
        except requests.RequestException as exc:
            raise self._engine_error("evaluating tokens", exc) from None
        except ValueError:
            raise self._unexpected(endpoint, "not JSON") from None
        if not isinstance(answer, dict):
            raise self._unexpected(endpoint, f"/: {type(answer).__name__}, not an object")
        if "result" not in answer:
            raise EngineError(
                f"OPA at {self.settings.url} has no {ENTRY_PACKAGE}.{ENTRY_RULE} rule (policies not loaded?)"
            )
        rules = rules_by_id(self.settings.policy_dir)
        problem = finding_problem(answer["result"], rules)
        if problem:
            raise self._unexpected(endpoint, problem)
        findings = expand_findings(answer["result"], rules)
        if progress is not None:  # the one place a chunk completes, whichever endpoint or thread evaluated it
            progress.chunk_done(document, findings)
        return findings

    def evaluate(
        self, inventory: Inventory, now: str, config: dict | None = None, progress: ProgressCallback | None = None
    ) -> list[dict]:
        """All findings for the inventory, deduplicated and in OPA's order per chunk."""
        documents = chunk_documents(inventory, now, config, self.settings.chunk_size)
        tracker = ChunkProgress(progress, len(inventory.tokens))
        return merge_results(self.evaluate_documents(documents, tracker))

    def evaluate_documents(self, documents: list[dict], progress: ChunkProgress | None = None) -> list[list[dict]]:
        """Each chunk's findings, in chunk order (up to --workers chunks in flight). The one place chunks are
        evaluated, for the whole-file and the streaming pipeline alike."""
        workers = min(self.settings.workers, len(documents))
        if workers <= 1:
            return [self.evaluate_chunk(d, progress) for d in documents]
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="opa-chunk") as pool:
            return list(pool.map(lambda d: self.evaluate_chunk(d, progress), documents))

    def close(self) -> None:
        """Close the HTTP session of every thread that talked to OPA."""
        with self._clients_lock:
            clients, self._clients = self._clients, []
        for client in clients:
            client.close_connection()


def chunk_documents(inventory: Inventory, now: str, config: dict | None, chunk_size: int) -> list[dict]:
    """One OPA input per chunk of tokens; the first also carries the inventory-wide facts."""
    size = max(1, chunk_size)
    chunks = [inventory.tokens[i : i + size] for i in range(0, len(inventory.tokens), size)] or [[]]
    return [
        inventory.policy_input(now, config, tokens=chunk, with_global=(index == 0))
        for index, chunk in enumerate(chunks)
    ]


def merge_results(results: list[list[dict]]) -> list[dict]:
    """Chunk results in chunk order, a finding reported by two chunks (an org-wide one) kept once."""
    seen: set[tuple] = set()
    findings: list[dict] = []
    for result in results:
        for finding in result:
            identity = (finding["rule_id"], finding["subject"].get("key"), finding.get("instance", ""))
            if identity not in seen:
                seen.add(identity)
                findings.append(finding)
    return findings


@lru_cache(maxsize=8)
def rules_by_id(policy_dir: Path) -> dict[str, Rule]:
    """The checks of a policy directory by rule id, read once per run (every chunk's findings are joined with them)."""
    return {rule.id: rule for rule in load_rules(policy_dir)}


@lru_cache(maxsize=1)
def _findings_validator():
    """The report schema's finding in the compact form OPA returns (policies/lib/finding), compiled: what the
    rule's METADATA supplies (title, severity, NHI ids, default action, source) is not required, and a severity
    that is none of the five falls back to the rule's."""
    import fastjsonschema

    from auditor.inventory.validate import load_schema

    definitions = copy.deepcopy(load_schema("report.v1")["$defs"])
    finding = definitions["finding"]
    finding["required"] = ["rule_id", "subject", "message"]
    for joined in ("severity", "title", "nhi", "source", "fingerprint"):
        del finding["properties"][joined]
    finding["properties"]["recommendation"].pop("required")
    finding["properties"]["subject"]["properties"]["source"] = {"$ref": "#/$defs/source"}
    schema = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$defs": definitions,
        "type": "array",
        "items": {"$ref": "#/$defs/finding"},
    }
    return fastjsonschema.compile(schema)


def finding_problem(result, rules: dict[str, Rule]) -> str | None:
    """Why OPA's `result` is not a list of compact findings of these rules (pointer: message), or None."""
    import fastjsonschema

    try:
        _findings_validator()(result)
    except fastjsonschema.JsonSchemaValueException as exc:
        pointer = json_pointer.join("/result", *(exc.path or [])[1:])
        message = exc.message.split(" ", 1)[1] if exc.message.startswith("data") else exc.message
        return f"{pointer}: {message}"
    for index, finding in enumerate(result):
        if finding["rule_id"] not in rules:
            return f"/result/{index}/rule_id: {finding['rule_id']!r} is the id of no check in the policy directory"
    return None


def _is_knock_on(exc: RegoParseError) -> bool:
    messages = [str(e.get("message", "")) for e in exc.errors or [] if isinstance(e, dict)]
    return bool(messages) and all(m.startswith(("undefined function data.", "undefined ref: data.")) for m in messages)


def _located(error: dict) -> str:
    if not isinstance(error, dict):
        return str(error)[:100]
    location = error.get("location") or {}
    if not isinstance(location, dict):
        location = {}
    where = f"{location.get('file', '')}:{location.get('row', '')}: " if location else ""
    return f"{where}{error.get('message', '')}"
