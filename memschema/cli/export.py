"""`memschema export FILE|DIR... -o OUT [--to parquet|csv]`: one table per kind across all inputs."""

from __future__ import annotations

from .common import EXIT_OK, EXIT_UNREADABLE, err


def add(sub) -> None:
    s = sub.add_parser("export", help="write the records of every file as Parquet/CSV tables (DuckDB, Spark)")
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
    for path in write(tables, args.out, args.to):
        print(f"{path}: {tables[path.stem].num_rows} rows")
    return EXIT_OK
