"""`token-auditor plan REPORT.json -f json|markdown|sh`: the plans of a saved report, for a person or a pipeline.

The `sh` form runs nothing by itself: `bash plan.sh` lists the requests; `bash plan.sh PLAN_ID/STEP` sends the
requests of one step with curl. Credentials come from environment variables named in each request, never values.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping
from typing import Any

from auditor.errors import InputError
from auditor.redaction import redact_text
from auditor.report.markdown_blocks import esc
from auditor.report.text import terminal_safe

FORMATS = ("json", "markdown", "sh")
_VARIABLE = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)\}")


# What the markdown and sh forms read from a request of each kind, beyond the schema's purpose and kind.
REQUEST_FIELDS = {"api": ("method", "url", "auth.variable", "auth.needs"), "settings": ("url",)}


def plans_of(data: Mapping[str, Any], policy_dir, source: str) -> list[dict]:
    """The report's plans; a report written before plans existed gets them rebuilt from its findings and tokens.
    Saved plans are checked first: one from an edited report that lacks what its rendering needs is an input
    error naming `source` and the request."""
    if isinstance(data.get("plans"), list):
        check_requests(data["plans"], source)
        return data["plans"]
    from auditor.plan import Catalogue, build_plans

    return build_plans(
        data["findings"], data.get("tokens") or [], data["now"], Catalogue.load(policy_dir, data.get("config") or {})
    )


def check_requests(plans: list[dict], source: str) -> None:
    for p, plan in enumerate(plans):
        for r, request in enumerate(plan.get("requests") or []):
            kind = request.get("kind")
            missing = [name for name in REQUEST_FIELDS.get(kind, ()) if not isinstance(_field(request, name), str)]
            if missing:
                raise InputError(
                    f"{source}: /plans/{p}/requests/{r}: a request of kind {kind} needs {' and '.join(missing)} "
                    "(text); not a plan that token-auditor writes"
                )


def _field(request: dict, dotted: str) -> object:
    value: object = request
    for name in dotted.split("."):
        value = value.get(name) if isinstance(value, dict) else None
    return value


def render(plans: list[dict], fmt: str, data: Mapping[str, Any]) -> str:
    if fmt == "json":
        return (
            json.dumps({"schema_version": "1.0", "now": data["now"], "plans": plans}, indent=2, ensure_ascii=False)
            + "\n"
        )
    # Inventory text reaches a terminal through both (cat, bash's echo): no control character is sent raw.
    if fmt == "markdown":
        return terminal_safe(markdown(plans), keep_newlines=True)
    return terminal_safe(shell(plans, data["now"]), keep_newlines=True)


# -- markdown ---------------------------------------------------------------------------------------------------
def plan_heading(plan: Mapping[str, Any]) -> str:
    token = plan["token"]
    name = token.get("name") or token.get("id")
    masked = f" ({esc(token['masked'])})" if token.get("masked") else ""
    return f"{esc(name)}{masked} · {esc(token.get('provider'))} · owner {esc(token.get('owner'))}"


def plan_markdown(plan: Mapping[str, Any], level: str = "###", requests: bool = True) -> list[str]:
    lines = [
        f"{level} {plan_heading(plan)}",
        "",
        f"**{esc(plan['action'])}** ({esc(plan['severity'])}; fixes {', '.join(f'`{r}`' for r in plan['rules'])}):"
        f" {esc(plan['summary'])} <sub>`{plan['id']}`</sub>",
        "",
    ]
    for decision in plan.get("decisions") or []:
        via = f" via {esc(decision['via'])}" if decision.get("via") else ""
        lines.append(
            f"- {esc(decision['rating'])} `{esc(decision['permission'])}`: **{esc(decision['decision'])}**"
            f"{via}: {esc(decision['because'])}"
        )
    if plan.get("decisions"):
        lines.append("")
    lines += [f"{step['order']}. {esc(step['text'])}" for step in plan["steps"]]
    if requests and plan.get("requests"):
        lines += ["", "<details><summary>Requests (nothing is sent)</summary>", ""]
        for request in plan["requests"]:
            lines += request_markdown(request)
        lines += ["</details>"]
    if plan.get("problems"):
        lines += ["", "**Not creatable as planned:** " + esc("; ".join(plan["problems"]))]
    return lines + [""]


def request_markdown(request: dict) -> list[str]:
    head = f"- step {request.get('step')} ({esc(request['purpose'])})"
    if request["kind"] == "api":
        lines = [
            f"{head}: `{request['method']} {request['url']}` with ${request['auth']['variable']} "
            f"({esc(request['auth']['needs'])})"
        ]
        if request.get("body") is not None:
            lines += [
                "",
                "  ```json",
                *["  " + line for line in json.dumps(request["body"], indent=2).splitlines()],
                "  ```",
            ]
        if request.get("note"):
            lines.append(f"  ({esc(request['note'])})")
        return lines + [""]
    lines = [f"{head}: {request['url']}"]
    for field, value in (request.get("fields") or {}).items():
        if isinstance(value, dict):
            value = ", ".join(f"{k}: {v}" for k, v in value.items())
        lines.append(f"  - {esc(field)}: {esc(value)}")
    return lines + [""]


def markdown(plans: list[dict]) -> str:
    lines = [
        "## token-auditor remediation plans",
        "",
        f"{len(plans)} plan(s), one per token with findings. Nothing has been sent: review each request.",
        "",
    ]
    for plan in plans:
        lines += plan_markdown(plan)
    return "\n".join(lines) + "\n"


# -- sh ---------------------------------------------------------------------------------------------------------
def _comment(text: str) -> str:
    return "# " + " ".join(str(text).split())


def _safe_message(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9 ,.:/()_-]", " ", text)


def _word(text: str, messages: dict[str, str]) -> str:
    """text as one shell word; ${VAR} placeholders stay expandable (and required), the rest literal."""
    parts, last = [], 0
    for match in _VARIABLE.finditer(text):
        if match.group(1) not in messages:  # only the request's own placeholders expand; the rest is literal
            continue
        if match.start() > last:
            parts.append(shlex.quote(text[last : match.start()]))
        name = match.group(1)
        parts.append(f'"${{{name}:?{_safe_message(messages.get(name, "set " + name))}}}"')
        last = match.end()
    if last < len(text) or not parts:
        parts.append(shlex.quote(text[last:]))
    return "".join(parts)


_SHELL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _curl(request: dict) -> list[str]:
    auth = request["auth"]
    variable, needs = auth["variable"], _safe_message(auth["needs"])
    # A saved report may have been edited: only a plain variable name reaches the script.
    if not isinstance(variable, str) or not _SHELL_NAME.fullmatch(variable):
        raise InputError(
            f"plan: request auth.variable {terminal_safe(redact_text(str(variable)))!r} is not a shell variable name"
        )

    header = (
        f'"PRIVATE-TOKEN: ${{{variable}:?{needs}}}"'
        if variable.startswith("GITLAB")
        else f'"Authorization: Bearer ${{{variable}:?{needs}}}"'
    )
    messages = request.get("variables") or {}
    lines = [
        f"curl --fail-with-body --silent --show-error --request {request['method']} \\",
        f"    --header {header} \\",
    ]
    for name, value in (request.get("headers") or {}).items():
        lines.append(f"    --header {shlex.quote(f'{name}: {value}')} \\")
    if request.get("body") is not None:
        lines.append(f"    --data {shlex.quote(json.dumps(request['body'], separators=(',', ':')))} \\")
    lines.append(f"    {_word(request['url'], messages)}")
    return lines


def shell(plans: list[dict], now: str) -> str:
    lines = [
        "#!/usr/bin/env bash",
        "# token-auditor remediation plans: review before running. Nothing was sent.",
        f"# Plans as of {' '.join(now.split())}. Token values are never written here: each request reads the",
        "# credential that authorizes it from the environment variable it names.",
        "# Usage: bash plan.sh               list the steps that have a request",
        "#        bash plan.sh PLAN_ID/STEP  send that step's requests (settings pages are printed to open by hand)",
        "set -euo pipefail",
        "",
        'case "${1:-}" in',
    ]
    listing = []
    for plan in plans:
        token = plan["token"]
        steps: dict[int | None, list[dict]] = {}
        for request in plan.get("requests") or []:
            steps.setdefault(request.get("step"), []).append(request)
        for order, requests in sorted(steps.items(), key=lambda item: item[0] or 0):
            label = f"{plan['id']}/{order}"
            step = next((s for s in plan["steps"] if s["order"] == order), {"text": ""})
            listing.append(
                _comment(
                    f"{label}  {token.get('provider')} {token.get('name') or token.get('id')} "
                    f"({token.get('masked') or ''}): {step['text']}"
                )[2:]
            )
            lines.append(f"  {label})")
            lines.append("    " + _comment(step["text"]))
            for request in requests:
                if request["kind"] == "api":
                    if request.get("note"):
                        lines.append("    " + _comment(request["note"]))
                    lines += ["    " + line for line in _curl(request)]
                else:
                    lines.append(f"    echo {shlex.quote('Open ' + request['url'] + ' and set:')}")
                    for field, value in (request.get("fields") or {}).items():
                        if isinstance(value, dict):
                            value = ", ".join(f"{k}: {v}" for k, v in value.items())
                        lines.append(f"    echo {shlex.quote('  ' + ' '.join(f'{field}: {value}'.split()))}")
                    if request.get("manifest"):
                        manifest = json.dumps(request["manifest"], separators=(",", ":"))
                        lines.append(f"    echo {shlex.quote('  or register it from this App manifest: ' + manifest)}")
            lines.append("    ;;")
    lines += ["  *)", "    cat <<'STEPS'", *(listing or ["(no step has a request)"]), "STEPS", "    ;;", "esac", ""]
    return "\n".join(lines)
