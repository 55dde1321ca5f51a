"""A small YAML writer for the generated `.ksy` files: mappings, sequences, ints, bools and strings.

Only what the generator emits is supported, so the output is predictable and diffable; strings that
are not plainly safe are written as JSON strings, which are valid YAML double-quoted scalars.
"""

from __future__ import annotations

import json
import re

_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_ .,+\-*/%()<>=!\[\]'|&^~?]*\Z")
_RESERVED = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"}


def scalar(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if value is None:
        return "null"
    text = str(value)
    if (_PLAIN.match(text) and text.lower() not in _RESERVED and not text.endswith(" ")
            and "  " not in text and " #" not in text):
        return text
    return json.dumps(text, ensure_ascii=False)


def _key(key) -> str:
    if isinstance(key, int) and not isinstance(key, bool):
        return str(key)
    text = str(key)
    return text if re.fullmatch(r"-?[A-Za-z_][A-Za-z0-9_:\-]*", text) and text.lower() not in _RESERVED \
        else json.dumps(text, ensure_ascii=False)


def _lines(value, indent: int) -> list[str]:
    pad = " " * indent
    out: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if (isinstance(item, dict) and item) or (isinstance(item, list) and any(isinstance(v, dict) for v in item)):
                out.append(f"{pad}{_key(key)}:")
                out.extend(_lines(item, indent + 2))
            else:
                out.append(f"{pad}{_key(key)}: {_inline(item)}")
        return out
    for item in value:
        if isinstance(item, dict) and item:
            sub = _lines(item, indent + 2)
            out.append(f"{pad}- {sub[0].lstrip()}")
            out.extend(sub[1:])
        else:
            out.append(f"{pad}- {_inline(item)}")
    return out


def _inline(value) -> str:
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[" + ", ".join(_inline(v) for v in value) + "]"
    return scalar(value)


def dump(value: dict, header: str = "") -> str:
    """YAML text of `value` (a dict), preceded by `header` as comment lines."""
    comments = [f"# {line}".rstrip() for line in header.splitlines()]
    return "\n".join(comments + _lines(value, 0)) + "\n"
