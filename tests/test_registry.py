"""Provider registries: what they record, and that every replacement the auditor proposes is one the
provider would let someone create, never broader than the token it replaces."""

from __future__ import annotations

import json
import sys
from importlib import metadata

import pytest

from auditor.registry import credential_problems, registry, step_problems
from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
import generate_github_registry as generator  # noqa: E402

CATALOGUE = ROOT / "policies" / "token_auditor" / "catalogue" / "providers"


def _catalogue(provider: str) -> dict:
    return json.loads((CATALOGUE / provider / "data.json").read_text())


# --- what the registries record -------------------------------------------------------------


def test_every_registry_names_its_sources_and_date():
    for provider in ("github", "gitlab", "huggingface"):
        reg = registry(provider)
        assert reg["date"] == "2026-11-29"
        assert all(s.startswith(("https://", "githubkit-schemas-2022-11-28==", "huggingface/")) for s in reg["sources"])
    assert registry("github")["sources"][0].startswith("githubkit-schemas-2022-11-28==26.10.21 ")


def test_github_facts_from_the_openapi_model():
    perms = registry("github")["permissions"]
    assert perms["profile"]["levels"] == ["write"]
    assert perms["workflows"]["levels"] == ["write"]
    assert perms["organization_projects"]["levels"] == ["read", "write", "admin"]
    assert perms["repository_projects"]["levels"] == ["read", "write", "admin"]
    assert "custom_properties_for_repositories" not in perms
    for name in (
        "actions_variables",
        "organization_actions_variables",
        "code_quality",
        "organization_copilot_seat_management",
        "organization_copilot_agent_settings",
    ):
        assert name in perms
    assert perms["organization_actions_variables"]["group"] == "organization"
    assert perms["members"]["group"] == "organization"
    assert perms["followers"]["group"] == "account"


def test_github_classic_mapping_of_repo_and_workflow():
    scopes = registry("github")["classic_scopes"]
    assert scopes["workflow"]["fine_grained"] == {"workflows": "write"}
    assert scopes["repo"]["fine_grained"]["contents"] == "write"
    assert "workflows" not in scopes["repo"]["fine_grained"]
    assert scopes["write:packages"]["fine_grained"] == {}
    assert scopes["write:packages"]["package_registries"] is True


def test_github_catalogue_names_exactly_the_registry_permissions_and_levels():
    reg = registry("github")["permissions"]
    offered = {f"{name}:{level}" for name, info in reg.items() for level in info["levels"]}
    assert set(_catalogue("github")["permissions"]) == offered
    assert set(_catalogue("github")["scopes"]) <= set(registry("github")["classic_scopes"])
    mapping = {
        s: i["fine_grained"] for s, i in registry("github")["classic_scopes"].items() if i["fine_grained"] is not None
    }
    assert _catalogue("github")["classic_to_fine_grained"] == mapping
    for action, permissions in _catalogue("github")["usage_permissions"].items():
        for name, level in permissions.items():
            assert level in reg[name]["levels"], (action, name, level)
    assert set(_catalogue("github")["sensitive"]) <= offered | set(registry("github")["classic_scopes"])


def test_github_projects_levels_are_not_organization_administration():
    rated = _catalogue("github")["permissions"]
    assert rated["organization_projects:admin"] == "write"
    assert rated["repository_projects:admin"] == "write"
    assert rated["organization_administration:write"] == "admin"


def test_github_org_policy_fine_grained_without_approval_does_not_allow_classic_tokens():
    assert _catalogue("github")["legacy_allowing_policies"] == ["allow_all"]
    policies = registry("github")["org_pat_policies"]
    assert {name for name, p in policies.items() if p["classic_allowed"]} == {"allow_all"}


def test_gitlab_scopes_per_token_type_and_required_pairs():
    reg = registry("gitlab")
    assert "sudo" in reg["token_types"]["personal_access_token"]["scopes"]
    assert "sudo" not in reg["token_types"]["project_access_token"]["scopes"]
    assert "read_user" not in reg["token_types"]["group_access_token"]["scopes"]
    assert reg["required_together"]["project_access_token"]["write_registry"] == ["read_registry"]
    assert reg["endpoints"]["group_access_token"]["rotate"] == [
        "POST /groups/:id/access_tokens/:token_id/rotate",
        "POST /groups/:id/access_tokens/self/rotate",
    ]
    assert reg["endpoints"]["project_access_token"]["rotate"][1] == "POST /projects/:id/access_tokens/self/rotate"
    for scope in _catalogue("gitlab")["scopes"]:
        assert any(scope in t["scopes"] for t in reg["token_types"].values()), scope


def test_huggingface_where_permissions_can_be_granted_and_whoami_roles():
    reg = registry("huggingface")
    assert reg["permissions"]["inference.serverless.write"]["on"] == ["user", "org", "global"]
    assert reg["permissions"]["inference.serverless.write"]["spends_money"] is True
    assert "repo" in reg["permissions"]["repo.write"]["on"]
    assert reg["whoami_roles"] == ["read", "write", "fineGrained", "admin", "contributor"]
    assert reg["token_types"]["org_api_token"]["deprecated"] is True
    named = set(_catalogue("huggingface")["permissions"]) - {"role.read", "role.write", "role.admin", "gated.read"}
    assert named <= set(reg["permissions"])


def test_generator_reads_levels_and_groups_from_the_model_source():
    source = '''
class AppPermissions(GitHubModel):
    """App Permissions"""

    contents: Missing[Literal["read", "write"]] = Field(default=UNSET)
    custom_properties_for_organizations: Missing[Literal["read", "write"]] = Field(default=UNSET)
    organization_projects: Missing[Literal["read", "write", "admin"]] = Field(default=UNSET)
    email_addresses: Missing[Literal["read", "write"]] = Field(default=UNSET)
    profile: Missing[Literal["write"]] = Field(default=UNSET)
    enterprise_custom_properties_for_organizations: Missing[
        Literal["read", "write", "admin"]
    ] = Field(default=UNSET)
'''
    built = generator.build(source, "0.0.1", "2026-01-02")
    perms = built["permissions"]
    assert perms["contents"] == {
        "levels": ["read", "write"],
        "group": "repository",
        "source": "AppPermissions (githubkit-schemas-2022-11-28==0.0.1)",
    }
    assert perms["organization_projects"]["group"] == "organization"
    assert perms["profile"] == {
        "levels": ["write"],
        "group": "account",
        "source": "AppPermissions (githubkit-schemas-2022-11-28==0.0.1)",
    }
    assert perms["enterprise_custom_properties_for_organizations"]["group"] == "enterprise"
    assert built["date"] == "2026-01-02"
    assert built["sources"][0].startswith("githubkit-schemas-2022-11-28==0.0.1 ")
    with pytest.raises(SystemExit, match="email_addresses"):
        generator.build(source.replace("email_addresses", "emails"), "0.0.1", "2026-01-02")


def test_committed_github_registry_is_what_the_generator_writes():
    try:
        version = metadata.version(generator.PACKAGE)
    except metadata.PackageNotFoundError:
        pytest.skip(f"{generator.PACKAGE} not installed (pip install '.[registry]')")
    source, _ = generator.model_source()
    committed = json.loads((ROOT / "policies/token_auditor/registry/github/data.json").read_text())
    assert generator.build(source, version, committed["date"]) == committed


# --- credential_problems ---------------------------------------------------------------------


def test_github_credentials_the_provider_refuses():
    assert credential_problems(
        {
            "provider": "github",
            "type": "fine_grained_pat",
            "permissions": {
                "account": {"profile": "read"},
                "repository": {
                    "packages": "read",
                    "custom_properties_for_repositories": "read",
                    "administration": "write",
                    "members": "read",
                },
            },
            "also": [
                {"provider": "github", "type": "classic_pat", "scopes": ["read:packages", "admin:org", "write:all"]}
            ],
        }
    ) == [
        "github administration:write is admin-rated",
        "github packages: GitHub Packages registries accept only classic PATs",
        "github permission 'custom_properties_for_repositories' does not exist",
        "github permission members is a organization permission, not repository",
        "github permission profile has no level 'read' (offered: write)",
        "github scope 'write:all' does not exist",
        "github scope admin:org is admin-rated",
    ]
    assert credential_problems({"provider": "github", "type": "fine_grained_pat", "scopes": ["repo"]}) == [
        "github fine_grained_pat takes permissions, not scopes"
    ]
    assert (
        credential_problems(
            {
                "provider": "github",
                "type": "fine_grained_pat",
                "permissions": {"organization": {"organization_projects": "admin"}, "account": {"profile": "write"}},
            }
        )
        == []
    )


def test_gitlab_credentials_the_provider_refuses():
    assert credential_problems(
        {"provider": "gitlab", "type": "project_access_token", "scopes": ["write_registry", "sudo"], "access_level": 50}
    ) == [
        "gitlab access level 50 (owner) is admin-rated",
        "gitlab project_access_token does not accept scope 'sudo'",
        "gitlab project_access_token with write_registry also needs read_registry",
        "gitlab scope sudo is admin-rated",
    ]
    assert credential_problems(
        {"provider": "gitlab", "type": "personal_access_token", "scopes": ["read_api"], "access_level": 20}
    ) == ["gitlab personal_access_token has no access level"]
    assert (
        credential_problems(
            {
                "provider": "gitlab",
                "type": "group_access_token",
                "scopes": ["read_registry", "write_registry"],
                "access_level": 30,
            }
        )
        == []
    )


def test_huggingface_credentials_the_provider_refuses():
    assert credential_problems(
        {
            "provider": "huggingface",
            "type": "user_access_token",
            "scoped": [
                {"entity": {"type": "model", "name": "acme/bert"}, "permissions": ["inference.serverless.write"]},
                {"entity": {"type": "org", "name": "acme"}, "permissions": ["org.members.write"]},
            ],
            "global": ["org.read"],
        }
    ) == [
        "huggingface permission inference.serverless.write cannot be granted on a repo (only: user, org, global)",
        "huggingface permission org.members.write is admin-rated",
        "huggingface permission org.read cannot be granted on a global (only: org)",
    ]
    assert credential_problems({"provider": "huggingface", "type": "org_api_token"}) == [
        "huggingface org_api_token can no longer be created"
    ]
    assert (
        credential_problems(
            {
                "provider": "huggingface",
                "type": "service_account_token",
                "scoped": [{"entity": {"type": "dataset", "name": "acme/d"}, "permissions": ["repo.content.read"]}],
                "global": ["inference.serverless.write"],
            }
        )
        == []
    )
    assert credential_problems({"provider": "vault"}) == ["unknown provider 'vault'"]


def test_steps_naming_endpoints_the_registry_lacks():
    assert step_problems(
        "gitlab",
        [
            "Rotate: POST /groups/:id/access_tokens/self/rotate.",
            "Revoke: DELETE /personal_access_tokens/3",
            "POST /personal_access_tokens/self/rotatex",
        ],
    ) == ["gitlab endpoint POST /personal_access_tokens/self/rotatex is not in the registry"]
    assert step_problems(
        "github",
        ["POST /orgs/acme/personal-access-tokens/25381 with action revoke", "PUT /orgs/acme/personal-access-tokens/1"],
    ) == ["github endpoint PUT /orgs/acme/personal-access-tokens/1 is not in the registry"]
