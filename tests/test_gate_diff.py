"""`token-auditor diff BASE HEAD`: every change kind on crafted before/after pairs, findings, exit codes, formats."""

from __future__ import annotations

import copy
import json

import pytest

from auditor.gate.diff import token_changes
from auditor.inventory.validate import load_schema
from tests.conftest import NOW, ROOT, run_cli
from tests.format_support import github_upload_problems, sarif_errors

DATA = ROOT / "tests" / "data" / "gate"


def diff_schema_errors(data: dict) -> list[str]:
    """Validate against diff.v1 (which refers to report.v1 for findings and sources)."""
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    diff, report = load_schema("diff.v1"), load_schema("report.v1")
    registry = Registry().with_resources([(s["$id"], Resource.from_contents(s)) for s in (diff, report)])
    validator = Draft202012Validator(diff, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(data)]


def token(**overrides) -> dict:
    base = {
        "id": "t1",
        "provider": "github",
        "kind": "fine_grained_pat",
        "name": "deploy",
        "owner": "alice",
        "prefix": "github_pat_",
        "last4": "9f9f",
        "legacy": False,
        "org_wide": False,
        "grants": [{"resource": {"type": "repository", "name": "acme/api"}, "permissions": ["contents:read"]}],
        "global_permissions": [],
        "scopes": [],
        "orgs": ["acme"],
        "approval": {},
        "created_at": "2026-01-01T00:00:00Z",
        "expires_at": "2027-01-01T00:00:00Z",
        "last_used_at": "2026-11-01T00:00:00Z",
        "expiry_supported": True,
        "stored_in": [
            {"kind": "github_actions_secret", "location": "acme/api", "key": "DEPLOY_TOKEN", "public": False}
        ],
    }
    base.update(overrides)
    return base


def kinds(before: dict, after: dict) -> list[tuple[str, str]]:
    return [(c["kind"], c["classification"]) for c in token_changes(before, after)]


GRANT = lambda type_, name, perms, access=None: {  # noqa: E731
    "resource": {"type": type_, "name": name},
    "permissions": perms,
    **({"access": access} if access else {}),
}

CASES = [
    (
        "permission added",
        {},
        {"grants": [GRANT("repository", "acme/api", ["contents:read", "issues:write"])]},
        [("permission_added", "broader")],
    ),
    (
        "permission removed",
        {"grants": [GRANT("repository", "acme/api", ["contents:read", "issues:write"])]},
        {},
        [("permission_removed", "narrower")],
    ),
    (
        "permission level raised",
        {},
        {"grants": [GRANT("repository", "acme/api", ["contents:write"])]},
        [("permission_raised", "broader")],
    ),
    (
        "permission level lowered",
        {"grants": [GRANT("repository", "acme/api", ["contents:admin"])]},
        {},
        [("permission_lowered", "narrower")],
    ),
    (
        "grant on a new repository",
        {},
        {
            "grants": [
                GRANT("repository", "acme/api", ["contents:read"]),
                GRANT("repository", "acme/web", ["contents:read"]),
            ]
        },
        [("grant_added", "broader")],
    ),
    (
        "grant removed",
        {
            "grants": [
                GRANT("repository", "acme/api", ["contents:read"]),
                GRANT("repository", "acme/web", ["contents:read"]),
            ]
        },
        {},
        [("grant_removed", "narrower")],
    ),
    (
        "grant access raised",
        {"grants": [GRANT("model", "alice/m", ["repo.content.read", "x"], "read")]},
        {"grants": [GRANT("model", "alice/m", ["repo.content.read", "x"], "write")]},
        [("access_raised", "broader")],
    ),
    (
        "global permission added",
        {},
        {"global_permissions": ["inference.serverless.write"]},
        [("permission_added", "broader")],
    ),
    (
        "global permission removed",
        {"global_permissions": ["user.billing.read"]},
        {},
        [("permission_removed", "narrower")],
    ),
    ("scope added", {"scopes": ["read:org"]}, {"scopes": ["read:org", "repo"]}, [("scope_added", "broader")]),
    ("scope removed", {"scopes": ["read:org", "repo"]}, {"scopes": ["read:org"]}, [("scope_removed", "narrower")]),
    (
        "repository selection subset → all (GitHub shape)",
        {},
        {"org_wide": True, "grants": [GRANT("org_repositories", "acme", ["contents:read"])]},
        [("repository_selection_widened", "broader")],
    ),
    (
        "repository selection all → subset",
        {"org_wide": True, "grants": [GRANT("org_repositories", "acme", ["contents:read"])]},
        {},
        [("grant_added", "broader"), ("grant_removed", "narrower"), ("repository_selection_narrowed", "narrower")],
    ),
    ("org_wide flag alone", {}, {"org_wide": True}, [("repository_selection_widened", "broader")]),
    ("became legacy", {}, {"legacy": True}, [("became_legacy", "broader")]),
    ("no longer legacy", {"legacy": True}, {}, [("no_longer_legacy", "narrower")]),
    ("expiry removed", {}, {"expires_at": None}, [("expiry_removed", "broader")]),
    ("expiry extended", {}, {"expires_at": "2027-06-01T00:00:00Z"}, [("expiry_extended", "broader")]),
    ("expiry shortened", {}, {"expires_at": "2026-12-01T00:00:00Z"}, [("expiry_shortened", "narrower")]),
    ("expiry added", {"expires_at": None}, {}, [("expiry_added", "narrower")]),
    ("same expiry other notation", {}, {"expires_at": "2027-01-01T01:00:00+01:00"}, []),
    (
        "new storage location",
        {},
        {
            "stored_in": token()["stored_in"]
            + [{"kind": "hf_space_secret", "location": "acme/demo", "key": "GH", "public": True}]
        },
        [("storage_added", "broader")],
    ),
    ("storage removed", {}, {"stored_in": []}, [("storage_removed", "narrower")]),
    (
        "storage became public",
        {},
        {"stored_in": [dict(token()["stored_in"][0], public=True)]},
        [("storage_made_public", "broader")],
    ),
    ("org added", {}, {"orgs": ["acme", "other"]}, [("org_added", "broader")]),
    ("owner changed", {}, {"owner": "bob"}, [("owner_changed", "neutral")]),
    ("renamed", {}, {"name": "deploy-prod"}, [("renamed", "neutral")]),
    ("regenerated", {}, {"created_at": "2026-11-01T00:00:00Z"}, [("recreated", "neutral")]),
    ("last use only", {}, {"last_used_at": "2026-11-24T00:00:00Z"}, []),
]


@pytest.mark.parametrize("before,after,expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_change_kinds(before, after, expected):
    assert sorted(kinds(token(**before), token(**after))) == sorted(expected)
    known = set(load_schema("diff.v1")["$defs"]["change"]["properties"]["kind"]["enum"])
    assert {kind for kind, _ in expected} <= known


def test_hugging_face_namespace_widening_names_the_repositories():
    before = token(
        provider="huggingface",
        grants=[GRANT("model", "alice/a", ["repo.content.read"]), GRANT("dataset", "alice/b", ["repo.content.read"])],
    )
    after = token(provider="huggingface", grants=[GRANT("user", "alice", ["repo.content.read"])])
    [change] = token_changes(before, after)
    assert change["kind"] == "repository_selection_widened" and change["classification"] == "broader"
    assert change["before"] == ["alice/a", "alice/b"] and change["after"] == "user alice"


def write_inventory(path, tokens) -> str:
    path.write_text(
        json.dumps({"format": "token-inventory/v1", "collected_at": "2026-11-24T00:00:00Z", "tokens": tokens})
    )
    return str(path)


def test_cli_diff_without_engine_classifies_each_token(tmp_path):
    unchanged = token(id="same")
    base = write_inventory(
        tmp_path / "base.json",
        [token(), token(id="gone"), unchanged, token(id="narrowed", scopes=["repo", "read:org"])],
    )
    head = write_inventory(
        tmp_path / "head.json",
        [
            token(expires_at=None),
            token(id="new"),
            unchanged,
            token(id="narrowed", scopes=["read:org"]),
        ],
    )
    result = run_cli("diff", base, head, "--no-findings", "-f", "json", "--now", NOW)
    assert result.returncode == 0, result.stderr  # broadening alone does not fail without the flag
    data = json.loads(result.stdout)
    status = {t["id"]: (t["status"], t["classification"]) for t in data["tokens"]}
    assert status == {
        "t1": ("changed", "broader"),
        "new": ("added", "broader"),
        "gone": ("removed", "narrower"),
        "narrowed": ("changed", "narrower"),
    }
    assert data["summary"]["unchanged"] == 1 and data["summary"]["findings_compared"] is False
    assert diff_schema_errors(data) == []
    strict = run_cli("diff", base, head, "--no-findings", "--fail-on-broadening", "--now", NOW)
    assert strict.returncode == 1 and "FAIL" in strict.stdout
    only_narrower = run_cli(
        "diff",
        base,
        write_inventory(
            tmp_path / "h2.json", [token(), token(id="gone"), unchanged, token(id="narrowed", scopes=["read:org"])]
        ),
        "--no-findings",
        "--fail-on-broadening",
        "--now",
        NOW,
    )
    assert only_narrower.returncode == 0, only_narrower.stdout


def test_cli_diff_findings_introduced_and_resolved_exit_codes_and_formats(tmp_path, opa_server):
    url, tok = opa_server
    engine = ("--opa-url", url, "--opa-token-env", "T")
    env = {"T": tok}
    base, head = str(DATA / "base.json"), str(DATA / "head.json")
    result = run_cli(
        "diff",
        base,
        head,
        "--now",
        NOW,
        *engine,
        "--output-dir",
        str(tmp_path / "d"),
        "-f",
        "json",
        "-f",
        "markdown",
        "-f",
        "sarif",
        "-f",
        "table",
        env=env,
    )
    assert result.returncode == 1, result.stderr
    data = json.loads((tmp_path / "d" / "token-auditor-diff.json").read_text())
    introduced = {(f["rule_id"], f["subject"]["id"]) for f in data["findings"]["introduced"]}
    resolved = {(f["rule_id"], f["subject"]["id"]) for f in data["findings"]["resolved"]}
    assert ("legacy-token", "tok-legacy-1") in introduced
    assert ("legacy-token", "tok-old-4") in resolved
    assert ("legacy-token", "tok-legacy-2") not in introduced | resolved  # unchanged finding
    assert data["gate"] == {
        "fail_on": "high",
        "fail_on_broadening": False,
        "failing_findings": 2,
        "broadening": 2,
        "passed": False,
    }
    assert sorted((f["rule_id"], f["severity"], f["subject"]["id"]) for f in data["findings"]["introduced"]) == [
        ("legacy-token", "high", "tok-legacy-1"),
        ("long-lived", "medium", "tok-fine-3"),
        ("no-expiry", "high", "tok-legacy-1"),
    ]
    assert diff_schema_errors(data) == []
    broken = copy.deepcopy(data)
    broken["tokens"][0]["changes"][0]["classification"] = "wider"
    assert diff_schema_errors(broken)
    ci = [t for t in data["tokens"] if t["id"] == "tok-legacy-1"][0]
    assert {c["kind"] for c in ci["changes"]} >= {"repository_selection_widened", "became_legacy", "expiry_removed"}
    assert ci["source"]["file"] == head

    markdown = (tmp_path / "d" / "token-auditor-diff.md").read_text()
    assert markdown.startswith("## token-auditor diff\n\n❌ **Gate failed**")
    assert markdown.index("### Broader access") < markdown.index("### New findings at or above `high`")
    assert "Resolved findings" in markdown and len(markdown) < 65_000

    sarif = json.loads((tmp_path / "d" / "token-auditor-diff.sarif").read_text())
    assert sarif_errors(sarif) == [] and github_upload_problems(sarif) == []
    rule_ids = {r["ruleId"] for r in sarif["runs"][0]["results"]}
    assert {"legacy-token", "access-broadened"} <= rule_ids
    assert "ci-publish" in (tmp_path / "d" / "token-auditor-diff.txt").read_text()

    # the new findings are high and medium: --fail-on critical passes, --fail-on medium fails on all three
    lenient = run_cli("diff", base, head, "--now", NOW, *engine, "--fail-on", "critical", "-f", "json", env=env)
    assert lenient.returncode == 0, lenient.stderr
    assert json.loads(lenient.stdout)["gate"]["failing_findings"] == 0
    strict = run_cli("diff", base, head, "--now", NOW, *engine, "--fail-on", "medium", "-f", "json", env=env)
    assert strict.returncode == 1, strict.stderr
    assert json.loads(strict.stdout)["gate"]["failing_findings"] == 3
    never = run_cli("diff", base, head, "--now", NOW, *engine, "--fail-on", "never", "-f", "json", env=env)
    assert never.returncode == 0, never.stderr
    broadening = run_cli(
        "diff", base, head, "--now", NOW, *engine, "--fail-on", "never", "--fail-on-broadening", env=env
    )
    assert broadening.returncode == 1


def test_cli_diff_waived_introduced_finding_does_not_fail(tmp_path, opa_server):
    url, tok = opa_server
    waivers = tmp_path / "w.yaml"
    waivers.write_text(
        "waivers:\n  - {rule_id: legacy-token, match: {token_id: tok-legacy-1}, reason: migration, "
        "approved_by: lead, expires: 2026-12-31}\n"
        "  - {rule_id: no-expiry, match: {token_id: tok-legacy-1}, reason: migration, "
        "approved_by: lead, expires: 2026-12-31}\n"
    )
    result = run_cli(
        "diff",
        str(DATA / "base.json"),
        str(DATA / "head.json"),
        "--now",
        NOW,
        "-f",
        "json",
        "--waivers",
        str(waivers),
        "--opa-url",
        url,
        "--opa-token-env",
        "T",
        env={"T": tok},
    )
    data = json.loads(result.stdout)
    assert diff_schema_errors(data) == [] and [w["matched"] for w in data["waivers"]["active"]] == [1, 1]
    assert sorted((f["rule_id"], f["waived"], f["counts"]) for f in data["findings"]["introduced"]) == [
        ("legacy-token", True, False),
        ("long-lived", False, True),
        ("no-expiry", True, False),
    ]
    # both new high findings are waived: the gate passes
    assert result.returncode == 0, result.stderr
    assert data["gate"]["failing_findings"] == 0 and data["gate"]["passed"] is True


def test_cli_diff_bad_input_is_exit_2(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps({"format": "token-inventory/v1", "collected_at": "2026-11-24T00:00:00Z", "tokens": [{"id": "x"}]})
    )
    result = run_cli("diff", str(DATA / "base.json"), str(bad), "--no-findings", "--now", NOW)
    assert result.returncode == 2 and str(bad) in result.stderr and "Traceback" not in result.stderr
    result = run_cli("diff", str(DATA / "base.json"), str(DATA / "head.json"), "--no-findings", "-f", "junit")
    assert result.returncode == 2 and "unknown format 'junit'" in result.stderr


def test_diff_markdown_size_bound_with_many_changes(tmp_path):
    many_before = [token(id=f"t{i}", name=f"bot|{i}") for i in range(3000)]
    many_after = [copy.deepcopy(t) for t in many_before]
    for t in many_after:
        t["expires_at"] = None
        t["scopes"] = ["repo", "admin:org"]
    base = write_inventory(tmp_path / "b.json", many_before)
    head = write_inventory(tmp_path / "h.json", many_after)
    result = run_cli("diff", base, head, "--no-findings", "-f", "markdown", "--now", NOW)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout) < 65_000 and "more" in result.stdout
    assert result.stdout.count("<details>") == result.stdout.count("</details>")
