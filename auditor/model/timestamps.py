"""ISO 8601 handling: every time the policies see is RFC 3339 UTC with a `Z`."""

from __future__ import annotations

from datetime import UTC, datetime


def parse_time(value: str) -> datetime:
    text = value.strip().replace(" ", "T", 1)
    if text.endswith(("z", "Z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def format_time(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    if moment.microsecond:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def normalize_time(value) -> str | None:
    """None stays None; any accepted ISO 8601 text becomes canonical RFC 3339 UTC."""
    if value is None:
        return None
    try:
        return format_time(parse_time(str(value)))
    except OverflowError:  # e.g. 9999-12-31T23:59:59-01:00 has no UTC date-time
        raise ValueError(f"{value!r} is out of range") from None
