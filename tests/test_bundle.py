"""`token-auditor bundle`: an OPA bundle built by the real `opa build`, signed with `--signing-key`, that real OPA
servers download, verify and evaluate."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tarfile
from pathlib import Path

import requests
from conftest import FIXTURES, NOW, ROOT
from test_fleet import CLEAN_ENV, audit_report, build_bundle, cli, fleet  # noqa: F401, F811 (pytest fixture)


def _members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path, "r:gz") as archive:
        return {m.name.lstrip("/"): archive.extractfile(m).read() for m in archive.getmembers() if m.isfile()}


def test_bundle_holds_the_engine_policies_with_a_content_revision(tmp_path):
    result = cli("bundle", "-o", str(tmp_path / "a.tar.gz"))
    assert result.returncode == 0, result.stderr
    revision = re.fullmatch(r"bundle \S+a\.tar\.gz: revision (2026\.11\.29-[0-9a-f]{16})\n", result.stderr).group(1)
    members = _members(tmp_path / "a.tar.gz")
    manifest = json.loads(members[".manifest"])
    assert manifest["revision"] == revision
    assert manifest["roots"] == ["checks", "lib", "token_auditor"]
    assert manifest["metadata"]["token_auditor"]["catalogue_version"] == "2026.11.29"
    assert manifest["metadata"]["token_auditor"]["content_sha256"].startswith(revision.split("-")[1])
    assert "token-auditor/token_auditor/main/main.rego" in members
    assert "token-auditor/checks/legacy_token/legacy_token.rego" in members
    assert not [n for n in members if n.endswith("_test.rego") or "/lib/testing/" in n]
    assert ".signatures.json" not in members

    # Same policies, same bytes; one edited policy, another revision with the same catalogue version.
    assert cli("bundle", "-o", str(tmp_path / "b.tar.gz")).returncode == 0
    assert (tmp_path / "a.tar.gz").read_bytes() == (tmp_path / "b.tar.gz").read_bytes()
    changed = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", changed)
    rego = changed / "checks" / "no_expiry" / "no_expiry.rego"
    rego.write_text(rego.read_text() + "\n")
    other = build_bundle(tmp_path, "c.tar.gz", changed)
    assert other.startswith("2026.11.29-") and other != revision
    # A test file is not in the bundle, so editing one leaves the revision alone.
    test_file = changed / "checks" / "no_expiry" / "no_expiry_test.rego"
    test_file.write_text(test_file.read_text() + "\n")
    assert build_bundle(tmp_path, "d.tar.gz", changed) == other


def test_bundle_errors_exit_with_one_line_and_write_nothing(tmp_path):
    broken = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", broken)
    rego = broken / "checks" / "legacy_token" / "legacy_token.rego"
    lines = rego.read_text().splitlines()
    lines.append("broken if { input.x == }")
    rego.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out.tar.gz"
    out.write_text("previous")
    result = cli("bundle", "-o", str(out), "--policy-dir", str(broken))
    assert result.returncode == 3
    assert f"policies/checks/legacy_token/legacy_token.rego:{len(lines)}:" in result.stderr
    assert result.stderr.count("\n") == 1
    assert out.read_text() == "previous"

    garbage = tmp_path / "key.pem"
    garbage.write_text("not a key\n")
    bad_key = cli("bundle", "-o", str(out), "--signing-key", str(garbage))
    assert bad_key.returncode == 2
    assert bad_key.stderr.startswith(f"token-auditor: error: --signing-key {garbage}: opa build could not sign")
    assert out.read_text() == "previous"

    to_dir = cli("bundle", "-o", str(tmp_path))
    assert to_dir.returncode == 2 and "is a directory" in to_dir.stderr
    missing = cli("bundle", "-o", str(out), "--policy-dir", str(tmp_path / "nope"))
    assert missing.returncode == 2


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True, env=CLEAN_ENV, timeout=60)


def test_signed_bundle_is_verified_by_opa_and_refused_with_another_key(fleet, tmp_path):  # noqa: F811
    key, public, other_key, other_public = (tmp_path / n for n in ("k.pem", "k.pub", "o.pem", "o.pub"))
    for private, pub in ((key, public), (other_key, other_public)):
        _openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", str(private))
        _openssl("pkey", "-in", str(private), "-pubout", "-out", str(pub))
    result = cli("bundle", "-o", str(fleet.served / "signed.tar.gz"), "--signing-key", str(key))
    assert result.returncode == 0, result.stderr
    assert result.stderr.endswith(", signed RS256\n")
    revision = result.stderr.split("revision ", 1)[1].split(",")[0]
    members = _members(fleet.served / "signed.tar.gz")
    assert ".signatures.json" in members and members[".manifest"]

    def keys(pub: Path) -> str:
        pem = "\n".join(f"          {line}" for line in pub.read_text().strip().splitlines())
        return f"    signing: {{keyid: auditor}}\nkeys:\n  auditor:\n    algorithm: RS256\n    key: |\n{pem}\n"

    (trusted,) = fleet("signed.tar.gz", 1, keys(public))
    with requests.Session() as session:
        session.trust_env = False
        served = session.get(f"{trusted.url}/v1/data/system/bundles", timeout=10).json()
    assert served["result"]["token-auditor"]["manifest"]["revision"] == revision
    report_result, report = audit_report(tmp_path / "r.json", [str(FIXTURES)], "--opa-url", trusted.url)
    assert report_result.returncode == 0, report_result.stderr
    assert (report["summary"]["audited"], report["summary"]["findings"]) == (40, 56)

    # The same bundle checked against another public key: OPA never activates it, so the CLI finds no bundle.
    (refused,) = fleet("signed.tar.gz", 1, keys(other_public), ready=False)
    assert refused.error_logged.wait(30)
    assert "failed to verify" in refused.errors[0] and "signature" in refused.errors[0]
    lone = cli("audit", str(FIXTURES), "--now", NOW, "--opa-url", trusted.url, "--opa-url", refused.url)
    assert lone.returncode == 3
    assert f"{refused.url}: no token-auditor bundle" in lone.stderr


def test_hmac_signed_bundle(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("a-shared-secret-for-the-test")
    out = tmp_path / "hs.tar.gz"
    result = cli("bundle", "-o", str(out), "--signing-key", str(secret), "--signing-alg", "HS256")
    assert result.returncode == 0, result.stderr
    assert ".signatures.json" in _members(out)
    assert "a-shared-secret" not in result.stderr

    # The real opa checks the signature with the same secret, and refuses another one.
    def verify(key: Path) -> subprocess.CompletedProcess:
        return subprocess.run(
            [
                CLEAN_ENV["OPA_BIN"],
                "build",
                "--bundle",
                str(out),
                "-o",
                str(tmp_path / "v.tar.gz"),
                "--verification-key",
                str(key),
                "--signing-alg",
                "HS256",
            ],
            capture_output=True,
            text=True,
            env=CLEAN_ENV,
            cwd=tmp_path,
            timeout=120,
        )

    assert verify(secret).returncode == 0
    other = tmp_path / "other.txt"
    other.write_text("another-secret")
    refused = verify(other)
    assert refused.returncode == 1 and "invalid HMAC signature" in refused.stdout + refused.stderr
