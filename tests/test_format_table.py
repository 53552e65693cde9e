"""`--format table`: findings by severity with what to do, the plans, the gate's verdict; grid or compact layout.

(CLI behaviour of the table under COLUMNS, colour, --show and --quiet: test_cli_gate_ux.py.)"""

from __future__ import annotations

from auditor.report.formats import FORMATS
from auditor.report.table import TableFormat, verdict_line
from tests.format_support import small_report


def test_registered_as_table_with_txt_files():
    assert (FORMATS["table"].name, FORMATS["table"].extension) == ("table", "txt")


def test_compact_layout_literal():
    assert TableFormat(width=80).render(small_report()) == (
        "token-auditor 9.9.9 · OPA 1.22.3 · now 2026-11-25T00:00:00Z\n"
        "2 tokens (2 audited, 0 skipped) · 3 findings on 2 tokens · 2 high, 1 medium\n"
        "\n"
        "HIGH (1)\n"
        "[new] broad-scope · github · deploy (ghp_…aaaa) · owner alice\n"
        "    deploy holds repo\n"
        "    do: replace: Replace it with a fine-grained token\n"
        "      + ask the owner: Which other repositories?\n"
        "      + repositories: acme/app\n"
        "      + permissions: contents:write, metadata:read\n"
        "\n"
        "MEDIUM (1)\n"
        "[new] long-lived · github · deploy (ghp_…aaaa) · owner alice\n"
        "    deploy is 400 days old\n"
        "    do: rotate: Rotate it\n"
        "\n"
        "1 finding not shown (1 waived); --show all lists them\n"
        "\n"
        "gate: FAIL (fail-on high): 1 new high finding; 1 new below high, 1 waived\n"
    )


def test_grid_layout_rows_and_show_all():
    counted = TableFormat().render(small_report())
    assert (
        "│ broad-scope │ github       │ deploy holds repo │ replace: Replace it with a fine-grained token │" in counted
    )
    assert (
        "│ [new]       │ deploy       │                   │ + ask the owner: Which other repositories?    │" in counted
    )
    assert "notes" not in counted  # waived: summed up, not listed
    every = TableFormat(show="all").render(small_report())
    assert (
        "│ [waived]    │ notes        │                     │                                               │" in every
    )
    assert "not shown" not in every


def test_verdict_reads_the_gate_state_it_is_given():
    report = small_report()
    assert verdict_line(report.data) == "gate: FAIL (fail-on high): 1 new high finding; 1 new below high, 1 waived"
    for finding in report.findings:  # the table trusts the gate: it never works the state out again
        finding["fails_gate"] = False
    assert (
        verdict_line(report.data)
        == "gate: PASS (fail-on high): no new finding at high or above; 2 new below high, 1 waived"
    )


def test_fail_on_never_passes_and_says_so():
    line = verdict_line(small_report("never").data)
    assert line == "gate: PASS (fail-on never): 2 new findings, none can fail the gate; 1 waived"
