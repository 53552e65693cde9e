"""Issue 9 items 2, 3, 8 (YAML), 12 and 13: hostile inventories, baselines and reports end in one line, exit 2."""

from __future__ import annotations

import json
import time

import pytest

from tests.conftest import run_cli

TOKEN = "ghp_Zq8mW3xR5tY7uI9oP1aS2dF4gH6jK8lQ0wE3"
HF_HEAD = "format: huggingface-inventory/v1\ncollected_at: 2026-11-20T00:00:00Z\ntokens: []\n"


def validate(path) -> tuple[int, str, str]:
    result = run_cli("validate", str(path))
    return result.returncode, result.stdout, result.stderr


@pytest.mark.parametrize("tag", ["!!int", "!!float", "!!bool", "!!timestamp", "!!binary", "!!null"])
def test_explicit_yaml_tag_refused_without_the_value(tmp_path, tag):
    path = tmp_path / "inv.yaml"
    path.write_text(f"{HF_HEAD}note: {tag} {TOKEN}\n")
    code, out, err = validate(path)
    assert code == 2
    assert err == (
        f"token-auditor: error: {path}:4: explicit YAML tag `{tag}` is not allowed; remove it "
        "(quote the value to keep it a string)\n"
    )
    assert out == ""
    assert TOKEN[4:] not in err and TOKEN.replace("_", "")[3:] not in err


def test_custom_yaml_tag_is_not_echoed(tmp_path):
    path = tmp_path / "inv.yaml"
    path.write_text(f"{HF_HEAD}note: !{TOKEN} value\n")
    code, _, err = validate(path)
    assert code == 2
    assert err == (
        f"token-auditor: error: {path}:4: explicit YAML tag (custom tag) is not allowed; remove it "
        "(quote the value to keep it a string)\n"
    )


def test_explicit_str_tag_keeps_a_string(tmp_path):
    path = tmp_path / "inv.yaml"
    path.write_text("format: !!str huggingface-inventory/v1\ncollected_at: 2026-11-20T00:00:00Z\ntokens: []\n")
    code, out, err = validate(path)
    assert (code, err) == (0, "")
    assert out == f"ok {path}: huggingface-inventory/v1, 0 tokens\n"


def test_yaml_alias_expansion_bounded_by_size(tmp_path):
    # 5 KB scalar, six levels of ten aliases: 5 GB once expanded, far fewer nodes than the node cap.
    levels = [f'a0: &a0 "{"x" * 5000}"']
    for level in range(1, 7):
        levels.append(f"a{level}: &a{level} [" + ",".join([f"*a{level - 1}"] * 10) + "]")
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(levels) + "\n")
    started = time.monotonic()
    code, _, err = validate(path)
    assert code == 2
    limit = 64 * 1024 * 1024 + len(path.read_text())
    assert err == f"token-auditor: error: {path}: YAML aliases expand to more than {limit} characters (alias bomb?)\n"
    assert time.monotonic() - started < 60


@pytest.mark.parametrize(
    "text, line, problem",
    [
        ('{"format": "huggingface-inventory/v1",\n "x": NaN}', 2, "NaN is not a JSON number"),
        ('{"format": "huggingface-inventory/v1",\n\n "x": -Infinity}', 3, "-Infinity is not a JSON number"),
        ('{"format": "huggingface-inventory/v1", "x": Infinity}', 1, "Infinity is not a JSON number"),
        (
            '{"format": "huggingface-inventory/v1",\n "x": 1e400}',
            2,
            "a number too large for a double (it would become Infinity)",
        ),
        (
            '{"format": "huggingface-inventory/v1",\n "x": ' + "7" * 4301 + "}",
            2,
            "an integer with more than 4300 digits",
        ),
    ],
)
def test_json_numbers_opa_cannot_hold(tmp_path, text, line, problem):
    path = tmp_path / "inv.json"
    path.write_text(text)
    code, _, err = validate(path)
    assert code == 2
    assert err == f"token-auditor: error: {path}:{line}: {problem}\n"


def test_nan_looking_string_is_fine(tmp_path):
    path = tmp_path / "inv.json"
    path.write_text(
        json.dumps(
            {
                "format": "huggingface-inventory/v1",
                "collected_at": "2026-11-20T00:00:00Z",
                "tokens": [],
                "note": "NaN Infinity 1e400",
            }
        )
    )
    assert validate(path)[0] == 0


@pytest.mark.parametrize(
    "text, problem",
    [
        ("x: " + "9" * 5000 + "\n", "an integer with more than 4300 digits"),
        ("x: .nan\n", "NaN and infinite numbers are not allowed (JSON and OPA cannot hold them)"),
        ("x: -.inf\n", "NaN and infinite numbers are not allowed (JSON and OPA cannot hold them)"),
        ("x: 1.0e+400\n", "NaN and infinite numbers are not allowed (JSON and OPA cannot hold them)"),
    ],
)
def test_yaml_numbers_opa_cannot_hold(tmp_path, text, problem):
    path = tmp_path / "inv.yaml"
    path.write_text(HF_HEAD + text)
    code, _, err = validate(path)
    assert code == 2
    assert err == f"token-auditor: error: {path}:4: {problem}\n"


HUGE = "9" * 5000
DEEP = "[" * 100000


@pytest.mark.parametrize("command", [["report"], ["frameworks", "--report"]])
@pytest.mark.parametrize(
    "text, problem",
    [
        ('{"tool": {"name": "token-auditor"}, "n": ' + HUGE + "}", ":1: an integer with more than 4300 digits"),
        (DEEP, ": nested too deeply"),
        ('{"tool": {"name": "token-auditor"},\n"n": NaN}', ":2: NaN is not a JSON number"),
    ],
)
def test_saved_report_hostile_json(tmp_path, command, text, problem):
    path = tmp_path / "report.json"
    path.write_text(text)
    result = run_cli(*command, str(path))
    assert result.returncode == 2
    assert result.stderr == f"token-auditor: error: {path}{problem}\n"


@pytest.mark.parametrize(
    "text, problem",
    [
        ('{"findings": [' + HUGE + "]}", ":1: an integer with more than 4300 digits"),
        (DEEP, ": nested too deeply"),
    ],
)
def test_baseline_hostile_json(tmp_path, text, problem):
    path = tmp_path / "baseline.json"
    path.write_text(text)
    # The baseline is read before any engine starts: an unreachable --opa-url is never contacted.
    result = run_cli("audit", str(tmp_path / "none.yaml"), "--baseline", str(path), "--opa-url", "http://127.0.0.1:9")
    assert result.returncode == 2
    assert result.stderr == f"token-auditor: error: {path}{problem}\n"


@pytest.mark.parametrize("value", ["0000-00-00T00:00:00Z", "2026-02-30T00:00:00Z", "2026-13-01T00:00:00Z"])
def test_impossible_timestamps_refused(tmp_path, value):
    path = tmp_path / "inv.yaml"
    path.write_text(f"format: huggingface-inventory/v1\ncollected_at: '{value}'\ntokens: []\n")
    code, _, err = validate(path)
    assert code == 2
    assert err == f"token-auditor: invalid: {path}:2: /collected_at: '{value}' is not a 'date-time'\n"


def test_impossible_timestamp_in_github_export(tmp_path):
    path = tmp_path / "gh.json"
    path.write_text(
        json.dumps(
            {
                "format": "github-inventory/v1",
                "org": "acme",
                "collected_at": "0000-00-00T00:00:00Z",
                "personal_access_tokens": [],
            },
            indent=1,
        )
    )
    code, _, err = validate(path)
    assert code == 2
    assert err == f"token-auditor: invalid: {path}:4: /collected_at: '0000-00-00T00:00:00Z' is not a 'date-time'\n"


def test_usage_error_value_redacted():
    result = run_cli("audit", "x.yaml", "--fail-on", TOKEN)
    assert result.returncode == 2
    assert TOKEN not in result.stderr
    assert result.stderr.splitlines()[-1] == (
        "Error: Invalid value for '--fail-on': '[REDACTED]:ghp_…0wE3' is not one "
        "of 'critical', 'high', 'medium', 'low', 'never'."
    )
    assert "Traceback" not in result.stderr


def test_now_value_redacted():
    result = run_cli("normalize", "fixtures/huggingface", "--now", TOKEN)
    assert result.returncode == 2
    assert result.stderr == (
        "token-auditor: error: --now '[REDACTED]:ghp_…0wE3' is not an ISO 8601 date-time (e.g. 2026-11-25T00:00:00Z)\n"
    )
