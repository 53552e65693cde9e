"""`--format json` written as a stream (auditor/stream.py): the same bytes as JsonFormat renders for the same
report, with memory bounded by a few sort buffers instead of the whole report.

The report's lists are in a global order (findings most severe first, skipped entries and token facts by key)
while chunks come in input order, so each list goes through an external sort: records are buffered, sorted and
spooled to temporary files in runs, and the runs are merged (heapq.merge) when the report is written. Plans need
one token's findings at a time: the findings about tokens are sorted a second time by token, then merged with
the token facts (sorted by key) and built one plan at a time.

The document is written once every chunk is in, in the report's key order: the summary counts, known by then,
come before the findings as in the whole report.
"""

from __future__ import annotations

import heapq
import json
import struct
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from operator import itemgetter
from typing import IO, Any

import orjson

from auditor.findings.finding import sort_key  # the report's order of findings
from auditor.plan import Catalogue
from auditor.plan.build import build_plans, plan_id, token_key_of
from auditor.report.jsonl_format import compact_json

Key = tuple[Any, ...]

_RECORD = struct.Struct("<II")  # key length, payload length
_RUN_BYTES = 16 << 20  # what one sort buffer holds before it is spooled as a sorted run
_MAX_RUNS = 64  # runs merged into one beyond this, so a huge report never holds too many files open


def indented(value: Any, depth: int) -> bytes:
    """`value` as JsonFormat lays it out at `depth` levels of nesting (2 spaces each), without the first indent."""
    try:
        text = orjson.dumps(value, option=orjson.OPT_INDENT_2)
    except TypeError:  # an int beyond 64 bits: stdlib, as JsonFormat falls back
        text = json.dumps(value, indent=2, ensure_ascii=False).encode()
    return text.replace(b"\n", b"\n" + b"  " * depth) if depth else text


class SortedSpool:
    """Records (key, payload) added in any order, read back ordered by key (stable: equal keys in the order added).

    Keys are flat tuples of str and int. At most `run_bytes` of payload stay in memory; the rest are sorted runs
    in temporary files."""

    def __init__(self, run_bytes: int = _RUN_BYTES, max_runs: int = _MAX_RUNS):
        self.run_bytes = run_bytes
        self.max_runs = max_runs
        self.count = 0
        self._buffer: list[tuple[Key, bytes]] = []
        self._buffered = 0
        self._runs: list[IO[bytes]] = []

    def add(self, key: Key, payload: bytes) -> None:
        self._buffer.append((key, payload))
        self._buffered += len(payload) + 100  # about what a tuple, its key and a bytes object cost beside it
        self.count += 1
        if self._buffered >= self.run_bytes:
            self._spool()

    def _spool(self) -> None:
        if not self._buffer:
            return
        self._buffer.sort(key=itemgetter(0))
        self._runs.append(self._write_run(self._buffer))
        self._buffer, self._buffered = [], 0
        if len(self._runs) >= self.max_runs:
            merged = self._write_run(heapq.merge(*(self._read_run(r) for r in self._runs), key=itemgetter(0)))
            for run in self._runs:
                run.close()
            self._runs = [merged]

    @staticmethod
    def _write_run(records: Iterable[tuple[Key, bytes]]) -> IO[bytes]:
        run = tempfile.TemporaryFile(prefix="token-auditor-sort-", buffering=1 << 20)
        write = run.write
        for key, payload in records:
            encoded = orjson.dumps(key)
            write(_RECORD.pack(len(encoded), len(payload)))
            write(encoded)
            write(payload)
        run.flush()
        return run

    @staticmethod
    def _read_run(run: IO[bytes]) -> Iterator[tuple[Key, bytes]]:
        run.seek(0)
        read, size = run.read, _RECORD.size
        while header := read(size):
            key_length, payload_length = _RECORD.unpack(header)
            yield tuple(orjson.loads(read(key_length))), read(payload_length)

    def __iter__(self) -> Iterator[tuple[Key, bytes]]:
        """Every record, in key order (read more than once, one reading at a time: runs share their file)."""
        if not self._runs:
            self._buffer.sort(key=itemgetter(0))
            return iter(self._buffer)
        self._spool()
        if len(self._runs) == 1:
            return self._read_run(self._runs[0])
        return heapq.merge(*(self._read_run(r) for r in self._runs), key=itemgetter(0))

    def close(self) -> None:
        for run in self._runs:
            run.close()
        self._runs, self._buffer = [], []


class JsonReportStream:
    """The pieces of the JSON report as chunks produce them; `write` lays the document out at the end.

    audited: every audited token key (a secret's plan is the plan of the token it belongs to, when audited)."""

    def __init__(
        self,
        audited: Mapping[str, object],
        now: str,
        catalogue: Catalogue,
        run_bytes: int = _RUN_BYTES,
        max_runs: int = _MAX_RUNS,
    ):
        self.audited = audited
        self.now = now
        self.catalogue = catalogue
        self.findings = SortedSpool(run_bytes, max_runs)
        self.skipped = SortedSpool(run_bytes, max_runs)
        self.tokens = SortedSpool(run_bytes, max_runs)
        self.revoke_ids = SortedSpool(run_bytes, max_runs)  # GitHub grants and requests: the id to revoke them by
        self.planned = SortedSpool(run_bytes, max_runs)  # findings about a token, by token then report order

    def plan_of(self, finding: dict) -> str | None:
        """The id of the plan that will cover this finding (as attach_plans sets it), or None."""
        key = token_key_of(finding)
        if key is None:
            return None
        if key in self.audited or (finding.get("subject") or {}).get("type") == "token":
            return plan_id(key)
        return None

    def add_prepared(self, findings: list[dict]) -> None:
        """A chunk's findings, prepared (fingerprint, provider, line), before the plan id and the gate fields:
        what plans are built from."""
        for finding in findings:
            key = token_key_of(finding)
            if key is not None:
                self.planned.add((key, *sort_key(finding)), compact_json(finding))

    def add_finding(self, finding: dict) -> None:
        """A finding as the report lists it (plan id and gate fields set)."""
        self.findings.add(sort_key(finding), indented(finding, 2))

    def add_skipped(self, entry: Mapping[str, Any]) -> None:
        source = entry["source"]
        self.skipped.add((entry["provider"], source["file"], source["pointer"]), indented(entry, 2))

    def add_token(self, fact: Mapping[str, Any], revoke_id: object = None) -> None:
        """One audited token's facts (auditor/audit.py token_facts) and, for GitHub grants, its revoke id."""
        self.tokens.add((fact["key"],), indented(fact, 2))
        if revoke_id is not None:
            self.revoke_ids.add((fact["key"],), compact_json(revoke_id))

    def _plans(self) -> Iterator[dict]:
        """One plan per token with findings, by token key: its findings merged with its facts."""
        facts, revoke_ids = _Cursor(self.tokens), _Cursor(self.revoke_ids)

        def plan_for(key: str, findings: list[dict]) -> list[dict]:
            fact = facts.find(key)
            tokens = []
            if fact is not None:
                tokens.append(orjson.loads(fact))
                revoke_id = revoke_ids.find(key)
                if revoke_id is not None:
                    tokens[0]["revoke_id"] = orjson.loads(revoke_id)
            return build_plans(findings, tokens, self.now, self.catalogue)

        group: list[dict] = []
        current = ""
        for key, payload in self.planned:
            if group and key[0] != current:
                yield from plan_for(current, group)
                group = []
            current = key[0]
            group.append(orjson.loads(payload))
        if group:
            yield from plan_for(current, group)

    def write(self, out: IO[bytes], head: Mapping[str, Any], tail: Mapping[str, Any]) -> None:
        """The report: `head` (the run header and summary), findings, skipped, `tail` (secrets_redacted, rules),
        tokens, evidence and not_assessed from `tail`, plans, then the gate from `tail`."""
        members: list[tuple[str, object]] = [
            *head.items(),
            ("findings", (payload for _, payload in self.findings)),
            ("skipped", (payload for _, payload in self.skipped)),
            ("secrets_redacted", tail["secrets_redacted"]),
            ("rules", tail["rules"]),
            ("tokens", (payload for _, payload in self.tokens)),
            ("evidence", tail["evidence"]),
            ("not_assessed", tail["not_assessed"]),
            ("plans", (indented(plan, 2) for plan in self._plans())),
            ("gate", tail["gate"]),
        ]
        out.write(b"{")
        for index, (name, value) in enumerate(members):
            out.write(b"\n  " if index == 0 else b",\n  ")
            out.write(orjson.dumps(name) + b": ")
            if isinstance(value, Iterator):
                _write_list(out, value)
            else:
                out.write(indented(value, 1))
        out.write(b"\n}\n")

    def close(self) -> None:
        for spool in (self.findings, self.skipped, self.tokens, self.revoke_ids, self.planned):
            spool.close()


class _Cursor:
    """A walk through a spool keyed by (token key,), for lookups in increasing key order."""

    def __init__(self, spool: SortedSpool):
        self._records = iter(spool)
        self._key: str | None = None
        self._payload = b""
        self._done = False

    def find(self, key: str) -> bytes | None:
        while not self._done and (self._key is None or self._key < key):
            record = next(self._records, None)
            if record is None:
                self._done = True
            else:
                self._key, self._payload = record[0][0], record[1]
        return self._payload if self._key == key else None


def _write_list(out: IO[bytes], items: Iterator[bytes]) -> None:
    """A list of items already laid out at depth 2, as orjson indents a list member of the top-level object."""
    first = True
    for item in items:
        out.write(b"[\n    " if first else b",\n    ")
        out.write(item)
        first = False
    out.write(b"[]" if first else b"\n  ]")
