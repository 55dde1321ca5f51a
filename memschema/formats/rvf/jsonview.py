"""Text fields of RVF payloads (actions, descriptions) for JSON output."""

from __future__ import annotations


def text(raw: bytes) -> str:
    """ASCII/UTF-8 text of an action or description; undecodable bytes shown as \\xNN."""
    return bytes(raw).decode("utf-8", errors="backslashreplace")
