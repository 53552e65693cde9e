"""The Hugging Face rule table against the real OPA.

Each case is a small `huggingface-inventory/v1` file written the way a collector would write it,
with tokens that must fire a rule next to tokens that must not; verdicts are read from the JSON
report by token id, so a rule firing on the wrong token fails the test.
"""

from __future__ import annotations

import json
from textwrap import dedent

import pytest
from conftest import FIXTURES, audit_to_json, write_yaml

HF_RULES = {
    "legacy-token",
    "org-token",
    "namespace-wide-write",
    "admin-permission",
    "sensitive-permission",
    "exposed-in-public-space",
    "token-in-variable",
    "stale-token",
    "never-used-token",
    "unrotated-token",
    "token-reuse",
    "owner-not-member",
    "org-allows-legacy-tokens",
    "raw-secret-in-inventory",
    "expired-token",
}
USAGE_RULES = {"stale-token", "never-used-token", "unrotated-token"}
HEADER = 'format: huggingface-inventory/v1\ncollected_at: "2026-11-20T09:00:00Z"\n'
PLANTED = "hf_" + "FAKEfakeNOTaREALtoken" + "0" * 13  # 34 characters after the prefix, obviously fake


def fine(scoped: str, global_: str = "[]", gated: str = "false") -> str:
    """A whoami-v2 answer of a fine-grained token; scoped is a YAML flow list."""
    return (
        f"{{auth: {{type: access_token, accessToken: {{role: fineGrained, "
        f"fineGrained: {{canReadGatedRepos: {gated}, global: {global_}, scoped: {scoped}}}}}}}}}"
    )


def token(token_id: str, name: str, whoami: str, **facts: str) -> str:
    """One entry of `tokens:`; facts are YAML values of the `inventory` object (recent and in use by default)."""
    values = {
        "owner": "jdoe-ml",
        "prefix": "hf_",
        "last4": token_id[-4:],
        "created_at": '"2026-10-01T00:00:00Z"',
        "last_used_at": '"2026-11-20T00:00:00Z"',
        **facts,
    }
    lines = [f"  - whoami: {whoami}", "    inventory:", f'      id: "{token_id}"', f"      name: {name}"]
    lines += [f"      {key}: {value}" for key, value in values.items()]
    return "\n".join(lines) + "\n"


READ_MODEL = fine("[{entity: {type: model, name: acme-ml/bert}, permissions: [repo.content.read]}]")
WRITE_MODEL = fine("[{entity: {type: model, name: acme-ml/bert}, permissions: [repo.content.read, repo.write]}]")


@pytest.fixture()
def audit_hf(audit_json, tmp_path):
    """Write the inventory text, audit it, return the report (asserting the run itself worked)."""

    def run(text: str, name: str = "inventory.yaml") -> dict:
        path = write_yaml(tmp_path / name, text)
        code, report, stderr = audit_json(path, extra=("--fail-on", "never"))
        assert code == 0, stderr
        return report

    return run


def findings(report: dict, rule: str, token_id: str | None = None) -> list[dict]:
    return [
        f for f in report["findings"] if f["rule_id"] == rule and (token_id is None or f["subject"]["id"] == token_id)
    ]


def rules_of(report: dict, subject_id: str) -> set[str]:
    """The rules of the Hugging Face table that fired on one subject (other providers' rules may add more)."""
    return {f["rule_id"] for f in report["findings"] if f["subject"]["id"] == subject_id} & HF_RULES


def one(report: dict, rule: str, token_id: str | None = None) -> dict:
    found = findings(report, rule, token_id)
    assert len(found) == 1, (rule, token_id, [f["message"] for f in report["findings"]])
    return found[0]


def test_legacy_token_write_high_read_medium_and_replacements(audit_hf):
    report = audit_hf(
        HEADER
        + dedent("""\
        account: {name: jdoe-ml, orgs: [{name: acme-ml, roleInOrg: write}]}
        tokens:
        """)
        + token(
            "0000000000000000000000a1",
            "old-write",
            "{auth: {accessToken: {role: write}}}",
            observed_usage="[{entity: {type: model, name: jdoe-ml/llama-ft}, actions: [read, write]}, "
            "{entity: {type: dataset, name: acme-ml/eval}, actions: [read]}]",
            stored_in="[{kind: github_actions_secret, location: jdoe-ml/llama-ft-train, key: HF_TOKEN}]",
        )
        + token("0000000000000000000000a2", "old-read", "{auth: {accessToken: {role: read}}}")
        + token("0000000000000000000000a3", "god-mode", "{accessToken: {role: god}}")
        + token("0000000000000000000000a4", "scoped", READ_MODEL)
    )
    write = one(report, "legacy-token", "0000000000000000000000a1")
    assert write["severity"] == "high"
    assert write["subject"]["key"] == "huggingface:user_access_token:0000000000000000000000a1"
    assert write["subject"]["masked"] == "hf_…00a1"
    assert '"old-write"' in write["message"] and "write access" in write["message"]
    assert write["nhi"] == ["NHI4", "NHI5"]
    rec = write["recommendation"]
    assert rec["action"] == "replace"
    assert rec["replacement"]["derived_from"] == "observed_usage"
    assert rec["replacement"]["scoped"] == [
        {"entity": {"type": "dataset", "name": "acme-ml/eval"}, "permissions": ["repo.content.read"]},
        {"entity": {"type": "model", "name": "jdoe-ml/llama-ft"}, "permissions": ["repo.content.read", "repo.write"]},
    ]
    assert rec["replacement"]["canReadGatedRepos"] is False and rec["replacement"]["global"] == []
    assert any("Trusted Publishers" in step for step in rec["steps"])
    read = one(report, "legacy-token", "0000000000000000000000a2")
    assert read["severity"] == "medium"
    assert read["recommendation"]["replacement"]["needs_owner_input"] is True
    assert "old-read" in read["recommendation"]["replacement"]["question"]
    assert not any("Trusted Publishers" in step for step in read["recommendation"]["steps"])
    assert one(report, "legacy-token", "0000000000000000000000a3")["severity"] == "high"  # god is write
    assert rules_of(report, "0000000000000000000000a4") == set()


def test_legacy_read_token_used_for_writes_is_replaced_read_only(audit_hf):
    """Never recommend more than the token has today."""
    report = audit_hf(
        HEADER
        + "tokens:\n"
        + token(
            "0000000000000000000000a5",
            "notebook",
            "{auth: {accessToken: {role: read}}}",
            observed_usage="[{entity: {type: model, name: jdoe-ml/bert}, actions: [write, inference]}]",
        )
    )
    replacement = one(report, "legacy-token")["recommendation"]["replacement"]
    assert replacement["scoped"] == [
        {"entity": {"type": "model", "name": "jdoe-ml/bert"}, "permissions": ["repo.content.read"]}
    ]
    assert replacement["global"] == ["inference.serverless.write"]  # the Hub grants it per user, never on a model


def test_org_token_by_kind_or_prefix_is_critical(audit_hf):
    report = audit_hf(
        HEADER
        + "tokens:\n"
        + token(
            "0000000000000000000000b1",
            "gateway",
            "null",
            owner="acme-ml",
            kind="org_api_token",
            prefix="api_org_",
            observed_usage="[{entity: {type: model, name: acme-ml/bert}, actions: [inference]}]",
        )
        + token("0000000000000000000000b2", "legacy-org", "null", owner="acme-ml", prefix="api_org_")
        + token("0000000000000000000000b3", "user-token", READ_MODEL)
    )
    by_kind = one(report, "org-token", "0000000000000000000000b1")
    assert by_kind["severity"] == "critical"
    assert by_kind["nhi"] == ["NHI5", "NHI9"]
    assert "acme-ml" in by_kind["message"]
    # Inference Providers calls are granted per user or org, never on a model
    assert by_kind["recommendation"]["replacement"]["scoped"] == []
    assert by_kind["recommendation"]["replacement"]["global"] == ["inference.serverless.write"]
    assert "a kind huggingface deprecated" in by_kind["message"]
    assert by_kind["recommendation"]["steps"][-1] == (
        "Revoke the deprecated organization API token api_org_…00b1 in acme-ml's organization settings "
        "(https://huggingface.co/organizations/acme-ml/settings/tokens) once nothing uses it"
    )
    prefix_only = one(report, "org-token", "0000000000000000000000b2")
    assert prefix_only["subject"]["key"] == "huggingface:org_api_token:0000000000000000000000b2"
    assert prefix_only["recommendation"]["replacement"]["needs_owner_input"] is True
    assert rules_of(report, "0000000000000000000000b3") == set()


def test_namespace_wide_write(audit_hf):
    report = audit_hf(
        HEADER
        + "tokens:\n"
        + token(
            "0000000000000000000000c1",
            "org-writer",
            fine("[{entity: {type: org, name: acme-ml}, permissions: [repo.content.read, repo.write]}]"),
            stored_in="[{kind: hf_space_secret, location: acme-ml/demo, key: HF_TOKEN}]",
        )
        + token(
            "0000000000000000000000c2",
            "user-reader",
            fine("[{entity: {type: user, name: jdoe-ml}, permissions: [repo.content.read]}]"),
        )
        + token("0000000000000000000000c3", "repo-writer", WRITE_MODEL)
    )
    wide = one(report, "namespace-wide-write", "0000000000000000000000c1")
    assert wide["severity"] == "high"
    assert "every repository of org acme-ml" in wide["message"]
    replacement = wide["recommendation"]["replacement"]
    # no usage: the Space needs the repositories it loads, not read access on itself
    assert replacement["derived_from"] == "storage" and replacement["needs_owner_input"]
    assert replacement["scoped"] == []
    assert replacement["question"].startswith('token "org-writer" runs in the Space acme-ml/demo: which models')
    assert not findings(report, "namespace-wide-write", "0000000000000000000000c2")
    assert not findings(report, "namespace-wide-write", "0000000000000000000000c3")


def test_admin_permission(audit_hf):
    report = audit_hf(
        HEADER
        + "tokens:\n"
        + token(
            "0000000000000000000000d1",
            "sso-sync",
            fine(
                "[{entity: {type: org, name: acme-ml}, permissions: [org.read, org.members.write]}, "
                "{entity: {type: model, name: acme-ml/bert}, permissions: [repo.content.read]}]"
            ),
            observed_usage="[{entity: {type: model, name: acme-ml/bert}, actions: [read]}]",
        )
        + token(
            "0000000000000000000000d2",
            "net-admin",
            fine(
                "[{entity: {type: org, name: acme-ml}, permissions: [org.networkSecurity.write, resourceGroup.write]}]"
            ),
        )
        + token(
            "0000000000000000000000d3",
            "org-reader",
            fine("[{entity: {type: org, name: acme-ml}, permissions: [org.read, org.members.read]}]"),
        )
    )
    sso = one(report, "admin-permission", "0000000000000000000000d1")
    assert sso["severity"] == "critical"
    assert "org.members.write on org acme-ml" in sso["message"]
    assert sso["evidence"]["admin_permissions"] == ["org.members.write"]
    assert sso["recommendation"]["replacement"]["scoped"] == [
        {"entity": {"type": "model", "name": "acme-ml/bert"}, "permissions": ["repo.content.read"]}
    ]
    net = one(report, "admin-permission", "0000000000000000000000d2")
    assert net["evidence"]["admin_permissions"] == ["org.networkSecurity.write", "resourceGroup.write"]
    assert net["recommendation"]["replacement"]["needs_owner_input"] is True
    assert not findings(report, "admin-permission", "0000000000000000000000d3")


def test_sensitive_permission(audit_hf):
    report = audit_hf(
        HEADER
        + "tokens:\n"
        + token(
            "0000000000000000000000e1",
            "autoscaler",
            fine(
                "[{entity: {type: user, name: jdoe-ml}, permissions: [inference.endpoints.write, "
                "user.billing.read]}, {entity: {type: model, name: acme-ml/bert}, "
                "permissions: [repo.content.read]}]"
            ),
        )
        + token(
            "0000000000000000000000e2",
            "jobs",
            fine("[{entity: {type: user, name: jdoe-ml}, permissions: [job.write, user.webhooks.write]}]"),
        )
        + token(
            "0000000000000000000000e3",
            "inference-only",
            fine(
                "[{entity: {type: model, name: acme-ml/bert}, permissions: [inference.serverless.write]}]",
                global_="[discussion.write]",
            ),
        )
    )
    spend = one(report, "sensitive-permission", "0000000000000000000000e1")
    assert spend["severity"] == "medium"
    assert "inference.endpoints.write, user.billing.read" in spend["message"]
    assert spend["recommendation"]["action"] == "narrow"
    assert spend["recommendation"]["replacement"]["grants"] == [
        {"resource": {"type": "model", "name": "acme-ml/bert"}, "permissions": ["repo.content.read"]}
    ]
    jobs = one(report, "sensitive-permission", "0000000000000000000000e2")
    assert jobs["evidence"]["sensitive_permissions"] == ["job.write", "user.webhooks.write"]
    # Inference Providers calls are billed: a spend permission, not read access
    inference = one(report, "sensitive-permission", "0000000000000000000000e3")
    assert inference["evidence"]["sensitive_permissions"] == ["inference.serverless.write"]


def test_exposed_in_public_space_severity_by_write_and_privacy(audit_hf):
    report = audit_hf(
        HEADER
        + "tokens:\n"
        + token(
            "0000000000000000000000f1",
            "writer",
            WRITE_MODEL,
            stored_in=(
                "[{kind: hf_space_secret, location: acme-ml/demo, key: HF_TOKEN}, "
                "{kind: hf_space_secret, location: acme-ml/demo-2, key: HF_TOKEN}]"
            ),
        )
        + token(
            "0000000000000000000000f2",
            "reader",
            READ_MODEL,
            stored_in="[{kind: hf_space_secret, location: acme-ml/demo, key: HF_TOKEN}]",
        )
        + token(
            "0000000000000000000000f3",
            "private",
            WRITE_MODEL,
            stored_in="[{kind: hf_space_secret, location: acme-ml/internal, key: HF_TOKEN}]",
        )
        + token(
            "0000000000000000000000f4",
            "unknown-space",
            WRITE_MODEL,
            stored_in="[{kind: hf_space_secret, location: acme-ml/not-exported, key: HF_TOKEN}]",
        )
        + dedent("""\
                          spaces:
                            - info: {id: acme-ml/demo, private: false}
                              secrets: {HF_TOKEN: {description: null, updatedAt: "2026-10-01T00:00:00Z"}}
                            - info: {id: acme-ml/demo-2, private: false}
                            - info: {id: acme-ml/internal, private: true}
                          """)
    )
    writer = findings(report, "exposed-in-public-space", "0000000000000000000000f1")
    assert {f["instance"] for f in writer} == {"hf_space_secret:acme-ml/demo", "hf_space_secret:acme-ml/demo-2"}
    assert {f["severity"] for f in writer} == {"critical"}
    assert len({f["fingerprint"] for f in writer}) == 2
    reader = one(report, "exposed-in-public-space", "0000000000000000000000f2")
    assert reader["severity"] == "high"
    assert "public Space acme-ml/demo" in reader["message"]
    assert not findings(report, "exposed-in-public-space", "0000000000000000000000f3")
    assert not findings(report, "exposed-in-public-space", "0000000000000000000000f4")  # privacy unknown


def test_token_in_variable_for_stored_token_and_token_like_value(audit_hf):
    report = audit_hf(
        HEADER
        + "tokens:\n"
        + token(
            "0000000000000000000000g1",
            "in-variable",
            READ_MODEL,
            stored_in="[{kind: hf_space_variable, location: acme-ml/board, key: HF_READ}]",
        )
        + token(
            "0000000000000000000000g2",
            "in-secret",
            READ_MODEL,
            stored_in="[{kind: hf_space_secret, location: acme-ml/board, key: HF_TOKEN}]",
        )
        + dedent(f"""\
                          spaces:
                            - info: {{id: acme-ml/board, private: true}}
                              variables:
                                MODEL_ID: {{value: acme-ml/bert, description: null, updatedAt: null}}
                                API_KEY: {{value: {PLANTED}, description: null, updatedAt: null}}
                          """)
    )
    stored = one(report, "token-in-variable", "0000000000000000000000g1")
    assert stored["severity"] == "critical"
    assert stored["subject"]["type"] == "token"
    assert "variable HF_READ of acme-ml/board" in stored["message"]
    assert stored["recommendation"]["action"] == "rotate"
    value = one(report, "token-in-variable", "acme-ml/board")
    assert value["subject"]["type"] == "location"
    assert value["subject"]["key"] == "location:huggingface:hf_space:acme-ml/board"
    assert value["instance"] == "API_KEY"
    assert value["source"]["pointer"] == "/spaces/0"
    assert not findings(report, "token-in-variable", "0000000000000000000000g2")
    assert PLANTED not in json.dumps(report)


@pytest.mark.parametrize(
    ("rule", "fires", "quiet", "needle"),
    [
        (
            "stale-token",
            {"last_used_at": '"2026-05-01T00:00:00Z"'},
            {"last_used_at": '"2026-11-01T00:00:00Z"'},
            "last used 208 days ago",
        ),
        (
            "never-used-token",
            {"created_at": '"2026-09-01T00:00:00Z"', "last_used_at": "null"},
            {"created_at": '"2026-11-10T00:00:00Z"', "last_used_at": "null"},
            "created 85 days ago",
        ),
        (
            "unrotated-token",
            {"created_at": '"2025-06-01T00:00:00Z"'},
            {"created_at": '"2026-01-01T00:00:00Z"'},
            "created 542 days ago",
        ),
    ],
)
def test_usage_rules(audit_hf, rule, fires, quiet, needle):
    report = audit_hf(
        HEADER
        + "tokens:\n"
        + token("0000000000000000000000h1", "fires", READ_MODEL, **fires)
        + token("0000000000000000000000h2", "quiet", READ_MODEL, **quiet)
    )
    finding = one(report, rule, "0000000000000000000000h1")
    assert finding["severity"] == "medium"
    assert needle in finding["message"]
    assert finding["recommendation"]["action"] in {"revoke", "rotate"}
    assert rules_of(report, "0000000000000000000000h2") == set()


def test_expired_token_is_low_and_the_only_finding_of_its_token(audit_hf):
    report = audit_hf(
        HEADER
        + "tokens:\n"
        + token(
            "0000000000000000000000i1",
            "expired-old",
            "null",
            kind="oauth_token_exchange",
            prefix="hf_oauth_",
            created_at='"2024-01-01T00:00:00Z"',
            last_used_at="null",
            expires_at='"2026-10-01T00:00:00Z"',
        )
        + token(
            "0000000000000000000000i2",
            "expired-stale",
            READ_MODEL,
            last_used_at='"2025-01-01T00:00:00Z"',
            expires_at='"2026-11-24T00:00:00Z"',
        )
        + token("0000000000000000000000i3", "valid", READ_MODEL, expires_at='"2026-12-15T00:00:00Z"')
        + token(
            "0000000000000000000000i4",
            "expired-legacy-public",
            "{auth: {accessToken: {role: write}}}",
            expires_at='"2026-11-01T00:00:00Z"',
            stored_in=(
                "[{kind: hf_space_secret, location: acme-ml/demo, key: HF_TOKEN}, "
                "{kind: hf_space_variable, location: acme-ml/demo, key: HF_TOKEN_COPY}]"
            ),
        )
        + "spaces:\n  - info: {id: acme-ml/demo, private: false}\n"
    )
    expired = one(report, "expired-token", "0000000000000000000000i1")
    assert expired["severity"] == "low"
    assert "expired 55 days ago" in expired["message"]
    assert rules_of(report, "0000000000000000000000i1") == {"expired-token"}
    assert rules_of(report, "0000000000000000000000i2") == {"expired-token"}
    assert rules_of(report, "0000000000000000000000i3") == set()
    # A dead token is only clean-up, however it was scoped or stored.
    assert rules_of(report, "0000000000000000000000i4") == {"expired-token"}


def test_token_reuse(audit_hf):
    report = audit_hf(
        HEADER
        + "tokens:\n"
        + token(
            "0000000000000000000000j1",
            "everywhere",
            READ_MODEL,
            stored_in=(
                "[{kind: github_actions_secret, location: acme-ml/train, key: HF_TOKEN}, "
                "{kind: k8s_secret, location: prod/gateway, key: HF_TOKEN}, "
                "{kind: notebook_env, location: jdoe-laptop, key: HF_TOKEN}]"
            ),
        )
        + token(
            "0000000000000000000000j2",
            "one-place",
            READ_MODEL,
            stored_in="[{kind: github_actions_secret, location: acme-ml/train, key: HF_TOKEN}]",
        )
    )
    reuse = one(report, "token-reuse", "0000000000000000000000j1")
    assert reuse["severity"] == "medium"
    assert "stored in 3 places" in reuse["message"] and "k8s_secret prod/gateway" in reuse["message"]
    assert reuse["nhi"] == ["NHI9"]
    assert rules_of(report, "0000000000000000000000j2") == set()


def test_owner_not_member(audit_hf):
    text = (
        HEADER
        + dedent("""\
        members:
          - {org: acme-ml, user: jdoe-ml, role: admin}
          - {org: acme-ml, user: bwong, role: write}
        tokens:
        """)
        + (
            token(
                "0000000000000000000000k1",
                "intern-eval",
                READ_MODEL,
                owner="former-intern",
                org_approval_status="{acme-ml: APPROVED}",
            )
            + token(
                "0000000000000000000000k2",
                "member-token",
                READ_MODEL,
                owner="bwong",
                org_approval_status="{acme-ml: APPROVED}",
            )
            + token(
                "0000000000000000000000k3",
                "elsewhere",
                fine("[{entity: {type: model, name: someone/else}, permissions: [repo.content.read]}]"),
                owner="outsider",
            )
        )
    )
    report = audit_hf(text)
    gone = one(report, "owner-not-member", "0000000000000000000000k1")
    assert gone["severity"] == "high"
    assert gone["instance"] == "acme-ml"
    assert "former-intern, who is not a member of acme-ml" in gone["message"]
    assert gone["recommendation"]["action"] == "revoke"
    assert not findings(report, "owner-not-member", "0000000000000000000000k2")
    assert not findings(report, "owner-not-member", "0000000000000000000000k3")
    # Same tokens, no member list exported: membership unknown, nothing to say.
    no_members = text.split("members:")[0] + "tokens:" + text.split("tokens:", 1)[1]
    assert not findings(audit_hf(no_members, "no-members.yaml"), "owner-not-member")


def test_org_allows_legacy_tokens(audit_hf):
    report = audit_hf(
        HEADER
        + dedent("""\
        org_policies:
          - {org: acme-ml, token_policy: allow_all}
          - {org: acme-research, token_policy: require_approval}
          - {org: acme-labs, token_policy: fine_grained_only}
        tokens: []
        """)
    )
    finding = one(report, "org-allows-legacy-tokens")
    assert finding["severity"] == "medium"
    assert finding["subject"]["type"] == "org"
    assert finding["subject"]["key"] == "org:huggingface:acme-ml"
    assert finding["source"]["pointer"] == "/org_policies/0"
    assert finding["recommendation"]["action"] == "set-policy"
    assert any("acme-ml/settings/tokens-management" in step for step in finding["recommendation"]["steps"])


def test_raw_secret_in_inventory(audit_hf):
    report = audit_hf(
        HEADER
        + "tokens:\n"
        + token("0000000000000000000000m1", "pasted", READ_MODEL, note=f'"old value was {PLANTED}"')
        + token("0000000000000000000000m2", "clean", READ_MODEL, note='"prefix hf_, last4 00m2"')
    )
    secret = one(report, "raw-secret-in-inventory")
    assert secret["severity"] == "critical"
    assert secret["subject"]["type"] == "secret"
    assert secret["subject"]["key"].startswith("secret:")
    assert secret["subject"]["masked"] == "hf_…0000"
    assert secret["instance"].endswith("inventory.yaml#/tokens/0/inventory/note")
    assert secret["source"]["pointer"] == "/tokens/0/inventory/note"
    assert secret["recommendation"]["action"] == "purge"
    assert PLANTED not in json.dumps(report)
    clean = audit_hf(HEADER + "tokens:\n" + token("0000000000000000000000m2", "clean", READ_MODEL), "clean.yaml")
    assert not findings(clean, "raw-secret-in-inventory")


@pytest.fixture(scope="module")
def huggingface_fixtures_report(opa_server, tmp_path_factory) -> dict:
    """The Hugging Face fixtures audited once for the two tests below, which only read the report."""
    folder = tmp_path_factory.mktemp("huggingface-fixtures")
    code, report, stderr = audit_to_json(opa_server, folder, FIXTURES / "huggingface", extra=("--fail-on", "never"))
    assert code == 0, stderr
    return report


def test_well_scoped_fixture_tokens_produce_no_finding(huggingface_fixtures_report):
    report = huggingface_fixtures_report
    flagged = {f["subject"]["id"] for f in report["findings"]}
    for well_scoped in ("64f0c0ffee0000000000f001", "65a1c0ffee0000000000a001", "65a1c0ffee0000000000a002"):
        assert well_scoped not in flagged


def test_huggingface_fixtures_trigger_every_rule(huggingface_fixtures_report):
    report = huggingface_fixtures_report
    assert {f["rule_id"] for f in report["findings"]} >= HF_RULES
    assert HF_RULES <= set(report["policy"]["rules"])
    for finding in report["findings"]:
        assert finding["recommendation"]["action"] in {"replace", "narrow", "revoke", "rotate", "purge", "set-policy"}
        assert finding["recommendation"]["summary"] and finding["recommendation"]["steps"]
    expired = [f for f in report["findings"] if f["rule_id"] == "expired-token"]
    assert expired and all(not (rules_of(report, f["subject"]["id"]) & USAGE_RULES) for f in expired)


def test_the_same_rules_judge_tokens_of_the_neutral_model(audit_hf):
    """The checks read the normalized model, so a token-inventory/v1 file of any system gets the same verdicts."""

    def neutral(token_id: str, **fields: str) -> str:
        values = {
            "provider": "pypi",
            "owner": "jdoe",
            "created_at": '"2026-10-01T00:00:00Z"',
            "last_used_at": '"2026-11-20T00:00:00Z"',
            "orgs": "[acme]",
            "grants": "[{resource: {type: project, name: ml-utils}, permissions: [upload], access: write}]",
            **fields,
        }
        return f"  - id: {token_id}\n" + "".join(f"    {k}: {v}\n" for k, v in values.items())

    report = audit_hf(
        dedent("""\
        format: token-inventory/v1
        collected_at: "2026-11-20T09:00:00Z"
        orgs:
          - {provider: pypi, name: acme, token_policy: allow_all, members: [jdoe, release-bot]}
        tokens:
        """)
        + neutral("n-good", owner="release-bot")
        + neutral("n-stale", last_used_at='"2026-05-01T00:00:00Z"')
        + neutral("n-never", created_at='"2026-09-01T00:00:00Z"', last_used_at="null")
        + neutral("n-old", created_at='"2025-06-01T00:00:00Z"')
        + neutral(
            "n-expired",
            created_at='"2024-01-01T00:00:00Z"',
            last_used_at="null",
            legacy="true",
            expires_at='"2026-10-01T00:00:00Z"',
        )
        + neutral("n-legacy", legacy="true")
        + neutral("n-contractor", owner="contractor-x")
        + neutral("n-admin", grants="[{resource: {type: org, name: acme}, permissions: [org.owner], access: admin}]")
        + neutral(
            "n-reuse", stored_in="[{kind: ci_variable, location: acme/ci}, {kind: k8s_secret, location: prod/x}]"
        ),
        "neutral.yaml",
    )
    assert rules_of(report, "n-good") == set()
    assert rules_of(report, "n-stale") == {"stale-token"}
    assert rules_of(report, "n-never") == {"never-used-token"}
    assert rules_of(report, "n-old") == {"unrotated-token"}
    assert rules_of(report, "n-expired") == {"expired-token"}
    assert rules_of(report, "n-legacy") == {"legacy-token"}
    assert rules_of(report, "n-contractor") == {"owner-not-member"}
    assert rules_of(report, "n-admin") == {"admin-permission"}
    assert rules_of(report, "n-reuse") == {"token-reuse"}
    # PyPI has no organization token policy: an allow_all there is nothing the catalogue knows to judge
    assert findings(report, "org-allows-legacy-tokens") == []
    legacy = one(report, "legacy-token", "n-legacy")
    assert legacy["recommendation"]["replacement"]["needs_owner_input"] is True
    # PyPI tokens cannot expire: the advice is a project-scoped token or Trusted Publishing, never "expiring"
    assert "https://docs.pypi.org/trusted-publishers/" in legacy["recommendation"]["steps"][2]
    assert not any("expiring" in step for step in legacy["recommendation"]["steps"])


def test_org_api_token_roles_admin_and_contributor(audit_hf):
    report = audit_hf(
        HEADER
        + "tokens:\n"
        + token(
            "0000000000000000000000r1",
            "org-admin",
            "{auth: {accessToken: {role: admin}}}",
            owner="acme-ml",
            kind="org_api_token",
            prefix="api_org_",
        )
        + token(
            "0000000000000000000000r2",
            "org-contrib",
            "{auth: {accessToken: {role: contributor}}}",
            owner="acme-ml",
            kind="org_api_token",
            prefix="api_org_",
        )
    )
    admin = one(report, "admin-permission", "0000000000000000000000r1")
    assert admin["evidence"]["admin_permissions"] == ["role.admin"]
    assert one(report, "legacy-token", "0000000000000000000000r2")["evidence"]["access"] == "write"
    assert findings(report, "admin-permission", "0000000000000000000000r2") == []


def test_inference_permission_is_sensitive_and_never_read_access(audit_hf):
    inference = fine("[{entity: {type: user, name: jdoe-ml}, permissions: [inference.serverless.write]}]")
    report = audit_hf(
        HEADER
        + "tokens:\n"
        + token(
            "0000000000000000000000s1",
            "chat-infer",
            inference,
            stored_in="[{kind: hf_space_secret, location: jdoe-ml/chat, key: HF_TOKEN}]",
        )
        + "spaces:\n  - info: {id: jdoe-ml/chat, private: false}\n"
    )
    sensitive = one(report, "sensitive-permission", "0000000000000000000000s1")
    assert sensitive["evidence"]["sensitive_permissions"] == ["inference.serverless.write"]
    exposed = one(report, "exposed-in-public-space", "0000000000000000000000s1")
    assert "(write access)" in exposed["message"] and "read access" not in exposed["message"]


def test_service_account_token_is_replaced_by_a_service_account_token(audit_hf):
    report = audit_hf(
        HEADER
        + dedent("""\
        members:
          - {org: acme-ml, user: jdoe-ml, role: admin}
        tokens:
        """)
        + token(
            "0000000000000000000000t1",
            "sa-writer",
            fine("[{entity: {type: org, name: acme-ml}, permissions: [repo.content.read, repo.write]}]"),
            owner="acme-ml-sa",
            kind="service_account_token",
            org_approval_status="{acme-ml: APPROVED}",
        )
    )
    assert rules_of(report, "0000000000000000000000t1") == {"namespace-wide-write"}
    finding = one(report, "namespace-wide-write", "0000000000000000000000t1")
    assert finding["recommendation"]["replacement"]["type"] == "service_account_token"
    assert finding["recommendation"]["steps"][0].startswith("Ask the owner which repositories the token needs")
    assert finding["recommendation"]["steps"][-1] == (
        "Revoke hf_…00t1 in the service account's settings "
        "(https://huggingface.co/organizations/acme-ml/settings/service-accounts) once nothing uses it"
    )


def test_well_scoped_service_account_fixture_has_no_finding(audit_hf):
    report = audit_hf((FIXTURES / "huggingface" / "service-account.yaml").read_text())
    assert report["findings"] == [] and report["summary"]["audited"] == 1
