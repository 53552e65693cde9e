"""What every collector shares: endpoint outcomes, progress on stderr, bounded retry, quiet SDK logs."""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from auditor import __version__
from auditor.errors import EXIT_ENGINE, AuditorError
from auditor.files import read_user_text
from auditor.redaction import redact_text
from auditor.report.text import terminal_safe

OK = "ok"
FORBIDDEN = "forbidden"
NOT_APPLICABLE = "not_applicable"
FAILED = "failed"
SKIPPED = "skipped"
# Outcomes that still make a complete collection: the data was read, or does not exist there.
COMPLETE_STATUSES = {OK, NOT_APPLICABLE}
SDK_LOGGERS = ("githubkit", "gitlab", "huggingface_hub", "httpx", "httpx2", "urllib3", "hishel")


class CollectionFailed(AuditorError):
    """Credentials refused, or the provider unreachable before anything was collected (exit 3)."""

    exit_code = EXIT_ENGINE


def one_line(text: object, limit: int = 300) -> str:
    """A provider message made safe to print: one line, bounded, token values redacted."""
    flat = " ".join(str(text).split())
    flat = redact_text(flat)
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def silence_sdk_logs() -> None:
    """SDKs log retries with tracebacks; our progress line says the same without them."""
    for name in SDK_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers[:] = [logging.NullHandler()]
        logger.propagate = False


def utc_now(pinned: str | None = None) -> str:
    if pinned:
        return pinned
    return datetime.now(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


class Progress:
    """One line per step on stderr (`token-auditor: collect github: …`)."""

    def __init__(self, provider: str, quiet: bool = False, stream=None):
        self.provider = provider
        self.quiet = quiet
        self.stream = stream or sys.stderr

    def __call__(self, message: str) -> None:
        if not self.quiet:
            print(
                f"token-auditor: collect {self.provider}: {terminal_safe(redact_text(message))}",
                file=self.stream,
                flush=True,
            )


@dataclass
class EndpointLog:
    """Each endpoint's outcome: status, item count, and what went wrong (with the permission it needs)."""

    endpoints: dict[str, dict] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def _entry(self, name: str) -> dict:
        return self.endpoints.setdefault(name, {"status": OK, "items": 0})

    def ok(self, name: str, items: int, note: str | None = None) -> None:
        entry = self._entry(name)
        entry["items"] += items
        if note:
            entry["note"] = note

    def problem(
        self,
        name: str,
        status: str,
        message: str,
        permission: str | None = None,
        target: str | None = None,
        http_status: int | None = None,
    ) -> None:
        """A forbidden/failed call. With `target` (one group, one grant…) the endpoint keeps its other items."""
        entry = self._entry(name)
        rank = [OK, NOT_APPLICABLE, SKIPPED, FAILED, FORBIDDEN]
        if rank.index(status) > rank.index(entry["status"]):
            entry["status"] = status
        failure: dict[str, object] = {"status": status, "message": one_line(message)}
        if http_status is not None:
            failure["http_status"] = http_status
        if target is not None:
            failure["target"] = target
        if permission:
            failure["permission"] = permission
        entry.setdefault("failures", []).append(failure)

    def not_applicable(self, name: str, reason: str) -> None:
        self.endpoints[name] = {"status": NOT_APPLICABLE, "items": 0, "note": reason}

    def skipped(self, name: str, reason: str) -> None:
        self.endpoints[name] = {"status": SKIPPED, "items": 0, "note": reason}

    @property
    def complete(self) -> bool:
        return all(e["status"] in COMPLETE_STATUSES for e in self.endpoints.values())

    def problems(self) -> list[str]:
        """One line per endpoint that is not complete, naming the permission it needs."""
        lines = []
        for name in sorted(self.endpoints):
            entry = self.endpoints[name]
            if entry["status"] in COMPLETE_STATUSES:
                continue
            if entry["status"] == SKIPPED:
                lines.append(f"{name}: skipped: {entry.get('note')}")
                continue
            failures = entry.get("failures") or []
            first = failures[0] if failures else {}
            where = f" ({len(failures)} of its calls, first: {first['target']})" if first.get("target") else ""
            need = f"; needs {first['permission']}" if first.get("permission") else ""
            lines.append(f"{name}: {entry['status']}{where}: {first.get('message', '')}{need}")
        return lines

    def note(self, text: str) -> None:
        """What no endpoint can supply (left out of `endpoints`, so a section added by hand still counts)."""
        self.notes.append(text)

    def document(self, tool_detail: str, collected_at: str) -> dict:
        out = {
            "tool": f"token-auditor {__version__} ({tool_detail})",
            "collected_at": collected_at,
            "complete": self.complete,
            "endpoints": {name: self.endpoints[name] for name in sorted(self.endpoints)},
        }
        if self.notes:
            out["notes"] = list(self.notes)
        return out


class RetryBudget:
    """Bounded waiting for rate limits: at most `max_retries` waits per call, each at most `max_wait` s."""

    def __init__(self, max_retries: int, max_wait: float, progress: Progress, sleep=time.sleep):
        self.max_retries = max_retries
        self.max_wait = max_wait
        self.progress = progress
        self.sleep = sleep

    def allows(self, attempt: int, wait: float) -> bool:
        return attempt < self.max_retries and wait <= self.max_wait

    def announce(self, what: str, attempt: int, wait: float) -> None:
        self.progress(f"rate limited on {what}; waiting {wait:g} s (retry {attempt + 1} of {self.max_retries})")

    def wait(self, what: str, attempt: int, wait: float) -> None:
        self.announce(what, attempt, wait)
        self.sleep(max(0.0, wait))


def read_text(path: str, label: str | None = None, not_text: str = "not UTF-8 text") -> str:
    """A UTF-8 file the user named, or a one-line input error naming it (`label`: the option, e.g. `--private-key PATH`)."""
    return read_user_text(path, label, not_text)
