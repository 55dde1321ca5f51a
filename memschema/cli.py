"""`memschema` command line: detect, inspect, dump, validate, convert, schemas (+ format commands).

Exit codes: 0 success / no errors, 1 a file has validation errors, 2 a file is unreadable or not a
memory file (or bad usage).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import api, registry
from .errors import FormatError
from .source import atomic_write

EXIT_OK, EXIT_FINDINGS, EXIT_UNREADABLE = 0, 1, 2


def _err(msg: str) -> None:
    print(f"memschema: {msg}", file=sys.stderr)


def _print_json(obj) -> None:
    json.dump(obj, sys.stdout, indent=2, ensure_ascii=False, allow_nan=False)
    sys.stdout.write("\n")


def cmd_detect(args) -> int:
    status = EXIT_OK
    for name in args.files:
        try:
            found = api.detect(name)
        except OSError as exc:
            _err(f"{name}: {exc.strerror or exc}")
            status = EXIT_UNREADABLE
            continue
        if found.is_memory_file:
            print(f"{name}: {found.id} ({found.description})")
        else:
            what = found.variant or "nothing known"
            print(f"{name}: {found.id}: not a binary memory file (looks like {what}: {found.description})")
            status = max(status, EXIT_UNREADABLE)
    return status


def cmd_inspect(args) -> int:
    try:
        doc = api.load(args.file, format=args.format)
    except FormatError as exc:
        _err(f"{args.file}: {exc}")
        return EXIT_UNREADABLE
    print(f"{args.file}: {doc.detection}")
    for line in doc.summary():
        print(f"  {line}")
    report = api.validate(args.file, format=args.format or doc.detection.id)
    print(f"  validation: {len(report.errors)} errors, {len(report.warnings)} warnings")
    return EXIT_OK


def cmd_dump(args) -> int:
    try:
        if args.as_decl:
            out = api.parse_as(args.as_decl, args.file)
        else:
            out = api.load(args.file, format=args.format).to_json()
    except FormatError as exc:
        _err(f"{args.file}: {exc}")
        return EXIT_UNREADABLE
    except KeyError as exc:
        _err(str(exc.args[0]))
        return EXIT_UNREADABLE
    _print_json(out)  # JSON is the only dump form; --json is accepted for clarity
    return EXIT_OK


def cmd_validate(args) -> int:
    status = EXIT_OK
    reports = []
    for name in args.files:
        try:
            report = api.validate(name, strict=args.strict, format=args.format)
        except OSError as exc:
            _err(f"{name}: {exc.strerror or exc}")
            status = EXIT_UNREADABLE
            continue
        reports.append(report)
        if not registry.Detection(report.format).is_memory_file or (
                report.errors and report.errors[0].code == "not_memory_file"):
            status = EXIT_UNREADABLE
        elif not report.ok:
            status = max(status, EXIT_FINDINGS)
        if not args.json:
            print(report)
    if args.json:
        _print_json([r.to_json() for r in reports])
    return status


def cmd_convert(args) -> int:
    try:
        data, findings, target = api.convert(args.input, args.to)
    except FormatError as exc:
        _err(f"{args.input}: {exc}")
        return EXIT_UNREADABLE
    atomic_write(args.output, data)
    for f in findings:
        print(f"  {f}", file=sys.stderr)
    print(f"{args.input} -> {args.output} ({target}, {len(data)} bytes)")
    return EXIT_OK


def cmd_schemas(args) -> int:
    from .schemas import describe, export
    if args.export:
        written = export(Path(args.export))
        print(f"wrote {len(written)} files to {args.export}")
        return EXIT_OK
    for name, decl in sorted(registry.declarations().items()):
        info = describe(decl)
        size = info["size"] if info["size"] is not None else "variable"
        print(f"{name:40} {size:>8}  {info['doc'] or ''}".rstrip())
    return EXIT_OK


def cmd_demo(args) -> int:
    """Write every format's sample files (made by memschema's own writers), then validate them."""
    out = Path(args.directory)
    out.mkdir(parents=True, exist_ok=True)
    names = []
    for fmt in registry.formats():
        for name, data in fmt.samples().items():
            atomic_write(out / name, data)
            names.append(str(out / name))
    print(f"wrote {len(names)} sample files to {out}/")
    if not names:
        return EXIT_UNREADABLE
    status = cmd_detect(argparse.Namespace(files=names))
    return max(status, cmd_validate(argparse.Namespace(files=names, strict=False, format=None, json=False)))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="memschema", description=__doc__.splitlines()[0])
    p.add_argument("--version", action="version", version=f"memschema {__import__('memschema').__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("detect", help="name the format of each file")
    s.add_argument("files", nargs="+")
    s.set_defaults(func=cmd_detect)

    s = sub.add_parser("inspect", help="human summary of a file")
    s.add_argument("file")
    s.add_argument("--format", help="skip detection, e.g. amem/spec-v1")
    s.set_defaults(func=cmd_inspect)

    s = sub.add_parser("dump", help="every field as JSON (bytes as hex)")
    s.add_argument("file")
    s.add_argument("--json", action="store_true", help="JSON output (the default and only form)")
    s.add_argument("--as", dest="as_decl", metavar="FORMAT.DECLARATION",
                   help="parse the bytes as one declaration (see `memschema schemas`)")
    s.add_argument("--format", help="skip detection, e.g. amem/spec-v1")
    s.set_defaults(func=cmd_dump)

    s = sub.add_parser("validate", help="report every finding with severity, path and offset")
    s.add_argument("files", nargs="+")
    s.add_argument("--json", action="store_true")
    s.add_argument("--strict", action="store_true", help="strict policy (what upstream cannot read back)")
    s.add_argument("--format", help="skip detection")
    s.set_defaults(func=cmd_validate)

    s = sub.add_parser("convert", help="convert between formats/layouts (see --to)")
    s.add_argument("input")
    s.add_argument("output")
    s.add_argument("--to", help="target format id; required when several conversions apply")
    s.set_defaults(func=cmd_convert)

    s = sub.add_parser("schemas", help="list every registered declaration (for dump --as)")
    s.add_argument("--export", metavar="DIR", help="write one JSON description per format to DIR")
    s.set_defaults(func=cmd_schemas)

    s = sub.add_parser("demo", help="write sample files of every format and validate them")
    s.add_argument("directory", nargs="?", default="memschema-samples")
    s.set_defaults(func=cmd_demo)

    for fmt in registry.formats():
        fmt.add_commands(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except BrokenPipeError:
        return EXIT_OK
    except OSError as exc:
        _err(f"{getattr(exc, 'filename', '') or ''}: {exc.strerror or exc}")
        return EXIT_UNREADABLE


if __name__ == "__main__":
    sys.exit(main())
