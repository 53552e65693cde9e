"""Command line: audit, validate, normalize, rules, schema.

Exit codes: 0 nothing at/above --fail-on · 1 findings at/above it · 2 usage or input error ·
3 engine error. Errors are one line on stderr, never a traceback, never a secret.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import click

from auditor import __version__
from auditor.audit import DEFAULT_POLICY_DIR, AuditOptions, EngineOptions, read_inventory, resolve_now, run_audit
from auditor.config import RuleSelection, discover, load_config, policy_config
from auditor.errors import EXIT_FINDINGS, EXIT_OK, AuditorError, InputError, ValidationFailed
from auditor.findings import load_rules
from auditor.findings.finding import FAIL_ON
from auditor.inventory.validate import load_schema, schema_names
from auditor.report import formatters, render
from auditor.report.table import SHOW, TableFormat, terminal_width, use_colour, verdict_line
from auditor.secrets import redact_text


def write_atomic(path: str, text: str) -> None:
    """Write all or nothing: a temp file beside the target, then rename."""
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp, 0o666 & ~umask)  # mkstemp makes 0600; a report is an ordinary file
        os.replace(temp, target)
    except OSError as exc:
        raise InputError(f"{path}: cannot write: {exc.strerror}") from None


def emit(text: str, output: str | None) -> None:
    if output and output != "-":
        write_atomic(output, text)
    else:
        click.echo(text, nl=not text.endswith("\n"))


def emit_table(report, output: str | None, show: str) -> None:
    """The table: to a file plain and full width; to stdout fitted to $COLUMNS/the terminal, coloured on a tty."""
    if output and output != "-":
        write_atomic(output, TableFormat(show=show).format(report))
        return
    colour = use_colour(sys.stdout)
    text = TableFormat(show=show, width=terminal_width(sys.stdout), colour=colour).format(report)
    click.echo(text, nl=False, color=colour)


def _fail(message: str, code: int) -> None:
    click.echo(f"token-auditor: error: {redact_text(message)}", err=True)
    sys.exit(code)


class Group(click.Group):
    """Turns every AuditorError into its one-line message and exit code."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except ValidationFailed as exc:
            for line in exc.errors:
                click.echo(f"token-auditor: invalid: {redact_text(line)}", err=True)
            sys.exit(exc.exit_code)
        except AuditorError as exc:
            _fail(str(exc), exc.exit_code)
        except KeyboardInterrupt:
            _fail("interrupted", 130)


def engine_options(func):
    options = [
        click.option("--opa-url", envvar="TOKEN_AUDITOR_OPA_URL", help="Use this OPA server instead of starting one."),
        click.option("--opa-token-env", metavar="VAR", help="Environment variable holding the bearer token for --opa-url."),
        click.option("--opa-ca", type=click.Path(exists=True, dir_okay=False), help="CA bundle for an https --opa-url."),
        click.option("--opa-bin", help="OPA binary (else $OPA_BIN, .bin/opa, PATH)."),
        click.option("--chunk-size", type=click.IntRange(1, 10000), default=2000, show_default=True,
                     help="Tokens per OPA request."),
        click.option("--workers", type=click.IntRange(1, 64), default=max(1, os.cpu_count() or 1), show_default=True,
                     help="Chunks evaluated in parallel."),
        click.option("--policy-dir", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_POLICY_DIR,
                     show_default="policies/", help="Rego policies and data to evaluate."),
        click.option("--config", "config_file", type=click.Path(dir_okay=False),
                     help="Config YAML (thresholds, catalogue overrides, skip_rules/only_rules); "
                          "default: .token-auditor.yaml in the current directory or the repository root."),
        click.option("--no-config", is_flag=True, help="Ignore any .token-auditor.yaml."),
        click.option("--skip-rule", "skip_rules", multiple=True, metavar="ID",
                     help="Do not report this rule (repeatable); listed as skipped by configuration."),
        click.option("--only-rule", "only_rules", multiple=True, metavar="ID",
                     help="Report only these rules (repeatable); the others are listed as skipped by configuration."),
        click.option("--now", help="Pin the clock (ISO 8601) for every time-based rule."),
        click.option("--max-input-bytes", type=click.IntRange(1), default=256 * 1024 * 1024, show_default=True),
        click.option("--org", help="GitHub org / GitLab instance for bare API exports."),
        click.option("--collected-at", help="Collection time (ISO 8601) for bare API exports."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _options(kw: dict) -> AuditOptions:
    token = None
    if kw.get("opa_token_env"):
        token = os.environ.get(kw["opa_token_env"])
        if token is None:
            raise InputError(f"--opa-token-env {kw['opa_token_env']}: that variable is not set")
    provider_options = {"org": kw.get("org"), "collected_at": kw.get("collected_at")}
    config_file = discover(kw.get("config_file"), kw.get("no_config", False))
    policy_dir = Path(kw.get("policy_dir") or DEFAULT_POLICY_DIR)
    selection = RuleSelection.build(kw.get("skip_rules") or (), kw.get("only_rules") or (),
                                    load_config(config_file), config_file)
    if selection:
        selection.check([r.id for r in load_rules(policy_dir)])
    return AuditOptions(
        now=kw.get("now"),
        config_file=config_file,
        rules=selection,
        policy_dir=policy_dir,
        max_input_bytes=kw.get("max_input_bytes") or 256 * 1024 * 1024,
        engine=EngineOptions(
            opa_url=kw.get("opa_url"), opa_token=token, opa_ca=kw.get("opa_ca"), opa_bin=kw.get("opa_bin"),
            chunk_size=kw.get("chunk_size") or 2000, workers=kw.get("workers") or 1,
        ),
        provider_options=provider_options,
    )


def version_text() -> str:
    """token-auditor, the OPA it would run (when found) and the shipped rule catalogue."""
    from auditor.audit import _catalogue_meta
    from auditor.engine.binary import find_opa, opa_version

    try:
        opa = f"OPA {opa_version(find_opa())} ({find_opa()})"
    except AuditorError:
        opa = "OPA not found (--opa-bin, $OPA_BIN, .bin/opa or PATH)"
    catalogue = _catalogue_meta(DEFAULT_POLICY_DIR)
    return "\n".join([f"token-auditor {__version__}", opa,
                      f"catalogue {catalogue.get('version') or 'unknown'} ({catalogue.get('date') or 'undated'})"])


def _print_version(ctx, _param, value):
    if value and not ctx.resilient_parsing:
        click.echo(version_text())
        ctx.exit(0)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_print_version,
              help="Print the tool, OPA and rule catalogue versions and exit.")
def main():
    """Audit exported API-token inventories against Rego policies on a real OPA server."""


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("-f", "--format", "fmts", multiple=True,
              help="Output format (repeatable): " + ", ".join(sorted(formatters())) + ". Default: table.")
@click.option("-o", "--output", "outputs", multiple=True,
              help="Write the report here (atomically) instead of stdout; one per --format, in order.")
@click.option("--output-dir", type=click.Path(file_okay=False),
              help="Write every --format to DIR/token-auditor.<ext> (txt, json, sarif, xml, md, html).")
@click.option("--fail-on", type=click.Choice(FAIL_ON), default="high", show_default=True,
              help="Exit 1 when a finding is at or above this severity (waived and baseline findings excepted).")
@click.option("--baseline", "baseline_file", type=click.Path(dir_okay=False),
              help="Earlier JSON report or baseline: its findings (by fingerprint) do not count.")
@click.option("--write-baseline", type=click.Path(dir_okay=False), help="Write this run's findings as a baseline.")
@click.option("--waivers", "waivers_file", type=click.Path(dir_okay=False),
              help="YAML waivers (schema: token-auditor schema waivers).")
@click.option("--show", type=click.Choice(SHOW), default="counted", show_default=True,
              help="Table rows: counted (new findings only; baseline and waived ones are summed up) or all.")
@click.option("-q", "--quiet", is_flag=True,
              help="Print only the gate's verdict line on stdout (files from -o/--output-dir are still written).")
@engine_options
def audit(paths, fmts, outputs, output_dir, fail_on, baseline_file, write_baseline, waivers_file, show, quiet,
          **kw):
    """Audit inventories (files, directories, - for stdin) and report findings."""
    from auditor.gate import apply_gate, baseline_document, load_baseline, load_waivers
    from auditor.gate.outputs import plan_outputs

    plan = plan_outputs(fmts, outputs, output_dir, formatters())
    now = resolve_now(kw.get("now"))
    kw["now"] = now
    waivers = (waivers_file, load_waivers(waivers_file, now)) if waivers_file else None
    baseline = (baseline_file, load_baseline(baseline_file)) if baseline_file else None
    report = run_audit(list(paths), _options(kw))
    failing = apply_gate(report, fail_on, baseline, waivers)
    for fmt, output in plan:
        to_stdout = not output or output == "-"
        if quiet and to_stdout:
            continue
        if fmt == "table":
            emit_table(report, output, show)
        else:
            emit(render(report, fmt), output)
    if quiet:
        click.echo(verdict_line(report.data))
    if write_baseline:
        write_atomic(write_baseline, baseline_document(report.findings))
    sys.exit(EXIT_FINDINGS if failing else EXIT_OK)


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--max-input-bytes", type=click.IntRange(1), default=256 * 1024 * 1024, show_default=True)
@click.option("--org", help="GitHub org / GitLab instance for bare API exports.")
@click.option("--collected-at", help="Collection time (ISO 8601) for bare API exports.")
def validate(paths, max_input_bytes, org, collected_at):
    """Check inventories against their schemas; print what each holds."""
    options = AuditOptions(max_input_bytes=max_input_bytes,
                           provider_options={"org": org, "collected_at": collected_at})
    inventory, _ = read_inventory(list(paths), options)
    for item in sorted(inventory.inputs, key=lambda i: i.path):
        click.echo(f"ok {item.path}: {item.format}, {item.tokens} tokens")
    if inventory.secrets:
        click.echo(f"warning: {len(inventory.secrets)} token value(s) found in the inputs and redacted "
                   "(raw-secret-in-inventory)", err=True)


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("-o", "--output", help="Write here (atomically) instead of stdout.")
@click.option("--now", help="The input.now the policies will see (default: current time).")
@click.option("--config", "config_file", type=click.Path(dir_okay=False),
              help="Config YAML, its thresholds/catalogue as input.config (default: .token-auditor.yaml, as audit).")
@click.option("--no-config", is_flag=True, help="Ignore any .token-auditor.yaml.")
@click.option("--max-input-bytes", type=click.IntRange(1), default=256 * 1024 * 1024, show_default=True)
@click.option("--org", help="GitHub org / GitLab instance for bare API exports.")
@click.option("--collected-at", help="Collection time (ISO 8601) for bare API exports.")
def normalize(paths, output, now, config_file, no_config, max_input_bytes, org, collected_at):
    """Write the normalized input exactly as the policies receive it (for plain `opa eval`)."""
    config_file = discover(config_file, no_config)
    options = AuditOptions(now=now, config_file=config_file, max_input_bytes=max_input_bytes,
                           provider_options={"org": org, "collected_at": collected_at})
    config = policy_config(load_config(config_file))
    inventory, _ = read_inventory(list(paths), options)
    document = inventory.policy_input(resolve_now(now), config or None)
    emit(json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n", output)


@main.command()
@click.option("--policy-dir", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_POLICY_DIR)
@click.option("-f", "--format", "fmt", type=click.Choice(["table", "json", "markdown"]), default="table")
def rules(policy_dir, fmt):
    """Print the rule catalogue read from the policies' # METADATA annotations."""
    catalogue = load_rules(policy_dir)
    if fmt == "json":
        click.echo(json.dumps([r.as_dict() for r in catalogue], indent=2))
        return
    from tabulate import tabulate

    rows = [[r.id, r.severity, r.title, ", ".join(r.nhi), r.recommended_action] for r in catalogue]
    headers = ["id", "severity", "title", "OWASP NHI 2025", "action"]
    click.echo(tabulate(rows, headers=headers, tablefmt="github" if fmt == "markdown" else "simple"))


@main.command()
@click.argument("name", required=False)
def schema(name):
    """Print a shipped JSON Schema (no NAME: list them)."""
    if not name:
        click.echo("\n".join(schema_names()))
        return
    click.echo(json.dumps(load_schema(name), indent=2))


@main.command()
@click.argument("result", type=click.Path(dir_okay=False))
@click.option("-f", "--format", "fmt", default="html", show_default=True,
              help="Output format: " + ", ".join(sorted(formatters())) + ".")
@click.option("-o", "--output", help="Write here (atomically) instead of stdout.")
@click.option("--show", type=click.Choice(SHOW), default="counted", show_default=True,
              help="Table rows: counted (new findings only) or all (baseline and waived ones too).")
def report(result, fmt, output, show):
    """Render a saved JSON report (from `audit --format json`) in any format, without re-auditing."""
    from auditor.report.saved import load_report

    if fmt not in formatters():
        raise InputError(f"unknown format {fmt!r}; known: {', '.join(sorted(formatters()))}")
    saved = load_report(result)
    if fmt == "table":
        emit_table(saved, output, show)
    else:
        emit(render(saved, fmt), output)


@main.command()
@click.argument("name", required=False)
@click.option("--policy-dir", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_POLICY_DIR,
              show_default="policies/", help="Policies whose frameworks/ and rule catalogue to use.")
@click.option("--report", "result", type=click.Path(dir_okay=False),
              help="A saved JSON report: show pass/fail/manual per requirement for its inventory.")
@click.option("-f", "--format", "fmt", type=click.Choice(["table", "json", "markdown"]), default="table")
def frameworks(name, policy_dir, result, fmt):
    """Compliance coverage: each framework requirement and the rules that check it (no NAME: every framework)."""
    from tabulate import tabulate

    from auditor.frameworks import assess, coverage, find_framework, load_frameworks

    found = load_frameworks(policy_dir)
    chosen = [find_framework(found, name)] if name else found
    saved = None
    if result:
        from auditor.report.saved import load_report

        saved = load_report(result).data
    catalogue = [r.as_dict() for r in load_rules(policy_dir)]
    tables = [(f, assess(f, saved) if saved else coverage(f, catalogue)) for f in chosen]
    if fmt == "json":
        click.echo(json.dumps([{"id": f.id, "title": f.title, "version": f.version, "url": f.url,
                                "requirements": rows} for f, rows in tables], indent=2))
        return
    style = "github" if fmt == "markdown" else "simple"
    if not name and not saved:
        rows = [[f.id, f.title, len(r), sum(x["coverage"] == "automated" for x in r),
                 sum(x["coverage"] == "partial" for x in r), sum(x["coverage"] == "manual" for x in r)]
                for f, r in tables]
        click.echo(tabulate(rows, headers=["framework", "title", "requirements", "automated", "partial", "manual"],
                            tablefmt=style))
        return
    for framework, rows in tables:
        click.echo(f"{framework.title} [{framework.id}]")
        columns = ["id", "title", "status" if saved else "coverage", "rules"]
        body = [[r["id"], r["title"], r["status"] if saved else r["coverage"], _framework_rules(r, saved)]
                for r in rows]
        click.echo(tabulate(body, headers=columns, tablefmt=style, maxcolwidths=[None, 60, None, 60]))
        missing = sorted({m for r in rows for m in r["missing_rules"]})
        if missing:
            click.echo(f"mapped rules not in this catalogue: {', '.join(missing)}")
        click.echo("")



def _framework_rules(row: dict, saved) -> str:
    """The rules column: those that fired, those that could not run (and where), or all mapped ones."""
    if saved and row["failed_rules"]:
        return ", ".join(row["failed_rules"])
    if saved and row.get("not_assessed_why"):
        return row["not_assessed_why"]
    return ", ".join(row["rules"]) or "manual"


@main.command()
@click.argument("base")
@click.argument("head")
@click.option("-f", "--format", "fmts", multiple=True, help="table, json, markdown, sarif (repeatable). Default: table.")
@click.option("-o", "--output", "outputs", multiple=True, help="Write here instead of stdout; one per --format.")
@click.option("--output-dir", type=click.Path(file_okay=False), help="Write every --format to DIR/token-auditor-diff.<ext>.")
@click.option("--fail-on", type=click.Choice(FAIL_ON), default="high", show_default=True,
              help="Exit 1 when HEAD introduces a finding at or above this severity (waived ones excepted).")
@click.option("--fail-on-broadening", is_flag=True, help="Also exit 1 when any token's access got broader.")
@click.option("--waivers", "waivers_file", type=click.Path(dir_okay=False), help="YAML waivers for introduced findings.")
@click.option("--no-findings", is_flag=True, help="Compare tokens only; do not evaluate the policies (no OPA needed).")
@engine_options
def diff(base, head, fmts, outputs, output_dir, fail_on, fail_on_broadening, waivers_file, no_findings, **kw):
    """Compare two inventories (BASE before, HEAD after): access broader/narrower per token, findings new/resolved."""
    from auditor.gate import load_waivers
    from auditor.gate.diff_format import FORMATS, RENDERERS
    from auditor.gate.diff_run import run_diff
    from auditor.gate.outputs import plan_outputs

    plan = plan_outputs(fmts, outputs, output_dir, set(FORMATS), stem="token-auditor-diff")
    now = resolve_now(kw.get("now"))
    kw["now"] = now
    waivers = (waivers_file, load_waivers(waivers_file, now)) if waivers_file else None
    data = run_diff([base], [head], _options(kw), fail_on=fail_on, fail_on_broadening=fail_on_broadening,
                    with_findings=not no_findings, waivers=waivers)
    for fmt, output in plan:
        emit(RENDERERS[fmt](data), output)
    sys.exit(EXIT_OK if data["gate"]["passed"] else EXIT_FINDINGS)

if __name__ == "__main__":
    main()
