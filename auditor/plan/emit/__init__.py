"""Remediation as code: for each plan step that has one, the provider's own request (method, URL, body) or,
where the provider has no API for it, the exact settings page with every field spelled out. Nothing is sent.

Requests name the credential that must authorize them by an environment variable (`auth.variable`), never a
value. One emitter per provider; sources of every endpoint and field are cited in each module and in
docs/plans.md."""

from __future__ import annotations

from auditor.plan.catalogue import Catalogue


def step_of(plan: dict, kind: str, credential: str | None = None) -> int | None:
    for step in plan["steps"]:
        if step["kind"] == kind and (credential is None or step.get("credential") == credential):
            return step["order"]
    return None


def requests_for(plan: dict, token: dict, catalogue: Catalogue, now: str) -> list[dict]:
    from auditor.plan.emit import github, gitlab, huggingface, neutral

    emitter = {"github": github, "gitlab": gitlab, "huggingface": huggingface}.get(plan["token"]["provider"], neutral)
    return emitter.requests(plan, token, catalogue, now)
