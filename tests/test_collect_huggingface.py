"""`collect huggingface` drives the real huggingface_hub against a local replay of the Hub's answers.

Token values are planted in every kind of source; none may appear in any file, log or error.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from conftest import run_cli

from tests.replay.server import ReplayServer, clean_env, load, override

IN_ENV = "hf_PLANTEDenvAAAAAAAAAAAAAAAAAAAAAAAAAAAAa1b2"  # also in the Kubernetes Secret: reused
IN_DOTENV = "hf_PLANTEDdotenvBBBBBBBBBBBBBBBBBBBBBBBBBBc3d4"  # first answer 429
IN_CI = "api_org_PLANTEDciCCCCCCCCCCCCCCCCCCCCCCCCCCCe5f6"
REVOKED = "hf_PLANTEDrevokedDDDDDDDDDDDDDDDDDDDDDDDDDg7h8"  # whoami-v2 answers 401
IN_SPACE = "hf_PLANTEDspacevarEEEEEEEEEEEEEEEEEEEEEEEEEi9j0"  # also a Space variable's value
ORG_TOKEN = "hf_PLANTEDadminZZZZZZZZZZZZZZZZZZZZZZZZZZZk1l2"
PLANTED = (IN_ENV, IN_DOTENV, IN_CI, REVOKED, IN_SPACE, ORG_TOKEN)


@pytest.fixture()
def sources(tmp_path) -> dict:
    src = tmp_path / "sources"
    src.mkdir()
    (src / "app.env").write_text(f"HF_TOKEN={IN_DOTENV}\nMODEL=acme-ml/sentiment-bert\n")
    encoded = base64.b64encode(IN_ENV.encode()).decode()
    (src / "secret.yaml").write_text(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: inference-gateway, namespace: prod}\n"
        f"type: Opaque\ndata:\n  HF_API_TOKEN: {encoded}\n  PORT: ODA4MA==\n"
    )
    (src / "ci.json").write_text(
        json.dumps(
            [
                {
                    "location": "acme-ml/training-pipelines",
                    "key": "HF_ORG_TOKEN",
                    "value": IN_CI,
                    "kind": "github_actions_secret",
                }
            ]
        )
    )
    (src / "values.txt").write_text(f"# handed over by the platform team\n{REVOKED}\n{IN_SPACE}\n")
    return {
        "dir": src,
        "args": (
            "--env",
            "TA_TEST_HF_VALUE",
            "--dotenv",
            str(src / "app.env"),
            "--k8s-secret",
            str(src / "secret.yaml"),
            "--ci-secrets",
            str(src / "ci.json"),
            "--values-file",
            str(src / "values.txt"),
        ),
    }


def collect(server, out, *args, home: Path, extra_env=None):
    env = clean_env(
        {
            "TA_TEST_HF_VALUE": IN_ENV,
            "TA_TEST_HF_ORG": ORG_TOKEN,
            "TA_TEST_SALT": "fixed-salt",
            "HF_HOME": str(home),
            "HF_HUB_VERBOSITY": "debug",
            "HF_TOKEN": "",
            **(extra_env or {}),
        }
    )
    return run_cli("collect", "huggingface", "--endpoint", server.base, "-o", str(out), *args, env=env, timeout=120)


def test_every_source_is_introspected_and_no_value_is_written_anywhere(sources, tmp_path, audit_json):
    out = tmp_path / "out" / "hf.json"
    home = tmp_path / "hf-home"
    with ReplayServer("huggingface.json") as server:
        result = collect(
            server,
            out,
            *sources["args"],
            "--org",
            "acme-ml",
            "--token-env",
            "TA_TEST_HF_ORG",
            "--salt-env",
            "TA_TEST_SALT",
            home=home,
        )
        whoami_calls = [r["path"] for r in server.requests].count("/api/whoami-v2")
    assert result.returncode == 0, result.stderr
    data = json.loads(out.read_text())
    tokens = {t["inventory"]["last4"]: t for t in data["tokens"]}
    assert sorted(tokens) == ["a1b2", "c3d4", "e5f6", "g7h8", "i9j0"]
    assert whoami_calls == 7  # five values (one retried after a 429) and the org token
    assert "rate limited on whoami-v2; waiting 1 s (retry 1 of 5)" in result.stderr
    reused = tokens["a1b2"]["inventory"]
    assert reused["stored_in"] == [
        {"kind": "k8s_secret", "location": "prod/inference-gateway", "key": "HF_API_TOKEN"},
        {"kind": "other", "location": "environment", "key": "TA_TEST_HF_VALUE"},
    ]
    assert (reused["owner"], reused["prefix"], reused["kind"]) == ("bwong", "hf_", "user_access_token")
    assert reused["value_hmac"]["salt"] == "given" and len(reused["value_hmac"]["digest"]) == 64
    assert tokens["e5f6"]["inventory"]["kind"] == "org_api_token"
    assert tokens["e5f6"]["inventory"]["stored_in"][0]["kind"] == "github_actions_secret"
    assert tokens["g7h8"]["whoami"] is None and tokens["g7h8"]["inventory"]["revoked"] is True
    assert {"kind": "hf_space_variable", "location": "acme-ml/demo", "key": "API_KEY"} in tokens["i9j0"]["inventory"][
        "stored_in"
    ]
    assert "email" not in json.dumps(tokens["a1b2"]["whoami"])
    assert data["account"]["name"] == "asmith"
    assert data["members"] == [
        {"org": "acme-ml", "user": "asmith", "role": "admin"},
        {"org": "acme-ml", "user": "bwong", "role": "write"},
        {"org": "acme-ml", "user": "mchen", "role": "contributor"},
    ]
    demo = next(s for s in data["spaces"] if s["info"]["id"] == "acme-ml/demo")
    assert sorted(demo["secrets"]) == ["HF_TOKEN"]
    assert demo["variables"]["API_KEY"]["token_like"] is True and demo["variables"]["MODEL_ID"]["token_like"] is False
    assert "value" not in demo["variables"]["API_KEY"]
    assert data["collection"]["endpoints"]["token_usage"]["status"] == "not_applicable"
    assert "org_policies" not in data["collection"]["endpoints"] and len(data["collection"]["notes"]) == 1
    assert data["collection"]["complete"] is True

    # the literal values: in no file written (output, HF_HOME, anything else), not on stdout or stderr
    written = [p for p in tmp_path.rglob("*") if p.is_file() and sources["dir"] not in p.parents]
    assert out in written
    text = "".join(p.read_text(errors="replace") for p in written) + result.stdout + result.stderr
    for value in PLANTED:
        assert value not in text

    code, report, stderr = audit_json(out, extra=("--fail-on", "never"))
    assert code == 0, stderr
    for value in PLANTED:
        assert value not in json.dumps(report) + stderr
    assert [s["reason"] for s in report["skipped"]] == ["revoked"]
    rules = {(f["rule_id"], f["subject"].get("name")) for f in report["findings"]}
    assert {
        ("token-in-variable", "acme-ml/demo"),
        ("token-in-variable", "docs-search-read"),
        ("token-reuse", "trainer-push"),
        ("token-reuse", "docs-search-read"),
        ("legacy-token", "old-write"),
    } <= rules
    # whoami-v2 does not say when a token was last used: unknown, so no "never used" finding, and not assessed
    assert "never-used-token" not in {f["rule_id"] for f in report["findings"]}
    usage = {(e["rule_id"], e["org"], e["tokens"]) for e in report["not_assessed"] if "tokens" in e}
    assert usage == {
        (rule, owner, 1)
        for rule in ("never-used-token", "stale-token")
        for owner in ("acme-ml", "asmith", "bwong", "mchen")
    }  # one audited token per owner


def test_same_salt_gives_the_same_ids_and_no_salt_changes_them(sources, tmp_path):
    with ReplayServer("huggingface.json") as server:
        runs = []
        for index, salt in enumerate((("--salt-env", "TA_TEST_SALT"), ("--salt-env", "TA_TEST_SALT"), ())):
            out = tmp_path / f"hf{index}.json"
            result = collect(server, out, "--env", "TA_TEST_HF_VALUE", *salt, home=tmp_path / "home")
            assert result.returncode == 0, result.stderr
            runs.append(json.loads(out.read_text())["tokens"][0]["inventory"]["id"])
    assert runs[0] == runs[1] != runs[2]


def test_a_failing_whoami_is_recorded_and_exits_3(sources, tmp_path):
    out = tmp_path / "hf.json"
    broken = override("/api/whoami-v2", [{"status": 500, "body": {"error": "Internal Error"}}])
    broken["authorization"] = f"Bearer {IN_ENV}"
    with ReplayServer(load("huggingface.json", broken)) as server:
        result = collect(server, out, "--env", "TA_TEST_HF_VALUE", "--max-retries", "0", home=tmp_path / "home")
    assert result.returncode == 3
    assert (
        "token-auditor: error: collect huggingface: whoami: failed (1 of its calls, first: hf_…a1b2): HTTP 500"
        in result.stderr
    )
    data = json.loads(out.read_text())
    assert data["tokens"][0]["whoami"] is None and "revoked" not in data["tokens"][0]["inventory"]
    assert data["collection"]["complete"] is False
    assert IN_ENV not in out.read_text() + result.stderr


def test_bad_sources_name_the_place_never_the_value(tmp_path):
    bad_yaml = tmp_path / "secret.yaml"
    bad_yaml.write_text(f"kind: Secret\nstringData:\n  T: {IN_ENV}\n  - broken: [\n")
    values = tmp_path / "values.txt"
    values.write_text(f"{IN_DOTENV}\nnot-a-token-{IN_CI[:12]}\n")
    env = clean_env()
    yaml_result = run_cli(
        "collect", "huggingface", "--k8s-secret", str(bad_yaml), "-o", str(tmp_path / "o.json"), env=env
    )
    values_result = run_cli(
        "collect", "huggingface", "--values-file", str(values), "-o", str(tmp_path / "o.json"), env=env
    )
    assert yaml_result.returncode == 2 and values_result.returncode == 2
    assert yaml_result.stderr.strip() == f"token-auditor: error: {bad_yaml}: line 4, column 3: not valid YAML/JSON"
    assert values_result.stderr.strip() == (
        f"token-auditor: error: {values}: line 2: not a Hugging Face token (hf_…, api_org_…, hf_oauth_…)"
    )
    for value in PLANTED:
        assert value not in yaml_result.stderr + values_result.stderr
    assert not (tmp_path / "o.json").exists()


def test_org_needs_a_token_and_some_source_is_needed(tmp_path):
    no_token = run_cli("collect", "huggingface", "--org", "acme-ml", "-o", str(tmp_path / "o.json"), env=clean_env())
    nothing = run_cli("collect", "huggingface", "-o", str(tmp_path / "o.json"), env=clean_env())
    assert no_token.returncode == 2 and nothing.returncode == 2
    assert "--org needs --token-env VAR (a token that can read the org)" in no_token.stderr
    assert "no token value found: give --env, --dotenv, --k8s-secret, --ci-secrets or --values-file" in nothing.stderr


@pytest.mark.parametrize(
    "retries, members_calls, outcome",
    [("0", 1, "failed"), ("1", 3, "ok")],  # 3: the retried first page, then page 2
)
def test_org_listings_retry_within_max_retries(tmp_path, retries, members_calls, outcome):
    out = tmp_path / "hf.json"
    limited = {"status": 429, "headers": {"Retry-After": "0"}, "body": {"error": "rate limited"}}
    fixture = load("huggingface.json")
    first_page = next(
        r for r in fixture["routes"] if r["path"] == "/api/organizations/acme-ml/members" and not r["query"]["cursor"]
    )
    first_page["responses"] = [limited, *first_page["responses"]]
    with ReplayServer(fixture) as server:
        result = collect(
            server,
            out,
            "--org",
            "acme-ml",
            "--token-env",
            "TA_TEST_HF_ORG",
            "--max-retries",
            retries,
            "--allow-partial",
            home=tmp_path / "home",
        )
        calls = [r["path"] for r in server.requests].count("/api/organizations/acme-ml/members")
    assert result.returncode == 0, result.stderr
    assert calls == members_calls
    data = json.loads(out.read_text())
    assert data["collection"]["endpoints"]["members"]["status"] == outcome
    if outcome == "ok":
        assert [m["user"] for m in data["members"]] == ["asmith", "bwong", "mchen"]
        assert "rate limited on /api/organizations/acme-ml/members; waiting 0 s (retry 1 of 1)" in result.stderr
