"""The pipeline: inventory → providers → model → engine → findings → report."""

from __future__ import annotations

import functools
import gc
import os
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from auditor import __version__
from auditor.engine import Engine, EngineSettings, ManagedOpa, find_opa
from auditor.engine.binary import opa_version
from auditor.engine.client import DEFAULT_DEADLINE, DEFAULT_TIMEOUT
from auditor.errors import EngineError, InputError, ValidationFailed
from auditor.findings import load_rules, prepare_findings
from auditor.findings.finding import subject_index
from auditor.inventory.loader import DEFAULT_MAX_BYTES, Document, load_paths
from auditor.inventory.validate import capped, schema_errors
from auditor.model.inventory import Inventory
from auditor.model.timestamps import format_time, parse_time
from auditor.providers import adapter_for, link_secrets
from auditor.report.model import SCHEMA_VERSION, Report, build_summary

# The checkout's policies/ (auditor/policies links to it; an installed wheel holds a copy there).
DEFAULT_POLICY_DIR = Path(__file__).resolve().parent / "policies"


@dataclass(frozen=True)
class EngineOptions:
    """How to reach OPA: a managed server (default) or --opa-url."""

    opa_url: str | None = None
    opa_token: str | None = None
    opa_ca: str | None = None
    opa_bin: str | None = None
    chunk_size: int = 2000
    workers: int = max(1, os.cpu_count() or 1)
    timeout: float = DEFAULT_TIMEOUT
    deadline: float = DEFAULT_DEADLINE


@dataclass(frozen=True)
class AuditOptions:
    """Everything an audit run depends on besides its inputs."""

    now: str | None = None
    config_file: str | None = None
    policy_dir: Path = DEFAULT_POLICY_DIR
    max_input_bytes: int = DEFAULT_MAX_BYTES
    engine: EngineOptions = field(default_factory=EngineOptions)
    provider_options: dict = field(default_factory=dict)


def resolve_now(now: str | None) -> str:
    if now is None:
        return format_time(datetime.now(timezone.utc).replace(microsecond=0))
    try:
        return format_time(parse_time(now))
    except (ValueError, OverflowError):
        raise InputError(f"--now {now!r} is not an ISO 8601 date-time (e.g. 2026-11-25T00:00:00Z)") from None


def load_config(path: str | None) -> dict:
    """The --config YAML (thresholds and catalogue overrides), validated by its schema."""
    if path is None:
        return {}
    documents = load_paths([path])
    errors = schema_errors(documents[0], "config.v1")
    if errors:
        raise ValidationFailed(errors)
    return documents[0].data or {}


def bulk(func):
    """Run without the cyclic GC. A large inventory is millions of small acyclic objects that each GC
    generation pass would rescan; pausing it makes load, normalize and report about 2x faster."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        enabled = gc.isenabled()
        gc.disable()
        try:
            return func(*args, **kwargs)
        finally:
            if enabled:
                gc.enable()

    return wrapper


@bulk
def read_inventory(paths: list[str], options: AuditOptions) -> tuple[Inventory, dict[str, Document]]:
    """Load, validate and normalize every input; all schema errors of all files at once."""
    documents = load_paths(paths, options.max_input_bytes)
    errors: list[str] = []
    plan = []
    for document in documents:
        adapter = adapter_for(document)
        errors.extend(capped(document, schema_errors(document, adapter.schema_for(document))))
        plan.append((document, adapter))
    if errors:
        raise ValidationFailed(errors)
    merged = Inventory()
    for document, adapter in plan:
        part = adapter.normalize(document, options.provider_options)
        link_secrets(document, part)
        merged.merge(part)
    return merged, {d.path: d for d in documents}


def _engine_settings(options: EngineOptions, url: str, token: str | None) -> EngineSettings:
    return EngineSettings(url=url, token=token, ca_file=options.opa_ca, timeout=options.timeout,
                          chunk_size=options.chunk_size, workers=options.workers, deadline=options.deadline)


def evaluate(inventory: Inventory, now: str, config: dict, options: AuditOptions) -> tuple[list[dict], str]:
    """Findings from OPA (managed or remote) and the OPA version that produced them."""
    engine_options = options.engine
    with ExitStack() as stack:
        if engine_options.opa_url:
            settings = _engine_settings(engine_options, engine_options.opa_url, engine_options.opa_token)
            version = "remote"
        else:
            binary = find_opa(engine_options.opa_bin)
            version = opa_version(binary)
            server = stack.enter_context(ManagedOpa(binary, policy_dir=options.policy_dir))
            settings = _engine_settings(engine_options, server.url, server.token)
        engine = Engine(settings)
        stack.callback(engine.close)
        engine.check()
        if engine_options.opa_url or not server.preloaded:
            engine.load_policies(options.policy_dir)
        if engine_options.opa_url:
            version = engine.server_version() or "remote"
        findings = engine.evaluate(inventory, now, config or None)
    return findings, version


def build_report(inventory: Inventory, documents: dict[str, Document], findings: list[dict], now: str,
                 config: dict, options: AuditOptions, opa: str) -> Report:
    rules = load_rules(options.policy_dir)
    catalogue = _catalogue_meta(options.policy_dir)

    def line_of(file: str, pointer: str) -> int | None:
        document = documents.get(file)
        return document.line_of(pointer) if document else None

    findings = prepare_findings(findings, line_of, subject_index(inventory.tokens, inventory.orgs))
    skipped = sorted((s.as_dict() for s in inventory.skipped),
                     key=lambda s: (s["provider"], s["source"]["file"], s["source"]["pointer"]))
    providers = Counter(t["provider"] for t in inventory.tokens)
    total = inventory.total_tokens  # SSH keys and other non-tokens are listed as skipped, not counted
    data = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "token-auditor", "version": __version__},
        "engine": {"name": "opa", "opa_version": opa, "mode": "remote" if options.engine.opa_url else "managed"},
        "policy": {"catalogue_version": catalogue.get("version"), "catalogue_date": catalogue.get("date"),
                   "rules": [r.id for r in rules]},
        "now": now,
        "config": config,
        "inputs": [i.as_dict() for i in sorted(inventory.inputs, key=lambda i: i.path)],
        "summary": build_summary(total, len(inventory.tokens), skipped, findings, providers),
        "findings": findings,
        "skipped": skipped,
        "secrets_redacted": len(inventory.secrets),
        "rules": [r.as_dict() for r in rules],
        "tokens": token_facts(inventory.tokens),
    }
    return Report(data)


# What each audited token can do today, for reports that show it beside the replacement. The provider's
# native object stays out (it may hold fields no report needs); values were redacted at load.
TOKEN_FACTS = ("key", "id", "provider", "kind", "name", "owner", "masked", "legacy", "org_wide", "grants",
               "global_permissions", "scopes", "created_at", "expires_at", "last_used_at", "expiry_supported",
               "orgs", "approval", "stored_in", "observed_usage", "source")


def token_facts(tokens: list[dict]) -> list[dict]:
    return [{name: token.get(name) for name in TOKEN_FACTS} for token in sorted(tokens, key=lambda t: t["key"])]


def _catalogue_meta(policy_dir: Path) -> dict:
    path = policy_dir / "token_auditor" / "catalogue" / "data.json"
    if not path.is_file():
        return {}
    import json

    document = json.loads(path.read_text())
    return {"version": document.get("version"), "date": document.get("date")}


@bulk
def run_audit(paths: list[str], options: AuditOptions) -> Report:
    now = resolve_now(options.now)
    config = load_config(options.config_file)
    inventory, documents = read_inventory(paths, options)
    findings, opa = evaluate(inventory, now, config, options)
    return build_report(inventory, documents, findings, now, config, options, opa)


__all__ = ["AuditOptions", "EngineError", "EngineOptions", "read_inventory", "resolve_now", "run_audit"]
