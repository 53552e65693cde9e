"""`collect github` drives the real githubkit against a local replay of GitHub's documented answers."""

from __future__ import annotations

import json

import pytest
from conftest import run_cli
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.replay.server import ReplayServer, clean_env, load, override

INSTALLATION_TOKEN = "ghs_REPLAYinstallationTOKEN0000000000000001"
FORBIDDEN_MEMBERS = {
    "status": 403,
    "headers": {"X-Accepted-GitHub-Permissions": "members=read"},
    "body": {
        "message": "Resource not accessible by integration",
        "documentation_url": "https://docs.github.com/rest/orgs/members#list-organization-members",
        "status": "403",
    },
}


@pytest.fixture(scope="module")
def app_key(tmp_path_factory):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = tmp_path_factory.mktemp("app") / "app.pem"
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return path


def collect(server, out, *args, env=None):
    return run_cli(
        "collect",
        "github",
        "--org",
        "acme",
        "--api-url",
        server.base,
        "-o",
        str(out),
        *args,
        env=clean_env(env),
        timeout=120,
    )


def app_args(app_key):
    return ("--app-id", "321", "--private-key", str(app_key))


def test_app_collects_every_page_and_the_audit_accepts_it(app_key, tmp_path, audit_json):
    out = tmp_path / "github.json"
    with ReplayServer("github.json") as server:
        result = collect(server, out, *app_args(app_key))
        requests = server.paths()
    assert result.returncode == 0, result.stderr
    data = json.loads(out.read_text())
    assert data["format"] == "github-inventory/v1" and data["org"] == "acme"
    # page 2 came after a Link rel=next and a 429 with Retry-After: asked twice, kept once
    assert [g["id"] for g in data["personal_access_tokens"]] == [501, 502, 503]
    assert requests.count("/orgs/acme/personal-access-tokens?per_page=100&page=2") == 2
    assert "rate limited on GET /orgs/acme/personal-access-tokens; waiting 1 s (retry 1 of 5)" in result.stderr
    assert [r["full_name"] for r in data["personal_access_tokens"][0]["repositories"]] == ["acme/docs", "acme/site"]
    assert "repositories" not in data["personal_access_tokens"][1]  # repository_selection all
    assert [r["id"] for r in data["personal_access_token_requests"]] == [77]
    assert data["personal_access_token_requests"][0]["repositories"][0]["full_name"] == "acme/tracker"
    assert [m["login"] for m in data["members"]] == ["alice-dev", "bob-ops", "carol-sec", "dave-data"]
    assert [m["login"] for m in data["admins"]] == ["carol-sec"]
    assert [m["login"] for m in data["outside_collaborators"]] == ["eve-contractor"]
    assert [i["app_slug"] for i in data["installations"]] == ["token-auditor-acme", "ci-helper"]
    endpoints = data["collection"]["endpoints"]
    assert data["collection"]["complete"] is True
    assert endpoints["personal_access_tokens"] == {"status": "ok", "items": 3}
    assert endpoints["credential_authorizations"]["status"] == "not_applicable"
    assert (
        "classic personal access tokens and OAuth tokens that reach it are invisible"
        in endpoints["credential_authorizations"]["note"]
    )
    assert data["collection"]["notes"] == [
        "GitHub's REST API does not expose the org's personal access token policy; copy it from Settings → "
        "Personal access tokens into org_settings (see docs/collect.md)"
    ]
    # the installation token lives in memory only
    assert INSTALLATION_TOKEN not in out.read_text() + result.stderr + result.stdout
    assert "Traceback" not in result.stderr

    code, report, stderr = audit_json(out, extra=("--fail-on", "never"))
    assert code == 0, stderr
    assert sorted(t["name"] for t in report["tokens"]) == ["deploy-docs", "ops-everything", "triage"]
    flagged = {(f["rule_id"], f["subject"]["name"]) for f in report["findings"]}
    assert ("admin-permission", "ops-everything") in flagged
    assert ("org-wide-token", "ops-everything") in flagged


def test_forbidden_endpoint_is_recorded_names_the_permission_and_exits_3(app_key, tmp_path):
    out = tmp_path / "github.json"
    fixture = load("github.json", override("/orgs/acme/members", [FORBIDDEN_MEMBERS]))
    with ReplayServer(fixture) as server:
        result = collect(server, out, *app_args(app_key), "--collected-at", "2026-11-28T06:00:00Z")
    assert result.returncode == 3
    assert json.loads(out.read_text())["collected_at"] == "2026-11-28T06:00:00Z"
    assert (
        "token-auditor: error: collect github: admins: forbidden: HTTP 403: Resource not accessible by "
        'integration; needs organization permission "Members" (read) (GitHub asked for: members=read)' in result.stderr
    )
    assert "incomplete collection written to" in result.stderr
    data = json.loads(out.read_text())
    assert data["collection"]["complete"] is False
    assert data["collection"]["endpoints"]["members"]["status"] == "forbidden"
    assert data["collection"]["endpoints"]["members"]["failures"][0]["http_status"] == 403
    assert "members" not in data and "admins" not in data  # never an empty list standing in for "unknown"
    assert len(data["personal_access_tokens"]) == 3


def test_allow_partial_warns_and_exits_0(app_key, tmp_path):
    out = tmp_path / "github.json"
    fixture = load("github.json", override("/orgs/acme/members", [FORBIDDEN_MEMBERS]))
    with ReplayServer(fixture) as server:
        result = collect(server, out, *app_args(app_key), "--allow-partial")
    assert result.returncode == 0
    assert "token-auditor: warning: collect github: members: forbidden" in result.stderr
    assert json.loads(out.read_text())["collection"]["complete"] is False


def test_rate_limit_beyond_the_retry_budget_fails_that_endpoint(app_key, tmp_path):
    out = tmp_path / "github.json"
    limited = {
        "status": 403,
        "headers": {"Retry-After": "0", "X-RateLimit-Remaining": "0"},
        "body": {"message": "You have exceeded a secondary rate limit."},
    }
    fixture = load("github.json", override("/orgs/acme/outside_collaborators", [limited]))
    with ReplayServer(fixture) as server:
        result = collect(server, out, *app_args(app_key), "--max-retries", "2")
        calls = server.paths().count("/orgs/acme/outside_collaborators?per_page=100")
    assert calls == 3  # the first call and two retries
    assert result.returncode == 3
    assert (
        "outside_collaborators: failed: HTTP 403: You have exceeded a secondary rate limit. (rate limit: "
        "retries exhausted)" in result.stderr
    )
    assert json.loads(out.read_text())["collection"]["endpoints"]["outside_collaborators"]["status"] == "failed"


def test_saml_org_credential_authorizations_are_collected(app_key, tmp_path, audit_json):
    out = tmp_path / "github.json"
    credentials = [
        {
            "login": "bob-ops",
            "credential_id": 161195,
            "credential_type": "personal access token",
            "token_last_eight": "71c3fc11",
            "credential_authorized_at": "2026-06-01T10:00:00Z",
            "credential_accessed_at": "2026-11-20T09:12:00Z",
            "scopes": ["admin:org", "repo"],
            "authorized_credential_note": "old laptop",
            "authorized_credential_expires_at": None,
        },
        {
            "login": "alice-dev",
            "credential_id": 161196,
            "credential_type": "SSH key",
            "credential_authorized_at": "2026-06-02T10:00:00Z",
            "fingerprint": "SHA256:abc",
        },
    ]
    fixture = load(
        "github.json", override("/orgs/acme/credential-authorizations", [{"status": 200, "body": credentials}])
    )
    with ReplayServer(fixture) as server:
        result = collect(server, out, *app_args(app_key))
    assert result.returncode == 0, result.stderr
    data = json.loads(out.read_text())
    assert data["collection"]["endpoints"]["credential_authorizations"] == {"status": "ok", "items": 2}
    code, report, stderr = audit_json(out, extra=("--fail-on", "never"))
    assert code == 0, stderr
    kinds = sorted((t["kind"], t["owner"]) for t in report["tokens"])
    assert ("classic_pat", "bob-ops") in kinds
    assert [s["reason"] for s in report["skipped"]] == ["not a token"]


def test_bad_app_credentials_exit_3_and_write_nothing(app_key, tmp_path):
    out = tmp_path / "github.json"
    refused = {
        "status": 401,
        "body": {
            "message": "A JSON web token could not be decoded",
            "documentation_url": "https://docs.github.com/rest",
        },
    }
    with ReplayServer(load("github.json", override("/orgs/acme/installation", [refused]))) as server:
        result = collect(server, out, *app_args(app_key))
    assert result.returncode == 3
    assert result.stderr.strip().splitlines()[-1] == (
        "token-auditor: error: github: GitHub App authentication failed (HTTP 401: A JSON web token could not be "
        "decoded): check --app-id and --private-key (the app's private key, PEM)"
    )
    assert not out.exists()


def test_app_not_installed_on_the_org(app_key, tmp_path):
    out = tmp_path / "github.json"
    missing = {"status": 404, "body": {"message": "Not Found"}}
    with ReplayServer(load("github.json", override("/orgs/acme/installation", [missing]))) as server:
        result = collect(server, out, *app_args(app_key))
    assert result.returncode == 3
    assert "the GitHub App 321 is not installed on acme" in result.stderr
    assert not out.exists()


def test_fine_grained_pat_skips_the_app_only_endpoints(tmp_path):
    out = tmp_path / "github.json"
    with ReplayServer("github.json") as server:
        result = collect(
            server, out, "--token-env", "TA_TEST_GH_PAT", env={"TA_TEST_GH_PAT": "github_pat_" + "A1b2" * 20}
        )
        requests = server.paths()
    assert not any(p.startswith("/orgs/acme/personal-access-token") for p in requests)
    assert result.returncode == 3
    assert (
        "collect github: personal_access_tokens: skipped: only GitHub Apps can call this endpoint; "
        "collect with --app-id"
    ) in result.stderr
    data = json.loads(out.read_text())
    assert data["collection"]["endpoints"]["personal_access_tokens"]["status"] == "skipped"
    assert "personal_access_tokens" not in data
    assert len(data["members"]) == 4
    assert "A1b2A1b2" not in out.read_text() + result.stderr


def test_usage_errors_exit_2():
    result = run_cli("collect", "github", "--org", "acme", "-o", "x.json", env=clean_env())
    assert result.returncode == 2
    assert "give --app-id and --private-key (GitHub App), or --token-env VAR" in result.stderr


def test_saml_answer_422_is_also_not_applicable(app_key, tmp_path):
    out = tmp_path / "github.json"
    unprocessable = {"status": 422, "body": {"message": "This organization does not have SAML SSO enabled."}}
    with ReplayServer(load("github.json", override("/orgs/acme/credential-authorizations", [unprocessable]))) as server:
        result = collect(server, out, *app_args(app_key))
    assert result.returncode == 0, result.stderr
    endpoint = json.loads(out.read_text())["collection"]["endpoints"]["credential_authorizations"]
    assert endpoint["status"] == "not_applicable"
    assert endpoint["note"].endswith("(HTTP 422: This organization does not have SAML SSO enabled.)")


def test_a_refused_installation_token_exits_3_at_once(app_key, tmp_path):
    out = tmp_path / "github.json"
    suspended = {"status": 403, "body": {"message": "This installation has been suspended"}}
    fixture = load("github.json", override("/app/installations/4242/access_tokens", [suspended], method="POST"))
    with ReplayServer(fixture) as server:
        result = collect(server, out, *app_args(app_key))
        gets = server.paths()
    assert result.returncode == 3
    assert result.stderr.strip().splitlines()[-1] == (
        "token-auditor: error: github: cannot obtain an installation access token (HTTP 403: This installation "
        "has been suspended): check that the App is installed, not suspended, on the organization"
    )
    assert gets == ["/orgs/acme/installation"]  # no endpoint was called without a token
    assert not out.exists()
