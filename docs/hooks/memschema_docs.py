"""MkDocs hook: expand the `<!-- memschema:KIND ARGS -->` markers of the pages with text generated at
build time from the code itself, so the site cannot drift from it.

- `<!-- memschema:cli-reference -->`: every command of `memschema.cli.build_parser()` with its
  usage, options, examples, JSON keys and exit codes;
- `<!-- memschema:formats -->`: the registered formats, variants and extensions;
- `<!-- memschema:declarations PATTERN... -->`: a field table (offset, size, type, name, meaning)
  of each registered declaration whose `format.name` matches a pattern (`rvf.*`), from
  `memschema.schemas.describe`;
- `<!-- memschema:byte-map SAMPLE -->`: the byte map of a `memschema demo` sample, printed by
  `memschema hexdump SAMPLE` when the installed memschema has that command (a note until then).

An unknown marker fails the build.  The functions take and return Markdown, so the tests call them
without MkDocs.
"""

from __future__ import annotations

import argparse
import contextlib
import fnmatch
import io
import re
import tempfile
from functools import cache
from pathlib import Path

MARKER = re.compile(r"<!-- memschema:(?P<kind>[a-z-]+)(?P<args>[^>]*?)-->")

# struct format characters (construct FormatField) -> the names the format documents use.
_NUMBERS = {"B": "u8", "b": "i8", "H": "u16", "h": "i16", "I": "u32", "i": "i32", "L": "u32", "l": "i32",
            "Q": "u64", "q": "i64", "e": "f16", "f": "f32", "d": "f64", "?": "bool"}
_ORDER = {"le": "LE", "be": "BE", "native": ""}


def on_page_markdown(markdown: str, page, config, files) -> str:  # noqa: ARG001 - MkDocs signature
    return expand(markdown)


def expand(markdown: str) -> str:
    def one(m: re.Match) -> str:
        kind, args = m["kind"], m["args"].split()
        if kind not in GENERATORS:
            raise ValueError(f"unknown marker memschema:{kind} (known: {', '.join(GENERATORS)})")
        return GENERATORS[kind](args)
    return MARKER.sub(one, markdown)


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


# --- formats and declarations -------------------------------------------------------------------

def formats_table(_args: list[str]) -> str:
    from memschema import registry
    rows = ["| format id | what | variants | files |", "|---|---|---|---|"]
    for fmt in registry.formats():
        variants = ", ".join(f"`{v}`" for v in fmt.variants) or "—"
        rows.append(f"| `{fmt.name}` | {_cell(fmt.title)} | {variants} | {' '.join(fmt.extensions)} |")
    return "\n".join(rows)


_FIELD = re.compile(r"\b(le|be|native) (\S)(?=\)|$)")


def readable_type(type_name: str) -> str:
    """`le L` -> `u32 LE`, `Enum(le B)` -> `Enum(u8)`; other construct names pass through."""
    def one(m: re.Match) -> str:
        name = _NUMBERS.get(m[2])
        if name is None:
            return m[0]
        return name if name[1:] == "8" else f"{name} {_ORDER[m[1]]}".strip()
    return _FIELD.sub(one, type_name)


def field_rows(fields: list[dict], prefix: str = "", base: int | None = 0, relative: bool = False) -> list[str]:
    """Table rows for `fields` (from `schemas.describe`), nested Structs flattened into dotted names.

    Offsets are absolute within the declaration while every earlier size is fixed; inside a
    repeated element (`Array`, `GreedyRange`, ...) they are relative to the element (`+N`)."""
    rows = []
    for f in fields:
        name = f"{prefix}{f['name']}"
        if f["offset"] is None or base is None:
            offset = "var"
        else:
            offset = f"+{base + f['offset']}" if relative else str(base + f["offset"])
        size = "var" if f["size"] is None else str(f["size"])
        rows.append(f"| {offset} | {size} | `{_cell(readable_type(f['type']))}` | `{name}` | {_cell(f['doc'])} |")
        if f.get("fields"):
            repeated = f["type"] != "struct"
            if repeated:
                rows.extend(field_rows(f["fields"], f"{name}[].", 0, True))
            else:
                inner = None if f["offset"] is None or base is None else base + f["offset"]
                rows.extend(field_rows(f["fields"], f"{name}.", inner, relative))
    return rows


def declarations(patterns: list[str]) -> str:
    import memschema
    from memschema.schemas import describe
    known = memschema.declarations()
    chosen = list(dict.fromkeys(n for p in patterns for n in sorted(known) if fnmatch.fnmatchcase(n, p)))
    if not chosen:
        raise ValueError(f"memschema:declarations {' '.join(patterns)} matches no registered declaration")
    out = []
    for name in chosen:
        info = describe(known[name])
        size = "variable size" if info["size"] is None else f"{info['size']} bytes"
        out.append(f"#### `{name}`\n\n{size}" + (f": {info['doc']}" if info["doc"] else "") + "\n")
        if info["fields"]:
            out.append("| offset | size | type | name | meaning |\n|---:|---:|---|---|---|")
            out.append("\n".join(field_rows(info["fields"])))
        out.append("")
    return "\n".join(out)


# --- byte maps (filled in by `memschema hexdump` once it exists) ----------------------------------

@cache
def _samples_folder() -> tempfile.TemporaryDirectory:
    """The samples of `memschema demo`, written once per build (removed when the build exits)."""
    from memschema.cli import main
    folder = tempfile.TemporaryDirectory(prefix="memschema-docs-")
    with contextlib.redirect_stdout(io.StringIO()):
        main(["demo", folder.name])
    return folder


def _samples() -> Path:
    return Path(_samples_folder().name)


def byte_map(args: list[str]) -> str:
    from memschema.cli import build_parser, main
    (sample,) = args
    path = _samples() / sample
    if not path.is_file():
        raise ValueError(f"memschema:byte-map {sample}: `memschema demo` writes no such sample")
    if "hexdump" not in _commands(build_parser()):
        return (f'!!! note "Byte map of `{sample}`"\n    Generated here from `memschema hexdump {sample}` '
                "(the sample `memschema demo` writes) once memschema has that command.\n")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        main(["hexdump", str(path)])
    return f"Byte map of `{sample}` (`memschema hexdump {sample}`):\n\n```text\n{out.getvalue().rstrip()}\n```\n"


# --- the command line ---------------------------------------------------------------------------------

def _commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def _option_rows(parser: argparse.ArgumentParser) -> list[str]:
    rows = ["| argument | meaning |", "|---|---|"]
    for a in parser._actions:
        if isinstance(a, argparse._HelpAction):
            continue
        if a.option_strings:
            value = f" {a.metavar or a.dest.upper()}" if a.nargs != 0 else ""
            name = ", ".join(f"`{flag}{value}`" for flag in a.option_strings)
        else:
            name = a.metavar or a.dest
            name += {"+": " (one or more)", "*": " (any number)", "?": " (optional)"}.get(a.nargs, "")
            name = f"`{name}`"
        rows.append(f"| {name} | {_cell(a.help or '')} |")
    return rows


def cli_reference(_args: list[str]) -> str:
    from memschema.cli import build_parser
    from memschema.cli.common import EXIT_CODES_HELP
    parser = build_parser()
    out = ["## Exit codes\n", "```text", EXIT_CODES_HELP, "```\n"]
    for name, sub in _commands(parser).items():
        out += [f"## `memschema {name}`\n", _cell(sub.description or ""), "",
                "```text", sub.format_usage().strip(), "```\n"]
        out += _option_rows(sub) + [""]
        out += ["**Examples**\n", "```text", sub.get_default("doc_examples").rstrip(), "```\n"]
        out += ["**JSON output** (`--json`): one object, `memschema_output` first, then\n",
                "| key | meaning |", "|---|---|"]
        out += [f"| `{k}` | {_cell(v)} |" for k, v in sub.get_default("doc_json_keys").items()]
        out.append("")
    return "\n".join(out)


GENERATORS = {"cli-reference": cli_reference, "formats": formats_table, "declarations": declarations,
              "byte-map": byte_map}
