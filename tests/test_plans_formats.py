"""Plans in the human formats: "What to do first" lists tokens with their plan; the table has a PLANS section."""

from __future__ import annotations

import copy

from auditor.plan import Catalogue, attach_plans
from auditor.report.formats import render
from auditor.report.html import build_view
from auditor.saved_report import report_of
from tests.conftest import NOW, ROOT

CATALOGUE = Catalogue.load(ROOT / "policies")


def _report() -> dict:
    token = {
        "key": "gitlab:project_access_token:12",
        "id": "12",
        "provider": "gitlab",
        "kind": "project_access_token",
        "name": "ci-push",
        "owner": "project_7_bot",
        "masked": "glpat-…",
        "legacy": False,
        "org_wide": False,
        "grants": [
            {"resource": {"type": "project", "name": "acme/app"}, "permissions": ["access_level:maintainer", "api"]}
        ],
        "global_permissions": [],
        "scopes": ["api"],
        "created_at": "2026-01-01T00:00:00Z",
        "expires_at": None,
        "last_used_at": "2026-11-20T00:00:00Z",
        "expiry_supported": True,
        "orgs": ["gitlab.example.com"],
        "approval": {},
        "stored_in": [{"kind": "gitlab_ci_variable", "location": "acme/app", "key": "PUSH"}],
        "observed_usage": [{"resource": {"type": "project", "name": "acme/app"}, "actions": ["push"]}],
    }
    spec = {
        "token_type": "project_access_token",
        "scopes": ["self_rotate", "write_repository"],
        "access_level": 30,
        "expires_in_days": 90,
        "expires_at": "2027-02-23",
        "self_rotate": True,
        "derived_from": "observed_usage",
        "needs_owner_input": False,
    }
    subject = {
        "type": "token",
        "key": token["key"],
        "id": "12",
        "provider": "gitlab",
        "kind": token["kind"],
        "name": "ci-push",
        "owner": "project_7_bot",
        "masked": "glpat-…",
    }
    findings = [
        {
            "rule_id": "broad-scope",
            "title": "Broad classic scope",
            "severity": "high",
            "nhi": ["NHI5"],
            "subject": subject,
            "instance": "",
            "message": 'gitlab token "ci-push" holds api',
            "evidence": {},
            "fingerprint": "a" * 32,
            "counts": True,
            "recommendation": {
                "action": "replace",
                "summary": "Replace api",
                "steps": ["Create X", "Put X in both"],
                "replacement": spec,
            },
        },
        {
            "rule_id": "no-expiry",
            "title": "Token that never expires",
            "severity": "high",
            "nhi": ["NHI7"],
            "subject": subject,
            "instance": "",
            "message": "never expires",
            "evidence": {},
            "fingerprint": "b" * 32,
            "counts": True,
            "recommendation": {"action": "replace", "summary": "Expire", "steps": ["Create Y"], "replacement": spec},
        },
    ]
    data = {
        "schema_version": "2.0",
        "tool": {"name": "token-auditor", "version": "0.1.0"},
        "engine": {"name": "opa", "opa_version": "1.22.3", "mode": "managed"},
        "policy": {"catalogue_version": "t", "catalogue_date": None, "rules": []},
        "now": NOW,
        "config": {},
        "inputs": [],
        "summary": {
            "tokens": 1,
            "audited": 1,
            "skipped": 0,
            "tokens_with_findings": 1,
            "tokens_by_provider": {"gitlab": 1},
            "findings": 2,
            "by_severity": {"critical": 0, "high": 2, "medium": 0, "low": 0, "info": 0},
            "by_rule": {"broad-scope": 1, "no-expiry": 1},
        },
        "findings": findings,
        "skipped": [],
        "secrets_redacted": 0,
        "rules": [],
        "tokens": [token],
        "gate": {
            "fail_on": "high",
            "findings": 2,
            "counted": 2,
            "waived": 0,
            "baseline": 0,
            "failing": 2,
            "passed": False,
        },
    }
    attach_plans(data, [token], CATALOGUE)
    return data


def test_the_plan_is_the_one_gitlab_project_token_the_job_needs():
    data = _report()
    [plan] = data["plans"]
    [credential] = plan["credentials"]
    assert (credential["type"], credential["scopes"], credential["access_level"]) == (
        "project_access_token",
        ["self_rotate", "write_repository"],
        30,
    )
    create = plan["requests"][0]
    assert (create["method"], create["url"]) == (
        "POST",
        "https://gitlab.example.com/api/v4/projects/acme%2Fapp/access_tokens",
    )
    assert create["body"] == {
        "name": "ci-push",
        "description": f"Replaces glpat-… (token-auditor plan {plan['id']}/1)",
        "scopes": ["self_rotate", "write_repository"],
        "expires_at": "2027-02-23",
        "access_level": 30,
    }
    assert [s["text"] for s in plan["steps"]] == [
        'Create a project access token "ci-push" with scopes self_rotate, write_repository, access level 30, '
        "expiring on 2027-02-23",
        f"Store credential {plan['id']}/1 in gitlab_ci_variable acme/app (PUSH) in place of glpat-…",
        "Check that usage has moved: once every place holds its new credential, glpat-… shows no new use (last used "
        "2026-11-20T00:00:00Z) in the provider's audit log or the next export",
        "Revoke glpat-…",
    ]
    assert create["note"] == (
        "before it expires, the new token rotates itself (scope self_rotate): POST "
        "https://gitlab.example.com/api/v4/projects/acme%2Fapp/access_tokens/self/rotate"
    )
    assert [(r["step"], r["method"], r["url"]) for r in plan["requests"][1:]] == [
        (3, "GET", "https://gitlab.example.com/api/v4/projects/acme%2Fapp/access_tokens/12"),
        (4, "DELETE", "https://gitlab.example.com/api/v4/projects/acme%2Fapp/access_tokens/12"),
    ]


def test_markdown_lists_tokens_with_their_plan_and_findings_point_to_it():
    data = _report()
    plan_id = data["plans"][0]["id"]
    text = render(report_of(data), "markdown")
    first = text.index("### What to do first: 1 token(s), one plan each")
    assert first < text.index("### Failing: at or above `high`")
    assert "#### ci-push (glpat-…) · gitlab · owner project\\_7\\_bot" in text
    assert '1. Create a project access token "ci-push" with scopes self\\_rotate, write\\_repository' in text
    assert text.count(f"Plan: `{plan_id}` (under What to do first, or `token-auditor plan`)") == 2
    assert "Put X in both" not in text  # the findings' own step lists give way to the one plan


def test_html_what_to_do_first_has_one_row_per_token_with_its_plan():
    data = _report()
    view = build_view(report_of(data))
    [group] = view["first"]
    [row] = group["rows"]
    assert (row["is_plan"], row["subject"], row["count"], row["rules"]) == (
        True,
        "ci-push",
        2,
        ["broad-scope", "no-expiry"],
    )
    assert row["plan"]["steps"][-1] == "Revoke glpat-…"
    page = render(report_of(data), "html")
    assert page.count('class="plan-row"') == 1
    assert f'data-plan="{data["plans"][0]["id"]}"' in page
    assert "POST https://gitlab.example.com/api/v4/projects/acme%2Fapp/access_tokens" in page


def test_table_ends_with_plans_and_old_reports_render_as_before():
    data = _report()
    text = render(report_of(data), "table")
    assert "PLANS (1): one per token, fixing all of its findings" in text
    assert "│ replace: Replace it with one credential" in text
    old = copy.deepcopy(data)
    del old["plans"]
    for finding in old["findings"]:
        del finding["plan_id"]
    assert "PLANS" not in render(report_of(old), "table")
    assert "Put X in both" in render(report_of(old), "markdown")
    assert 'class="plan-row"' not in render(report_of(old), "html")


def test_markdown_with_many_plans_stays_under_the_comment_limit():
    from auditor.report.markdown import LIMIT
    from tests.report_factory import synthetic_report

    data = synthetic_report(5000)
    attach_plans(data, data["tokens"], CATALOGUE)
    assert len(data["plans"]) == 1000
    text = render(report_of(data), "markdown")
    assert len(text) <= LIMIT
    assert "### What to do first: " in text and "more token(s) with a plan: `token-auditor plan REPORT.json`" in text
    assert text.count("<details>") == text.count("</details>")
