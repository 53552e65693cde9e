"""What a long `audit` shows on stderr: the phase it is in, then tokens evaluated out of the total, the rate, the
time left and the findings so far, updated as OPA chunks complete.

On a terminal: one live line drawn by rich. Elsewhere nothing, unless --progress asks for it: then plain lines,
a few seconds apart, without cursor control, for CI logs and files.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import replace
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from rich.progress import Progress, Task, TaskID
    from rich.text import Text

    from auditor.audit import AuditOptions

PLAIN_INTERVAL = 5.0  # seconds between plain lines; the last chunk always gets one


def duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


class Display:
    """No display at all; the others override what they show. A context manager around the run."""

    def attach(self, options: AuditOptions) -> AuditOptions:
        return replace(options, phase=self.phase, progress=self.update)

    def phase(self, text: str) -> None:
        pass

    def update(self, done: int, total: int, findings: int) -> None:
        pass

    def __enter__(self) -> Display:
        return self

    def __exit__(self, kind, value, traceback) -> None:
        pass


class NoDisplay(Display):
    def attach(self, options: AuditOptions) -> AuditOptions:
        return options


class PlainDisplay(Display):
    """One line per phase, then `evaluated D/T tokens (P%), R tokens/s, ETA H:MM:SS, F findings so far` at most
    every `interval` seconds and after the last chunk."""

    def __init__(self, stream: TextIO, interval: float = PLAIN_INTERVAL, clock=time.monotonic):
        self._stream = stream
        self._interval = interval
        self._clock = clock
        self._started: float | None = None
        self._last = 0.0

    def _write(self, line: str) -> None:
        try:
            self._stream.write(f"token-auditor: {line}\n")
            self._stream.flush()
        except (OSError, ValueError):  # stderr closed or gone: the run matters more than its progress
            pass

    def phase(self, text: str) -> None:
        self._write(text)

    def update(self, done: int, total: int, findings: int) -> None:
        now = self._clock()
        if self._started is None:
            self._started, self._last = now, now
            self._write(f"evaluating {_plural(total, 'token')}")
            return
        if done < total and now - self._last < self._interval:
            return
        self._last = now
        elapsed = now - self._started
        rate = done / elapsed if elapsed > 0 else 0.0
        percent = done * 100 // total if total else 100
        if done >= total:
            when = f"in {duration(elapsed)}"
        else:
            when = f"ETA {duration((total - done) / rate) if rate > 0 else '-:--:--'}"
        self._write(
            f"evaluated {done}/{total} tokens ({percent}%), {rate:.0f} tokens/s, {when}, "
            f"{_plural(findings, 'finding')} so far"
        )


class LiveDisplay(Display):
    """`⠋ evaluating ━━━━━━━╸━━━━ 1200/4000 tokens · 410 tokens/s · ETA 0:00:06 · 57 findings`, redrawn in place."""

    def __init__(self, stream: TextIO):
        from rich.console import Console
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn

        console = Console(file=stream, force_terminal=True, force_interactive=True, highlight=False)
        self._progress: Progress = Progress(
            SpinnerColumn(finished_text="✓"),
            TextColumn("{task.description}"),
            BarColumn(bar_width=24),
            *_columns(),
            console=console,
            refresh_per_second=4,
            redirect_stdout=False,  # stdout is the report's, written after the display stops
            redirect_stderr=False,  # done in __enter__, in a way click's echo(err=True) goes through too
        )
        self._task: TaskID = self._progress.add_task("starting", total=None, findings=0)
        self._evaluating = False

    def phase(self, text: str) -> None:
        self._progress.update(self._task, description=text)

    def update(self, done: int, total: int, findings: int) -> None:
        if not self._evaluating:  # rate and ETA count from the first chunk sent, not from the start of the run
            self._evaluating = True
            self._progress.reset(self._task, total=total, description="evaluating", findings=0)
        self._progress.update(self._task, completed=done, findings=findings)

    def __enter__(self) -> LiveDisplay:
        self._stderr = sys.stderr
        sys.stderr = _stderr_proxy(self._progress.console, sys.stderr)  # a warning meanwhile goes above the line
        self._progress.start()
        return self

    def __exit__(self, kind, value, traceback) -> None:
        try:
            sys.stderr.flush()
            if kind is None:
                self._progress.update(self._task, description="done")
                self._progress.stop_task(self._task)
            else:  # the error line that follows says what happened; no half-drawn display above it
                self._progress.live.transient = True
            self._progress.stop()
        finally:
            sys.stderr = self._stderr


def _stderr_proxy(console, stream: TextIO) -> TextIO:
    """rich's FileProxy, with the stream's encoding and errors: without them click takes it for a misconfigured
    stream and writes to the terminal's buffer underneath, across the live line."""
    from rich.file_proxy import FileProxy

    class Proxy(FileProxy):
        encoding = stream.encoding
        errors = stream.errors

    return Proxy(console, stream)  # type: ignore[return-value]


def _columns() -> list:
    """Tokens done/total, rate, ETA (the time taken once done) and findings so far; empty until evaluation starts."""
    from rich.progress import ProgressColumn
    from rich.text import Text

    class Figures(ProgressColumn):
        def render(self, task: Task) -> Text:
            if task.total is None:
                return Text("")
            done, total = int(task.completed), int(task.total)
            parts = [f"{done}/{total} tokens"]
            # the average since the first chunk went out: several workers finish chunks in bursts
            elapsed = task.finished_time if task.finished else task.elapsed
            rate = done / elapsed if elapsed and done else None
            if rate is not None:
                parts.append(f"{rate:.0f} tokens/s")
            if task.finished and task.finished_time is not None:
                parts.append(f"in {duration(task.finished_time)}")
            else:
                parts.append(f"ETA {duration((total - done) / rate) if rate else '-:--:--'}")
            parts.append(_plural(task.fields.get("findings") or 0, "finding"))
            return Text(" · ".join(parts))

    return [Figures()]


def progress_display(requested: bool | None, quiet: bool = False, stream: TextIO | None = None) -> Display:
    """--progress (True), --no-progress (False) or neither (None: live on a terminal unless --quiet)."""
    stream = stream if stream is not None else sys.stderr
    isatty = getattr(stream, "isatty", None)
    terminal = bool(isatty and isatty()) and os.environ.get("TERM", "") != "dumb"
    if requested is False or (requested is None and (quiet or not terminal)):
        return NoDisplay()
    return LiveDisplay(stream) if terminal else PlainDisplay(stream)
