"""Each version and default is written once: files that cannot read .opa-version must name the same release."""

from __future__ import annotations

import re
import subprocess

from conftest import FIXTURES, NOW, ROOT, run_cli

PINNED = (ROOT / ".opa-version").read_text(encoding="utf-8").strip()
# An OPA release named in prose, YAML, shell or Python: `opa@v1.2.3`, `openpolicyagent/opa:1.2.3-static`, `OPA 1.2.3`,
# `.opa-version`, 1.2.3 …
OPA_RELEASE = re.compile(
    r"(?:opa@v|openpolicyagent/opa:|\bOPA v?|OPA is pinned to v|opa_version\W{1,4}v?|opa-version\W{1,6})"
    r"(\d+\.\d+\.\d+)"
)
# Test inputs and records of what was measured with which OPA are not pins.
NOT_PINS = ("tests/", "fixtures/", "policies/", "CHANGELOG.md", "docs/benchmark.md")


def _tracked_text_files() -> list[str]:
    listed = subprocess.run(["git", "-C", str(ROOT), "ls-files"], capture_output=True, text=True, check=True)
    return [name for name in listed.stdout.splitlines() if not name.startswith(NOT_PINS)]


def test_every_file_names_the_pinned_opa_release():
    named = {}
    for name in _tracked_text_files():
        path = ROOT / name
        if path.is_symlink() or not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for match in OPA_RELEASE.finditer(text):
            named[f"{name}:{text.count(chr(10), 0, match.start()) + 1}"] = match.group(1)
    assert named, "the scan found no OPA release at all: its patterns are stale"
    assert {place: release for place, release in named.items() if release != PINNED} == {}


def test_the_pattern_catches_the_forms_files_use():
    text = "go install github.com/open-policy-agent/opa@v9.8.7; image: openpolicyagent/opa:9.8.7-static; OPA 9.8.7"
    assert OPA_RELEASE.findall(text) == ["9.8.7", "9.8.7", "9.8.7"]


def test_the_install_hint_names_the_pinned_release():
    result = run_cli(
        "audit", str(FIXTURES / "github"), "--now", NOW, "--opa-bin", "/nonexistent/opa", env={"OPA_BIN": ""}
    )
    assert result.returncode == 3
    assert result.stderr == (
        "token-auditor: error: OPA not found at /nonexistent/opa (--opa-bin); install it with `make setup` "
        f"(builds .bin/opa) or `go install github.com/open-policy-agent/opa@v{PINNED}`, or pass --opa-bin\n"
    )
