"""Stage 3: the one token model every provider is normalized into (see token-inventory.v1 schema)."""

from auditor.model.inventory import Inventory, Skipped, token_key
from auditor.model.timestamps import normalize_time

__all__ = ["Inventory", "Skipped", "normalize_time", "token_key"]
