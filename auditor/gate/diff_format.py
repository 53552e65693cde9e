"""The diff document's formats: table, json, markdown (PR comment), sarif (code scanning).

Each is a Format (auditor/report/formats.py) of the diff document; DIFF_FORMATS is their registry.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from tabulate import tabulate

from auditor.report import markdown_blocks as md
from auditor.report import sarif
from auditor.report.formats import Format
from auditor.report.text import cap_cell, terminal_safe
from auditor.report.wording import subject_label

DiffData = dict[str, Any]  # the diff document (schema: `token-auditor schema diff`)
BROADENING_RULE = "access-broadened"
MARK = {"broader": "▲ broader", "narrower": "▼ narrower", "neutral": "· neutral"}


def _token(entry: dict) -> str:
    return subject_label({"name": entry.get("name") or entry.get("id") or "", "masked": entry.get("masked")}, cap_cell)


def render_json(data: dict) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def render_table(data: dict) -> str:
    s, gate = data["summary"], data["gate"]
    lines = [
        terminal_safe(f"token-auditor diff · now {data['now']} · {'PASS' if gate['passed'] else 'FAIL'}"),
        f"tokens: {s['added']} added, {s['removed']} removed, {s['changed']} changed "
        f"({s['broader']} broader, {s['narrower']} narrower, {s['neutral']} neutral)"
        + (
            f" · findings: {s['findings_introduced']} introduced, {s['findings_resolved']} resolved"
            if s["findings_compared"]
            else " · findings not compared"
        ),
        "",
    ]
    if data["tokens"]:
        rows = [
            [
                t["status"],
                MARK[t["classification"]],
                cap_cell(t["provider"]),
                _token(t),
                cap_cell(t.get("owner")),
                "\n".join(f"{MARK[c['classification']][0]} {cap_cell(c['summary'], 400)}" for c in t["changes"]),
            ]
            for t in data["tokens"]
        ]
        lines.append(
            tabulate(
                rows,
                headers=["status", "access", "provider", "token", "owner", "changes"],
                tablefmt="simple_grid",
                maxcolwidths=[8, 10, 11, 28, 14, 70],
            )
        )
        lines.append("")
    else:
        lines += ["No token changed.", ""]
    for title, key in (("INTRODUCED FINDINGS", "introduced"), ("RESOLVED FINDINGS", "resolved")):
        items = data["findings"][key]
        if items:
            lines.append(f"{title} ({len(items)})")
            rows = [
                [
                    f["severity"],
                    f["rule_id"],
                    cap_cell((f.get("subject") or {}).get("name") or (f.get("subject") or {}).get("id") or ""),
                    cap_cell(f["message"], 400) + (" [waived]" if f.get("waived") else ""),
                ]
                for f in items
            ]
            lines.append(
                tabulate(
                    rows,
                    headers=["severity", "rule", "token", "finding"],
                    tablefmt="simple",
                    maxcolwidths=[9, 26, 28, 80],
                )
            )
            lines.append("")
    return "\n".join(lines)


def _change_rows(entries: list[dict]) -> list[str]:
    rows = []
    for t in entries:
        changes = "<br>".join(md.esc(c["summary"]) for c in t["changes"])
        rows.append(
            f"| {t['status']} | {MARK[t['classification']]} | {md.esc(t['provider'])} | "
            f"{subject_label({'name': t.get('name') or t.get('id'), 'masked': t.get('masked')}, md.esc)} | "
            f"{md.esc(t.get('owner'))} | {changes} |"
        )
    return rows


CHANGE_TABLE = ["| status | access | provider | token | owner | changes |", "|---|---|---|---|---|---|"]


def render_markdown(data: dict, limit: int = md.LIMIT) -> str:
    s, gate = data["summary"], data["gate"]
    fail_on = gate["fail_on"]
    introduced = data["findings"]["introduced"]
    failing = [f for f in introduced if f["fails_gate"]]
    failing_ids = {id(f) for f in failing}
    verdict = "✅ **Gate passed**" if gate["passed"] else "❌ **Gate failed**"
    reasons = []
    if failing:
        reasons.append(f"{len(failing)} new finding(s) at or above `{fail_on}`")
    if gate["fail_on_broadening"] and gate["broadening"]:
        reasons.append(f"{gate['broadening']} token(s) with broader access")
    parts = [
        "## token-auditor diff",
        "",
        f"{verdict}"
        + (f": {'; '.join(reasons)}" if reasons else "")
        + f" · {s['added']} added, {s['removed']} removed, "
        f"{s['changed']} changed token(s): **{s['broader']} broader**, {s['narrower']} narrower, {s['neutral']} neutral"
        + (
            f" · findings {s['findings_introduced']} introduced, {s['findings_resolved']} resolved"
            if s["findings_compared"]
            else ""
        ),
        "",
    ]
    footer = [f"<sub>token-auditor {md.esc(data['tool'].get('version'))} · now {md.esc(data['now'])}</sub>", ""]
    budget = limit - len("\n".join(parts + footer)) - 600
    broader = [t for t in data["tokens"] if t["classification"] == "broader"]
    rest = [t for t in data["tokens"] if t["classification"] != "broader"]
    if broader:
        rows, used = md.fit(_change_rows(broader), int(budget * 0.35), "| … | | | {n} more | | see the JSON diff |")
        parts += [f"### Broader access ({len(broader)})", "", *CHANGE_TABLE, *rows, ""]
        budget -= used
    if failing:
        blocks, used = md.fit(
            [md.finding_block(f) for f in failing],
            int(budget * 0.5),
            "_… and {n} more new finding(s) in the JSON diff._\n",
        )
        parts += [f"### New findings at or above `{fail_on}` ({len(failing)})", "", *blocks]
        budget -= used
    others = [f for f in introduced if id(f) not in failing_ids]
    if others:
        rows, used = md.fit([md.finding_row(f) for f in others], budget // 3, "| … | | {n} more | | | |")
        parts += md.details(f"Other new findings ({len(others)})", md.FINDING_TABLE + rows)
        budget -= used
    if rest:
        rows, used = md.fit(_change_rows(rest), budget // 2, "| … | | | {n} more | | see the JSON diff |")
        parts += md.details(f"Narrower and neutral changes ({len(rest)})", CHANGE_TABLE + rows)
        budget -= used
    resolved = data["findings"]["resolved"]
    if resolved:
        rows, used = md.fit([md.finding_row(f) for f in resolved], max(budget, 0), "| … | | {n} more | | | |")
        parts += md.details(f"Resolved findings ({len(resolved)})", md.FINDING_TABLE + rows)
    if not data["tokens"] and not introduced and not resolved:
        parts += ["No token or finding changed.", ""]
    text = "\n".join(parts + footer)
    return md.clip(text, limit, "JSON diff")


def _broadening_result(entry: dict, change: dict, level: str) -> dict:
    source = entry.get("source") or {}
    uri = sarif.artifact_uri(source.get("file"))
    material = "|".join([entry["key"], change["kind"], json.dumps(change.get("after"), sort_keys=True, default=str)])
    region = {"startLine": int(source.get("line") or 1)}
    return {
        "ruleId": BROADENING_RULE,
        "level": level,
        "message": {
            "text": f"{entry['provider']} token {entry.get('name') or entry.get('id')} (owner "
            f"{entry.get('owner')}): {change['summary']}."
        },
        "locations": [
            {
                "physicalLocation": {"artifactLocation": {"uri": uri}, "region": region},
                "logicalLocations": [
                    {
                        "kind": "object",
                        "name": str(entry.get("name") or entry.get("id")),
                        "fullyQualifiedName": f"{uri}#{source.get('pointer', '')}",
                    }
                ],
            }
        ],
        "partialFingerprints": {sarif.FINGERPRINT_KEY: hashlib.sha256(material.encode()).hexdigest()[:32]},
        "properties": {"change": change["kind"], "token": entry["key"], "status": entry["status"]},
    }


def render_sarif(data: dict) -> str:
    level = "error" if data["gate"]["fail_on_broadening"] else "warning"
    rule = sarif.rule_descriptor(
        {
            "id": BROADENING_RULE,
            "severity": "high" if level == "error" else "medium",
            "title": "Token access broadened by this change",
            "description": "The inventory change gives a token more reach: permissions or scopes added, repository "
            "selection widened, expiry removed or extended, a new storage location, or a new token.",
            "nhi": ["NHI5", "NHI7"],
            "recommended_action": "narrow",
        }
    )
    results = [
        _broadening_result(t, c, level)
        for t in data["tokens"]
        for c in t["changes"]
        if c["classification"] == "broader"
    ]
    log = sarif.build_log(
        data["findings"]["introduced"],
        data.get("rules") or [],
        data["head"]["inputs"],
        extra_rules=[rule],
        extra_results=results,
        properties={"now": data["now"], "gate": data["gate"], "kind": data["kind"]},
    )
    for run in log["runs"]:
        run["automationDetails"] = {"id": "token-auditor-diff/"}
        run["artifacts"] = [
            {"location": {"uri": uri}, "roles": ["analysisTarget"]}
            for uri in sorted({sarif.artifact_uri(i["path"]) for i in data["head"]["inputs"] + data["base"]["inputs"]})
        ]
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


class _DiffFormat:
    def __init__(self, name: str, extension: str, render) -> None:
        self.name = name
        self.extension = extension
        self._render = render

    def render(self, report: DiffData, /) -> str:
        return self._render(report)


DIFF_FORMATS: dict[str, Format[DiffData]] = {
    f.name: f
    for f in (
        _DiffFormat("table", "txt", render_table),
        _DiffFormat("json", "json", render_json),
        _DiffFormat("markdown", "md", render_markdown),
        _DiffFormat("sarif", "sarif", render_sarif),
    )
}
