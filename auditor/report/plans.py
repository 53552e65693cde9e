"""Plans in the human formats: "What to do first" lists tokens with their plan (Markdown, HTML), and the table
format gets a PLANS section. Kept apart from the formatters so each only calls in."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from auditor.findings.finding import severity_rank
from auditor.report.markdown_blocks import fit
from auditor.report.model import Finding, Plan, ReportData


def plans_by_id(data: ReportData) -> dict[str, Plan]:
    return {p["id"]: p for p in data.get("plans") or []}


def urgent_tokens(data: ReportData, urgent: Callable[[Finding], bool]) -> list[tuple[Plan, list[Finding]]]:
    """(plan, its urgent findings) for each token with an urgent finding, worst and busiest first."""
    plans = plans_by_id(data)
    grouped: dict[str, list[Finding]] = defaultdict(list)
    for finding in data["findings"]:
        plan_id = finding.get("plan_id")
        if plan_id is not None and plan_id in plans and urgent(finding):
            grouped[plan_id].append(finding)
    order = sorted(
        grouped,
        key=lambda i: (
            min(severity_rank(f["severity"]) for f in grouped[i]),
            -len(grouped[i]),
            plans[i]["token"]["key"],
        ),
    )
    return [(plans[i], grouped[i]) for i in order]


def fails_gate(finding: Finding) -> bool:
    return finding["fails_gate"]


def markdown_first(data: ReportData, budget: int) -> list[str]:
    """The "What to do first" section of the Markdown comment: tokens with failing findings and their plan."""
    from auditor.plan.render import plan_markdown

    rows = urgent_tokens(data, fails_gate)
    if not rows:
        return []
    blocks = ["\n".join(plan_markdown(plan, "####", requests=False)) + "\n" for plan, _ in rows]
    shown, _ = fit(blocks, budget, "_… and {n} more token(s) with a plan: `token-auditor plan REPORT.json`._\n")
    return [
        f"### What to do first: {len(rows)} token(s), one plan each",
        "",
        "Each plan fixes all of the token's findings at once; `token-auditor plan REPORT.json -f sh` gives the "
        "providers' own requests.",
        "",
        *shown,
    ]


def table_rows(data: ReportData) -> list[list[str]]:
    rows = []
    for plan in sorted(data.get("plans") or [], key=lambda p: (severity_rank(p["severity"]), p["token"]["key"])):
        token = plan["token"]
        name = token.get("name") or token.get("id") or ""
        steps = "\n".join(f"{s['order']}. {s['text']}" for s in plan["steps"])
        decisions = "\n".join(
            f"{d['decision']} {d['permission']}" + (f" via {d['via']}" if d.get("via") else "")
            for d in plan["decisions"]
        )
        rows.append(
            [
                plan["severity"],
                f"{token.get('provider')}\n{name}\n{token.get('masked') or ''}".strip(),
                f"{plan['action']}: {plan['summary']}" + (f"\n{decisions}" if decisions else ""),
                steps,
            ]
        )
    return rows
