"""token-auditor: policy-as-code audit of API-token permissions on a real OPA server."""

__version__ = "0.1.0"
