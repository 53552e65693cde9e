"""An OPA bundle of token-auditor's policies, built by `opa build`, for a fleet of OPA servers.

The revision names what is inside: `<catalogue version>-<first 16 hex of the content hash>`. The content hash is
SHA-256 over the bundle's files in path order, each as `path NUL length NUL bytes`, so the CLI can tell whether a
fleet serves exactly the policies of its --policy-dir.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from auditor.engine.client import data_files, policy_files
from auditor.errors import EngineError, InputError

STAGE = "token-auditor"  # the bundle's directory while building; module ids are token-auditor/<path>
SIGNING_ALGORITHMS = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "HS256",
    "HS384",
    "HS512",
)
_PACKAGE = re.compile(r"^package\s+([\w.]+)", re.MULTILINE)


def bundle_files(policy_dir: Path) -> list[tuple[str, Path]]:
    """(path inside the bundle, file): the modules and data documents the engine loads, no tests."""
    files = [*policy_files(policy_dir), *data_files(policy_dir)]
    return sorted((path.relative_to(policy_dir).as_posix(), path) for path in files)


def content_hash(policy_dir: Path) -> str:
    digest = hashlib.sha256()
    for name, path in bundle_files(policy_dir):
        content = path.read_bytes()
        digest.update(f"{name}\0{len(content)}\0".encode())
        digest.update(content)
    return digest.hexdigest()


def catalogue_version(policy_dir: Path) -> str:
    path = policy_dir / "token_auditor" / "catalogue" / "data.json"
    try:
        version = json.loads(path.read_text()).get("version")
    except (OSError, ValueError, AttributeError):
        version = None
    return str(version) if version else "unversioned"


def policy_revision(policy_dir: Path) -> str:
    """The revision a bundle of these policies carries."""
    return f"{catalogue_version(policy_dir)}-{content_hash(policy_dir)[:16]}"


def bundle_roots(policy_dir: Path) -> list[str]:
    """The top-level names the bundle owns: each package's first segment and each data document's first
    directory (a data.json at the top owns everything). Other roots stay free for the operator (system.authz)."""
    roots: set[str] = set()
    for name, path in bundle_files(policy_dir):
        if path.suffix == ".rego":
            match = _PACKAGE.search(path.read_text())
            if match:
                roots.add(match.group(1).split(".", 1)[0])
        else:
            parts = name.split("/")
            roots.add(parts[0] if len(parts) > 1 else "")
    return [""] if "" in roots else sorted(roots)


def _opa_error(completed: subprocess.CompletedProcess, policy_dir: Path) -> str:
    text = (completed.stderr or completed.stdout or "").strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    detail = next((line for line in lines if re.search(r"\.rego:\d+", line)), lines[-1] if lines else "")
    detail = detail.replace(f"{STAGE}/", f"{policy_dir.name}/")
    return detail[:300] or f"exit {completed.returncode}"


def _run(command: list[str], cwd: str) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError) as exc:
        raise EngineError(f"cannot run {command[0]} build: {exc}") from None


def build_bundle(
    policy_dir: Path, opa: str, signing_key: str | None = None, signing_alg: str = "RS256"
) -> tuple[bytes, str]:
    """The bundle's bytes (gzipped tar, as `opa build` writes it) and its revision."""
    if not policy_dir.is_dir():
        raise InputError(f"policy directory {policy_dir} not found")
    files = bundle_files(policy_dir)
    if not any(name.endswith(".rego") for name, _ in files):
        raise InputError(f"no .rego policies under {policy_dir}")
    revision = policy_revision(policy_dir)
    with tempfile.TemporaryDirectory(prefix="token-auditor-bundle-") as work:
        stage = Path(work) / STAGE
        for name, path in files:
            target = stage / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
        manifest = {
            "revision": revision,
            "roots": bundle_roots(policy_dir),
            "metadata": {
                "token_auditor": {
                    "catalogue_version": catalogue_version(policy_dir),
                    "content_sha256": content_hash(policy_dir),
                }
            },
        }
        (stage / ".manifest").write_text(json.dumps(manifest, indent=2) + "\n")
        output = Path(work) / "bundle.tar.gz"
        command = [opa, "build", "--bundle", STAGE, "--output", str(output), "--revision", revision]
        # Unsigned first: a policy that does not compile is an engine error (exit 3) naming file and line;
        # only then does a failure belong to the signing key (exit 2).
        built = _run(command, work)
        if built.returncode != 0:
            raise EngineError(f"opa build failed: {_opa_error(built, policy_dir)}")
        if signing_key:
            key = str(Path(signing_key).resolve())
            signed = _run([*command, "--signing-key", key, "--signing-alg", signing_alg], work)
            if signed.returncode != 0:
                raise InputError(
                    f"--signing-key {signing_key}: opa build could not sign with it "
                    f"({signing_alg}): {_opa_error(signed, policy_dir)}"
                )
        return output.read_bytes(), revision
