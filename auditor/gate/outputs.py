"""Where each requested format goes: `--format X -o FILE` pairs, or `--output-dir DIR`."""

from __future__ import annotations

import os
import re
import stat
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auditor.errors import InputError

if TYPE_CHECKING:
    from auditor.report.formats import Format


def plan_outputs(
    formats: tuple[str, ...],
    outputs: tuple[str, ...],
    output_dir: str | None,
    known: Mapping[str, Format[Any]],
    stem: str = "token-auditor",
) -> list[tuple[str, str | None]]:
    """[(format, path or None for stdout)] in the order given; at most one format goes to stdout.
    known: the formats by name (a registry of auditor/report/formats.py); --output-dir names files by extension."""
    formats = tuple(dict.fromkeys(formats or ("table",)))
    unknown = [f for f in formats if f not in known]
    if unknown:
        raise InputError(f"unknown format {unknown[0]!r}; known: {', '.join(sorted(known))}")
    if output_dir:
        if outputs:
            raise InputError("--output-dir and -o/--output exclude each other")
        return [(f, str(Path(output_dir) / f"{stem}.{known[f].extension}")) for f in formats]
    if len(formats) == 1:
        if len(outputs) > 1:
            raise InputError(f"{len(outputs)} -o/--output values for one --format")
        return [(formats[0], outputs[0] if outputs else None)]
    if len(outputs) != len(formats):
        raise InputError(
            f"{len(formats)} formats need {len(formats)} -o/--output values "
            f"(one per --format, in order) or --output-dir; got {len(outputs)}"
        )
    if sum(1 for o in outputs if o == "-") > 1:
        raise InputError("only one format can go to stdout (-o -)")
    return list(zip(formats, outputs, strict=True))


# Writing: every output of a run is committed together or not at all.
#
# A target that is a regular file (or does not exist yet) is replaced atomically: a temp file beside it,
# then a rename. Anything else (a device such as /dev/null, a FIFO, /dev/stdout) is written directly, never
# replaced. A symlink is followed: the file it names is replaced and the link stays.
_FD_PATH = re.compile(r"^/(?:dev/fd|proc/self/fd)/(\d+)$")
_STD_PATHS = {"/dev/stdout": 1, "/dev/stderr": 2}


@dataclass
class _Target:
    shown: str  # the path as given (for messages)
    text: str | bytes
    final: str | None = None  # the regular file to replace
    direct: str | None = None  # a device or FIFO to write in place
    fd: int | None = None  # an inherited descriptor (stdout, /dev/fd/N)
    temp: str | None = None
    mode: int | None = None


def _classify(path: str | None, text: str | bytes) -> _Target:
    if path is None or path == "-":
        return _Target("stdout", text, fd=1)
    target = _Target(path, text)
    fd = _STD_PATHS.get(path)
    match = _FD_PATH.match(path)
    if fd is not None:
        target.fd = fd
        return target
    if match:
        target.fd = int(match.group(1))
        return target
    try:
        info = os.stat(path)  # follows symlinks: a link to a device is a device
    except FileNotFoundError:
        target.final = os.path.realpath(path)  # a dangling link: create the file it names
        return target
    except OSError as exc:
        raise InputError(f"{path}: cannot write: {exc.strerror}") from None
    if stat.S_ISDIR(info.st_mode):
        raise InputError(f"{path}: cannot write: is a directory")
    if stat.S_ISREG(info.st_mode):
        target.final = os.path.realpath(path)
        target.mode = stat.S_IMODE(info.st_mode)
    else:
        target.direct = path
    return target


def _write_fd(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _write_stdout(data: bytes) -> None:
    stream = sys.stdout
    stream.flush()
    buffer = getattr(stream, "buffer", None)
    if buffer is None:  # a text-only stream (tests capturing output)
        stream.write(data.decode("utf-8", errors="replace"))
        stream.flush()
        return
    buffer.write(data)
    buffer.flush()


def discard_stdout() -> None:
    """After a failed write to stdout, drop what is still buffered so the exit does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        sys.stdout.flush()
    except (OSError, ValueError, AttributeError):
        pass


def _write_temp(target: _Target) -> None:
    assert target.final is not None
    parent = os.path.dirname(target.final) or "."
    os.makedirs(parent, exist_ok=True)
    handle, target.temp = tempfile.mkstemp(dir=parent, prefix=f".{os.path.basename(target.final)}.", suffix=".tmp")
    with os.fdopen(handle, "wb") as out:
        out.write(_encoded(target.text))
    if target.mode is None:
        umask = os.umask(0)
        os.umask(umask)
        target.mode = 0o666 & ~umask  # mkstemp makes 0600; a new report is an ordinary file
    os.chmod(target.temp, target.mode)


def _encoded(text: str | bytes) -> bytes:
    return text if isinstance(text, bytes) else text.encode("utf-8")


def _write_direct(target: _Target) -> None:
    data = _encoded(target.text)
    if target.fd == 1:
        _write_stdout(data)
    elif target.fd is not None:
        if target.fd == 2:
            sys.stderr.flush()
        _write_fd(target.fd, data)
    elif target.direct is not None:
        with open(target.direct, "wb") as out:  # O_TRUNC does nothing to a device or FIFO
            out.write(data)


def commit_outputs(items: Sequence[tuple[str | None, str | bytes]]) -> None:
    """Write every (path or None for stdout, text or bytes): all of them, or none of the files (exit 2 naming the path).

    Order: temp files first, then direct writes (devices, stdout), then the renames; a failure before the
    renames leaves every file target untouched. Temp files are removed on every exit path.
    """
    targets = [_classify(path, text) for path, text in items]
    finals = [t.final for t in targets if t.final]
    if len(set(finals)) != len(finals):
        raise InputError("two outputs name the same file")
    current: _Target | None = None
    try:
        for current in targets:
            if current.final:
                _write_temp(current)
        for current in targets:
            if current.final is None:
                _write_direct(current)
        for current in targets:
            if current.final and current.temp:
                os.replace(current.temp, current.final)
                current.temp = None
    except OSError as exc:
        if current is not None and current.fd == 1:
            discard_stdout()
        where = current.shown if current is not None else "output"
        raise InputError(f"{where}: cannot write: {exc.strerror or exc}") from None
    finally:
        for target in targets:
            if target.temp:
                try:
                    os.unlink(target.temp)
                except OSError:
                    pass
