"""Command line: audit, validate, normalize, rules, schema, report, plan, frameworks, diff, collect, bundle.

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
from typing import NoReturn

import click

from auditor import __version__
from auditor.audit import DEFAULT_POLICY_DIR, AuditOptions, EngineOptions, read_inventory, resolve_now, run_audit
from auditor.config import RuleSelection, discover, load_config, policy_config
from auditor.engine.bundle import SIGNING_ALGORITHMS as BUNDLE_SIGNING_ALGORITHMS
from auditor.engine.client import DEFAULT_DEADLINE, DEFAULT_TIMEOUT
from auditor.errors import EXIT_ENGINE, EXIT_FINDINGS, EXIT_INPUT, EXIT_OK, AuditorError, InputError, ValidationFailed
from auditor.findings import load_rules
from auditor.findings.finding import FAIL_ON
from auditor.inventory.loader import DEFAULT_MAX_BYTES
from auditor.inventory.validate import load_schema, schema_names
from auditor.progress import progress_display
from auditor.redaction import redact_document, redact_text
from auditor.report.formats import FORMATS, render
from auditor.report.table import MAX_ROWS, SHOW, TableFormat, terminal_width, use_colour, verdict_line
from auditor.report.text import terminal_safe


def emit(text: str, output: str | None) -> None:
    """One output: a file (atomically), a device or FIFO (in place), or stdout."""
    from auditor.gate.outputs import commit_outputs

    commit_outputs([(output, text)])


def table_text(report, to_stdout: bool, show: str, max_rows: int = 0) -> str:
    """The table: for a file plain, full width and whole; for stdout fitted to $COLUMNS/the terminal, coloured on a
    tty, at most max_rows rows per severity (0: all)."""
    if not to_stdout:
        return TableFormat(show=show).render(report)
    return TableFormat(
        show=show, width=terminal_width(sys.stdout), colour=use_colour(sys.stdout), max_rows=max_rows or None
    ).render(report)


max_rows_option = click.option(
    "--max-rows",
    type=click.IntRange(0),
    default=MAX_ROWS,
    show_default=True,
    help="Table on stdout: at most N findings (and plans) per severity, then one line saying how many more; "
    "0: all. A table written with -o is always whole.",
)


def exit_with_error(message: str, code: int) -> NoReturn:
    """Print one redacted, terminal-safe error line and exit with the documented code."""
    line = " ".join(terminal_safe(redact_text(str(message)), keep_newlines=True).splitlines())
    try:
        click.echo(f"token-auditor: error: {line}", err=True)
    except OSError:
        pass
    sys.exit(code)


_OUTPUT_ERRNOS = {errno.EPIPE, errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EFBIG}


class ErrorHandlingGroup(click.Group):
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
            exit_with_error(str(exc), exc.exit_code)
        except KeyboardInterrupt:
            exit_with_error("interrupted", 130)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except MemoryError:
            exit_with_error("out of memory (an input too large for this machine? see --max-input-bytes)", EXIT_ENGINE)
        except OSError as exc:
            if exc.errno in _OUTPUT_ERRNOS:  # stdout on a full disk, a closed pipe
                from auditor.gate.outputs import discard_stdout

                discard_stdout()
                exit_with_error(f"stdout: cannot write: {exc.strerror}", EXIT_INPUT)
            exit_with_error(f"internal error: {type(exc).__name__}: {exc}", EXIT_ENGINE)
        except RecursionError:
            exit_with_error("internal error: data nested too deeply", EXIT_ENGINE)
        except Exception as exc:  # last resort: a bug, never a traceback nor exit 1
            exit_with_error(f"internal error: {type(exc).__name__}: {str(exc)[:300]}", EXIT_ENGINE)

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            result = super().main(args, prog_name, complete_var, False, **extra)
        except click.Abort:
            exit_with_error("interrupted", 130)
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
            exit_with_error("out of memory", EXIT_ENGINE)
        except Exception as exc:
            exit_with_error(f"internal error: {type(exc).__name__}: {str(exc)[:300]}", EXIT_ENGINE)
        sys.exit(result if isinstance(result, int) else EXIT_OK)


def existing_policy_dir(_ctx, _param, value: Path) -> Path:
    """A mistyped --policy-dir is an input error, not a run with no rule."""
    if not value.is_dir():
        raise InputError(f"--policy-dir {value}: no such directory")
    return value


# How inputs are read, for every command that reads inventories. --org and --collected-at say what a bare API
# export does not say about itself.
INPUT_OPTIONS = [
    click.option(
        "--max-input-bytes",
        type=click.IntRange(1),
        default=DEFAULT_MAX_BYTES,
        show_default=True,
        help="Refuse a larger input file where it is read whole (YAML, other JSON exports, any --format but jsonl and "
        "json). --format jsonl and json stream token-inventory/v1 (.json, .jsonl) and huggingface-inventory/v1 (.json) "
        "files: no size limit there.",
    ),
    click.option("--org", help="GitHub org / GitLab instance for bare API exports."),
    click.option("--collected-at", help="Collection time (ISO 8601) for bare API exports."),
]


def input_options(func):
    for option in reversed(INPUT_OPTIONS):
        func = option(func)
    return func


def engine_options(func):
    options = [
        click.option(
            "--opa-url",
            envvar="TOKEN_AUDITOR_OPA_URL",
            multiple=True,
            help="Use this OPA server instead of starting one; repeat it, or give @FILE (one URL a line), "
            "for a fleet serving one bundle (docs/fleet.md).",
        ),
        click.option(
            "--opa-token-env", metavar="VAR", help="Environment variable holding the bearer token for --opa-url."
        ),
        click.option(
            "--opa-ca", type=click.Path(exists=True, dir_okay=False), help="CA bundle for an https --opa-url."
        ),
        click.option("--opa-bin", help="OPA binary (else $OPA_BIN, .bin/opa, PATH)."),
        click.option(
            "--opa-timeout",
            type=click.FloatRange(0.1, 86400),
            default=DEFAULT_TIMEOUT,
            show_default=True,
            help="Seconds one OPA request (an upload, one chunk evaluated) may take.",
        ),
        click.option(
            "--opa-deadline",
            type=click.FloatRange(0.1, 604800),
            default=DEFAULT_DEADLINE,
            show_default=True,
            help="Seconds the whole conversation with OPA may take.",
        ),
        click.option(
            "--chunk-size",
            type=click.IntRange(1, 10000),
            default=2000,
            show_default=True,
            help="Tokens per OPA request.",
        ),
        click.option(
            "--workers",
            type=click.IntRange(1, 64),
            default=max(1, os.cpu_count() or 1),
            show_default=True,
            help="Chunks evaluated in parallel.",
        ),
        click.option(
            "--policy-dir",
            type=click.Path(file_okay=False, path_type=Path),
            default=DEFAULT_POLICY_DIR,
            callback=existing_policy_dir,
            show_default="policies/",
            help="Rego policies and data to evaluate.",
        ),
        click.option(
            "--config",
            "config_file",
            type=click.Path(dir_okay=False),
            help="Config YAML (thresholds, catalogue overrides, skip_rules/only_rules); "
            "default: .token-auditor.yaml in the current directory or the repository root.",
        ),
        click.option("--no-config", is_flag=True, help="Ignore any .token-auditor.yaml."),
        click.option(
            "--skip-rule",
            "skip_rules",
            multiple=True,
            metavar="ID",
            help="Do not report this rule (repeatable); listed as skipped by configuration.",
        ),
        click.option(
            "--only-rule",
            "only_rules",
            multiple=True,
            metavar="ID",
            help="Report only these rules (repeatable); the others are listed as skipped by configuration.",
        ),
        click.option("--now", help="Pin the clock (ISO 8601) for every time-based rule."),
        *INPUT_OPTIONS,
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
    config_file = discover(kw.get("config_file"), kw.get("no_config", False))
    policy_dir = Path(kw.get("policy_dir") or DEFAULT_POLICY_DIR)
    selection = RuleSelection.build(
        kw.get("skip_rules") or (), kw.get("only_rules") or (), load_config(config_file), config_file
    )
    if selection:
        selection.check([r.id for r in load_rules(policy_dir)])
    return AuditOptions(
        now=kw.get("now"),
        config_file=config_file,
        rules=selection,
        policy_dir=policy_dir,
        max_input_bytes=kw.get("max_input_bytes") or DEFAULT_MAX_BYTES,
        engine=EngineOptions(
            opa_url=tuple(kw.get("opa_url") or ()) or None,
            opa_token=token,
            opa_ca=kw.get("opa_ca"),
            opa_bin=kw.get("opa_bin"),
            chunk_size=kw.get("chunk_size") or 2000,
            workers=kw.get("workers") or 1,
            timeout=kw.get("opa_timeout") or DEFAULT_TIMEOUT,
            deadline=kw.get("opa_deadline") or DEFAULT_DEADLINE,
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
    return "\n".join(
        [
            f"token-auditor {__version__}",
            opa,
            f"catalogue {catalogue.get('version') or 'unknown'} ({catalogue.get('date') or 'undated'})",
        ]
    )


def _print_version(ctx, _param, value):
    if value and not ctx.resilient_parsing:
        click.echo(version_text())
        ctx.exit(0)


@click.group(cls=ErrorHandlingGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Print the tool, OPA and rule catalogue versions and exit.",
)
def main():
    """Audit exported API-token inventories against Rego policies on a real OPA server."""


def _streamed_files(paths: list[str], plan: list, quiet: bool, gated) -> list[str] | None:
    """The inputs to audit as a stream: only `--format jsonl` and/or `json` (every other format renders the whole
    report), without baseline or waivers (they need every finding at once) or --quiet, and only when every input
    is a token-inventory/v1 file (.jsonl, or .json) or a huggingface-inventory/v1 .json export."""
    from auditor.stream import STREAMED_FORMATS, streamable

    if gated or quiet or any(fmt not in STREAMED_FORMATS for fmt, _ in plan):
        return None
    return streamable(paths)


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "-f",
    "--format",
    "fmts",
    multiple=True,
    help="Output format (repeatable): " + ", ".join(sorted(FORMATS)) + ". Default: table.",
)
@click.option(
    "-o",
    "--output",
    "outputs",
    multiple=True,
    help="Write the report here (atomically) instead of stdout; one per --format, in order.",
)
@click.option(
    "--output-dir",
    type=click.Path(file_okay=False),
    help="Write every --format to DIR/token-auditor.<ext> (txt, json, jsonl, csv, sarif, xml, md, html).",
)
@click.option(
    "--fail-on",
    type=click.Choice(FAIL_ON),
    default="high",
    show_default=True,
    help="Exit 1 when a finding is at or above this severity (waived and baseline findings excepted).",
)
@click.option(
    "--baseline",
    "baseline_file",
    type=click.Path(dir_okay=False),
    help="Earlier JSON report or baseline: its findings (by fingerprint) do not count.",
)
@click.option("--write-baseline", type=click.Path(dir_okay=False), help="Write this run's findings as a baseline.")
@click.option(
    "--waivers",
    "waivers_file",
    type=click.Path(dir_okay=False),
    help="YAML waivers (schema: token-auditor schema waivers).",
)
@click.option(
    "--show",
    type=click.Choice(SHOW),
    default="counted",
    show_default=True,
    help="Table rows: counted (new findings only; baseline and waived ones are summed up) or all.",
)
@click.option(
    "-q",
    "--quiet",
    is_flag=True,
    help="Print only the gate's verdict line on stdout (files from -o/--output-dir are still written).",
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress on stderr (phase, tokens done/total, rate, ETA, findings so far). Default: shown when stderr "
    "is a terminal and not --quiet; --progress elsewhere prints plain lines.",
)
@max_rows_option
@click.option(
    "--allow-broad-waivers",
    is_flag=True,
    help="Accept waivers that pin no token (provider only, or a name of wildcards only).",
)
@engine_options
def audit(
    paths,
    fmts,
    outputs,
    output_dir,
    fail_on,
    baseline_file,
    write_baseline,
    waivers_file,
    show,
    quiet,
    progress,
    max_rows,
    allow_broad_waivers,
    **kw,
):
    """Audit inventories (files, directories, - for stdin) and report findings."""
    from auditor.gate import apply_gate, baseline_document, load_baseline, load_waivers
    from auditor.gate.outputs import commit_outputs, plan_outputs

    plan = plan_outputs(fmts, outputs, output_dir, FORMATS)
    now = resolve_now(kw.get("now"))
    kw["now"] = now
    waivers = (
        (
            waivers_file,
            load_waivers(waivers_file, now, policy_dir=kw.get("policy_dir"), allow_broad=allow_broad_waivers),
        )
        if waivers_file
        else None
    )
    baseline = (baseline_file, load_baseline(baseline_file)) if baseline_file else None
    options = _options(kw)
    streamed = _streamed_files(list(paths), plan, quiet, baseline or waivers or write_baseline)
    with progress_display(progress, quiet) as display:
        options = display.attach(options)
        if streamed is not None:  # bounded memory: findings written chunk by chunk (auditor/stream.py)
            from auditor.stream import run_stream

            failing_count = run_stream(streamed, options, fail_on, plan, progress=options.progress)
        else:
            report = run_audit(list(paths), options)
    if streamed is not None:
        sys.exit(EXIT_FINDINGS if failing_count else EXIT_OK)
    report, failing = apply_gate(report, fail_on, baseline, waivers)
    written = []
    for fmt, output in plan:
        to_stdout = not output or output == "-"
        if quiet and to_stdout:
            continue
        written.append(
            (output, table_text(report, to_stdout, show, max_rows) if fmt == "table" else render(report, fmt))
        )
    if quiet:
        written.append((None, verdict_line(report.data) + "\n"))
    if write_baseline:
        written.append((write_baseline, baseline_document(report.findings)))
    commit_outputs(written)
    sys.exit(EXIT_FINDINGS if failing else EXIT_OK)


@main.command()
@click.argument("paths", nargs=-1, required=True)
@input_options
def validate(paths, max_input_bytes, org, collected_at):
    """Check inventories against their schemas; print what each holds."""
    options = AuditOptions(max_input_bytes=max_input_bytes, provider_options=_provider_options(org, collected_at))
    inventory, _ = read_inventory(list(paths), options)
    for item in sorted(inventory.inputs, key=lambda i: i.path):
        click.echo(terminal_safe(f"ok {item.path}: {item.format}, {item.tokens} tokens"))
    if inventory.secrets:
        click.echo(
            f"warning: {len(inventory.secrets)} token value(s) found in the inputs and redacted "
            "(raw-secret-in-inventory)",
            err=True,
        )


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("-o", "--output", help="Write here (atomically) instead of stdout.")
@click.option("--now", help="The input.now the policies will see (default: current time).")
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    help="Config YAML, its thresholds/catalogue as input.config (default: .token-auditor.yaml, as audit).",
)
@click.option("--no-config", is_flag=True, help="Ignore any .token-auditor.yaml.")
@input_options
def normalize(paths, output, now, config_file, no_config, max_input_bytes, org, collected_at):
    """Write the normalized input exactly as the policies receive it (for plain `opa eval`)."""
    config_file = discover(config_file, no_config)
    options = AuditOptions(
        now=now,
        config_file=config_file,
        max_input_bytes=max_input_bytes,
        provider_options=_provider_options(org, collected_at),
    )
    config = policy_config(load_config(config_file))
    inventory, _ = read_inventory(list(paths), options)
    document = inventory.policy_input(resolve_now(now), config or None)
    emit(json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n", output)


@main.command()
@click.option(
    "--policy-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_POLICY_DIR,
    callback=existing_policy_dir,
)
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
@click.option(
    "-f",
    "--format",
    "fmt",
    default="html",
    show_default=True,
    help="Output format: " + ", ".join(sorted(FORMATS)) + ".",
)
@click.option("-o", "--output", help="Write here (atomically) instead of stdout.")
@click.option(
    "--show",
    type=click.Choice(SHOW),
    default="counted",
    show_default=True,
    help="Table rows: counted (new findings only) or all (baseline and waived ones too).",
)
@max_rows_option
def report(result, fmt, output, show, max_rows):
    """Render a saved JSON report (from `audit --format json`) in any format, without re-auditing."""
    from auditor.saved_report import load_report

    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}; known: {', '.join(sorted(FORMATS))}")
    saved = load_report(result)
    to_stdout = not output or output == "-"
    emit(table_text(saved, to_stdout, show, max_rows) if fmt == "table" else render(saved, fmt), output)


@main.command()
@click.argument("result", type=click.Path(dir_okay=False))
@click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice(["json", "markdown", "sh"]),
    default="markdown",
    show_default=True,
    help="json (the plans), markdown (for a ticket or PR), sh (curl lines; sends nothing "
    "unless run with PLAN_ID/STEP).",
)
@click.option("-o", "--output", help="Write here (atomically) instead of stdout.")
@click.option(
    "--policy-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_POLICY_DIR,
    callback=existing_policy_dir,
    show_default="policies/",
    help="Catalogue to rebuild plans with, for reports saved without plans.",
)
def plan(result, fmt, output, policy_dir):
    """Remediation plans of a saved JSON report: one per token, with the providers' own requests."""
    from auditor.plan.render import plans_of
    from auditor.plan.render import render as render_plans
    from auditor.saved_report import load_report

    data = load_report(result).data
    emit(render_plans(plans_of(data, policy_dir, result), fmt, data), output)


@main.command()
@click.argument("name", required=False)
@click.option(
    "--policy-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_POLICY_DIR,
    callback=existing_policy_dir,
    show_default="policies/",
    help="Policies whose frameworks/ and rule catalogue to use.",
)
@click.option(
    "--report",
    "result",
    type=click.Path(dir_okay=False),
    help="A saved JSON report: show pass/fail/manual per requirement for its inventory.",
)
@click.option("-f", "--format", "fmt", type=click.Choice(["table", "json", "markdown"]), default="table")
def frameworks(name, policy_dir, result, fmt):
    """Compliance coverage: each framework requirement and the rules that check it (no NAME: every framework)."""
    from tabulate import tabulate

    from auditor.frameworks import assess, coverage, find_framework, load_frameworks

    found = load_frameworks(policy_dir)
    chosen = [find_framework(found, name)] if name else found
    saved = None
    if result:
        from auditor.saved_report import load_report

        saved = load_report(result).data
    catalogue = [r.as_dict() for r in load_rules(policy_dir)]
    tables = [(f, assess(f, saved) if saved else coverage(f, catalogue)) for f in chosen]
    if fmt == "json":
        click.echo(
            json.dumps(
                [
                    {"id": f.id, "title": f.title, "version": f.version, "url": f.url, "requirements": rows}
                    for f, rows in tables
                ],
                indent=2,
            )
        )
        return
    style = "github" if fmt == "markdown" else "simple"
    if not name and not saved:
        summary = [
            [
                f.id,
                f.title,
                len(r),
                sum(x["coverage"] == "automated" for x in r),
                sum(x["coverage"] == "partial" for x in r),
                sum(x["coverage"] == "manual" for x in r),
            ]
            for f, r in tables
        ]
        click.echo(
            tabulate(
                summary,
                headers=["framework", "title", "requirements", "automated", "partial", "manual"],
                tablefmt=style,
            )
        )
        return
    for framework, rows in tables:
        click.echo(f"{framework.title} [{framework.id}]")
        columns = ["id", "title", "status" if saved else "coverage", "rules"]
        body = [
            [r["id"], r["title"], r["status"] if saved else r["coverage"], _framework_rules(r, saved)] for r in rows
        ]
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
@click.option("-o", "--output", required=True, help="Write the bundle (gzipped tar) here, atomically.")
@click.option(
    "--policy-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_POLICY_DIR,
    callback=existing_policy_dir,
    show_default="policies/",
    help="Policies and data to put in the bundle (tests are left out).",
)
@click.option(
    "--signing-key",
    type=click.Path(exists=True, dir_okay=False),
    help="Sign the bundle with this key: a PEM private key (RSA, ECDSA) or a file holding an HMAC secret.",
)
@click.option(
    "--signing-alg",
    type=click.Choice(BUNDLE_SIGNING_ALGORITHMS),
    default="RS256",
    show_default=True,
    help="Signature algorithm (with --signing-key).",
)
@click.option("--opa-bin", help="OPA binary (else $OPA_BIN, .bin/opa, PATH).")
def bundle(output, policy_dir, signing_key, signing_alg, opa_bin):
    """Build an OPA bundle of the policies for a fleet of OPA servers (revision: catalogue version + content hash)."""
    from auditor.engine import find_opa
    from auditor.engine.bundle import build_bundle
    from auditor.gate.outputs import commit_outputs

    if output in ("-", "/dev/stdout") and sys.stdout.isatty():
        raise InputError("-o: refusing to write a gzipped bundle to a terminal; name a file")
    data, revision = build_bundle(policy_dir, find_opa(opa_bin), signing_key, signing_alg)
    commit_outputs([(output, data)])
    click.echo(f"bundle {output}: revision {revision}{', signed ' + signing_alg if signing_key else ''}", err=True)


@main.command()
@click.argument("base")
@click.argument("head")
@click.option(
    "-f", "--format", "fmts", multiple=True, help="table, json, markdown, sarif (repeatable). Default: table."
)
@click.option("-o", "--output", "outputs", multiple=True, help="Write here instead of stdout; one per --format.")
@click.option(
    "--output-dir", type=click.Path(file_okay=False), help="Write every --format to DIR/token-auditor-diff.<ext>."
)
@click.option(
    "--fail-on",
    type=click.Choice(FAIL_ON),
    default="high",
    show_default=True,
    help="Exit 1 when HEAD introduces a finding at or above this severity (waived ones excepted).",
)
@click.option("--fail-on-broadening", is_flag=True, help="Also exit 1 when any token's access got broader.")
@click.option(
    "--waivers", "waivers_file", type=click.Path(dir_okay=False), help="YAML waivers for introduced findings."
)
@click.option(
    "--allow-broad-waivers",
    is_flag=True,
    help="Accept waivers that pin no token (provider only, or a name of wildcards only).",
)
@click.option("--no-findings", is_flag=True, help="Compare tokens only; do not evaluate the policies (no OPA needed).")
@engine_options
def diff(
    base,
    head,
    fmts,
    outputs,
    output_dir,
    fail_on,
    fail_on_broadening,
    waivers_file,
    allow_broad_waivers,
    no_findings,
    **kw,
):
    """Compare two inventories (BASE before, HEAD after): access broader/narrower per token, findings new/resolved."""
    from auditor.gate import load_waivers
    from auditor.gate.diff_format import DIFF_FORMATS
    from auditor.gate.diff_run import run_diff
    from auditor.gate.outputs import commit_outputs, plan_outputs

    plan = plan_outputs(fmts, outputs, output_dir, DIFF_FORMATS, stem="token-auditor-diff")
    now = resolve_now(kw.get("now"))
    kw["now"] = now
    waivers = (
        (
            waivers_file,
            load_waivers(waivers_file, now, policy_dir=kw.get("policy_dir"), allow_broad=allow_broad_waivers),
        )
        if waivers_file
        else None
    )
    data = run_diff(
        [base],
        [head],
        _options(kw),
        fail_on=fail_on,
        fail_on_broadening=fail_on_broadening,
        with_findings=not no_findings,
        waivers=waivers,
    )
    commit_outputs([(output, DIFF_FORMATS[fmt].render(data)) for fmt, output in plan])
    sys.exit(EXIT_OK if data["gate"]["passed"] else EXIT_FINDINGS)


# -- collect: inventories straight from the providers' APIs (auditor/collectors, docs/collect.md) ----------


def _iso_time(ctx, param, value):
    from auditor.model.timestamps import normalize_time

    if value is None:
        return None
    try:
        return normalize_time(value)
    except ValueError:
        raise InputError(f"--collected-at {value!r} is not an ISO 8601 date-time") from None


def collect_options(func):
    options = [
        click.option("-o", "--output", required=True, help="Write the inventory here (atomically); - for stdout."),
        click.option(
            "--max-retries",
            type=click.IntRange(0, 20),
            default=5,
            show_default=True,
            help="Waits per call when rate limited (Retry-After, GitHub secondary limits).",
        ),
        click.option(
            "--max-wait",
            type=click.FloatRange(0),
            default=300.0,
            show_default=True,
            help="Longest single wait in seconds; a longer Retry-After fails that endpoint.",
        ),
        click.option(
            "--allow-partial",
            is_flag=True,
            help="Exit 0 (with warnings) when some endpoints failed; the file still records them.",
        ),
        click.option(
            "--collected-at", callback=_iso_time, help="Pin the file's collected_at (ISO 8601); default: now."
        ),
        click.option("-q", "--quiet", is_flag=True, help="No progress lines on stderr."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _finish_collect(provider: str, document: dict, log, detail: str, kw: dict) -> None:
    """Record the outcome in the file, write it atomically, exit by the documented contract."""
    from auditor.collectors.common import utc_now

    collected_at = utc_now(kw.get("collected_at"))
    document["collected_at"] = collected_at
    document["collection"] = log.document(detail, collected_at)
    # An API answer, a secret's location or key, or an option may itself hold a token value: never written.
    document, hits = redact_document(document, kw["output"])
    emit(json.dumps(document, indent=2, ensure_ascii=False) + "\n", kw["output"])
    if hits:
        places = ", ".join(sorted({hit.pointer for hit in hits})[:10])
        click.echo(
            f"token-auditor: warning: collect {provider}: {len(hits)} token value(s) in the collected data were "
            f"redacted before writing ({terminal_safe(places)})",
            err=True,
        )
    problems = log.problems()
    if not problems:
        return
    word = "warning" if kw.get("allow_partial") else "error"
    for line in problems:
        click.echo(f"token-auditor: {word}: collect {provider}: {redact_text(line)}", err=True)
    if not kw.get("allow_partial"):
        click.echo(
            f"token-auditor: error: collect {provider}: incomplete collection written to {kw['output']} "
            "(its collection.endpoints say what is missing); exit 3",
            err=True,
        )
        sys.exit(3)


def _collecting(provider: str):
    """Run a collector: SDK logs silenced, any unexpected error one redacted line with exit 3."""
    from contextlib import contextmanager

    from auditor.collectors.common import CollectionFailed, silence_sdk_logs

    @contextmanager
    def guard():
        silence_sdk_logs()
        try:
            yield
        except (AuditorError, KeyboardInterrupt, SystemExit):
            raise
        except Exception as exc:  # noqa: BLE001 - an SDK error must not print a traceback (or a token)
            raise CollectionFailed(f"collect {provider}: {type(exc).__name__}: {exc}") from None

    return guard()


@main.group()
def collect():
    """Collect an inventory from a provider's API (GitHub, GitLab, Hugging Face) with its own SDK."""


@collect.command("github")
@click.option("--org", required=True, help="The GitHub organization.")
@click.option("--app-id", envvar="GITHUB_APP_ID", help="GitHub App id (env GITHUB_APP_ID).")
@click.option(
    "--private-key",
    type=click.Path(dir_okay=False),
    envvar="GITHUB_APP_PRIVATE_KEY_FILE",
    help="The App's private key, PEM (env GITHUB_APP_PRIVATE_KEY_FILE).",
)
@click.option("--installation-id", type=click.IntRange(1), help="The App's installation on ORG (default: found).")
@click.option(
    "--token-env",
    metavar="VAR",
    help="Instead of an App: a fine-grained PAT in this variable (the PAT-grant endpoints are then skipped).",
)
@click.option(
    "--api-url",
    envvar="GITHUB_API_URL",
    default="https://api.github.com",
    show_default=True,
    help="REST API root (GitHub Enterprise Server: https://HOST/api/v3).",
)
@click.option("--no-outside-collaborators", is_flag=True, help="Do not list outside collaborators.")
@collect_options
def collect_github(org, app_id, private_key, installation_id, token_env, api_url, no_outside_collaborators, **kw):
    """GitHub org: fine-grained PAT grants and requests, SAML credential authorizations, members, installations."""
    from auditor.collectors.common import Progress, RetryBudget
    from auditor.collectors.github import GitHubCollector, read_private_key

    if bool(token_env) == bool(app_id or private_key):
        raise InputError("collect github: give --app-id and --private-key (GitHub App), or --token-env VAR")
    if not token_env and not (app_id and private_key):
        raise InputError("collect github: a GitHub App needs both --app-id and --private-key")
    progress = Progress("github", kw["quiet"])
    with _collecting("github"):
        collector = GitHubCollector(org, api_url, progress, RetryBudget(kw["max_retries"], kw["max_wait"], progress))
        if token_env:
            token = os.environ.get(token_env)
            if not token:
                raise InputError(f"--token-env {token_env}: that variable is not set")
            collector.login_token(token)
        else:
            collector.login_app(app_id, read_private_key(private_key), installation_id)
        document = collector.collect(with_outside_collaborators=not no_outside_collaborators)
    _finish_collect("github", document, collector.log, collector.auth_mode, kw)


@collect.command("gitlab")
@click.option("--url", "url", required=True, envvar="GITLAB_URL", help="GitLab instance, e.g. https://gitlab.com.")
@click.option(
    "--token-env",
    metavar="VAR",
    default="GITLAB_TOKEN",
    show_default=True,
    help="Environment variable holding the access token (scope read_api).",
)
@click.option(
    "--group",
    "groups",
    multiple=True,
    help="Walk this group (with subgroups and projects); repeatable. Default for admins: every group.",
)
@collect_options
def collect_gitlab(url, token_env, groups, **kw):
    """GitLab: personal, group and project access tokens (all pages), users with admin/bot/state flags."""
    from auditor.collectors.common import Progress, RetryBudget
    from auditor.collectors.gitlab import GitLabCollector

    token = os.environ.get(token_env)
    if not token:
        raise InputError(f"--token-env {token_env}: that variable is not set")
    progress = Progress("gitlab", kw["quiet"])
    with _collecting("gitlab"):
        collector = GitLabCollector(url, token, progress, RetryBudget(kw["max_retries"], kw["max_wait"], progress))
        document = collector.collect(list(groups))
    _finish_collect("gitlab", document, collector.log, collector.auth_mode, kw)


@collect.command("huggingface")
@click.option(
    "--env", "env_names", multiple=True, metavar="VAR", help="A token in this environment variable (repeatable)."
)
@click.option(
    "--dotenv",
    "dotenv_files",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="A dotenv file; every value shaped like an HF token is collected (repeatable).",
)
@click.option(
    "--k8s-secret",
    "k8s_files",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="Kubernetes Secret manifests, YAML (data base64 or stringData) (repeatable).",
)
@click.option(
    "--ci-secrets",
    "ci_files",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="CI secrets export: YAML/JSON list of {location, key, value, kind?} (repeatable).",
)
@click.option(
    "--values-file",
    "value_files",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="One token value per line (# comments) (repeatable).",
)
@click.option("--org", "orgs", multiple=True, help="Add this org's members and Spaces (needs --token-env).")
@click.option("--token-env", metavar="VAR", help="Token used for --org: members, Spaces, their secret/variable names.")
@click.option(
    "--salt-env",
    metavar="VAR",
    help="Salt for the values' HMAC (stable ids across runs); default: a new random salt per run.",
)
@click.option(
    "--endpoint",
    envvar="HF_ENDPOINT",
    default="https://huggingface.co",
    show_default=True,
    help="Hub URL (env HF_ENDPOINT).",
)
@collect_options
def collect_huggingface(
    env_names, dotenv_files, k8s_files, ci_files, value_files, orgs, token_env, salt_env, endpoint, **kw
):
    """Hugging Face: whoami-v2 of every token value found; org members, Spaces, secret and variable names."""
    from auditor.collectors.common import Progress, RetryBudget
    from auditor.collectors.huggingface import HuggingFaceCollector, TokenSources

    org_token = None
    if orgs and not token_env:
        raise InputError("collect huggingface: --org needs --token-env VAR (a token that can read the org)")
    if token_env:
        org_token = os.environ.get(token_env)
        if not org_token:
            raise InputError(f"--token-env {token_env}: that variable is not set")
    salt = None
    if salt_env:
        salt_text = os.environ.get(salt_env)
        if not salt_text:
            raise InputError(f"--salt-env {salt_env}: that variable is not set")
        salt = salt_text.encode("utf-8")
    progress = Progress("huggingface", kw["quiet"])
    with _collecting("huggingface"):
        sources = TokenSources()
        for name in env_names:
            sources.env(name)
        for path in dotenv_files:
            sources.dotenv(path)
        for path in k8s_files:
            sources.k8s(path)
        for path in ci_files:
            sources.ci(path)
        for path in value_files:
            sources.values_file(path)
        if not sources.found and not orgs:
            raise InputError(
                "collect huggingface: no token value found: give --env, --dotenv, --k8s-secret, "
                "--ci-secrets or --values-file (or --org)"
            )
        collector = HuggingFaceCollector(
            endpoint, progress, RetryBudget(kw["max_retries"], kw["max_wait"], progress), salt
        )
        document = collector.collect(sources, list(orgs), org_token)
    _finish_collect("huggingface", document, collector.log, collector.auth_mode, kw)


if __name__ == "__main__":
    main()
