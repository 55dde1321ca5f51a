"""Lineage across files (RVF.md 3.10, 4.2): check a child's FileIdentity against its parent and
show the ancestry of every file in a set (`memschema lineage FILE... | DIR`).

Rules: `parent_id` = parent's `file_id`; `lineage_depth` = parent's + 1; `parent_hash` =
runtime: fold32 of the last min(65536, size) bytes of the parent file *as it was at derive time*
(a parent appended to later no longer matches: reported, not fatal); spec: SHAKE-256-256 of the
parent's 4096-byte Level0Root.
"""

from __future__ import annotations

from pathlib import Path

from ...errors import Finding, FormatError, warning
from ...parsing import locate
from . import hashes
from .document import RvfDocument
from .layouts import SPEC
from .lineage import file_identity, is_root
from .spec import LEVEL0_SIZE, level0_root
from .writer import runtime_parent_hash

RUNTIME_RULE = ("runtime: simple_shake256_256(last min(65536, size) bytes of the parent file as it was "
                "when derive()/branch() ran)")
SPEC_RULE = "spec: SHAKE-256-256 of the parent's 4096-byte Level0Root"


def expected_parent_hash(parent: RvfDocument) -> bytes | None:
    if parent.dialect == SPEC:
        if parent.latest is None:
            return None
        at = parent.latest.root_offset
        return hashes.shake256(bytes(parent.data[at:at + LEVEL0_SIZE]), 32)
    return runtime_parent_hash(parent.data)


def _identity_offset(doc: RvfDocument, field: str) -> int | None:
    """Absolute offset of a FileIdentity field in the latest manifest of `doc`."""
    if doc.latest is None:
        return None
    seg = doc.latest.segment
    if doc.dialect == SPEC:
        return doc.latest.root_offset + locate(level0_root, doc.latest.root, f"file_identity.{field}")
    from .runtime_payloads import manifest_payload
    base = seg.payload_offset + locate(manifest_payload, doc.latest.value, "file_identity")
    return base + locate(file_identity, doc.identity, field)


def check_pair(child: RvfDocument, parent: RvfDocument, parent_name: str = "") -> dict:
    """The corpus `lineage` keys for a child and its parent, plus `findings`."""
    ident, pident = child.identity, parent.identity
    out: dict = {"is_root": ident is None or is_root(ident), "parent_file": parent_name,
                 "derivation_type_recorded": False}
    findings: list[Finding] = []
    path = "latest_manifest.file_identity"
    if ident is None or pident is None:
        findings.append(warning("rvf.lineage_unknown", "a file has no FileIdentity", path, None))
        out["findings"] = findings
        return out
    id_ok = bytes(ident.parent_id) == bytes(pident.file_id)
    depth_ok = ident.lineage_depth == pident.lineage_depth + 1
    want = expected_parent_hash(parent)
    hash_ok = want is not None and want == bytes(ident.parent_hash)
    out.update(parent_id_matches_parent_file_id=id_ok, lineage_depth_is_parent_plus_1=depth_ok,
               parent_hash_verifies=hash_ok, parent_hash_rule=SPEC_RULE if parent.dialect == SPEC else RUNTIME_RULE)
    for ok, field, what in ((id_ok, "parent_id", "is not the parent's file_id"),
                            (depth_ok, "lineage_depth", f"is not the parent's depth + 1 ({pident.lineage_depth} + 1)"),
                            (hash_ok, "parent_hash", "does not match the parent as it is now (the parent changed "
                             "since the derive, or this is not the parent)")):
        if not ok:
            findings.append(warning(f"rvf.lineage_{field}", f"{field} {what}", f"{path}.{field}",
                                    _identity_offset(child, field)))
    out["findings"] = findings
    return out


def _load_all(sources: list[str]) -> tuple[dict[str, RvfDocument], list[str]]:
    from ...api import load
    files: list[Path] = []
    for s in sources:
        p = Path(s)
        if p.is_dir():
            files += sorted(f for f in p.iterdir() if f.is_file() and not f.name.endswith((".json", ".md")))
        else:
            files.append(p)
    docs, problems = {}, []
    for f in files:
        try:
            doc = load(f)
        except (FormatError, OSError) as exc:
            if Path(f).suffix == ".rvf" or not Path(sources[0]).is_dir():
                problems.append(f"{f}: {exc}")
            continue
        if isinstance(doc, RvfDocument) and doc.identity is not None:
            docs[str(f)] = doc
    return docs, problems


def lineage_report(sources: list[str]) -> dict:
    """Ancestry of every RVF file among `sources` (files or directories) and every broken link."""
    docs, problems = _load_all(sources)
    by_id = {bytes(d.identity.file_id): name for name, d in docs.items()}
    files = {}
    for name, doc in docs.items():
        ident = doc.identity
        entry = {"file_id": bytes(ident.file_id).hex(), "lineage_depth": ident.lineage_depth,
                 "is_root": is_root(ident), "ancestry": [], "broken": []}
        cur, seen = doc, {name}
        while not is_root(cur.identity):
            parent_name = by_id.get(bytes(cur.identity.parent_id))
            child_name = next(n for n, d in docs.items() if d is cur)
            if parent_name is None:
                entry["broken"].append({"file": child_name, "reason": "parent "
                                        f"{bytes(cur.identity.parent_id).hex()} not among the files"})
                break
            if parent_name in seen:
                entry["broken"].append({"file": child_name, "reason": "lineage cycle"})
                break
            check = check_pair(cur, docs[parent_name], Path(parent_name).name)
            link = {k: v for k, v in check.items() if k != "findings"}
            link["child"] = child_name
            entry["ancestry"].append(link)
            for f in check["findings"]:
                entry["broken"].append({"file": child_name, "code": f.code, "reason": f.message,
                                        "offset": f.offset})
            seen.add(parent_name)
            cur = docs[parent_name]
        files[name] = entry
    return {"files": files, "unreadable": problems}


LINEAGE_EXAMPLES = """\
  memschema lineage sample_child.rvf sample_store.rvf     # the child, verified against its parent
  memschema lineage --json tests/corpus/rvf               # every RVF file of a folder"""


LINEAGE_JSON_KEYS = {
    "files": "per RVF file: {file_id, lineage_depth, is_root, ancestry, broken}; ancestry lists the checked "
             "links child -> parent, broken the failures with code, reason and offset",
    "unreadable": "files that could not be read",
}


def add_lineage_command(subparsers) -> None:
    from ...cli.common import add_command
    s = add_command(subparsers, "lineage", "RVF: ancestry of each file and any broken lineage link",
                    LINEAGE_EXAMPLES, LINEAGE_JSON_KEYS,
                    description="Show the ancestry of each RVF file among the files given (the files of a "
                                "folder, not of its sub-folders) and check every child's FileIdentity against "
                                "its parent: parent_id, lineage_depth, parent_hash.")
    s.add_argument("paths", nargs="+", metavar="FILE|DIR")
    s.set_defaults(func=_cmd_lineage)


def _not_rvf(paths: list[str]) -> list[str]:
    """Why some of `paths` cannot take part: a named file that is not RVF, a folder without RVF files."""
    from ...api import detect
    problems = []
    for name in paths:
        p = Path(name)
        try:
            if not p.is_dir():
                found = detect(p).format
                if found != "rvf":
                    problems.append(f"{name}: not an RVF file ({found})")
            elif not any(f.is_file() and detect(f).format == "rvf" for f in p.iterdir()):
                below = any(c.is_dir() for c in p.iterdir())
                problems.append(f"{name}: no RVF file in this folder"
                                + (" (lineage does not descend into sub-folders: name them)" if below else ""))
        except OSError as exc:
            problems.append(f"{name}: {exc.strerror or exc}")
    return problems


def _cmd_lineage(args) -> int:
    from ...cli.common import EXIT_FINDINGS, EXIT_OK, EXIT_UNREADABLE, err, print_envelope
    problems = _not_rvf(args.paths)
    for p in problems:
        err(p)
    report = lineage_report(args.paths)
    if not report["files"] and not problems:
        err("no RVF file with a FileIdentity among " + " ".join(args.paths))
        problems.append("no RVF file")
    if args.json:
        print_envelope(**report)
    else:
        for name, e in report["files"].items():
            chain = " <- ".join([Path(name).name] + [a["parent_file"] for a in e["ancestry"]])
            print(f"{name}: depth {e['lineage_depth']}, {'root' if e['is_root'] else chain}")
            for b in e["broken"]:
                where = f" @{b['offset']}" if b.get("offset") is not None else ""
                print(f"  broken: {Path(b['file']).name}{where}: {b.get('code', 'rvf.lineage_missing_parent')}: "
                      f"{b['reason']}")
        for p in report["unreadable"]:
            print(f"unreadable: {p}")
    if problems or report["unreadable"]:
        return EXIT_UNREADABLE
    return EXIT_FINDINGS if any(e["broken"] for e in report["files"].values()) else EXIT_OK
