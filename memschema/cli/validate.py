"""`memschema validate FILE...`: every finding with severity, code, path and offset."""

from __future__ import annotations

from .. import api, registry
from .common import EXIT_FINDINGS, EXIT_OK, EXIT_UNREADABLE, add_load_options, err, load_options, print_json


def add(sub) -> None:
    s = sub.add_parser("validate", help="report every finding with severity, path and offset")
    s.add_argument("files", nargs="+")
    s.add_argument("--json", action="store_true")
    s.add_argument("--strict", action="store_true", help="strict policy (what upstream cannot read back)")
    s.add_argument("--format", help="skip detection")
    add_load_options(s)
    s.set_defaults(func=run)


def run(args) -> int:
    status = EXIT_OK
    reports = []
    for name in args.files:
        try:
            report = api.validate(name, strict=args.strict, format=args.format, **load_options(args))
        except OSError as exc:
            err(f"{name}: {exc.strerror or exc}")
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
        print_json([r.to_json() for r in reports])
    return status
