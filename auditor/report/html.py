"""`--format html`: one self-contained page for security reviewers.

No network requests: CSS, script and SVG charts are inline, and a Content-Security-Policy that admits only those
inline blocks (by hash) makes the browser refuse anything else. Every value goes through Jinja2 autoescaping.
Large audits stay a bounded file: each section renders at most a fixed number of items and says how many more the
JSON report holds; the summary, charts and compliance tables are computed over everything.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
from collections import Counter, defaultdict
from datetime import datetime
from typing import Any

from jinja2 import ChainableUndefined, Environment, PackageLoader, Template, select_autoescape

from auditor import evidence
from auditor.findings.finding import SEVERITIES, severity_rank
from auditor.report.model import Finding, Plan, Report, ReportData, Subject, subject_identity
from auditor.report.plans import plans_by_id
from auditor.report.text import cap, terminal_safe
from auditor.report.wording import subject_name, waiver_sentence

# Inline caps: what a reviewer can act on in one page; the JSON report always holds everything.
MAX_FIRST = 200  # critical/high findings in "What to do first"
MAX_FIRST_OWNERS = 60
MAX_TOKEN_SECTIONS = 250
MAX_FINDINGS_PER_TOKEN = 40
MAX_ROWS = 500  # clean tokens, other findings, waived, baseline, skipped
MAX_OPTIONS = 300  # owners offered in the filter
HTML_VALUE_LIMIT = 2000  # characters of one value; rule descriptions and messages are far shorter

NHI_TITLES = {
    "NHI1": "Improper Offboarding",
    "NHI2": "Secret Leakage",
    "NHI3": "Vulnerable Third-Party NHI",
    "NHI4": "Insecure Authentication",
    "NHI5": "Overprivileged NHI",
    "NHI6": "Insecure Cloud Deployment Configurations",
    "NHI7": "Long-Lived Secrets",
    "NHI8": "Environment Isolation",
    "NHI9": "NHI Reuse",
    "NHI10": "Human Use of NHI",
}
UNUSED_RULES = {"stale-token", "never-used-token"}
# Replacement keys rendered in their own way; any other key is listed as key: value.
_SHOWN_KEYS = {
    "scoped",
    "global",
    "repositories",
    "permissions",
    "scopes",
    "needs_owner_input",
    "question",
    "derived_from",
}


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("auditor.report", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # A saved report may lack optional fields (older versions, hand-written): render them empty.
        undefined=ChainableUndefined,
        finalize=_capped,
    )
    env.filters["compact"] = _compact
    env.filters["sha12"] = _anchor
    return env


def _capped(value):
    """Every printed plain string is capped and shows control characters as `\\xNN` (HTML forbids them; the JSON
    report keeps the value whole); inlined static files are Markup."""
    if type(value) is str:
        value = terminal_safe(value[: HTML_VALUE_LIMIT + 1], keep_newlines=True)
        return cap(value, HTML_VALUE_LIMIT) if len(value) > HTML_VALUE_LIMIT else value
    return value


def _compact(value) -> str:
    """A short, readable rendering of any JSON value (escaped later by the template)."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
        return ", ".join(str(v) for v in value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(", ", ": "))


def _anchor(key: str) -> str:
    return "t-" + hashlib.sha256(str(key).encode()).hexdigest()[:12]


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def _days_between(earlier: str | None, later: str | None) -> int | None:
    if not earlier or not later:
        return None
    try:
        start = datetime.fromisoformat(earlier.replace("Z", "+00:00"))
        end = datetime.fromisoformat(later.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (end - start).days


def _bars(items: list[tuple[str, int, str]], total: int | None = None, percent: bool = False) -> dict:
    """An inline SVG horizontal bar chart's geometry: label, value, css class, bar width (0..260)."""
    top = total if total else max([v for _, v, _ in items] or [0])
    rows = []
    for index, (label, value, css) in enumerate(items):
        width = round(260 * value / top, 1) if top else 0
        shown = f"{value} ({round(100 * value / total)}%)" if percent and total else str(value)
        rows.append({"label": label, "value": value, "shown": shown, "css": css, "width": width, "y": index * 26})
    return {"rows": rows, "height": max(26 * len(rows), 26)}


def _token_from_subject(subject: Subject) -> dict:
    """A token entry for reports written before the `tokens` section existed: what the findings say of it."""
    return {**subject_identity(subject), "source": subject.get("source"), "partial": True}


def _worst(findings: list[Finding]) -> str:
    return min((f["severity"] for f in findings), key=severity_rank, default="info")


def _steps(findings: list[Finding]) -> list[str]:
    seen: dict[str, None] = {}
    for finding in findings:
        for step in finding["recommendation"].get("steps") or []:
            seen.setdefault(str(step), None)
    return list(seen)


def _replacement(findings: list[Finding]) -> dict | None:
    """The replacement of the most severe finding that proposes one, split into shown and other keys."""
    for finding in findings:
        recommendation = finding["recommendation"]
        replacement = recommendation.get("replacement")
        if isinstance(replacement, dict) and replacement:
            permissions = replacement.get("permissions")
            return {
                "rule_id": finding["rule_id"],
                "summary": recommendation.get("summary"),
                "needs_owner_input": bool(replacement.get("needs_owner_input")),
                "question": replacement.get("question"),
                "derived_from": replacement.get("derived_from"),
                "scoped": [s for s in replacement.get("scoped") or [] if isinstance(s, dict)],
                "global": replacement.get("global") or [],
                "repositories": replacement.get("repositories") or [],
                "permissions": _permission_rows(permissions) if isinstance(permissions, dict) else [],
                "permission_list": permissions if isinstance(permissions, list) else [],
                "scopes": replacement.get("scopes") or [],
                "other": sorted(
                    (k, v) for k, v in replacement.items() if k not in _SHOWN_KEYS and v not in (None, [], {})
                ),
            }
    return None


def _permission_rows(permissions: dict) -> list[tuple[str, str]]:
    """{name: level} or GitHub's {group: {name: level}} as (name or group, "name: level, …") rows."""
    rows = []
    for key, value in sorted(permissions.items()):
        if isinstance(value, dict):
            rows.append((key, ", ".join(f"{name}: {_compact(level)}" for name, level in sorted(value.items()))))
        else:
            rows.append((key, _compact(value)))
    return rows


def _finding_row(finding: Finding) -> dict:
    subject = finding["subject"]
    recommendation = finding["recommendation"]
    return {
        "rule_id": finding["rule_id"],
        "severity": finding["severity"],
        "title": finding["title"] or finding["rule_id"],
        "message": finding["message"],
        "action": recommendation["action"],
        "summary": recommendation.get("summary") or "",
        "fingerprint": finding["fingerprint"],
        "provider": finding.get("provider") or subject.get("provider") or "",
        "owner": subject.get("owner") or "",
        "subject": subject_name(subject),
        "subject_type": subject["type"],
        "masked": subject.get("masked") or "",
        "key": subject["key"],
        "nhi": finding["nhi"],
        "waived": finding.get("waived") is True,
        "waiver": finding.get("waiver"),
        "waiver_sentence": waiver_sentence(finding["waiver"]) if "waiver" in finding else "",
        "baseline": finding.get("baseline") is True,
        "source": finding.get("source") or {},
    }


def _first(data: ReportData, urgent: list[Finding], token_index: dict) -> tuple[list[dict], int]:
    """Owner groups of "What to do first": plan rows (a token and its plan) and finding rows, most critical first."""
    plans = plans_by_id(data)
    groups: dict[str, list[Finding]] = defaultdict(list)
    for finding in urgent:
        groups[finding["subject"].get("owner") or "(no owner)"].append(finding)
    owner_order = sorted(
        groups, key=lambda o: (-sum(f["severity"] == "critical" for f in groups[o]), -len(groups[o]), o)
    )
    first: list[dict[str, Any]] = []
    budget, shown = MAX_FIRST, 0
    for owner in owner_order[:MAX_FIRST_OWNERS]:
        if budget <= 0:
            break
        rows: list[dict[str, Any]] = []
        by_plan: dict[str, dict[str, Any]] = {}
        for finding in groups[owner]:
            plan = plans.get(finding.get("plan_id") or "")
            if plan is None:
                rows.append(_finding_row(finding))
            elif plan["id"] in by_plan:
                by_plan[plan["id"]]["findings"].append(finding)
            else:
                by_plan[plan["id"]] = {"plan": plan, "findings": [finding]}
                rows.append(by_plan[plan["id"]])
        rows = rows[:budget]
        budget -= len(rows)
        shown += sum(len(r["findings"]) if "plan" in r else 1 for r in rows)
        first.append(
            {
                "owner": owner,
                "rows": [_plan_row(r, token_index) if "plan" in r else r for r in rows],
                "total": len(groups[owner]),
                "critical": sum(f["severity"] == "critical" for f in groups[owner]),
            }
        )
    return first, shown


def _plan_row(row: dict, token_index: dict) -> dict:
    plan, items = row["plan"], row["findings"]
    token = plan["token"]
    return {
        "is_plan": True,
        "key": token["key"],
        "subject": token.get("name") or token.get("id") or token["key"],
        "masked": token.get("masked") or "",
        "provider": token.get("provider") or "",
        "owner": token.get("owner") or "",
        "severity": _worst(items),
        "severities": sorted({f["severity"] for f in items}, key=severity_rank),
        "rules": sorted({f["rule_id"] for f in items}),
        "count": len(items),
        "plan": _plan_view(plan),
    }


def _plan_view(plan: Plan | dict[str, Any] | None) -> dict | None:
    """A plan as the page shows it: what to create (every field), what is kept, asked or dropped, and the steps."""
    if not plan:
        return None
    credentials = []
    for credential in plan["credentials"]:
        rows = [("type", str(credential.get("type", "")).replace("_", " "))]
        for key in ("resource_owner", "installed_on", "token_type", "access_level", "expires_at"):
            if credential.get(key) not in (None, "", []):
                rows.append((key.replace("_", " "), _compact(credential[key])))
        if credential.get("repositories"):
            rows.append(("repositories", ", ".join(credential["repositories"])))
        if isinstance(credential.get("permissions"), dict):
            rows += [(f"{group} permissions", value) for group, value in _permission_rows(credential["permissions"])]
        if credential.get("scopes"):
            rows.append(("scopes", ", ".join(credential["scopes"])))
        for scoped in credential.get("scoped") or []:
            entity = scoped.get("entity") or {}
            rows.append((f"{entity.get('type')} {entity.get('name')}", ", ".join(scoped.get("permissions") or [])))
        if credential.get("global"):
            rows.append(("global", ", ".join(credential["global"])))
        if credential.get("read_only_because"):
            rows.append(("read only", credential["read_only_because"]))
        places = [f"{p.get('kind')} {p.get('location')}" for p in credential.get("for") or []]
        credentials.append(
            {"id": credential["id"], "name": credential.get("name"), "rows": rows, "for": ", ".join(places)}
        )
    requests = []
    for request in plan["requests"]:
        line = (
            f"{request.get('method')} {request.get('url')}"
            if request.get("kind") == "api"
            else f"open {request.get('url')}"
        )
        fields = [
            (k, _compact(v) if not isinstance(v, dict) else ", ".join(f"{a}: {b}" for a, b in v.items()))
            for k, v in (request.get("fields") or {}).items()
        ]
        body = json.dumps(request["body"], indent=2) if request.get("body") is not None else None
        auth = (request.get("auth") or {}).get("variable")
        requests.append(
            {
                "step": request.get("step"),
                "purpose": request.get("purpose"),
                "line": line,
                "fields": fields,
                "body": body,
                "auth": auth,
            }
        )
    return {
        "id": plan["id"],
        "action": plan["action"],
        "summary": plan["summary"],
        "credentials": credentials,
        "decisions": plan["decisions"],
        "steps": [s["text"] for s in plan["steps"]],
        "requests": requests,
        "problems": plan["problems"],
    }


class _Page:
    """The page template with its stylesheet and script, read from the package once, at the first render (compiling
    the template takes a quarter of a second, which every other command would pay at import). The static files are inlined verbatim (not templates: autoescaping would
    mangle their quotes) and admitted by their hashes in the Content-Security-Policy."""

    def __init__(self) -> None:
        env = _environment()
        assert env.loader is not None
        self.style: str = env.loader.get_source(env, "report.css")[0]
        self.script: str = env.loader.get_source(env, "report.js")[0]
        self.template: Template = env.get_template("report.html.j2")
        self.csp = (
            "default-src 'none'; img-src data:; base-uri 'none'; form-action 'none'; "
            f"style-src {_csp_hash(self.style)}; script-src {_csp_hash(self.script)}"
        )


class HtmlFormat:
    """Render the report as one self-contained HTML page."""

    name = "html"
    extension = "html"

    def render(self, report: Report) -> str:
        view = build_view(report)
        page = _page()
        view.update(style=page.style, script=page.script, csp=page.csp)
        return page.template.render(**view)


def build_view(report: Report) -> dict[str, Any]:
    """Everything the template shows, computed over the whole report and capped where it is listed."""
    data = report.data
    summary = data["summary"]
    findings = data["findings"]
    tokens = data.get("tokens")
    by_subject: dict[str, list[Finding]] = defaultdict(list)
    others: list[Finding] = []
    for finding in findings:
        subject = finding["subject"]
        if subject["type"] == "token":
            by_subject[subject["key"]].append(finding)
        else:
            others.append(finding)

    plans = plans_by_id(data)
    token_index = {t["key"]: t for t in tokens or []}
    for key, items in by_subject.items():
        if key not in token_index:
            token_index[key] = _token_from_subject(items[0]["subject"])

    # Worst first, then most findings, then key: the tokens to look at before the others.
    flagged = sorted(by_subject, key=lambda k: (severity_rank(_worst(by_subject[k])), -len(by_subject[k]), k))
    sections: list[dict[str, Any]] = []
    for key in flagged[:MAX_TOKEN_SECTIONS]:
        token = token_index[key]
        items = by_subject[key]
        now = data["now"]
        sections.append(
            {
                "anchor": _anchor(key),
                "token": token,
                "worst": _worst(items),
                "severities": sorted({f["severity"] for f in items}, key=severity_rank),
                "rules": sorted({f["rule_id"] for f in items}),
                "findings": [_finding_row(f) for f in items[:MAX_FINDINGS_PER_TOKEN]],
                "more_findings": max(0, len(items) - MAX_FINDINGS_PER_TOKEN),
                "replacement": _replacement(items),
                "steps": _steps(items),
                "plan": _plan_view(plans.get(items[0].get("plan_id") or "")),
                "age_days": _days_between(token.get("created_at"), now),
                "idle_days": _days_between(token.get("last_used_at"), now),
                "expires_in_days": _days_between(now, token.get("expires_at")),
            }
        )
    clean = [t for k, t in sorted(token_index.items()) if k not in by_subject]

    # What to do first: critical and high findings that still count, grouped by owner; with plans, one row per
    # token with its plan (findings without a plan, e.g. about an organization, stay rows of their own).
    urgent = [f for f in findings if f["severity"] in ("critical", "high") and f.get("waived") is not True]
    first, first_shown = _first(data, urgent, token_index)

    nhi = Counter(n for f in findings for n in set(f["nhi"]))
    audited_tokens = tokens or []
    unused_keys = {k for k, items in by_subject.items() if any(f["rule_id"] in UNUSED_RULES for f in items)}
    audited = summary["audited"]
    shares = None
    if tokens is not None:
        shares = _bars(
            [
                ("legacy", sum(1 for t in audited_tokens if t.get("legacy")), "bar-legacy"),
                ("org-wide", sum(1 for t in audited_tokens if t.get("org_wide")), "bar-orgwide"),
                ("non-expiring", sum(1 for t in audited_tokens if not t.get("expires_at")), "bar-noexpiry"),
                (
                    "unused",
                    sum(1 for t in audited_tokens if not t.get("last_used_at") or t["key"] in unused_keys),
                    "bar-unused",
                ),
            ],
            total=len(audited_tokens) or None,
            percent=True,
        )

    waived = [f for f in findings if f.get("waived") is True]
    expired_waivers = [f for f in findings if isinstance(f.get("waiver"), dict) and f["waiver"].get("expired")]
    baseline = [f for f in findings if f.get("baseline") is True]
    rules_by_id = {r["id"]: r for r in data.get("rules") or []}
    rule_rows = []
    for rule_id, count in sorted(summary["by_rule"].items(), key=lambda kv: (-kv[1], kv[0])):
        rule = rules_by_id.get(rule_id, {})
        rule_rows.append(
            {
                "id": rule_id,
                "count": count,
                "title": rule.get("title", ""),
                "severity": rule.get("severity", ""),
                "nhi": rule.get("nhi") or [],
            }
        )

    providers = sorted(
        set(summary.get("tokens_by_provider") or {})
        | {r for r in (f.get("provider") or f["subject"].get("provider") for f in findings) if r}
    )
    owners = sorted(
        ({f["subject"].get("owner") or "" for f in findings} | {t.get("owner") or "" for t in token_index.values()})
        - {""}
    )
    return {
        "data": data,
        "summary": summary,
        "severities": SEVERITIES,
        "charts": {
            "providers": _bars([(p, n, "bar-provider") for p, n in (summary.get("tokens_by_provider") or {}).items()]),
            "severity": _bars([(s, summary["by_severity"].get(s, 0), f"bar-{s}") for s in SEVERITIES]),
            "nhi": _bars([(f"{n} {NHI_TITLES[n]}", nhi.get(n, 0), "bar-nhi") for n in NHI_TITLES]),
            "shares": shares,
        },
        "audited": audited,
        "first": first,
        "first_total": len(urgent),
        "first_hidden": len(urgent) - first_shown,
        "sections": sections,
        "rendered": {s["token"]["key"] for s in sections},
        "sections_hidden": max(0, len(flagged) - MAX_TOKEN_SECTIONS),
        "clean": clean[:MAX_ROWS],
        "clean_hidden": max(0, len(clean) - MAX_ROWS),
        "others": [_finding_row(f) for f in others[:MAX_ROWS]],
        "others_hidden": max(0, len(others) - MAX_ROWS),
        "waived": [_finding_row(f) for f in waived[:MAX_ROWS]],
        "waived_hidden": max(0, len(waived) - MAX_ROWS),
        "expired_waivers": [_finding_row(f) for f in expired_waivers[:MAX_ROWS]],
        "waivers": data.get("waivers"),
        "baseline": [_finding_row(f) for f in baseline[:MAX_ROWS]],
        "baseline_total": len(baseline),
        "baseline_info": data.get("baseline"),
        "gate": data.get("gate"),
        "skipped": data["skipped"][:MAX_ROWS],
        "skipped_hidden": max(0, len(data["skipped"]) - MAX_ROWS),
        "rule_rows": rule_rows,
        "frameworks": report.compliance,
        "not_assessed": evidence.report_rows(data)[:MAX_ROWS],
        "not_assessed_hidden": max(0, len(data.get("not_assessed") or []) - MAX_ROWS),
        "not_assessed_headline": evidence.headline(data),
        "filter_providers": providers,
        "filter_owners": owners[:MAX_OPTIONS],
        "filter_owners_hidden": max(0, len(owners) - MAX_OPTIONS),
        "filter_rules": sorted(summary["by_rule"]),
        "nhi_titles": NHI_TITLES,
    }


@functools.cache
def _page() -> _Page:
    return _Page()
