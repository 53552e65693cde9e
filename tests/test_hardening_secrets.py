"""Issue 9 item 4: token values glued to other characters, encoded, or outside inventories never reach an output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from auditor.redaction import redact_text
from tests.conftest import FIXTURES, NOW, run_cli

# One fixed sample per pattern, with the masked form the redaction must leave (literal, not computed).
SAMPLES = [
    (
        "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",
        "github_pat_…Fibp",
    ),
    ("ghp_BV62h9MahWLm52mva5fiI6bGfKFI6mAezmOW", "ghp_…zmOW"),
    ("gho_fSLjl8MU9cdrJRM2jVrVKch3Tz85pkNGcVx2", "gho_…cVx2"),
    ("ghu_RHLKXSf3wh34LxCnzm8KVbyZMvaBhnoCru0f", "ghu_…ru0f"),
    ("ghs_tOsgHYdbyXJZBFwTXpKVeBPog9WzGx93JxiQ", "ghs_…JxiQ"),
    ("ghr_skS14qbd8Zlq8khMjaddCnYysNa9ZwsjEJri", "ghr_…EJri"),
    ("npm_9fVJsSheACjTJWYyL4ZkQTrXM4MFwg7drHil", "npm_…rHil"),
    ("hf_ZO0fkXYo2amlEDLJIyflJEL8qIe8PbLL4B", "hf_…LL4B"),
    ("hf_oauth_ItHHIP6Ye4PKI9teUoUiggSFDdF4OUdRMb", "hf_oauth_…dRMb"),
    ("hf_jwt_eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJhY21lIn0.c2lnbmF0dXJlX3Rlc3Q", "hf_jwt_…lc3Q"),
    ("api_org_xp4Dox09UKNF4pcNMfNdRAALefmcMWlfeb", "api_org_…lfeb"),
    ("glpat-wNEJIEbTXevfYuaD9CLj", "glpat-…9CLj"),
    ("pypi-AgEyE1ig5wQoCXim9oghdhe8PfxgVbDOHmx3OfpaqWHRmaCq8Nb9gHZAd5qE2uM", "pypi-…E2uM"),
    ("AKIAODRITCLWZATGBU2P", "AKIA…BU2P"),
    ("xoxb-123456789012-W1ZGGgDTas6Ineoa6ucfjvkS", "xox…jvkS"),
    ("xoxe-1-gG0YzP1zy4LG3iGSww8rmu6yKlZNX3", "xox…ZNX3"),
    ("xoxe.xoxp-1-lKkatR4brEH3WRB6WfrsjHCERolvjV", "xoxe.…lvjV"),
    ("xapp-1-A0RWVMDIR7W-1234567890123-bllix8qwgdivnvii5bng", "xapp-…5bng"),
    (
        "https://hooks.slack.com/services/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",
        "https://hooks.slack.com/…q4pX",
    ),
]
AWS_SECRET = "1P/SZ3AkJM7764XxQZhPlvOdyBUrkR5XBQjc18DP"
GHP = SAMPLES[1][0]
HF = SAMPLES[7][0]


def body(value: str) -> str:
    """The part of a value that must never appear: all but the last four characters the mask shows."""
    return value[-24:-4]


@pytest.mark.parametrize("value, masked", SAMPLES, ids=[s[1].split("…")[0] for s in SAMPLES])
def test_each_pattern_redacted_alone_and_glued(value, masked):
    assert redact_text(f"see {value} here") == f"see [REDACTED]:{masked} here"
    for glued in (f"export_TOKEN_{value}", f"token-{value}", f"1{value}", f"x{value}"):
        out = redact_text(glued)
        assert out.endswith(f"[REDACTED]:{masked}"), glued
        assert body(value) not in out


@pytest.mark.parametrize(
    "text, expected",
    [
        (f"https%3A%2F%2Fuser%3A{GHP}%40github.com", "https%3A%2F%2Fuser%3A[REDACTED]:ghp_…zmOW%40github.com"),
        (f"token%3D{GHP}", "token%3D[REDACTED]:ghp_…zmOW"),
        (f"hf%5F{HF[3:]}", "[REDACTED]:hf_…LL4B"),
        ("%67hp_" + GHP[4:], "[REDACTED]:ghp_…zmOW"),
        ("%2567hp_" + GHP[4:], "[REDACTED]:ghp_…zmOW"),
        ("\\u0067hp_" + GHP[4:], "[REDACTED]:ghp_…zmOW"),
        ("\\x67hp_" + GHP[4:], "[REDACTED]:ghp_…zmOW"),
        ("&#103;hp_" + GHP[4:], "[REDACTED]:ghp_…zmOW"),
        (f"aws_secret_access_key = {AWS_SECRET}", "aws_secret_access_key = [REDACTED]:…18DP"),
        (f'"SecretAccessKey": "{AWS_SECRET}"', '"SecretAccessKey": "[REDACTED]:…18DP"'),
    ],
)
def test_encoded_and_context_forms(text, expected):
    assert redact_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "prefix hf_ last four c90d",
        "ghp_short",
        "commit 0123456789abcdef0123456789abcdef01234567",
        f"checksum {AWS_SECRET}",
        "AKIA lower AKIAodritclwzatgbu2p",
        "100% & \\n",
    ],
)
def test_not_secrets_stay(text):
    assert redact_text(text) == text


def _inventory(tmp_path: Path, name: str = "inv.json") -> Path:
    """The Hugging Face fixture with every sample planted: glued, encoded and in context."""
    data = yaml.safe_load((FIXTURES / "huggingface" / "org-export.yaml").read_text())
    planted = [v for v, _ in SAMPLES]
    planted += [
        f"export_TOKEN_{GHP}",
        f"token-{GHP}",
        f"1{GHP}",
        f"https%3A%2F%2Fuser%3A{GHP}%40github.com",
        f"token%3D{GHP}",
        f"hf%5F{HF[3:]}",
        "\\u0067hp_" + GHP[4:],
    ]
    data["tokens"][0]["whoami"]["auth"]["accessToken"]["displayName"] = "\\u0067hp_" + GHP[4:]
    data["tokens"][1]["whoami"]["auth"]["accessToken"]["displayName"] = f"deploy-{SAMPLES[0][0]}"
    data["notes"] = planted
    data["aws"] = {"aws_secret_access_key": AWS_SECRET}
    path = tmp_path / name
    path.write_text(json.dumps(data, indent=1))
    return path


def _all_outputs(out_dir: Path, result) -> str:
    texts = [result.stdout, result.stderr] + [p.read_text() for p in sorted(out_dir.iterdir())]
    return "\n".join(texts)


def _assert_absent(text: str) -> None:
    for value, _ in SAMPLES:
        assert body(value) not in text, value
    assert body(AWS_SECRET) not in text
    assert "u0067hp_" not in text


FORMATS = ["table", "json", "sarif", "junit", "markdown", "html"]


def _audit(opa_server, tmp_path, *args):
    url, token = opa_server
    out = tmp_path / "out"
    fmts = [x for f in FORMATS for x in ("-f", f)]
    result = run_cli(
        "audit",
        *args,
        "--now",
        NOW,
        "--fail-on",
        "never",
        "--output-dir",
        str(out),
        *fmts,
        "--opa-url",
        url,
        "--opa-token-env",
        "TA_TEST_OPA_TOKEN",
        env={"TA_TEST_OPA_TOKEN": token},
    )
    return result, out


def test_planted_values_absent_from_all_six_formats(opa_server, tmp_path):
    inventory = _inventory(tmp_path)
    result, out = _audit(opa_server, tmp_path, str(inventory))
    assert (result.returncode, result.stderr) == (0, "")
    assert sorted(p.name for p in out.iterdir()) == [
        "token-auditor.html",
        "token-auditor.json",
        "token-auditor.md",
        "token-auditor.sarif",
        "token-auditor.txt",
        "token-auditor.xml",
    ]
    _assert_absent(_all_outputs(out, result))
    report = json.loads((out / "token-auditor.json").read_text())
    assert report["secrets_redacted"] == 30  # 29 planted, 1 in the fixture
    names = {t["name"] for t in report["tokens"]}
    assert "[REDACTED]:ghp_…zmOW" in names and "deploy-[REDACTED]:github_pat_…Fibp" in names

    # The saved report, edited to hold a value again, renders without it in every format.
    edited = json.loads((out / "token-auditor.json").read_text())
    edited["tokens"][0]["name"] = f"pasted {GHP}"
    saved = tmp_path / "edited.json"
    saved.write_text(json.dumps(edited))
    for fmt in FORMATS:
        rendered = run_cli("report", str(saved), "-f", fmt)
        assert (rendered.returncode, rendered.stderr) == (0, ""), fmt
        assert body(GHP) not in rendered.stdout, fmt


def test_token_in_path_and_org_redacted(opa_server, tmp_path):
    folder = tmp_path / f"dir-{GHP}"
    folder.mkdir()
    inventory = folder / f"{SAMPLES[11][0]}.json"
    inventory.write_text((FIXTURES / "github" / "orgs" / "acme-labs" / "personal-access-tokens.json").read_text())
    result, out = _audit(
        opa_server, tmp_path, str(inventory), "--org", f"acme-{SAMPLES[2][0]}", "--collected-at", "2026-11-20T00:00:00Z"
    )
    assert (result.returncode, result.stderr) == (0, "")
    _assert_absent(_all_outputs(out, result))
    report = json.loads((out / "token-auditor.json").read_text())
    assert [i["path"] for i in report["inputs"]] == [f"{tmp_path}/dir-[REDACTED]:ghp_…zmOW/[REDACTED]:glpat-…9CLj.json"]


def test_missing_file_named_like_a_token_is_redacted(tmp_path):
    result = run_cli("validate", str(tmp_path / f"{GHP}.json"))
    assert result.returncode == 2
    assert result.stderr == f"token-auditor: error: {tmp_path}/[REDACTED]:ghp_…zmOW.json: no such file or directory\n"
