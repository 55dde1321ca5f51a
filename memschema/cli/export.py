"""`memschema export FILE|DIR... -o OUT [--to parquet|csv]`: one table per kind across all inputs."""

from __future__ import annotations

from .common import EXIT_OK, EXIT_UNREADABLE, add_command, err, print_envelope

EXAMPLES = """\
  memschema export tests/corpus -o corpus_tables                 # Parquet: one file per table
  memschema export seed.m8 brain_agentic.amem -o csv_tables --to csv"""

JSON_KEYS = {
    "tables": "one entry per table written: {name, path, rows}",
}


def add(sub) -> None:
    s = add_command(sub, "export", "write the records of every file as Parquet/CSV tables (DuckDB, Spark)",
                    EXAMPLES, JSON_KEYS,
                    description="Write one table per kind of record across all inputs (a `file` column says "
                                "where each row comes from): every layout section of fixed records, what each "
                                "format derives (AMEM vectors, RVF live vectors, ...), the files and the "
                                "findings of every file. Columns and types come from the declarations.")
    s.add_argument("inputs", nargs="+", metavar="FILE|DIR", help="memory files, or folders searched recursively")
    s.add_argument("-o", "--out", required=True, metavar="OUT", help="folder for one file per table")
    s.add_argument("--to", choices=("parquet", "csv"), default="parquet")
    s.add_argument("--strict", action="store_true", help="findings under the strict validation policy")
    s.set_defaults(func=run)


def run(args) -> int:
    from ..export import collect, write
    try:
        tables = collect(args.inputs, strict=args.strict)
    except OSError as exc:
        err(f"{getattr(exc, 'filename', '') or ''}: {exc.strerror or exc}")
        return EXIT_UNREADABLE
    written = write(tables, args.out, args.to)
    if args.json:
        print_envelope(tables=[{"name": p.stem, "path": str(p), "rows": tables[p.stem].num_rows} for p in written])
    else:
        for path in written:
            print(f"{path}: {tables[path.stem].num_rows} rows")
    return EXIT_OK
