"""Every check directory keeps the contract (auditor/findings/contract.py), read with `opa inspect -a`; a broken
check is reported naming its directory, never skipped."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from conftest import OPA_BIN, ROOT, run, run_cli

from auditor.findings.contract import check_contract, nhi_ids

POLICIES = ROOT / "policies"


def test_the_shipped_checks_keep_the_contract():
    assert check_contract(POLICIES, OPA_BIN) == []


def test_valid_nhi_ids_are_the_owasp_requirements_read_from_metadata():
    assert nhi_ids(POLICIES) == {f"NHI{n}" for n in range(1, 11)}


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def _wrong_package(checks: Path) -> None:
    _replace(checks / "no_expiry" / "no_expiry.rego", "package checks.no_expiry\n", "package checks.expiry\n")


def _no_id(checks: Path) -> None:
    _replace(checks / "no_expiry" / "no_expiry.rego", "#   id: no-expiry\n", "")


def _other_id(checks: Path) -> None:
    _replace(checks / "no_expiry" / "no_expiry.rego", "#   id: no-expiry\n", "#   id: no-expiration\n")


def _bad_severity(checks: Path) -> None:
    _replace(checks / "no_expiry" / "no_expiry.rego", "#   severity: high\n", "#   severity: severe\n")


def _no_severity(checks: Path) -> None:
    _replace(checks / "no_expiry" / "no_expiry.rego", "#   severity: high\n", "")


def _bad_nhi(checks: Path) -> None:
    _replace(checks / "no_expiry" / "no_expiry.rego", "#   nhi: [NHI7]\n", "#   nhi: [NHI7, NHI11]\n")


def _no_test(checks: Path) -> None:
    (checks / "no_expiry" / "no_expiry_test.rego").unlink()


def _no_schema(checks: Path) -> None:
    _replace(checks / "no_expiry" / "no_expiry.rego", '# schemas:\n#   - input: schema["policy-input"]\n', "")


def _no_metadata(checks: Path) -> None:
    module = checks / "no_expiry" / "no_expiry.rego"
    body = module.read_text().split("package checks.no_expiry\n", 1)[1]
    module.write_text("package checks.no_expiry\n" + body)


def _copied_check(checks: Path) -> None:
    copy = checks / "legacy_token_v2"
    shutil.copytree(checks / "legacy_token", copy)
    for old in ("legacy_token.rego", "legacy_token_test.rego"):
        (copy / old).rename(copy / old.replace("legacy_token", "legacy_token_v2"))
    _replace(copy / "legacy_token_v2.rego", "package checks.legacy_token\n", "package checks.legacy_token_v2\n")


def _module_at_the_top(checks: Path) -> None:
    (checks / "extra.rego").write_text("package checks.extra\n\nfindings := set()\n")


def _unparsable(checks: Path) -> None:
    _replace(checks / "no_expiry" / "no_expiry.rego", '_severity(tok) := "high" if', '_severity(tok) := "high" iff')


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [
        (_wrong_package, ["checks/no_expiry/no_expiry.rego: package is checks.expiry, expected checks.no_expiry"]),
        (_no_id, ["checks/no_expiry/no_expiry.rego: METADATA has no custom.id (expected 'no-expiry')"]),
        (
            _other_id,
            [
                "checks/no_expiry/no_expiry.rego: custom.id 'no-expiration' does not match its directory (expected 'no-expiry')"
            ],
        ),
        (
            _bad_severity,
            [
                "checks/no_expiry/no_expiry.rego: custom.severity 'severe' is not one of critical, high, medium, low, info"
            ],
        ),
        (
            _no_severity,
            ["checks/no_expiry/no_expiry.rego: custom.severity None is not one of critical, high, medium, low, info"],
        ),
        (
            _bad_nhi,
            [
                "checks/no_expiry/no_expiry.rego: custom.nhi ['NHI11'] not OWASP NHI risk ids "
                "(NHI1, NHI2, NHI3, NHI4, NHI5, NHI6, NHI7, NHI8, NHI9, NHI10)"
            ],
        ),
        (_no_test, ["checks/no_expiry: no no_expiry_test.rego (every check has its tests)"]),
        (
            _no_schema,
            ['checks/no_expiry/no_expiry.rego: METADATA does not declare schemas: - input: schema["policy-input"]'],
        ),
        (
            _no_metadata,
            ["checks/no_expiry/no_expiry.rego: no package # METADATA block (title, custom.id, severity, …)"],
        ),
        (
            _copied_check,
            [
                "checks/legacy_token_v2/legacy_token_v2.rego: custom.id 'legacy-token' does not match its directory "
                "(expected 'legacy-token-v2')",
                "custom.id 'legacy-token' is used by more than one check: {checks}/legacy_token, {checks}/legacy_token_v2",
            ],
        ),
        (
            _module_at_the_top,
            ["checks/extra.rego: a check lives in checks/<id>/<id>.rego, not at the top of checks/"],
        ),
        (
            _unparsable,
            [
                "opa inspect {checks} failed: {checks}/no_expiry/no_expiry.rego:47: "
                "rego_parse_error: var cannot be used for rule name"
            ],
        ),
    ],
)
def test_a_broken_check_breaks_the_contract_naming_its_directory(tmp_path, breakage, expected):
    policies = tmp_path / "policies"
    shutil.copytree(POLICIES, policies)
    assert check_contract(policies, OPA_BIN) == []
    breakage(policies / "checks")
    problems = check_contract(policies, OPA_BIN)
    wanted = [e.replace("{checks}", str(policies / "checks")) for e in expected]
    assert [p.removeprefix(f"{tmp_path}/policies/") for p in problems] == wanted


def test_rules_refuse_a_check_without_an_id(tmp_path):
    policies = tmp_path / "policies"
    shutil.copytree(POLICIES, policies)
    _no_id(policies / "checks")
    result = run_cli("rules", "--policy-dir", str(policies))
    assert result.returncode == 3
    assert result.stderr == (
        f"token-auditor: error: {policies}/checks/no_expiry/no_expiry.rego: "
        "a check without custom.id in its package # METADATA\n"
    )


def test_contract_command_exits_1_listing_the_problems(tmp_path):
    policies = tmp_path / "policies"
    shutil.copytree(POLICIES, policies)
    _bad_severity(policies / "checks")
    _no_test(policies / "checks")
    result = run([sys.executable, "-m", "auditor.findings.contract", str(policies)], capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"{policies}/checks/no_expiry: no no_expiry_test.rego (every check has its tests)\n"
        f"{policies}/checks/no_expiry/no_expiry.rego: custom.severity 'severe' is not one of critical, high, medium, "
        "low, info\n"
    )
    shipped = run([sys.executable, "-m", "auditor.findings.contract", str(POLICIES)], capture_output=True, text=True)
    assert shipped.returncode == 0, shipped.stderr
    assert shipped.stdout.startswith("check contract: ") and shipped.stdout.endswith(" checks keep it\n")
