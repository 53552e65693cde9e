"""Providers without an emitter (npm, PyPI, …): no request is invented; the plan's steps say what to do."""

from __future__ import annotations


def requests(plan: dict, token: dict, catalogue, now: str) -> list[dict]:
    return []
