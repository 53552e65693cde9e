"""Find the OPA binary: --opa-bin, $OPA_BIN, .bin/opa beside the project, then PATH."""

from __future__ import annotations

import os
import shutil
import subprocess
from functools import cache
from pathlib import Path

from auditor.errors import EngineError

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# The OPA release token-auditor is tested with: .opa-version, linked here so that a wheel carries it too.
PINNED_VERSION_FILE = Path(__file__).resolve().parents[1] / "opa-version"


def pinned_opa_version() -> str | None:
    try:
        return PINNED_VERSION_FILE.read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def install_hint() -> str:
    release = f"v{pinned_opa_version()}" if pinned_opa_version() else "latest"
    return (
        "install it with `make setup` (builds .bin/opa) or "
        f"`go install github.com/open-policy-agent/opa@{release}`, or pass --opa-bin"
    )


def find_opa(explicit: str | None = None) -> str:
    candidates: list[tuple[str, str | None]] = [
        ("--opa-bin", explicit),
        ("$OPA_BIN", os.environ.get("OPA_BIN")),
        (".bin/opa", str(PROJECT_ROOT / ".bin" / "opa")),
        ("PATH", shutil.which("opa")),
    ]
    for origin, candidate in candidates:
        if not candidate:
            continue
        path = Path(candidate)
        if origin == "--opa-bin" and not path.is_file() and os.sep not in candidate:
            path = Path(shutil.which(candidate) or candidate)  # a command name: `--opa-bin opa`
        if path.is_file() and os.access(path, os.X_OK):
            # absolute: the managed server runs in its own work directory, where a relative path means nothing
            return os.path.abspath(path)
        if origin in ("--opa-bin", "$OPA_BIN"):
            raise EngineError(f"OPA not found at {candidate} ({origin}); {install_hint()}")
    raise EngineError(f"OPA not found; {install_hint()}")


@cache
def opa_version(binary: str) -> str:
    try:
        out = subprocess.run([binary, "version"], capture_output=True, text=True, timeout=30, check=True).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise EngineError(f"cannot run {binary} version: {exc}") from None
    for line in out.splitlines():
        if line.startswith("Version:"):
            return line.split(":", 1)[1].strip()
    return "unknown"
