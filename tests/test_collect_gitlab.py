"""`collect gitlab` drives the real python-gitlab against a local replay of GitLab's documented answers."""

from __future__ import annotations

import json

from conftest import run_cli

from tests.replay.server import ReplayServer, clean_env, load, override

TOKEN = "glpat-REPLAYtoken00000000000001"


def run(server, out, *args):
    return run_cli(
        "collect",
        "gitlab",
        "--url",
        server.base,
        "--token-env",
        "TA_TEST_GITLAB",
        "-o",
        str(out),
        *args,
        env=clean_env({"TA_TEST_GITLAB": TOKEN}),
        timeout=120,
    )


def test_admin_group_walk_every_page_bot_tokens_once_and_audit_accepts_it(tmp_path, audit_json):
    out = tmp_path / "gitlab.json"
    with ReplayServer("gitlab.json") as server:
        result = run(server, out, "--group", "acme")
        requests = server.paths()
    assert result.returncode == 0, result.stderr
    data = json.loads(out.read_text())
    assert data["format"] == "gitlab-inventory/v1"
    assert data["instance"].startswith("127.0.0.1:")
    # page 2 (after Link rel=next and a 429 with Retry-After) is in; bot tokens 41 and 51 appear once,
    # under their group and project, not also as personal tokens
    assert [t["id"] for t in data["personal_access_tokens"]] == [1, 2, 3]
    assert requests.count("/api/v4/personal_access_tokens?page=2&per_page=100") == 2
    assert "rate limited on /api/v4/personal_access_tokens; waiting 1 s" in result.stderr
    assert {path: [t["id"] for t in items] for path, items in data["group_access_tokens"].items()} == {
        "acme": [41],
        "acme/platform": [42],
    }
    assert {path: [t["id"] for t in items] for path, items in data["project_access_tokens"].items()} == {
        "acme/api": [51]
    }
    assert sorted(u["username"] for u in data["users"] if u.get("bot")) == [
        "group_10_bot_abc",
        "group_11_bot_ghi",
        "project_100_bot_def",
    ]
    assert [u["username"] for u in data["users"] if u.get("is_admin")] == ["root"]
    assert [u["username"] for u in data["users"] if u.get("state") == "blocked"] == ["bob"]
    assert all("email" not in u for u in data["users"])
    collection = data["collection"]
    assert collection["complete"] is True
    assert collection["tool"].endswith("(administrator root)")
    assert collection["endpoints"]["personal_access_tokens"]["note"] == (
        "2 group/project access token(s) also listed here are kept once, under their group or project"
    )
    assert TOKEN not in out.read_text() + result.stderr

    code, report, stderr = audit_json(out, extra=("--fail-on", "never"))
    assert code == 0, stderr
    assert sorted(t["key"] for t in report["tokens"]) == [
        "gitlab:group_access_token:41",
        "gitlab:group_access_token:42",
        "gitlab:personal_access_token:1",
        "gitlab:personal_access_token:2",
        "gitlab:project_access_token:51",
    ]
    assert [(s["name"], s["reason"]) for s in report["skipped"]] == [("old-script", "revoked")]
    owners = {t["key"]: t["owner"] for t in report["tokens"]}
    assert owners["gitlab:personal_access_token:2"] == "bob"


def test_admin_without_groups_reads_every_group_and_project(tmp_path):
    out = tmp_path / "gitlab.json"
    with ReplayServer("gitlab.json") as server:
        result = run(server, out)
        requests = server.paths()
    assert result.returncode == 0, result.stderr
    assert "/api/v4/groups?all_available=True&per_page=100" in requests
    assert "/api/v4/projects?simple=True&per_page=100" in requests
    data = json.loads(out.read_text())
    assert sorted(data["group_access_tokens"]) == ["acme", "acme/platform"]
    assert sorted(data["project_access_tokens"]) == ["acme/api"]


def test_forbidden_group_is_recorded_names_the_role_and_exits_3(tmp_path):
    out = tmp_path / "gitlab.json"
    forbidden = {"status": 403, "body": {"message": "403 Forbidden"}}
    with ReplayServer(load("gitlab.json", override("/api/v4/groups/11/access_tokens", [forbidden]))) as server:
        result = run(server, out, "--group", "acme")
    assert result.returncode == 3
    assert (
        "token-auditor: error: collect gitlab: group_access_tokens: forbidden (1 of its calls, first: "
        "acme/platform): HTTP 403: 403 Forbidden; needs scope read_api and the Owner role in the group" in result.stderr
    )
    data = json.loads(out.read_text())
    endpoint = data["collection"]["endpoints"]["group_access_tokens"]
    assert endpoint["status"] == "forbidden" and endpoint["items"] == 1
    assert endpoint["failures"][0]["target"] == "acme/platform"
    assert sorted(data["group_access_tokens"]) == ["acme"]
    assert data["collection"]["complete"] is False


def test_non_admin_must_name_groups(tmp_path):
    out = tmp_path / "gitlab.json"
    user = {"status": 200, "body": {"id": 11, "username": "alice", "state": "active", "web_url": "{base}/alice"}}
    own = {
        "status": 200,
        "body": [
            {
                "id": 1,
                "name": "laptop-cli",
                "revoked": False,
                "scopes": ["read_api"],
                "user_id": 11,
                "active": True,
                "created_at": "2026-09-01T08:00:00.000Z",
                "expires_at": "2026-12-15",
                "last_used_at": None,
            }
        ],
    }
    fixture = load("gitlab.json", override("/api/v4/user", [user]), override("/api/v4/personal_access_tokens", [own]))
    with ReplayServer(fixture) as server:
        result = run(server, out)
        walked = run(server, out, "--group", "acme")
    assert result.returncode == 2
    assert "the token is not an administrator's: name the groups to walk with --group PATH" in result.stderr
    assert walked.returncode == 0, walked.stderr
    data = json.loads(out.read_text())
    assert data["collection"]["tool"].endswith("(user alice)")
    assert sorted(u["username"] for u in data["users"]) == ["alice", "group_10_bot_abc"]
    assert [t["id"] for t in data["personal_access_tokens"]] == [1]
    assert data["collection"]["endpoints"]["personal_access_tokens"]["note"] == (
        "not an administrator: only this token's owner's personal access tokens are visible"
    )


def test_refused_token_exits_3_and_writes_nothing(tmp_path):
    out = tmp_path / "gitlab.json"
    refused = {"status": 401, "body": {"message": "401 Unauthorized"}}
    with ReplayServer(load("gitlab.json", override("/api/v4/user", [refused]))) as server:
        result = run(server, out)
    assert result.returncode == 3
    assert result.stderr.strip().splitlines()[-1].startswith("token-auditor: error: gitlab: token refused by")
    assert "it needs a valid token with scope read_api" in result.stderr
    assert not out.exists()
    assert TOKEN not in result.stderr


def test_missing_token_variable_exits_2(tmp_path):
    result = run_cli(
        "collect",
        "gitlab",
        "--url",
        "http://127.0.0.1:9",
        "--token-env",
        "TA_TEST_UNSET_VAR",
        "-o",
        str(tmp_path / "x.json"),
        env=clean_env(),
    )
    assert result.returncode == 2
    assert "--token-env TA_TEST_UNSET_VAR: that variable is not set" in result.stderr


def test_a_retry_after_beyond_max_wait_fails_the_endpoint_without_waiting(tmp_path):
    out = tmp_path / "gitlab.json"
    limited = {"status": 429, "headers": {"Retry-After": "3600"}, "body": {"message": "Retry later"}}
    with ReplayServer(load("gitlab.json", override("/api/v4/users", [limited], query={"page": None}))) as server:
        result = run(server, out, "--group", "acme", "--max-wait", "5")
    assert result.returncode == 3
    assert (
        "collect gitlab: users: failed: RateLimitTooLong: rate limited: Retry-After 3600 s exceeds --max-wait"
        in result.stderr
    )
    data = json.loads(out.read_text())
    assert "users" in data and data["collection"]["endpoints"]["users"]["status"] == "failed"


def test_max_retries_0_signs_in_once(tmp_path):
    out = tmp_path / "gitlab.json"
    limited = {"status": 429, "headers": {"Retry-After": "0"}, "body": {"message": "Retry later"}}
    with ReplayServer(load("gitlab.json", override("/api/v4/user", [limited]))) as server:
        result = run(server, out, "--group", "acme", "--max-retries", "0", "-q")
        assert server.paths() == ["/api/v4/user"]
    assert result.returncode == 3
    assert result.stderr == (
        f"token-auditor: error: gitlab: GET /user failed on {server.base}: HTTP 429: Retry later\n"
    )
    assert not out.exists()
