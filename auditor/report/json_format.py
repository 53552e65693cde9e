"""`--format json`: the report document itself (schema: `token-auditor schema report`)."""

import json

from auditor.report.model import Report

try:  # optional speed-up: same bytes as json.dumps(indent=2), about 5x faster on large reports
    import orjson
except ImportError:  # pragma: no cover - orjson is a pinned dependency; stdlib json is the fallback
    orjson = None


class JsonFormat:
    def format(self, report: Report) -> str:
        if orjson is not None:
            try:
                return orjson.dumps(report.data, option=orjson.OPT_INDENT_2).decode() + "\n"
            except TypeError:  # a value orjson refuses (e.g. an int beyond 64 bits): stdlib below
                pass
        return json.dumps(report.data, indent=2, ensure_ascii=False, sort_keys=False) + "\n"
