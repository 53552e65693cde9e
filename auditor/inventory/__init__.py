"""Stage 1: read inventory files (JSON/YAML, files, directories, stdin) safely into documents."""

from auditor.inventory.loader import Document, load_paths

__all__ = ["Document", "load_paths"]
