"""Several OPA servers (--opa-url repeated, or @FILE) evaluating one run's chunks.

Each endpoint has --workers requests in flight at most. A chunk that fails on one endpoint (unreachable, HTTP 5xx,
no answer within --opa-timeout) goes to another that has not tried it; every chunk's result is kept exactly once,
by chunk number, so the findings do not depend on which server evaluated what. An endpoint that is unreachable or
hung gets no more chunks. Every endpoint must serve the same policy bundle revision, the one of --policy-dir.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import click

from auditor.engine.client import ChunkProgress, EndpointError, Engine, ProgressCallback, chunk_documents, merge_results
from auditor.errors import EngineError, InputError
from auditor.files import read_user_text
from auditor.model.inventory import Inventory
from auditor.redaction import redact_text

ENTRY_PATH = "token_auditor/main"  # the package the CLI queries (client.ENTRY_PACKAGE)


def read_endpoints(values: str | tuple[str, ...] | list[str] | None) -> list[str]:
    """--opa-url values: URLs, or @FILE naming a file of URLs (one a line, # comments, blank lines)."""
    if isinstance(values, str):
        values = (values,)
    urls: list[tuple[str, str]] = []  # (url, where it was given)
    for value in values or ():
        if not value.startswith("@"):
            urls.append((value.strip(), "--opa-url"))
            continue
        path = value[1:]
        text = read_user_text(path, f"--opa-url @{path}")
        for number, line in enumerate(text.splitlines(), 1):
            line = line.split("#", 1)[0].strip()
            if line:
                urls.append((line, f"{path}:{number}"))
        if not any(where.startswith(f"{path}:") for _, where in urls):
            raise InputError(f"--opa-url @{path}: the file lists no endpoint")
    seen: dict[str, str] = {}
    for url, where in urls:
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise InputError(f"{where}: {redact_text(url)[:100]!r} is not an http(s) URL")
        key = url.rstrip("/")
        if key in seen:
            raise InputError(f"{where}: {redact_text(url)[:100]} is listed twice (first at {seen[key]})")
        seen[key] = where
    return [url for url, _ in urls]


def our_revision(manifests: dict) -> str | None:
    """The revision of the bundle that holds token-auditor's entry point, None when no bundle does."""
    for name in sorted(manifests):
        roots = manifests[name].get("roots", [""])
        if not isinstance(roots, list):
            continue
        if any(
            isinstance(root, str)
            and (root.strip("/") in ("", ENTRY_PATH) or ENTRY_PATH.startswith(f"{root.strip('/')}/"))
            for root in roots
        ):
            revision = manifests[name].get("revision")
            return revision if isinstance(revision, str) else ""
    return None


def _warn(message: str) -> None:
    try:
        click.echo(f"token-auditor: warning: {redact_text(message)}", err=True)
    except OSError:
        pass


class Fleet:
    """One or more OPA endpoints with the interface of an Engine: check, prepare, evaluate, close."""

    def __init__(self, engines: list[Engine]):
        if not engines:
            raise InputError("--opa-url: no endpoint given")
        self.engines = engines
        self.down: set[int] = set()
        self.revision: str | None = None
        self.assignments: list[int] = []  # chunk number -> index of the endpoint whose result was kept

    def _url(self, index: int) -> str:
        return self.engines[index].settings.url

    def _live(self) -> list[int]:
        return [i for i in range(len(self.engines)) if i not in self.down]

    def _lose(self, index: int, exc: EngineError) -> None:
        """An endpoint is left out; the run goes on while others remain, else the failure ends it."""
        self.down.add(index)
        if not self._live():
            raise exc
        _warn(f"{exc}; leaving it out, its work goes to the {len(self._live())} other endpoint(s)")

    def check(self) -> None:
        for index in range(len(self.engines)):
            try:
                self.engines[index].check()
            except EndpointError as exc:
                self._lose(index, exc)

    def server_version(self) -> str | None:
        versions = sorted({v for i in self._live() if (v := self.engines[i].server_version())})
        return ", ".join(versions) if versions else None

    def revisions(self) -> dict[int, str | None]:
        found = {}
        for index in self._live():
            try:
                found[index] = our_revision(self.engines[index].bundles())
            except EndpointError as exc:
                self._lose(index, exc)
        return {i: r for i, r in found.items() if i not in self.down}

    def prepare(self, policy_dir: Path) -> None:
        """Check that every endpoint serves the bundle of `policy_dir`; a lone server without a bundle gets the
        policies over REST instead. A server that serves a bundle is never sent a policy."""
        from auditor.engine.bundle import policy_revision

        found = self.revisions()
        if len(self.engines) == 1 and found.get(0) is None:
            self.engines[0].load_policies(policy_dir)
            return
        distinct = set(found.values())
        if len(distinct) > 1:
            listed = "; ".join(f"{self._url(i)}: {found[i] or 'no token-auditor bundle'}" for i in sorted(found))
            raise EngineError(
                f"OPA endpoints serve different policy bundle revisions ({listed}); "
                "every endpoint of a fleet must serve the same bundle"
            )
        revision = distinct.pop()
        if revision is None:
            raise EngineError(
                f"none of the {len(found)} OPA endpoints serves a token-auditor policy bundle; a fleet "
                "evaluates one bundle (build it with `token-auditor bundle`, see docs/fleet.md)"
            )
        expected = policy_revision(policy_dir)
        if revision != expected:
            raise EngineError(
                f"OPA endpoints serve policy bundle revision {revision}, but {policy_dir} is revision "
                f"{expected}; deploy a bundle built from it (`token-auditor bundle`) or pass the "
                "--policy-dir the bundle was built from"
            )
        self.revision = revision

    def evaluate(
        self, inventory: Inventory, now: str, config: dict | None = None, progress: ProgressCallback | None = None
    ) -> list[dict]:
        settings = self.engines[0].settings
        documents = chunk_documents(inventory, now, config, settings.chunk_size)
        tracker = ChunkProgress(progress, len(inventory.tokens))
        findings = merge_results(self.evaluate_documents(documents, tracker))
        self.check_unchanged()
        return findings

    def check_unchanged(self) -> None:
        """After the last chunk: every endpoint still serves the revision the run started with."""
        if self.revision is not None:
            changed = {i: r for i, r in self.revisions().items() if r != self.revision}
            if changed:
                listed = "; ".join(f"{self._url(i)}: {r or 'no token-auditor bundle'}" for i, r in changed.items())
                raise EngineError(
                    f"the policy bundle changed during the run (was {self.revision}; now {listed}); "
                    "run again once every endpoint serves one revision"
                )

    def evaluate_documents(self, documents: list[dict], progress: ChunkProgress | None = None) -> list[list[dict]]:
        """Each document's findings, in document order, each evaluated by exactly one endpoint."""
        results: list[list[dict] | None] = [None] * len(documents)
        owners: list[int] = [-1] * len(documents)
        tried: list[set[int]] = [set() for _ in documents]
        pending: list[int] = list(range(len(documents)))
        state = _RunState()
        lock = threading.Condition()

        def stranded() -> EngineError | None:
            live = set(self._live())
            if not live:
                return state.last or EngineError("no OPA endpoint left")
            for number in pending:
                if live <= tried[number]:
                    return state.last or EngineError(f"chunk {number + 1} failed on every endpoint")
            return None

        def take(index: int) -> int | None:
            with lock:
                while True:
                    if state.error is not None or index in self.down:
                        return None
                    number = next((n for n in pending if index not in tried[n]), None)
                    if number is not None:
                        pending.remove(number)
                        tried[number].add(index)
                        state.running += 1
                        return number
                    if not pending and state.running == 0:
                        return None
                    lock.wait()

        def work(index: int) -> None:
            engine = self.engines[index]
            while (number := take(index)) is not None:
                try:
                    result = engine.evaluate_chunk(documents[number], progress)
                except EndpointError as exc:
                    if len(self.engines) > 1 and self._url(index) not in str(exc):  # say which endpoint failed
                        exc = EndpointError(f"OPA at {self._url(index)}: {exc}", exc.down)
                    with lock:
                        state.running -= 1
                        state.last = exc
                        pending.insert(0, number)
                        if exc.down and index not in self.down:
                            self.down.add(index)
                            if self._live():
                                _warn(f"{exc}; leaving it out, its chunks go to the other endpoint(s)")
                        state.error = state.error or stranded()
                        lock.notify_all()
                    continue
                except BaseException as exc:  # not the endpoint's fault: the same everywhere, stop the run
                    with lock:
                        state.running -= 1
                        state.error = state.error or exc
                        lock.notify_all()
                    return
                with lock:
                    state.running -= 1
                    if results[number] is not None:
                        state.error = EngineError(f"internal error: chunk {number + 1} evaluated twice")
                    results[number], owners[number] = result, index
                    lock.notify_all()

        workers = max(1, engine_workers(self.engines[0]))
        threads = [
            threading.Thread(target=work, args=(index,), name=f"opa-endpoint-{index}-{slot}", daemon=True)
            for index in self._live()
            for slot in range(min(workers, len(documents)))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if state.error is not None:
            raise state.error
        evaluated = [result for result in results if result is not None]
        if len(evaluated) < len(results):  # every thread stopped with work left: no endpoint left
            raise stranded() or EngineError("internal error: a chunk was not evaluated")
        self.assignments = owners
        return evaluated

    def close(self) -> None:
        for engine in self.engines:
            engine.close()


@dataclass
class _RunState:
    """What the endpoint threads of one evaluation share, under its lock."""

    running: int = 0  # chunks being evaluated
    error: BaseException | None = None  # the error that ends the run
    last: EngineError | None = None  # the latest endpoint failure, reported when no endpoint is left


def engine_workers(engine: Engine) -> int:
    return engine.settings.workers
