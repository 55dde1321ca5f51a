"""The generated `.ksy` files, proven by the real Kaitai Struct compiler: every one compiles to
Python with no warning, and the generated parser reads every corpus file and sample of its
format/variant exactly as memschema does (headers, record tables, index entries, view elements,
torn tails), field by field."""

from __future__ import annotations

from pathlib import Path

import construct as c
import pytest
from corpus_support import CORPUS, corpus_files, require_corpus
from schemas.conftest import load_parser
from schemas.kaitai_compare import kaitai_plain, memschema_plain
from schemas.layouts import TEST_DECLARATIONS, TEST_LAYOUTS

import memschema
from memschema import registry
from memschema.errors import FormatError
from memschema.ksy import generate
from memschema.layout import EOF
from memschema.strategies.compare import difference


def _layouts() -> dict:
    out = {key: (layout, dict(registry.get_format(key).declarations)) for key, layout in registry.layouts().items()}
    for key, layout in TEST_LAYOUTS.items():
        out.setdefault(key, (layout, TEST_DECLARATIONS.get(key, {})))
    return out


LAYOUTS = _layouts()


def _inputs() -> list[tuple[str, str]]:
    """(layout key, input name): corpus files and format samples detected as that layout."""
    out = []
    for sub in ("mem8", "amem", "rvf"):
        for name in corpus_files(sub):
            path = CORPUS / sub / name
            if path.is_file() and memschema.detect(path).id in LAYOUTS:
                out.append((memschema.detect(path).id, f"corpus:{sub}/{name}"))
    for fmt in registry.formats():
        for name, data in fmt.samples().items():
            if memschema.detect(data).id in LAYOUTS:
                out.append((memschema.detect(data).id, f"sample:{fmt.name}/{name}"))
    out.append(("toy2", "toy2:written"))
    return sorted(set(out))


def _data(name: str) -> bytes:
    kind, _, rest = name.partition(":")
    if kind == "corpus":
        return (CORPUS / rest).read_bytes()
    if kind == "sample":
        fmt, _, sample = rest.partition("/")
        return registry.get_format(fmt).samples()[sample]
    from engine.test_engine_layout import write
    return write(TEST_LAYOUTS["toy2"], [{"kind": 1, "value": 10}, {"kind": 2, "value": 20}]) + b"\xee"


@pytest.fixture(scope="module")
def compiled(ksc, tmp_path_factory):
    src, out = tmp_path_factory.mktemp("ksy"), tmp_path_factory.mktemp("ksy_python")
    specs = {}
    for key, (layout, decls) in LAYOUTS.items():
        ksy = generate(key, layout, decls)
        path = src / f"{key.replace('/', '__')}" / f"{ksy.id}.ksy"
        path.parent.mkdir()
        path.write_text(ksy.text(), encoding="utf-8")
        specs[key] = (ksy, path)
    report = {}
    for key, (ksy, path) in specs.items():
        target = out / path.parent.name
        target.mkdir()
        report[key] = (ksy, ksc([path], target)[str(path)], target)
    return report


def test_the_corpus_files_of_every_layout_are_compared():
    """No silent pass: the corpus is there (a failure in CI) and each registered layout with corpus
    files is among the inputs."""
    require_corpus("mem8")
    keys = {key for key, name in _inputs() if name.startswith("corpus:")}
    assert "mem8/seed" in keys and "amem/agentic-memory" in keys, keys


@pytest.mark.parametrize("key", sorted(LAYOUTS))
def test_the_compiler_accepts_every_ksy_without_a_warning(compiled, key):
    ksy, result, _ = compiled[key]
    assert result["error"] is None, f"{ksy.id}.ksy: {result['error']}"
    assert result["problems"] == [], f"{ksy.id}.ksy: " + "\n".join(result["problems"])
    assert result["files"] == [f"{ksy.id}.py"]


def test_the_committed_ksy_files_compile_too(ksc, tmp_path):
    """What `schemas/` ships (what another tool compiles) is accepted as it is."""
    shipped = sorted((Path(__file__).resolve().parents[2] / "schemas").glob("*.ksy"))
    assert shipped, "schemas/ holds no .ksy"
    report = ksc(shipped, tmp_path)
    bad = {Path(k).name: v["error"] or v["problems"] for k, v in report.items() if v["error"] or v["problems"]}
    assert not bad, bad


def _where(parsed, path: str) -> str:
    field = path.split(": ")[0]
    try:
        return f"{field} @{parsed.offset_of(field)}"
    except (FormatError, KeyError, ValueError, IndexError, TypeError, AttributeError):
        return field


def _check(name: str, parsed, path: str, mem, kai) -> None:
    diff = difference(mem, kai, path)
    assert diff is None, f"{name}: {_where(parsed, diff)}: {diff}"


@pytest.mark.parametrize("key,name", _inputs())
def test_the_generated_parser_agrees_with_memschema(compiled, key, name):
    ksy, result, target = compiled[key]
    assert result["error"] is None, result["error"]
    layout, _ = LAYOUTS[key]
    data = _data(name)
    parser = load_parser(target / f"{ksy.id}.py", ksy.id)
    root = parser.from_bytes(data)
    if key in registry.layouts():
        doc = memschema.load(data)
        parsed = doc.parsed
        assert parsed is not None and parsed.layout is layout, f"{name}: memschema.load did not use the layout"
    else:
        parsed = layout.parse(data)
        _same_as_the_format_loader(name, layout, parsed, data)
    for section in layout.sections:
        kid = ksy.section_ids[section.name]
        kobj = getattr(root, kid)
        if section.name in ksy.regions:
            kobj = getattr(kobj, kid)
        decl = section.decl if section.count is None else c.GreedyRange(section.decl)
        placed = parsed.placed[section.name]
        if isinstance(kobj, bytes) and not isinstance(parsed[section.name], (bytes, memoryview)):
            # a section the .ksy keeps as bytes (see its doc): the same bytes
            assert any(section.name in o for o in ksy.opaque), f"{name}: {section.name} is bytes in Kaitai"
            assert kobj == bytes(data[placed.start:placed.start + len(kobj)]), f"{name}: {section.name} bytes differ"
            continue
        _check(name, parsed, section.name, memschema_plain(decl, parsed[section.name]), kaitai_plain(decl, kobj, ksy))
        tail = parsed.placed[section.name].tail
        if section.count is EOF and hasattr(root, f"{kid}_tail"):
            want = b"" if tail is None else bytes(data[tail.offset:tail.offset + tail.length])
            assert getattr(root, f"{kid}_tail") == want, f"{name}: {section.name} tail differs"
    for view in layout.views:
        records = getattr(root, ksy.section_ids[view.table])
        for i in range(len(parsed[view.table])):
            path = f"{view.name}[{i}]"
            try:
                mem = memschema_plain(view.decl, parsed.view_element(view.name, i))
            except FormatError as exc:
                mem = f"error at {exc.path}"
            try:
                kai = kaitai_plain(view.decl, getattr(records[i], ksy.section_ids[view.name]), ksy)
            except Exception as exc:  # noqa: BLE001 - any Kaitai runtime failure is compared as "an error"
                kai = f"error {type(exc).__name__}"
            if isinstance(mem, str) or isinstance(kai, str):
                assert isinstance(mem, str) == isinstance(kai, str), \
                    f"{name}: {path}: memschema {mem!r:.80}, Kaitai {kai!r:.80}"
                continue
            _check(name, parsed, path, mem, kai)


def _same_as_the_format_loader(name, layout, parsed, data) -> None:
    """A test layout must read what the format's own loader reads (`memschema.load`): each section
    the loaded document exposes by the same name holds the same values."""
    if memschema.detect(data).id not in LAYOUTS:
        return                                   # the engine's toy: no loader of its own
    doc = memschema.load(data)
    for section in layout.sections:
        if callable(getattr(doc, section.name, None)) or not hasattr(doc, section.name):
            continue
        decl = section.decl if section.count is None else c.GreedyRange(section.decl)
        loaded = memschema_plain(decl, getattr(doc, section.name))
        _check(name, parsed, section.name, memschema_plain(decl, parsed[section.name]), loaded)


def test_a_spec_that_misreads_a_field_is_caught(ksc, tmp_path):
    """The comparison can fail: a .ksy reading records[].value as u1 instead of u2 shifts every later
    field; the first that disagrees (records[0].blob_length: value 10 still reads as 10) is named
    with its offset."""
    layout = TEST_LAYOUTS["toy2"]
    ksy = generate("toy2", layout)
    record = next(t for t in ksy.spec["types"].values() if any(f["id"] == "value" for f in t.get("seq", [])))
    next(f for f in record["seq"] if f["id"] == "value")["type"] = "u1"
    path = tmp_path / f"{ksy.id}.ksy"
    path.write_text(ksy.text(), encoding="utf-8")
    assert ksc([path], tmp_path)[str(path)]["error"] is None
    root = load_parser(tmp_path / f"{ksy.id}.py", ksy.id).from_bytes(_data("toy2:written"))
    parsed = layout.parse(_data("toy2:written"))
    decl = c.GreedyRange(layout.section("records").decl)
    with pytest.raises(AssertionError, match=r"toy2: records\[0\]\.blob_length @23"):
        _check("toy2", parsed, "records", memschema_plain(decl, parsed["records"]),
               kaitai_plain(decl, root.records, ksy))
