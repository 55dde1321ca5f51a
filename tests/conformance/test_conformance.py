"""What every registered format owes, checked over the registry itself (a new format is enrolled
the moment it registers): a whole-file layout per variant, sample files made by its own writer
that round-trip through that layout, a `dump --json` that shows every declared field of every
section, `explain` naming every field, hexdump rows that tile the file, sizes derived from the
declarations rather than written as literals, and declarations that the engine's walker reads
exactly as construct does."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import construct as c
import pytest
from corpus_support import CORPUS
from hypothesis import HealthCheck, given, settings

import memschema
from memschema import registry
from memschema.jsonify import declared
from memschema.layout import Gap, explain
from memschema.strategies import from_construct, same_value
from memschema.walker import Leaf, parse_value

FORMATS = [f for f in registry.formats() if not f.names_only]   # plug-ins that only name files load nothing
NAMES = [f.name for f in FORMATS]
SAMPLES = [pytest.param(f.name, n, d, id=f"{f.name}:{n}") for f in FORMATS for n, d in sorted(f.samples().items())]
MAX_LEAVES = 3000   # per file, for the explain check


def _variants(fmt) -> list[str]:
    return list(fmt.variants) or [""]


@pytest.mark.parametrize("name", NAMES)
def test_every_variant_declares_a_whole_file_layout(name):
    fmt = registry.get_format(name)
    missing = [v or "<no variant>" for v in _variants(fmt) if fmt.layout_for(v or None) is None]
    assert not missing, f"{name}: no Layout for {missing} (set `layouts` on the Format)"


@pytest.mark.parametrize("name", NAMES)
def test_every_format_makes_sample_files(name):
    assert registry.get_format(name).samples(), f"{name}: `samples()` gives no file made by its own writer"


@pytest.mark.parametrize("fmt, file, data", SAMPLES)
def test_sample_round_trips_through_its_layout(fmt, file, data):
    doc = memschema.load(data)
    assert doc.format == fmt, f"{file}: detected as {doc.detection.id}"
    assert doc.parsed is not None, f"{file}: the document keeps no parsed layout (`parse_layout`)"
    assert doc.parsed.build() == data, f"{file}: the layout's writer does not give the sample back"
    assert memschema.dump(doc) == data, f"{file}: dump is not byte-identical"


def _struct(decl):
    while isinstance(decl, (c.Renamed, c.Const, c.Default)):
        decl = decl.subcon
    return decl if isinstance(decl, c.Struct) else None


def _missing_fields(decl, value, path: str) -> list[str]:
    struct = _struct(decl)
    if struct is None:
        return []
    if not isinstance(value, dict):
        return [f"{path}: not an object"]
    out = []
    for sc in struct.subcons:
        if not sc.name:
            continue
        if sc.name not in value:
            out.append(f"{path}.{sc.name}")
        else:
            out += _missing_fields(sc, value[sc.name], f"{path}.{sc.name}")
    return out


@pytest.mark.parametrize("fmt, file, data", SAMPLES)
def test_dump_json_shows_every_declared_field(fmt, file, data):
    doc = memschema.load(data)
    dumped = doc.to_json()
    missing = []
    for name, placed in doc.parsed.placed.items():
        decl = placed.section.decl
        if _struct(decl) is None:
            continue
        if name not in dumped:
            missing.append(name)
        elif placed.section.count is None:
            missing += _missing_fields(decl, dumped[name], name)
        else:
            items = dumped[name]
            if not isinstance(items, list) or len(items) != len(placed.value):
                missing.append(f"{name}: {len(placed.value)} records, dump has "
                               f"{len(items) if isinstance(items, list) else type(items).__name__}")
                continue
            for i, item in enumerate(items):
                missing += _missing_fields(decl, item, f"{name}[{i}]")
    assert not missing, f"{file}: declared fields missing from dump --json: {missing[:20]}"


@pytest.mark.parametrize("fmt, file, data", SAMPLES)
def test_explain_names_every_field_of_the_sample(fmt, file, data):
    parsed = memschema.load(data).parsed
    leaves = [x for x in parsed.leaves() if isinstance(x, Leaf) and x.size][:MAX_LEAVES]
    assert leaves, f"{file}: no fields"
    wrong = [(x.offset, x.path, explain(parsed, x.offset).leaf.path) for x in leaves
             if explain(parsed, x.offset).leaf.path != x.path]
    assert not wrong, f"{file}: explain(offset) names another field: {wrong[:10]}"


def _tiles(rows, size: int) -> list[str]:
    problems = []
    pos = 0
    for r in rows:
        if r.offset != pos:
            problems.append(f"row {r.path or r.kind} at {r.offset}, expected {pos}")
        pos = max(pos, r.end)
    if pos != size:
        problems.append(f"rows end at {pos}, the file has {size} bytes")
    return problems


@pytest.mark.parametrize("fmt, file, data", SAMPLES)
def test_hexdump_rows_tile_the_sample(fmt, file, data):
    rows = memschema.load(data).parsed.leaves()
    assert not _tiles(rows, len(data)), f"{file}: {_tiles(rows, len(data))[:5]}"
    gaps = [r for r in rows if isinstance(r, Gap) and r.kind != "gap"]
    assert not gaps, f"{file}: a sample made by our own writer has {gaps[:3]}"


def _corpus_files():
    if not CORPUS.is_dir():
        return []
    return sorted(p for p in CORPUS.rglob("*") if p.is_file() and not p.name.endswith((".json", ".md")))


@pytest.mark.parametrize("path", _corpus_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_explain_and_hexdump_work_on_every_corpus_file(path):
    from memschema.explain import open_explained, rows
    if not memschema.detect(path).is_memory_file:
        pytest.skip("not a memory file (its test is the not-binary detection)")
    if memschema.detect(path).format == "rvf" and path.name.startswith("spec_"):
        pytest.skip("a single structure, not a whole file (dumped with --as)")
    ex = open_explained(path)
    items = list(rows(ex))
    size = path.stat().st_size
    assert not _tiles(items, size), f"{path.name}: {_tiles(items, size)[:5]}"
    for item in items[:MAX_LEAVES]:
        if isinstance(item, Leaf) and item.size:
            assert explain(ex.parsed, item.offset).leaf.path == item.path, f"{path.name} @{item.offset}"


# --- sizes come from the declarations ----------------------------------------------------------

SIZE_NAME = ("_SIZE", "_LEN", "_LENGTH", "_HEAD", "_BYTES")


def _format_modules():
    pkg = importlib.import_module("memschema.formats")
    for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
        if not info.ispkg:
            yield info.name


def _literal(node) -> bool:
    if isinstance(node, ast.Constant):
        return isinstance(node.value, int) and not isinstance(node.value, bool)
    if isinstance(node, ast.BinOp):
        return _literal(node.left) and _literal(node.right)
    return False


@pytest.mark.parametrize("module", list(_format_modules()))
def test_size_constants_are_derived_from_declarations(module):
    spec = importlib.util.find_spec(module)
    if not spec.origin.endswith(".py"):
        pytest.skip("a compiled extension module (its Python side is checked)")
    tree = ast.parse(Path(spec.origin).read_text())
    bad = []
    for node in tree.body:
        if isinstance(node, ast.Assign) and _literal(node.value):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id.endswith(SIZE_NAME) and \
                        not target.id.startswith(("MAX_", "MIN_", "DEFAULT_")):
                    bad.append(f"{target.id} (line {node.lineno})")
    assert not bad, f"{module}: size constants written as literals instead of .sizeof()/field_offset: {bad}"


# --- the walker reads every declaration exactly as construct does -------------------------------

DECLARATIONS = memschema.declarations()
WALK = settings(max_examples=max(10, settings.default.max_examples // 3),
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.filter_too_much, HealthCheck.large_base_example])


def _walk_params():
    from properties.test_prop_declarations import KNOWN_LOSSY  # declarations whose values cannot be drawn
    for name in sorted(DECLARATIONS):
        marks = [pytest.mark.xfail(strict=True, reason=KNOWN_LOSSY[name])] if name in KNOWN_LOSSY else []
        yield pytest.param(name, marks=marks, id=name)


@pytest.mark.parametrize("name", list(_walk_params()))
def test_walker_parses_every_declaration_as_construct_does(name):
    decl = DECLARATIONS[name]

    @WALK
    @given(from_construct(decl, name=name, with_context=True))
    def check(drawn):
        value, context = drawn
        data = decl.build(value, **context)
        want = decl.parse(data, **context)
        got, end = parse_value(decl, data, 0, "", numpy=False, **context)
        assert same_value(got, want), f"{name}: walker and construct disagree on {data[:64].hex()}"
        numpy_value, _ = parse_value(decl, data, 0, "", **context)
        assert declared(decl, numpy_value) == declared(decl, got), f"{name}: numpy tables show other values"

    check()


@pytest.mark.parametrize("fmt, file, data", SAMPLES)
def test_a_dropped_document_frees_its_bytes_at_once(fmt, file, data):
    """No reference cycle holds a loaded file: when the last reference to a document goes, its
    buffer (a copy or an mmap of the file) goes with it, not at the next cycle collection (a
    folder validated file by file would otherwise hold every file it read)."""
    import gc
    import weakref
    view = memoryview(bytearray(data))
    alive = weakref.ref(view)
    gc.collect()
    gc.disable()
    try:
        doc = memschema.load(view)
        for placed in doc.parsed.placed.values():
            for _ in zip(range(3), placed.value) if hasattr(placed.value, "__iter__") else ():
                pass
        doc.check()
        del doc, view, placed
        assert alive() is None, f"{file}: a reference cycle keeps the {fmt} document's bytes alive"
    finally:
        gc.enable()
