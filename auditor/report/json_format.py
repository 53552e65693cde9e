"""`--format json`: the report document itself (schema: `token-auditor schema report`)."""

import json

from auditor.report.model import Report


class JsonFormat:
    def format(self, report: Report) -> str:
        return json.dumps(report.data, indent=2, ensure_ascii=False, sort_keys=False) + "\n"
