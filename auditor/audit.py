"""The pipeline: inventory → providers → model → engine → findings → report."""

from __future__ import annotations

import functools
import gc
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from auditor import __version__
from auditor.config import RuleSelection, load_config, policy_config
from auditor.engine import Engine, EngineSettings, ManagedOpa, find_opa
from auditor.engine.binary import opa_version
from auditor.engine.client import DEFAULT_DEADLINE, DEFAULT_TIMEOUT, ProgressCallback
from auditor.engine.fleet import Fleet, read_endpoints
from auditor.errors import EngineError, InputError, ValidationFailed
from auditor.findings import load_rules, prepare_findings
from auditor.findings.finding import subject_index
from auditor.inventory.loader import DEFAULT_MAX_BYTES, Document, load_paths
from auditor.inventory.validate import capped, schema_errors
from auditor.model.inventory import Inventory
from auditor.model.timestamps import format_time, parse_time
from auditor.providers import adapter_for, link_secrets
from auditor.report.model import SCHEMA_VERSION, Report, ReportData, build_summary

# The checkout's policies/ (auditor/policies links to it; an installed wheel holds a copy there).
DEFAULT_POLICY_DIR = Path(__file__).resolve().parent / "policies"


@dataclass(frozen=True)
class EngineOptions:
    """How to reach OPA: a managed server (default) or --opa-url."""

    opa_url: str | tuple[str, ...] | None = None  # several, or @FILE: a fleet (auditor/engine/fleet.py)
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
    rules: RuleSelection = field(default_factory=RuleSelection)
    # What a long run shows (auditor/progress.py): each phase as it starts, then tokens evaluated per chunk.
    phase: Callable[[str], None] | None = None
    progress: ProgressCallback | None = None

    def say(self, phase: str) -> None:
        if self.phase is not None:
            self.phase(phase)


def resolve_now(now: str | None) -> str:
    if now is None:
        return format_time(datetime.now(UTC).replace(microsecond=0))
    try:
        return format_time(parse_time(now))
    except (ValueError, OverflowError):
        raise InputError(f"--now {now!r} is not an ISO 8601 date-time (e.g. 2026-11-25T00:00:00Z)") from None


def gc_paused(func):
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


@gc_paused
def read_inventory(paths: list[str], options: AuditOptions) -> tuple[Inventory, dict[str, Document]]:
    """Load, validate and normalize every input; the errors of all bad files at once."""
    errors: list[str] = []
    refused: list[InputError] = []  # errors that are not schema errors
    documents = _load_each(paths, options.max_input_bytes, errors, refused)
    plan = []
    for document in documents:
        try:
            adapter = adapter_for(document)
        except InputError as exc:
            errors.append(str(exc))
            refused.append(exc)
            continue
        found = capped(document, schema_errors(document, adapter.schema_for(document)))
        errors.extend(found)
        if not found:
            plan.append((document, adapter))
    parts = []
    for document, adapter in plan:
        try:
            parts.append((document, adapter.normalize(document, options.provider_options)))
        except InputError as exc:
            errors.append(str(exc))
            refused.append(exc)
    if len(errors) == 1 and len(refused) == 1:
        raise refused[0]  # one unreadable or unrecognised file: its own one-line error, as before
    if errors:
        raise ValidationFailed(errors)
    merged = Inventory()
    for document, part in parts:
        link_secrets(document, part)
        merged.merge(part)
    return merged, {d.path: d for d in documents}


def _load_each(paths: list[str], max_bytes: int, errors: list[str], refused: list[InputError]) -> list[Document]:
    """Every readable input; what cannot be found or read goes to errors, so one run names every bad file."""
    from auditor.inventory.loader import expand_paths, load_document

    if not paths:
        load_paths(paths)  # the usage error for no input at all
    documents = []
    for raw in paths:
        try:
            found = expand_paths([raw])
        except InputError as exc:
            errors.append(str(exc))
            refused.append(exc)
            continue
        for path in found:
            try:
                documents.append(load_document(path, max_bytes))
            except InputError as exc:
                errors.append(str(exc))
                refused.append(exc)
    return documents


def _engine_settings(options: EngineOptions, url: str, token: str | None, policy_dir: Path) -> EngineSettings:
    return EngineSettings(
        url=url,
        token=token,
        ca_file=options.opa_ca,
        timeout=options.timeout,
        chunk_size=options.chunk_size,
        workers=options.workers,
        deadline=options.deadline,
        policy_dir=policy_dir,
    )


def evaluate(inventory: Inventory, now: str, config: dict, options: AuditOptions) -> tuple[list[dict], str]:
    """Findings from OPA (managed or remote) and the OPA version that produced them."""
    with open_engine(options) as (engine, version):
        findings = engine.evaluate(inventory, now, policy_config(config) or None, progress=options.progress)
    return findings, version


@contextmanager
def open_engine(options: AuditOptions) -> Iterator[tuple[Engine | Fleet, str]]:
    """A ready engine (managed OPA, one --opa-url, or a fleet) and the OPA version it runs; closed after."""
    engine_options = options.engine
    with ExitStack() as stack:
        engine: Engine | Fleet
        if engine_options.opa_url:
            options.say("connecting to OPA")
            engine = Fleet(
                [
                    Engine(_engine_settings(engine_options, url, engine_options.opa_token, options.policy_dir))
                    for url in read_endpoints(engine_options.opa_url)
                ]
            )
            version = "remote"
        else:
            options.say("starting OPA")
            binary = find_opa(engine_options.opa_bin)
            version = opa_version(binary)
            server = stack.enter_context(ManagedOpa(binary, policy_dir=options.policy_dir))
            engine = Engine(_engine_settings(engine_options, server.url, server.token, options.policy_dir))
        stack.callback(engine.close)
        engine.check()
        if isinstance(engine, Fleet):
            engine.prepare(options.policy_dir)  # the fleet's bundle, or policies sent to a lone server
            version = engine.server_version() or "remote"
        elif not server.preloaded:
            engine.load_policies(options.policy_dir)
        yield engine, version


def run_header(
    options: AuditOptions,
    opa: str,
    catalogue: dict,
    rules: list,
    skipped_rules: list,
    now: str,
    config: dict,
    inputs: Iterable,
) -> dict[str, Any]:
    """What ran, on what, when: the report's first fields, shared by the JSON report and the streamed summary."""
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "token-auditor", "version": __version__},
        "engine": {"name": "opa", "opa_version": opa, "mode": "remote" if options.engine.opa_url else "managed"},
        "policy": {
            "catalogue_version": catalogue.get("version"),
            "catalogue_date": catalogue.get("date"),
            "rules": [r.id for r in rules],
            **({"skipped_rules": skipped_rules} if skipped_rules else {}),
        },
        "now": now,
        "config": config,
        "inputs": [i.as_dict() for i in sorted(inputs, key=lambda i: i.path)],
    }


def build_report(
    inventory: Inventory,
    documents: dict[str, Document],
    findings: list[dict],
    now: str,
    config: dict,
    options: AuditOptions,
    opa: str,
) -> Report:
    from auditor import evidence
    from auditor.frameworks import assess_all, load_frameworks

    rules = load_rules(options.policy_dir)
    catalogue = _catalogue_meta(options.policy_dir)
    skipped_rules = options.rules.skipped([r.id for r in rules])
    if skipped_rules:  # evaluated like every rule, then left out: listed below, never silently gone
        off = {s["id"] for s in skipped_rules}
        titles = {r.id: r.title for r in rules}
        skipped_rules = [{**s, "title": titles[s["id"]]} for s in skipped_rules]
        findings = [f for f in findings if f.get("rule_id") not in off]
        rules = [r for r in rules if r.id not in off]

    def line_of(file: str, pointer: str) -> int | None:
        document = documents.get(file)
        return document.line_of(pointer) if document else None

    findings = prepare_findings(findings, line_of, subject_index(inventory.tokens, inventory.orgs))
    skipped = sorted(
        (s.as_dict() for s in inventory.skipped),
        key=lambda s: (s["provider"], s["source"]["file"], s["source"]["pointer"]),
    )
    providers = Counter(t["provider"] for t in inventory.tokens)
    total = inventory.total_tokens  # SSH keys and other non-tokens are listed as skipped, not counted
    data: dict[str, Any] = {
        **run_header(options, opa, catalogue, rules, skipped_rules, now, config, inventory.inputs),
        "summary": build_summary(total, len(inventory.tokens), skipped, findings, providers),
        "findings": findings,
        "skipped": skipped,
        "secrets_redacted": len(inventory.secrets),
        "rules": [r.as_dict() for r in rules],
        "tokens": token_facts(inventory.tokens),
        # rules that did not run for an organization because its inventory lacked what they need
        "evidence": evidence.coverage(inventory.orgs),
        "not_assessed": evidence.not_assessed(inventory.orgs, rules, inventory.tokens),
    }
    from auditor.plan import Catalogue, attach_plans

    attach_plans(data, plan_tokens(data["tokens"], inventory.tokens), Catalogue.load(options.policy_dir, config))
    frameworks = tuple(load_frameworks(options.policy_dir))  # the run's own policies, not the shipped ones
    # the OPA boundary: findings are plain dicts of the report schema (the engine validates them)
    return Report(cast(ReportData, data), frameworks, assess_all(data, frameworks))


def plan_tokens(facts: list[dict], tokens: list[dict]) -> list[dict]:
    """Token facts plus the id GitHub's org endpoints revoke or deny by (the grant's or request's own `id`)."""
    revoke_ids = {
        t["key"]: (t.get("native") or {}).get("id")
        for t in tokens
        if t.get("provider") == "github" and t.get("kind") in ("fine_grained_pat", "fine_grained_pat_request")
    }
    return [
        {**fact, "revoke_id": revoke_ids[fact["key"]]} if revoke_ids.get(fact["key"]) is not None else fact
        for fact in facts
    ]


# What each audited token can do today, for reports that show it beside the replacement. The provider's
# native object stays out (it may hold fields no report needs); values were redacted at load.
TOKEN_FACTS = (
    "key",
    "id",
    "provider",
    "kind",
    "name",
    "owner",
    "masked",
    "legacy",
    "org_wide",
    "grants",
    "global_permissions",
    "scopes",
    "created_at",
    "expires_at",
    "last_used_at",
    "expiry_supported",
    "orgs",
    "approval",
    "stored_in",
    "observed_usage",
    "source",
)


def token_facts(tokens: list[dict]) -> list[dict]:
    return [{name: token.get(name) for name in TOKEN_FACTS} for token in sorted(tokens, key=lambda t: t["key"])]


def _catalogue_meta(policy_dir: Path) -> dict:
    path = policy_dir / "token_auditor" / "catalogue" / "data.json"
    if not path.is_file():
        return {}
    import json

    document = json.loads(path.read_text())
    return {"version": document.get("version"), "date": document.get("date")}


@gc_paused
def run_audit(paths: list[str], options: AuditOptions) -> Report:
    now = resolve_now(options.now)
    config = load_config(options.config_file)
    options.say("reading and normalizing inputs")
    inventory, documents = read_inventory(paths, options)
    findings, opa = evaluate(inventory, now, config, options)
    options.say("building the report")
    return build_report(inventory, documents, findings, now, config, options, opa)


__all__ = ["AuditOptions", "EngineError", "EngineOptions", "load_config", "read_inventory", "resolve_now", "run_audit"]
