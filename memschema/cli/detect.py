"""`memschema detect PATH...`: the format id and variant of each file, or what it looks like."""

from __future__ import annotations

from collections import Counter

from .. import api
from ..output import detection_json
from ..registry import NOT_BINARY
from .common import EXIT_OK, EXIT_UNREADABLE, add_command, err, print_envelope
from .progress import Progress
from .walk import expand, has_folder

EXAMPLES = """\
  memschema detect seed.m8 brain_agentic.amem sample_store.rvf
  memschema detect --json sample_journal.t8
  memschema detect tests/corpus/mem8          # a folder: every file below it, then counts per format"""


JSON_KEYS = {
    "files": "one entry per file: {source, format, variant, id, description, memory_file}, or {source, error} "
             "for a file that cannot be read",
    "summary": "{files, by_format}: by_format counts each format id, \"not memory files\" (text, JSON, ...), "
               "\"unknown layout\" (binary, nothing matched) and \"unreadable\"",
}


def add(sub) -> None:
    s = add_command(sub, "detect", "name the format of each file", EXAMPLES, JSON_KEYS,
                    description="Name the format and variant of each file, or say what a file that is not a "
                                "memory file looks like (zlib JSON, JSON, text, ...).  Folders are walked "
                                "recursively and every file in them is named.")
    s.add_argument("paths", nargs="+", metavar="PATH", help="files or folders")
    s.set_defaults(func=run)


def run(args) -> int:
    targets = expand(args.paths)
    status = EXIT_OK
    entries, counts = [], Counter()
    progress = Progress(len(targets), "detecting")
    for target in targets:
        progress.start(target.name)
        try:
            found = api.detect(target.name)
        except OSError as exc:
            progress.finish_one()
            err(f"{target.name}: {exc.strerror or exc}")
            entries.append({"source": target.name, "error": exc.strerror or str(exc)})
            counts["unreadable"] += 1
            status = EXIT_UNREADABLE
            continue
        progress.finish_one()
        entries.append(detection_json(target.name, found))
        counts[found.id if found.is_memory_file else
               "not memory files" if found.format == NOT_BINARY else "unknown layout"] += 1
        # Named on the command line, or binary but of no known layout: the caller expected a memory file.
        if not found.is_memory_file and (target.explicit or found.format != NOT_BINARY):
            status = EXIT_UNREADABLE
        if args.json:
            continue
        if found.is_memory_file:
            print(f"{target.name}: {found.id} ({found.description})")
        else:
            what = found.variant or "nothing known"
            print(f"{target.name}: {found.id}: not a binary memory file (looks like {what}: {found.description})")
    if args.json:
        print_envelope(files=entries, summary={"files": len(entries), "by_format": dict(sorted(counts.items()))})
    elif len(targets) > 1 or has_folder(args.paths):
        print(f"{len(entries)} files: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return status
