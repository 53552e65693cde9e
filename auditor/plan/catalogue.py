"""The policy catalogue as Python sees it: the same data documents OPA loads, with --config overrides merged
the way lib.config merges them (objects merged, everything else replaced)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

RANK = {"none": 0, "read": 1, "write": 2, "admin": 3}


def _merge(base, override):
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = _merge(base.get(key), value) if key in base else value
        return merged
    return override


@lru_cache(maxsize=8)
def _providers(policy_dir: str) -> dict:
    root = Path(policy_dir) / "token_auditor" / "catalogue" / "providers"
    found = {}
    if root.is_dir():
        for path in sorted(root.glob("*/data.json")):
            found[path.parent.name] = json.loads(path.read_text())
    return found


class Catalogue:
    """Ratings and mappings of one provider's permissions, scopes and kinds."""

    def __init__(self, providers: dict, lifetime_days: int = 90):
        self.providers = providers
        self.lifetime_days = lifetime_days
        self._levels: dict[tuple[str, str], str | None] = {}

    @classmethod
    def load(cls, policy_dir: Path, config: dict | None = None) -> Catalogue:
        providers = _providers(str(policy_dir))
        override = ((config or {}).get("catalogue") or {}).get("providers") or {}
        settings = Path(policy_dir) / "token_auditor" / "settings" / "data.json"
        thresholds = json.loads(settings.read_text()).get("thresholds", {}) if settings.is_file() else {}
        thresholds = {**thresholds, **((config or {}).get("thresholds") or {})}
        return cls(_merge(providers, override) if override else providers, int(thresholds.get("max_lifetime_days", 90)))

    def of(self, provider: str) -> dict:
        return self.providers.get(provider) or {}

    def access_of(self, provider: str, permission: str) -> str | None:
        """Mirror of lib.tokens.access_of for the catalogue's explicit entries (unknown: None)."""
        key = (provider, permission)
        if key not in self._levels:
            self._levels[key] = self._access_of(provider, permission)
        return self._levels[key]

    def _access_of(self, provider: str, permission: str) -> str | None:
        entry = self.of(provider)
        for table in ("permissions", "scopes"):
            level = (entry.get(table) or {}).get(permission)
            if level:
                return level
        for prefix in entry.get("admin_prefixes") or []:
            if permission.startswith(prefix) and any(w in permission for w in ("write", "delete", "manage")):
                return "admin"
        return None
