"""The bounded-memory audit: inputs read as a stream, evaluated and reported chunk by chunk.

Used for `audit --format jsonl` and/or `--format json` when every input is a token-inventory/v1 file (`.jsonl`, or
`.json`) or a huggingface-inventory/v1 `.json` export (a `.json` file is read with ijson: auditor/inventory/streamed.py;
an export's context, all but its tokens, first). Each input is read twice:

1. check: parse, redact, validate and normalize every token (nothing kept but each audited token's key, to find
   duplicates) so that a bad file is refused, naming file:line, before anything is written;
2. audit: the same again, a chunk of tokens at a time: each chunk goes to OPA with the per-org context (orgs with
   members and token policies, held whole), its findings are prepared and written at once (JSON Lines) or spooled
   for the JSON report's global order (auditor/report/json_stream.py), and the summary is counted on the way.

Memory then grows with the org context, the duplicate-key table and one batch of chunks, not with the input.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, cast

import ijson
import orjson

from auditor import evidence
from auditor.config import load_config, policy_config
from auditor.engine.fleet import Fleet
from auditor.errors import InputError, ValidationFailed
from auditor.findings import load_rules, prepare_findings
from auditor.findings.finding import SEVERITIES, subject_index
from auditor.gate import judge
from auditor.inventory.jsonl import is_jsonl, iter_jsonl
from auditor.inventory.loader import JSON_LINE_MAP_MAX_CHARS, Document, expand_paths, json_line_map, redacted_name
from auditor.inventory.streamed import read_context, read_tokens
from auditor.inventory.validate import MAX_ERRORS_SHOWN, is_valid, schema_errors
from auditor.model.inventory import InputSummary, Inventory, Skipped
from auditor.providers import adapter_for, api_error, huggingface
from auditor.providers.neutral import ADAPTER as NEUTRAL
from auditor.providers.neutral import FORMAT as NEUTRAL_FORMAT
from auditor.providers.neutral import normalize_token
from auditor.redaction import SecretHit, contains_secret, redact_document
from auditor.report.jsonl_format import compact_json, finding_line, line_bytes, skipped_line, summary_line
from auditor.report.model import Finding

if TYPE_CHECKING:
    from auditor.gate.outputs import _Target
    from auditor.report.json_stream import JsonReportStream

DUPLICATE = "duplicate of the token"


class _Neutral:
    """token-inventory/v1: the file's orgs and locations, each token completed as the whole-file adapter does."""

    def __init__(self, document: Document):
        self.context = NEUTRAL.normalize(document, {})
        self.document = document

    def token(self, place: Document, pointer: str, value: dict) -> dict | Skipped:
        return normalize_token(place, pointer, value)

    def finish(self, reached_orgs: set[str], entries: int, providers: set[str]) -> Inventory:
        provider = ",".join(sorted(providers)) or "any"  # of every entry, skipped ones too, as the adapter
        self.context.inputs = [
            InputSummary(self.document.path, self.document.sha256, NEUTRAL_FORMAT, provider, entries)
        ]
        return self.context


class _HuggingFace:
    """huggingface-inventory/v1: the export's context (account, orgs, members, policies, Spaces) read first, then
    each token normalized against it by the adapter's own code."""

    def __init__(self, document: Document):
        self.export = huggingface.Export.begin(document)

    def token(self, place: Document, pointer: str, value: dict) -> dict | Skipped:
        return self.export.token(pointer, value)

    def finish(self, reached_orgs: set[str], entries: int, providers: set[str]) -> Inventory:
        return self.export.finish(reached_orgs, entries)


# Streamed formats: format → (schema, the per-file normalizer). Others are read whole.
STREAMED: dict[str, tuple[str, Callable[[Document], _Neutral | _HuggingFace]]] = {
    NEUTRAL_FORMAT: ("token-inventory.v1", _Neutral),
    huggingface.FORMAT: ("huggingface-inventory.v1", _HuggingFace),
}


@dataclass
class Source:
    """One streamed input file."""

    path: str  # where it is on disk
    name: str  # as reports show it (a token in the path redacted)
    jsonl: bool
    sha256: str = ""
    header: dict = field(default_factory=dict)  # every top-level member but the tokens (JSON Lines: line 1)
    header_line: int = 1
    lines: dict[str, int] = field(default_factory=dict)  # small .json files: pointer → line, as the loader maps
    tokens: int = 0  # entries read
    providers: set[str] = field(default_factory=set)


def streamable(paths: list[str]) -> list[str] | None:
    """The files to stream, or None when some input must be read whole (stdin, YAML, other formats)."""
    if not paths or "-" in paths:
        return None
    try:
        files = expand_paths(paths)
    except InputError:
        return None  # the whole-file path names the error
    for path in files:
        if is_jsonl(path):
            continue
        if not path.lower().endswith(".json") or _declared_format(path) not in STREAMED:
            return None
    return files


def _declared_format(path: str) -> object:
    """The top-level `format`, wherever it is: ijson reads on to it (through the tokens, unbuilt) and stops."""
    try:
        with open(path, "rb") as handle:
            for value in ijson.items(handle, "format"):
                return value
    except (OSError, ijson.JSONError, ValueError):
        return None
    return None


@dataclass
class Item:
    """One token entry as read: its index, its line (JSON Lines, or a small .json file) and its value."""

    index: int
    line: int | None
    value: object
    text: str | None = None  # the line's text (JSON Lines): a clean line skips the redaction walk


def read_header(source: Source) -> None:
    """The document's top-level members but `tokens` (JSON Lines: line 1; JSON: one ijson pass, tokens skipped)."""
    if source.jsonl:
        with open(source.path, "rb") as handle:
            first = next(iter_jsonl(handle, source.name))
        source.header, source.header_line = first.value, first.number  # type: ignore[assignment]
        if source.header.get("format") != NEUTRAL_FORMAT:
            raise InputError(
                f"{source.name}:{first.number}: a JSON Lines inventory is {NEUTRAL_FORMAT}: its header line needs "
                f'"format": "{NEUTRAL_FORMAT}"'
            )
        return
    source.header = read_context(source.path, source.name)  # `tokens: []` for an array; else as found
    size = os.path.getsize(source.path)
    if size <= JSON_LINE_MAP_MAX_CHARS:  # as the loader: lines for small files
        source.lines = json_line_map(Path(source.path).read_text(encoding="utf-8-sig"))


def read_items(source: Source) -> Iterator[Item]:
    """Every token entry of the file, in order; the file's sha256 is set once it has been read through."""
    if source.jsonl:
        digest = hashlib.sha256()
        with open(source.path, "rb") as handle:
            for line in iter_jsonl(handle, source.name, digest):
                if line.index >= 0:
                    yield Item(line.index, line.number, line.value, line.text)
        source.sha256 = digest.hexdigest()
        return
    readers: list = []
    for index, value in read_tokens(source.path, source.name, readers):
        yield Item(index, source.lines.get(f"/tokens/{index}"), value)
    source.sha256 = readers[0].digest.hexdigest()


def _plain(value):
    """ijson's dict subclass as plain dicts (OPA's input, deep copies and orjson want exact types)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def source_line(source: Source, pointer: str, token_line: int | None = None) -> int | None:
    """The line of a pointer as the whole-file loader finds it: a small .json file's map, a JSON Lines token's
    line or the header line."""
    if source.lines:
        probe = pointer
        while True:
            if probe in source.lines:
                return source.lines[probe]
            if not probe:
                return None
            probe = probe.rsplit("/", 1)[0]
    if not source.jsonl:
        return None
    if pointer.startswith("/tokens/"):
        return token_line
    return source.header_line  # every top-level field but tokens is on the header line


class _Place(Document):
    """Where a token of a streamed file is, for messages: `/tokens/N` and its line. `shown` rewrites the
    pointers of a token validated alone (as `/tokens/0`) to its own index."""

    def __init__(self, source: Source, index: int, line: int | None, shown: int | None = None):
        super().__init__(path=source.name, sha256="", data=None)
        self.index = index
        self.line = line
        self.source = source
        self.shown = shown

    def line_of(self, pointer: str) -> int | None:
        return source_line(self.source, pointer, self.line if pointer.startswith(f"/tokens/{self.index}") else None)

    def where(self, pointer: str) -> str:
        if self.shown is not None and pointer.startswith("/tokens/0"):
            pointer = f"/tokens/{self.shown}" + pointer[len("/tokens/0") :]
        return super().where(pointer)


def _token_errors(source: Source, item: Item, value, format_name: str, schema: str) -> list[str]:
    """The schema's errors for one entry, validated alone in a minimal document of its format."""
    wrapper = {"format": format_name, "collected_at": "1970-01-01T00:00:00Z", "tokens": [value]}
    if is_valid(wrapper, schema):
        return []
    return schema_errors(_Place(source, item.index, item.line, shown=item.index), schema, data=wrapper)


def _redacted(source: Source, item: Item) -> tuple[object, list[SecretHit]]:
    if item.text is not None:  # JSON Lines: plain dicts already, and a clean line needs no walk
        value = item.value
        if not contains_secret(item.text):
            return value, []
    else:
        value = _plain(item.value)
    value, hits = redact_document(value, source.name)
    prefix = f"/tokens/{item.index}"
    return value, [SecretHit(source.name, prefix + h.pointer, h.provider, h.prefix, h.masked, h.digest) for h in hits]


@dataclass
class Checked:
    """What the check pass keeps: the org context and, per audited token key, where it first appears."""

    sources: list[Source]
    context: Inventory
    first: dict[str, tuple[int, int]]  # token key → (source number, token index)
    total: int


_loads = orjson.loads


def _context_document(source: Source, name_hits: list[SecretHit]) -> Document:
    """The file without its token entries (`tokens: []`), redacted: what the adapter reads the export's context
    from, and where messages about the context point."""
    raw, source.header = source.header, {}  # not held for the audit pass: the context is in the document now
    header, hits = redact_document(_plain(raw), source.name)
    assert isinstance(header, dict)  # read_header refuses anything else
    return Document(
        source.name,
        "",
        {**header, "tokens": []} if source.jsonl else header,
        lines={"": source.header_line} if source.jsonl else source.lines,
        secrets=name_hits + hits,
    )


def _only_entry_is_an_error_answer(document: Document, value) -> str | None:
    """The whole-file loader's refusal of `tokens: [<an API error answer>]` (a failed `--slurp` page)."""
    found = api_error([value])
    if found:
        return f"{document.where('/tokens')}: {found} instead of the export; fix the access and export again"
    return None


def check_sources(files: list[str], spool: IO[bytes]) -> Checked:
    """Pass 1: every error of every file (at most MAX_ERRORS_SHOWN per file), or the org context and key table.

    Each entry, once redacted, validated and normalized, goes to `spool` (a temporary file) as one line, so the
    audit pass reads it back instead of doing that work twice."""
    errors: list[str] = []
    refused = 0  # errors that are not schema errors: one alone is raised as it is, as the whole-file path does
    sources: list[Source] = []
    context = Inventory()
    first: dict[str, tuple[int, int]] = {}
    total = 0
    for number, path in enumerate(files):
        name, name_hits = redacted_name(path)
        source = Source(path, name, is_jsonl(path))
        file_errors: list[str] = []
        try:
            read_header(source)
            document = _context_document(source, name_hits)
            declared = adapter_for(document).formats[0]  # refuses an API error answer, as the loader does
            if declared not in STREAMED:
                raise InputError(f"{source.name}: {declared} is not read as a stream")
            schema, reader = STREAMED[declared]
            file_errors.extend(schema_errors(document, schema))
            normalizer = None if file_errors else reader(document)
        except InputError as exc:  # nothing more of this file is read, as the loader stops there
            errors.append(str(exc))
            refused += 1
            sources.append(source)
            continue
        reached: set[str] = set()
        error_answer: str | None = None
        try:
            # `tokens` missing or not an array: the schema error above says so, and there is nothing to read
            listed = isinstance(cast(dict, document.data).get("tokens"), list)
            for item in read_items(source) if listed else iter(()):
                source.tokens += 1
                value, hits = _redacted(source, item)
                if item.index == 0:
                    error_answer = _only_entry_is_an_error_answer(document, value)
                found = _token_errors(source, item, value, declared, schema)
                if not found and normalizer is not None:
                    place = _Place(source, item.index, item.line)
                    try:
                        token = normalizer.token(place, f"/tokens/{item.index}", value)  # type: ignore[arg-type]
                    except InputError as exc:
                        found = [str(exc)]
                        refused += 1
                    else:
                        skipped = isinstance(token, Skipped)
                        source.providers.add(token.provider if isinstance(token, Skipped) else token["provider"])
                        if isinstance(token, dict):
                            reached.update(token["orgs"])
                            first.setdefault(token["key"], (number, item.index))
                        if not errors and not file_errors:
                            entry = token.as_dict() if isinstance(token, Skipped) else token
                            hit_entries = [hit.as_input() for hit in hits]
                            spool.write(
                                compact_json([number, item.index, item.line, skipped, entry, hit_entries]) + b"\n"
                            )
                if found and len(file_errors) < MAX_ERRORS_SHOWN:
                    file_errors.extend(found)
                elif found:
                    file_errors.append("")  # counted, not shown
        except InputError as exc:
            file_errors.append(str(exc))
            refused += 1
        if error_answer and source.tokens == 1:
            file_errors = [error_answer]
            refused += 1
        shown = [e for e in file_errors if e][:MAX_ERRORS_SHOWN]
        if len(file_errors) > len(shown):
            shown.append(f"{source.name}: … and {len(file_errors) - len(shown)} more errors")
        errors.extend(shown)
        if normalizer is not None and not file_errors:
            document.sha256 = source.sha256
            part = normalizer.finish(reached, source.tokens, source.providers)
            part.secrets.extend(hit.as_input() | {"token": None} for hit in document.secrets)
            context.merge(part)
        total += source.tokens
        sources.append(source)
    if len(errors) == 1 and refused == 1:
        raise InputError(errors[0])
    if errors:
        raise ValidationFailed(errors)
    spool.flush()
    return Checked(sources, context, first, total)


class OrgContext:
    """The orgs a chunk's tokens name. The first chunk carries every org (org-level rules run there, like
    locations); the others only those their tokens refer to, so a chunk's input does not grow with the number
    of orgs and members in the file (at 1M tokens: 2,500 orgs, 16 MB of JSON per chunk otherwise)."""

    def __init__(self, orgs: list[dict]):
        self.orgs = orgs
        self.names = {o["name"] for o in orgs}

    def __call__(self, tokens: list[dict]) -> list[dict]:
        names: set[str] = set()
        for token in tokens:
            self._collect(token, names)
        return [o for o in self.orgs if o["name"] in names]

    def _collect(self, node, names: set[str]) -> None:
        if isinstance(node, str):
            if node in self.names:
                names.add(node)
            elif "/" in node and node.split("/", 1)[0] in self.names:  # a repo or Space: org/name
                names.add(node.split("/", 1)[0])
        elif isinstance(node, dict):
            for key, value in node.items():
                if key in self.names:
                    names.add(key)
                self._collect(value, names)
        elif isinstance(node, list):
            for value in node:
                self._collect(value, names)


@dataclass
class Tally:
    """The summary, counted as findings go out."""

    audited: int = 0
    skipped: int = 0
    not_tokens: int = 0
    findings: int = 0
    failing: int = 0
    secrets: int = 0
    flagged: int = 0
    flagged_elsewhere: set[str] = field(default_factory=set)  # flagged tokens outside the chunk that flagged them
    by_severity: Counter = field(default_factory=Counter)
    by_rule: Counter = field(default_factory=Counter)
    providers: Counter = field(default_factory=Counter)
    lacking: evidence.LackingCounts = field(default_factory=Counter)  # tokens whose own evidence is incomplete


@dataclass
class Chunk:
    tokens: list[dict] = field(default_factory=list)
    secrets: list[dict] = field(default_factory=list)
    lines: dict[tuple[str, str], int] = field(default_factory=dict)  # (file, /tokens/N) → line (JSON Lines)


def _chunks(checked: Checked, spool: IO[bytes], size: int, on_skipped: Callable[[dict], None]) -> Iterator[Chunk]:
    """Pass 2: chunks of normalized tokens (with the secrets found in them) read back from the spool; skipped
    entries go to on_skipped."""
    chunk = Chunk()
    spool.seek(0)
    for raw in spool:
        number, index, line, skipped, token, hits = _loads(raw)
        source = checked.sources[number]
        pointer = f"/tokens/{index}"
        owner = None if skipped else token["key"]
        if not skipped:
            kept = checked.first.get(token["key"])
            if kept != (number, index):
                where = f"{checked.sources[kept[0]].name}#/tokens/{kept[1]}" if kept else "?"
                skipped, token = (
                    True,
                    Skipped(
                        token["provider"],
                        token["id"],
                        token.get("name"),
                        f"{DUPLICATE} at {where}",
                        source.name,
                        pointer,
                    ).as_dict(),
                )
        chunk.secrets.extend(hit | {"token": owner} for hit in hits)
        if skipped:
            on_skipped(token)
            continue
        chunk.tokens.append(token)
        if line is not None:
            chunk.lines[(source.name, pointer)] = line
        if len(chunk.tokens) >= size:
            yield chunk
            chunk = Chunk()
    if chunk.tokens or chunk.secrets:
        yield chunk


def _batches(chunks: Iterator[Chunk], count: int) -> Iterator[list[Chunk]]:
    batch: list[Chunk] = []
    for chunk in chunks:
        batch.append(chunk)
        if len(batch) >= count:
            yield batch
            batch = []
    if batch:
        yield batch


class StreamOutputs:
    """Where a streamed audit writes, per format: stdout, a device or FIFO written in place, or a temporary file
    beside the target, renamed into place once every output is complete (all of them, or none: an error
    anywhere removes every temporary file). Targets are classified as the whole-file path does."""

    def __init__(self, outputs: list[tuple[str, str | None]]):
        self.outputs = outputs
        self._temps: list[tuple[str, str, int | None]] = []  # (temporary file, final path, mode)
        self._handles: list[tuple[IO[bytes], str]] = []  # (file, the path as given)

    def __enter__(self) -> dict[str, IO[bytes]]:
        from auditor.gate.outputs import _classify

        targets = [(fmt, _classify(path, b"")) for fmt, path in self.outputs]
        finals = [t.final for _, t in targets if t.final]
        if len(set(finals)) != len(finals):
            raise InputError("two outputs name the same file")
        opened: dict[str, IO[bytes]] = {}
        try:
            for fmt, target in targets:
                opened[fmt] = self._open(target)
        except BaseException:
            self.__exit__(*sys.exc_info())
            raise
        return opened

    def _open(self, target: _Target) -> IO[bytes]:
        handle: IO[bytes]
        if target.fd == 1:
            sys.stdout.flush()
            return sys.stdout.buffer
        if target.fd is not None:
            if target.fd == 2:
                sys.stderr.flush()
            handle = open(target.fd, "wb", closefd=False)  # noqa: SIM115 (closed on exit)
        elif target.direct is not None:
            handle = open(target.direct, "wb")  # noqa: SIM115 (a device or FIFO: never replaced)
        else:
            final = target.final
            assert final is not None  # a regular file, or none yet
            parent = os.path.dirname(final) or "."
            try:
                os.makedirs(parent, exist_ok=True)  # as the whole-file path: --output-dir may not exist yet
                fd, temp = tempfile.mkstemp(dir=parent, prefix=f".{os.path.basename(final)}.", suffix=".tmp")
            except OSError as exc:
                raise InputError(f"{target.shown}: cannot write: {exc.strerror}") from None
            self._temps.append((temp, final, target.mode))
            handle = os.fdopen(fd, "wb", buffering=1 << 20)
        self._handles.append((handle, target.shown))
        return handle

    def __exit__(self, exc_type, exc, tb) -> None:
        where = "output"
        try:
            for handle, shown in self._handles:
                where = shown
                handle.close()  # flushes: a full disk shows here
            if exc_type is None:
                sys.stdout.flush()
                for temp, final, mode in self._temps:
                    where = final
                    if mode is None:  # mkstemp makes 0600; a new report is an ordinary file
                        umask = os.umask(0)
                        os.umask(umask)
                        mode = 0o666 & ~umask
                    os.chmod(temp, mode)
                while self._temps:  # the renames last: a failure before them leaves every target untouched
                    temp, final, _ = self._temps[0]
                    where = final
                    os.replace(temp, final)
                    self._temps.pop(0)
        except OSError as exc:
            raise InputError(f"{where}: cannot write: {exc.strerror or exc}") from None
        finally:
            for temp, _, _ in self._temps:
                try:
                    os.unlink(temp)
                except OSError:
                    pass
            self._temps, self._handles = [], []


STREAMED_FORMATS = ("jsonl", "json")


def run_stream(files: list[str], options, fail_on: str, outputs: list[tuple[str, str | None]], progress=None) -> int:
    """Audit `files` (all streamable) into `outputs` ([(format, path or None for stdout)], formats among
    STREAMED_FORMATS) in one pass; returns the number of failing findings.

    progress, when given, is called as progress(done, total, findings) after each chunk."""
    from auditor.audit import resolve_now

    now = resolve_now(options.now)
    config = load_config(options.config_file)
    with tempfile.TemporaryFile(prefix="token-auditor-spool-") as spool:
        checked = check_sources(files, spool)
        return _audit_spooled(checked, spool, now, config, options, fail_on, outputs, progress)


def _audit_spooled(checked: Checked, spool: IO[bytes], now, config, options, fail_on, outputs, progress) -> int:
    from auditor.audit import _catalogue_meta, open_engine, run_header

    rules = load_rules(options.policy_dir)
    catalogue = _catalogue_meta(options.policy_dir)
    skipped_rules = options.rules.skipped([r.id for r in rules])
    off = {s["id"] for s in skipped_rules}
    if skipped_rules:
        titles = {r.id: r.title for r in rules}
        skipped_rules = [{**s, "title": titles[s["id"]]} for s in skipped_rules]
        rules = [r for r in rules if r.id not in off]
    context = checked.context
    sources = {s.name: s for s in checked.sources}
    tally = Tally()
    seen_global: set[tuple] = set()  # findings about subjects outside their chunk (org-wide): kept once
    opa_config = policy_config(config) or None
    workers = max(1, options.engine.workers)
    chunk_size = max(1, options.engine.chunk_size)
    secrets_first = list(context.secrets)
    orgs_for = OrgContext(context.orgs)

    with ExitStack() as stack:
        targets = stack.enter_context(StreamOutputs(outputs))
        engine, version = stack.enter_context(open_engine(options))
        sink = Sink(targets.get("jsonl"), None)
        if "json" in targets:
            from auditor.plan import Catalogue
            from auditor.report.json_stream import JsonReportStream

            sink.report = JsonReportStream(checked.first, now, Catalogue.load(options.policy_dir, config))
            stack.callback(sink.report.close)

        def on_skipped(entry: dict) -> None:
            tally.skipped += 1
            sink.skipped(entry)

        audited_total = len(checked.first)  # as the whole-file path: the tokens to evaluate (not the skipped)
        if progress is not None:  # the total first, then each chunk
            progress(0, audited_total, 0)
        first = True
        endpoints = len(getattr(engine, "engines", [engine]))
        for batch in _batches(_chunks(checked, spool, chunk_size, on_skipped), workers * endpoints):
            documents = []
            for chunk in batch:
                document = {
                    "now": now,
                    "tokens": chunk.tokens,
                    "orgs": context.orgs if first else orgs_for(chunk.tokens),
                    "locations": context.locations if first else [],
                    "secrets": (secrets_first + chunk.secrets) if first else chunk.secrets,
                }
                if opa_config:
                    document["config"] = opa_config
                documents.append(document)
                tally.secrets += len(document["secrets"])
                first = False
            results = engine.evaluate_documents(documents)
            for chunk, raw in zip(batch, results, strict=True):
                _write_chunk(chunk, raw, context, sources, off, seen_global, tally, fail_on, sink)
                if progress is not None:
                    progress(tally.audited, audited_total, tally.findings)
        if first:  # no token at all: the file-level context is still evaluated once
            document = {"now": now, "tokens": [], "orgs": context.orgs, "locations": context.locations}
            document["secrets"] = secrets_first
            if opa_config:
                document["config"] = opa_config
            tally.secrets += len(secrets_first)
            raw = engine.evaluate_documents([document])[0]
            _write_chunk(Chunk(), raw, context, sources, off, seen_global, tally, fail_on, sink)
        if isinstance(engine, Fleet):
            engine.check_unchanged()  # before the summary line: a run whose bundle changed has no verdict
        flagged = tally.flagged + len(tally.flagged_elsewhere)
        summary = {
            "tokens": tally.audited + tally.skipped - tally.not_tokens,
            "audited": tally.audited,
            "skipped": tally.skipped,
            "tokens_with_findings": flagged,
            "tokens_by_provider": dict(sorted(tally.providers.items())),
            "findings": tally.findings,
            "by_severity": {s: tally.by_severity.get(s, 0) for s in SEVERITIES},
            "by_rule": dict(sorted(tally.by_rule.items())),
        }
        head = {**run_header(options, version, catalogue, rules, skipped_rules, now, config, context.inputs)}
        head["summary"] = summary
        tail = {
            "secrets_redacted": tally.secrets,
            "rules": [r.as_dict() for r in rules],
            "evidence": evidence.coverage(context.orgs),
            "not_assessed": evidence.not_assessed(context.orgs, rules, lacking=tally.lacking),
            "gate": {
                "fail_on": fail_on,
                "findings": tally.findings,
                "counted": tally.findings,
                "waived": 0,
                "baseline": 0,
                "failing": tally.failing,
                "passed": tally.failing == 0,
            },
        }
        if sink.jsonl is not None:
            sink.jsonl.write(line_bytes(summary_line({**head, **tail})))
        if sink.report is not None:
            sink.report.write(targets["json"], head, tail)
    return tally.failing


@dataclass
class Sink:
    """What each chunk's results go to: JSON Lines written at once, and/or the JSON report's sorted spools."""

    jsonl: IO[bytes] | None
    report: JsonReportStream | None

    def skipped(self, entry: dict) -> None:
        if self.jsonl is not None:
            self.jsonl.write(line_bytes(skipped_line(entry)))
        if self.report is not None:
            self.report.add_skipped(entry)


def _write_chunk(chunk, raw, context, sources, off, seen_global, tally, fail_on, sink: Sink) -> None:
    from auditor.audit import plan_tokens, token_facts

    keys = {t["key"] for t in chunk.tokens}
    kept = []
    for finding in raw:
        if finding.get("rule_id") in off:
            continue
        key = finding["subject"].get("key")
        if key not in keys:  # about a subject outside this chunk: another chunk may report it too
            identity = (finding["rule_id"], key, finding.get("instance", ""))
            if identity in seen_global:
                continue
            seen_global.add(identity)
        kept.append(finding)
    token_lines = chunk.lines

    def line_of(file: str, pointer: str) -> int | None:
        source = sources.get(file)
        if source is None:
            return None
        parts = pointer.split("/")
        token_line = token_lines.get((file, "/".join(parts[:3]))) if parts[1:2] == ["tokens"] else None
        return source_line(source, pointer, token_line)

    prepared = prepare_findings(kept, line_of, subject_index(chunk.tokens, context.orgs))
    report = sink.report
    if report is not None:  # as the whole report: plans are built from the findings before the gate marks them
        report.add_prepared(prepared)
        for finding in prepared:
            finding["plan_id"] = report.plan_of(finding)
    tally.failing += len(
        judge(cast(list[Finding], prepared), fail_on)
    )  # no baseline or waivers on this path: every finding counts
    flagged_here = set()
    for finding in prepared:
        subject = finding["subject"]
        tally.findings += 1
        tally.by_severity[finding["severity"]] += 1
        tally.by_rule[finding["rule_id"]] += 1
        if subject.get("type") == "token":
            if subject.get("key") in keys:
                flagged_here.add(subject.get("key"))
            else:
                tally.flagged_elsewhere.add(subject.get("key"))
        if sink.jsonl is not None:
            sink.jsonl.write(finding_line(finding))
        if report is not None:
            report.add_finding(finding)
    tally.flagged += len(flagged_here)
    tally.audited += len(chunk.tokens)
    if report is not None:
        facts = token_facts(chunk.tokens)
        for fact, planned in zip(facts, plan_tokens(facts, chunk.tokens), strict=True):
            report.add_token(fact, planned.get("revoke_id"))
    for token in chunk.tokens:
        tally.providers[token["provider"]] += 1
        evidence.add_lacking(tally.lacking, token)
