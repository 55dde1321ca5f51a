"""`memschema validate PATH...`: every finding with severity, code, path and offset."""

from __future__ import annotations

from .. import api
from ..errors import FormatError
from ..output import unreadable_report
from ..registry import NOT_BINARY
from .common import (
    EXIT_OK,
    EXIT_UNREADABLE,
    REPORT_JSON,
    add_all_flag,
    add_command,
    add_load_options,
    err,
    load_options,
    print_envelope,
)
from .progress import Progress
from .reporting import Tally, report_lines, report_status
from .walk import expand, has_folder

EXAMPLES = """\
  memschema validate seed.m8
  memschema validate tests/corpus/mem8/oversize_4025.m8    # (exit 1) a block longer than its slot: an error
  memschema validate --json sample_store.rvf
  memschema validate tests/corpus/mem8                # (exit 1) a folder: every file below it, then a summary"""


JSON_KEYS = {
    "reports": "one per file read, " + REPORT_JSON + "; a file that cannot be read is a report with one "
               "error finding (code unreadable or not_memory_file)",
    "skipped": "files found in folders that are not memory files: {source, format, variant}",
    "summary": "{files, ok, with_errors, unreadable, skipped, codes}: codes lists {code, severity, count}",
}


def add(sub) -> None:
    s = add_command(sub, "validate", "report every finding with severity, code, path and offset", EXAMPLES,
                    JSON_KEYS,
                    description="Validate memory files: every finding with its severity, stable code, field "
                                "path and absolute byte offset.  Folders are walked recursively; files in them "
                                "that are plainly not memory files (text, JSON, zlib JSON) are skipped.")
    s.add_argument("paths", nargs="+", metavar="PATH", help="memory files or folders")
    s.add_argument("--strict", action="store_true", help="strict policy (what upstream cannot read back is an error)")
    s.add_argument("--format", help="skip detection, e.g. amem/spec-v1")
    add_load_options(s)
    add_all_flag(s)
    s.set_defaults(func=run)


def run(args) -> int:
    targets = expand(args.paths)
    summarise = len(targets) > 1 or has_folder(args.paths)
    tally, reports = Tally(), []
    status = EXIT_OK
    progress = Progress(len(targets), "validating")
    for target in targets:
        progress.start(target.name)
        try:
            report = api.validate(target.name, strict=args.strict, format=args.format,
                                      **load_options(args))
        except FormatError as exc:  # only a bad --format: the bytes never raise here
            progress.clear()
            err(str(exc))
            return EXIT_UNREADABLE
        except OSError as exc:
            report = unreadable_report(target.name, exc.strerror or str(exc))
        progress.finish_one()
        if not target.explicit and report.format == NOT_BINARY:
            tally.skip(report)
            if args.all and not args.json:
                print(f"{target.name}: skipped: not a memory file ({report.variant})")
            continue
        tally.add(report)
        reports.append(report)
        status = max(status, report_status(report))
        if not args.json:
            print("\n".join(report_lines(report, args.all)))
    if args.json:
        print_envelope(reports=[r.to_json() for r in reports], skipped=tally.skipped, summary=tally.to_json())
    elif summarise:
        print("\n".join([tally.line(args.all), *tally.code_lines()]))
    return status
