"""`memschema inspect FILE`: a human summary of one file, with its validation findings."""

from __future__ import annotations

from .. import api
from ..errors import FormatError
from ..output import envelope, unreadable_report
from .common import EXIT_UNREADABLE, FINDING_JSON, add_all_flag, add_command, err, print_json
from .reporting import report_lines, report_status

EXAMPLES = """\
  memschema inspect brain_agentic.amem      # counts per type and session, time span (ISO 8601), indexes
  memschema inspect --json seed.m8
  memschema inspect --format amem/spec-v1 brain_spec_v1.amem"""


JSON_KEYS = {
    "source": "the file", "format": "format id", "variant": "layout or dialect, null if none",
    "ok": "no finding of severity error", "errors": "number of errors", "warnings": "number of warnings",
    "findings": "every finding, each " + FINDING_JSON,
    "description": "what the detected format and variant are", "summary": "the summary, as lines of text",
}


def add(sub) -> None:
    s = add_command(sub, "inspect", "human summary of a file and its findings", EXAMPLES, JSON_KEYS,
                    description="Summarise one memory file (counts, time span with ISO 8601 UTC beside the raw "
                                "value, index health) and list its validation findings.  The exit status "
                                "reflects the findings, as `validate` does.")
    s.add_argument("file")
    s.add_argument("--format", help="skip detection, e.g. amem/spec-v1")
    add_all_flag(s)
    s.set_defaults(func=run)


def run(args) -> int:
    doc = None
    try:
        doc = api.load(args.file, format=args.format)
    except FormatError as exc:
        if exc.code == "unknown_format":
            err(str(exc))
            return EXIT_UNREADABLE
    except OSError as exc:
        return _show(args, unreadable_report(args.file, exc.strerror or str(exc)), None, [])
    # The document did not decode: validate reports why (path, offset) as its one error finding.
    report = api.validate(args.file, format=args.format or (doc.detection.id if doc else None))
    summary = doc.summary() if doc is not None else []
    return _show(args, report, doc, summary)


def _show(args, report, doc, summary: list[str]) -> int:
    description = doc.detection.description if doc is not None else ""
    if args.json:
        print_json(envelope(**report.to_json(), description=description, summary=summary))
        return report_status(report)
    if doc is not None:
        print(f"{args.file}: {doc.detection}")
        for line in summary:
            print(f"  {line}")
        print(f"  validation: {len(report.errors)} errors, {len(report.warnings)} warnings")
        for line in report_lines(report, args.all)[1:]:
            print(f"  {line}")
    else:
        print("\n".join(report_lines(report, args.all)))
    return report_status(report)
