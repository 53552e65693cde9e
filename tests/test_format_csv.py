"""`--format csv`: one finding per row, fixed columns, CRLF rows, formulas defused.

(A real audit read back with a spreadsheet-hostile inventory: test_cli_gate_ux.py.)"""

from __future__ import annotations

from auditor.report.csv_format import safe_cell
from auditor.report.formats import FORMATS
from tests.format_support import small_report


def test_literal_rows_with_state_and_waiver_expiry():
    assert FORMATS["csv"].render(small_report()) == (
        "state,severity,rule_id,provider,token_name,token_id,owner,message,action,recommendation,file,pointer,line,"
        "waiver_expires,fingerprint\r\n"
        "new,high,broad-scope,github,deploy,1,alice,deploy holds repo,replace,Replace it with a fine-grained token,"
        "inv.json,/tokens/1,3,,aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n"
        "waived,high,no-expiry,github,notes,2,bob,notes never expires,rotate,Set an expiry,inv.json,/tokens/2,3,"
        "2026-12-31,bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\r\n"
        "new,medium,long-lived,github,deploy,1,alice,deploy is 400 days old,rotate,Rotate it,inv.json,/tokens/1,3,,"
        "cccccccccccccccccccccccccccccccc\r\n"
    )
    assert FORMATS["csv"].extension == "csv"


def test_cells_a_spreadsheet_would_evaluate_are_defused():
    assert [safe_cell(v) for v in ("=1+1", "+x", "-2", "@SUM(A1)", "\tx", "plain", None, True, 3)] == [
        "'=1+1",
        "'+x",
        "'-2",
        "'@SUM(A1)",
        "'\tx",
        "plain",
        "",
        "true",
        "3",
    ]
