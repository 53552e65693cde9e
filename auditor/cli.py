"""Command line: audit, validate, normalize, rules, schema.

Exit codes: 0 nothing at/above --fail-on · 1 findings at/above it · 2 usage or input error ·
3 engine error. Errors are one line on stderr, never a traceback, never a secret.
"""

from __future__ import annotations

import errno
import io
import json
import os
import sys
from pathlib import Path

import click

from auditor import __version__
from auditor.audit import DEFAULT_POLICY_DIR, AuditOptions, EngineOptions, read_inventory, resolve_now, run_audit
from auditor.engine.client import DEFAULT_DEADLINE, DEFAULT_TIMEOUT
from auditor.errors import EXIT_ENGINE, EXIT_FINDINGS, EXIT_INPUT, EXIT_OK, AuditorError, InputError, ValidationFailed
from auditor.findings import load_rules
from auditor.findings.finding import FAIL_ON
from auditor.inventory.validate import load_schema, schema_names
from auditor.report import formatters, render
from auditor.report.text import terminal_safe
from auditor.secrets import redact_text


def emit(text: str, output: str | None) -> None:
    """One output: a file (atomically), a device or FIFO (in place), or stdout."""
    from auditor.gate.outputs import commit_outputs

    commit_outputs([(output, text)])


def _fail(message: str, code: int) -> None:
    line = terminal_safe(" ".join(redact_text(str(message)).splitlines()))
    try:
        click.echo(f"token-auditor: error: {line}", err=True)
    except OSError:
        pass
    sys.exit(code)


_OUTPUT_ERRNOS = {errno.EPIPE, errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EFBIG}


class Group(click.Group):
    """Turns every error into one redacted line and a documented exit code: 2 input or usage, 3 engine or
    internal. Exit 1 means findings only, so no exception may end a run with it."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except ValidationFailed as exc:
            for line in exc.errors:
                click.echo(f"token-auditor: invalid: {terminal_safe(redact_text(line))}", err=True)
            sys.exit(exc.exit_code)
        except AuditorError as exc:
            _fail(str(exc), exc.exit_code)
        except KeyboardInterrupt:
            _fail("interrupted", 130)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except MemoryError:
            _fail("out of memory (an input too large for this machine? see --max-input-bytes)", EXIT_ENGINE)
        except OSError as exc:
            if exc.errno in _OUTPUT_ERRNOS:  # stdout on a full disk, a closed pipe
                from auditor.gate.outputs import discard_stdout

                discard_stdout()
                _fail(f"stdout: cannot write: {exc.strerror}", EXIT_INPUT)
            _fail(f"internal error: {type(exc).__name__}: {exc}", EXIT_ENGINE)
        except RecursionError:
            _fail("internal error: data nested too deeply", EXIT_ENGINE)
        except Exception as exc:  # last resort: a bug, never a traceback nor exit 1
            _fail(f"internal error: {type(exc).__name__}: {str(exc)[:300]}", EXIT_ENGINE)

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            result = super().main(args, prog_name, complete_var, False, **extra)
        except click.Abort:
            _fail("interrupted", 130)
        except click.ClickException as exc:  # usage errors echo the value given: redact it
            shown = io.StringIO()
            exc.show(file=shown)
            try:
                sys.stderr.write(redact_text(shown.getvalue()))
                sys.stderr.flush()
            except OSError:
                pass
            sys.exit(EXIT_INPUT)
        except MemoryError:
            _fail("out of memory", EXIT_ENGINE)
        except Exception as exc:
            _fail(f"internal error: {type(exc).__name__}: {str(exc)[:300]}", EXIT_ENGINE)
        sys.exit(result if isinstance(result, int) else EXIT_OK)


def engine_options(func):
    options = [
        click.option("--opa-url", envvar="TOKEN_AUDITOR_OPA_URL", help="Use this OPA server instead of starting one."),
        click.option("--opa-token-env", metavar="VAR", help="Environment variable holding the bearer token for --opa-url."),
        click.option("--opa-ca", type=click.Path(exists=True, dir_okay=False), help="CA bundle for an https --opa-url."),
        click.option("--opa-bin", help="OPA binary (else $OPA_BIN, .bin/opa, PATH)."),
        click.option("--opa-timeout", type=click.FloatRange(0.1, 86400), default=DEFAULT_TIMEOUT, show_default=True,
                     help="Seconds one OPA request (an upload, one chunk evaluated) may take."),
        click.option("--opa-deadline", type=click.FloatRange(0.1, 604800), default=DEFAULT_DEADLINE, show_default=True,
                     help="Seconds the whole conversation with OPA may take."),
        click.option("--chunk-size", type=click.IntRange(1, 10000), default=2000, show_default=True,
                     help="Tokens per OPA request."),
        click.option("--workers", type=click.IntRange(1, 64), default=max(1, os.cpu_count() or 1), show_default=True,
                     help="Chunks evaluated in parallel."),
        click.option("--policy-dir", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_POLICY_DIR,
                     show_default="policies/", help="Rego policies and data to evaluate."),
        click.option("--config", "config_file", type=click.Path(dir_okay=False), help="YAML thresholds/catalogue overrides."),
        click.option("--now", help="Pin the clock (ISO 8601) for every time-based rule."),
        click.option("--max-input-bytes", type=click.IntRange(1), default=256 * 1024 * 1024, show_default=True),
        click.option("--org", help="GitHub org / GitLab instance for bare API exports."),
        click.option("--collected-at", help="Collection time (ISO 8601) for bare API exports."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _provider_options(org: str | None, collected_at: str | None) -> dict:
    """--org lands in every report: a token pasted there is redacted like one in an inventory."""
    return {"org": redact_text(org) if org else org, "collected_at": collected_at}


def _options(kw: dict) -> AuditOptions:
    token = None
    if kw.get("opa_token_env"):
        token = os.environ.get(kw["opa_token_env"])
        if token is None:
            raise InputError(f"--opa-token-env {kw['opa_token_env']}: that variable is not set")
    provider_options = _provider_options(kw.get("org"), kw.get("collected_at"))
    return AuditOptions(
        now=kw.get("now"),
        config_file=kw.get("config_file"),
        policy_dir=Path(kw.get("policy_dir") or DEFAULT_POLICY_DIR),
        max_input_bytes=kw.get("max_input_bytes") or 256 * 1024 * 1024,
        engine=EngineOptions(
            opa_url=kw.get("opa_url"), opa_token=token, opa_ca=kw.get("opa_ca"), opa_bin=kw.get("opa_bin"),
            chunk_size=kw.get("chunk_size") or 2000, workers=kw.get("workers") or 1,
            timeout=kw.get("opa_timeout") or DEFAULT_TIMEOUT, deadline=kw.get("opa_deadline") or DEFAULT_DEADLINE,
        ),
        provider_options=provider_options,
    )


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="token-auditor")
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
@click.option("--allow-broad-waivers", is_flag=True,
              help="Accept waivers that pin no token (provider only, or a name of wildcards only).")
@engine_options
def audit(paths, fmts, outputs, output_dir, fail_on, baseline_file, write_baseline, waivers_file,
          allow_broad_waivers, **kw):
    """Audit inventories (files, directories, - for stdin) and report findings."""
    from auditor.gate import apply_gate, baseline_document, load_baseline, load_waivers
    from auditor.gate.outputs import commit_outputs, plan_outputs

    plan = plan_outputs(fmts, outputs, output_dir, formatters())
    now = resolve_now(kw.get("now"))
    kw["now"] = now
    waivers = (waivers_file, load_waivers(waivers_file, now, policy_dir=kw.get("policy_dir"),
                                          allow_broad=allow_broad_waivers)) if waivers_file else None
    baseline = (baseline_file, load_baseline(baseline_file)) if baseline_file else None
    report = run_audit(list(paths), _options(kw))
    failing = apply_gate(report, fail_on, baseline, waivers)
    written = [(output, render(report, fmt)) for fmt, output in plan]
    if write_baseline:
        written.append((write_baseline, baseline_document(report.findings)))
    commit_outputs(written)
    sys.exit(EXIT_FINDINGS if failing else EXIT_OK)


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--max-input-bytes", type=click.IntRange(1), default=256 * 1024 * 1024, show_default=True)
@click.option("--org", help="GitHub org / GitLab instance for bare API exports.")
@click.option("--collected-at", help="Collection time (ISO 8601) for bare API exports.")
def validate(paths, max_input_bytes, org, collected_at):
    """Check inventories against their schemas; print what each holds."""
    options = AuditOptions(max_input_bytes=max_input_bytes,
                           provider_options=_provider_options(org, collected_at))
    inventory, _ = read_inventory(list(paths), options)
    for item in sorted(inventory.inputs, key=lambda i: i.path):
        click.echo(terminal_safe(f"ok {item.path}: {item.format}, {item.tokens} tokens"))
    if inventory.secrets:
        click.echo(f"warning: {len(inventory.secrets)} token value(s) found in the inputs and redacted "
                   "(raw-secret-in-inventory)", err=True)


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("-o", "--output", help="Write here (atomically) instead of stdout.")
@click.option("--now", help="The input.now the policies will see (default: current time).")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="YAML overrides, as input.config.")
@click.option("--max-input-bytes", type=click.IntRange(1), default=256 * 1024 * 1024, show_default=True)
@click.option("--org", help="GitHub org / GitLab instance for bare API exports.")
@click.option("--collected-at", help="Collection time (ISO 8601) for bare API exports.")
def normalize(paths, output, now, config_file, max_input_bytes, org, collected_at):
    """Write the normalized input exactly as the policies receive it (for plain `opa eval`)."""
    from auditor.audit import load_config

    options = AuditOptions(now=now, config_file=config_file, max_input_bytes=max_input_bytes,
                           provider_options=_provider_options(org, collected_at))
    config = load_config(config_file)
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
def report(result, fmt, output):
    """Render a saved JSON report (from `audit --format json`) in any format, without re-auditing."""
    from auditor.report.saved import load_report

    if fmt not in formatters():
        raise InputError(f"unknown format {fmt!r}; known: {', '.join(sorted(formatters()))}")
    emit(render(load_report(result), fmt), output)


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
        body = [[r["id"], r["title"], r["status"] if saved else r["coverage"],
                 ", ".join(r["failed_rules"] if saved and r["failed_rules"] else r["rules"]) or "manual"]
                for r in rows]
        click.echo(tabulate(body, headers=columns, tablefmt=style, maxcolwidths=[None, 60, None, 60]))
        missing = sorted({m for r in rows for m in r["missing_rules"]})
        if missing:
            click.echo(f"mapped rules not in this catalogue: {', '.join(missing)}")
        click.echo("")



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
@click.option("--allow-broad-waivers", is_flag=True,
              help="Accept waivers that pin no token (provider only, or a name of wildcards only).")
@click.option("--no-findings", is_flag=True, help="Compare tokens only; do not evaluate the policies (no OPA needed).")
@engine_options
def diff(base, head, fmts, outputs, output_dir, fail_on, fail_on_broadening, waivers_file, allow_broad_waivers,
         no_findings, **kw):
    """Compare two inventories (BASE before, HEAD after): access broader/narrower per token, findings new/resolved."""
    from auditor.gate import load_waivers
    from auditor.gate.diff_format import FORMATS, RENDERERS
    from auditor.gate.diff_run import run_diff
    from auditor.gate.outputs import commit_outputs, plan_outputs

    plan = plan_outputs(fmts, outputs, output_dir, set(FORMATS), stem="token-auditor-diff")
    now = resolve_now(kw.get("now"))
    kw["now"] = now
    waivers = (waivers_file, load_waivers(waivers_file, now, policy_dir=kw.get("policy_dir"),
                                          allow_broad=allow_broad_waivers)) if waivers_file else None
    data = run_diff([base], [head], _options(kw), fail_on=fail_on, fail_on_broadening=fail_on_broadening,
                    with_findings=not no_findings, waivers=waivers)
    commit_outputs([(output, RENDERERS[fmt](data)) for fmt, output in plan])
    sys.exit(EXIT_OK if data["gate"]["passed"] else EXIT_FINDINGS)

if __name__ == "__main__":
    main()
