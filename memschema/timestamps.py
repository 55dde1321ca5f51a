"""Raw epoch values shown the way people read them: ISO 8601 in UTC beside the stored number."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

# Units the formats store, as (symbol shown after the raw value, seconds per unit).
UNITS = {"s": ("s", 1), "ms": ("ms", 10**-3), "us": ("µs", 10**-6)}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def iso8601(value: int, unit: str = "s") -> str | None:
    """`value` (integer `unit`s since the Unix epoch, UTC) as ISO 8601, e.g. `2026-01-01T00:00:00Z`;
    None when it lies outside the years 1..9999 (a stored value can be anything)."""
    _, scale = UNITS[unit]
    micros = int(value) if unit == "us" else int(value) * round(scale * 10**6)
    try:
        when = _EPOCH + timedelta(microseconds=micros)
    except OverflowError:
        return None
    spec = "seconds" if when.microsecond == 0 else "microseconds"
    return when.isoformat(timespec=spec).replace("+00:00", "Z")


def stamp(value: int, unit: str = "s") -> str:
    """The raw value with its unit and, when it is a representable time, ISO 8601 beside it:
    `1767225600000000 µs (2026-01-01T00:00:00Z)`."""
    symbol, _ = UNITS[unit]
    iso = iso8601(value, unit)
    return f"{int(value)} {symbol} ({iso if iso else 'not a representable time'})"
