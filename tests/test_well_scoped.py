"""Well-scoped tokens, written the way each provider's export is documented, get no finding
(issue 8: service account, narrow project token, OAuth app with narrow scopes, Projects-only PAT)."""

from __future__ import annotations

from conftest import FIXTURES


def test_service_account_narrow_project_token_narrow_oauth_app_and_projects_only_pat(audit_json):
    paths = [
        FIXTURES / "huggingface" / "service-account.yaml",
        FIXTURES / "gitlab" / "well-scoped.json",
        FIXTURES / "github" / "acme-tools-well-scoped.json",
    ]
    code, report, stderr = audit_json(*paths)
    assert code == 0, stderr
    assert report["findings"] == []
    audited = {t["key"] for t in report["tokens"]}
    assert audited == {
        "huggingface:service_account_token:65a1c0ffee0000000000b001",
        "gitlab:project_access_token:77",
        "github:oauth_app_token:262001",
        "github:fine_grained_pat:99101",
    }
    # the admin's /personal_access_tokens listing repeats the project bot's token: audited once
    assert [(s["id"], s["reason"]) for s in report["skipped"]] == [
        (
            "77",
            "the same GitLab token as the project access token at "
            f"{FIXTURES / 'gitlab' / 'well-scoped.json'}#/project_access_tokens/acme~1release-tool/0",
        )
    ]
