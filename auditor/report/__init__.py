"""Stage 6: reports. The document (model.py), shared wording (wording.py) and one module per output format;
auditor/report/formats.py holds the Format interface and the registry of formats by name."""

from auditor.report.model import Report

__all__ = ["Report"]
