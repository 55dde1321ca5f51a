"""`memschema convert IN OUT [--to T]`: between formats and layouts."""

from __future__ import annotations

import sys

from .. import api, registry
from ..errors import FormatError
from ..source import atomic_write
from .common import EXIT_OK, EXIT_UNREADABLE, FINDING_JSON, add_command, err, print_envelope

EXAMPLES = """\
  memschema convert tests/corpus/mem8/json_context_gather_input.zlib.m8 context_seed.m8
  memschema convert brain_agentic.amem brain_as_spec.amem --to amem/spec-v1
  memschema convert --json brain_spec_v1.amem brain_as_agentic.amem --to amem/agentic-memory"""


JSON_KEYS = {
    "source": "the file converted",
    "output": "the file written (atomically)",
    "target": "the format id written, e.g. amem/spec-v1",
    "bytes": "size of the output",
    "findings": "what the target could not hold, each " + FINDING_JSON,
}


def add(sub) -> None:
    conversions = "\n".join(f"  {c.source:22} -> {c.target:22} {c.description}" for c in registry.converters())
    s = add_command(sub, "convert", "convert between formats/layouts (see --to)", EXAMPLES, JSON_KEYS,
                    more=f"conversions:\n{conversions}\n\n",
                    description="Convert a file into another format or layout and write it atomically.  What "
                                "the target cannot hold is reported as findings (stderr, or in --json).")
    s.add_argument("input")
    s.add_argument("output")
    s.add_argument("--to", help="target format id; required when several conversions apply")
    s.set_defaults(func=run)


def run(args) -> int:
    try:
        data, findings, target = api.convert(args.input, args.to)
    except FormatError as exc:
        err(f"{args.input}: {exc}")
        return EXIT_UNREADABLE
    atomic_write(args.output, data)
    if args.json:
        print_envelope(source=args.input, output=args.output, target=target, bytes=len(data),
                       findings=[f.to_json() for f in findings])
        return EXIT_OK
    for f in findings:
        print(f"  {f}", file=sys.stderr)
    print(f"{args.input} -> {args.output} ({target}, {len(data)} bytes)")
    return EXIT_OK
