"""`memschema repair FILE -o OUT` / `--in-place`: salvage a damaged file and say, with offsets, what
was cut, dropped, emptied or rebuilt.  Exit 0 when the output validates without errors."""

from __future__ import annotations

import os

from .. import api
from ..errors import FormatError, LockHeld
from ..source import atomic_write
from .common import EXIT_FINDINGS, EXIT_OK, EXIT_UNREADABLE, add_command, err, print_envelope

EXAMPLES = """\
  memschema repair tests/corpus/mem8/oversize_4025.m8 -o repaired.m8   # rebuilds the over-long block
  memschema repair --in-place --json seed.m8       # replaces seed.m8, keeps seed.m8.memschema-bak"""

JSON_KEYS = {
    "source": "the file repaired", "output": "where the repaired file was written", "backup": "the kept "
    "original with --in-place, else null", "format": "its format id", "variant": "its variant",
    "size": "bytes of the repaired file", "kept": "units kept, by kind (records, segments, nodes, ...)",
    "changes": "what was cut, dropped, emptied or rebuilt: {action, code, message, path, offset, length}",
    "validation": "validation of the output: {source, format, variant, ok, errors, warnings, findings}",
    "ok": "the output validates without errors",
}


def add(sub) -> None:
    s = add_command(sub, "repair", "salvage a damaged file: keep complete units, cut torn tails, drop what "
                    "does not decode, rebuild indexes/manifests/counts", EXAMPLES, JSON_KEYS,
                    description="Salvage a damaged file: keep every complete record, segment or node, cut torn "
                    "tails, drop what does not decode, rebuild what can be rebuilt (indexes, manifests, "
                    "counts), and say with offsets what changed. Exit 0 when the output validates.")
    s.add_argument("file")
    where = s.add_mutually_exclusive_group(required=True)
    where.add_argument("-o", "--output", help="write the repaired file here")
    where.add_argument("--in-place", action="store_true",
                       help=f"replace FILE under its writer lock, keeping the original as FILE{api.BACKUP_SUFFIX}")
    s.add_argument("--format", help="skip detection (e.g. amem/agentic-memory)")
    s.add_argument("--timeout", type=float, help="seconds to wait for the writer lock (--in-place)")
    s.set_defaults(func=run)


def run(args) -> int:
    backup = None
    try:
        if args.in_place:
            result, backup = api.repair_in_place(args.file, args.format, timeout=args.timeout)
            target = args.file
        else:
            if os.path.exists(args.output) and os.path.samefile(args.file, args.output):
                err(f"{args.output}: is the input file; use --in-place (it keeps a backup and takes the lock)")
                return EXIT_UNREADABLE
            result = api.repair(args.file, args.format)
            atomic_write(args.output, result.data)
            target = args.output
    except (FormatError, LockHeld) as exc:
        err(f"{args.file}: {exc}")
        return EXIT_UNREADABLE
    if args.json:
        print_envelope(source=args.file, output=target, backup=backup, **result.to_json())
    else:
        kept = ", ".join(f"{n} {what}" for what, n in result.kept.items()) or "nothing"
        print(f"{args.file}: {result.detection.id}: kept {kept}; {len(result.changes)} changes")
        for change in result.changes:
            print(f"  {change}")
        report = result.report
        state = "unchanged" if not result.changes else f"{len(result.data)} bytes"
        print(f"-> {target} ({state}{', original kept as ' + backup if backup else ''}): "
              f"{'OK' if report.ok else 'still FAILED'} ({len(report.errors)} errors, {len(report.warnings)} warnings)")
        for finding in report.errors:
            print(f"  {finding}")
    return EXIT_OK if result.ok else EXIT_FINDINGS
