"""The documentation site's generated parts: every marker expands, field tables agree with the
engine's own offsets, the CLI reference holds every command and option, and the site's pages are
the ones mkdocs.yml lists."""

from __future__ import annotations

import importlib.util
import re

import pytest
from corpus_support import CORPUS, ROOT

import memschema
from memschema import cli
from memschema.parsing import locate, parse
from memschema.schemas import describe

_spec = importlib.util.spec_from_file_location("memschema_docs", ROOT / "docs" / "hooks" / "memschema_docs.py")
hook = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(hook)

PAGES = sorted((ROOT / "docs").glob("*.md"))


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_marker_of_the_page_expands(page):
    text = page.read_text(encoding="utf-8")
    expanded = hook.expand(text)
    assert "<!-- memschema:" not in expanded, f"{page.name}: a marker was left unexpanded"


def test_an_unknown_marker_fails_the_build():
    with pytest.raises(ValueError, match="unknown marker"):
        hook.expand("<!-- memschema:nope -->")
    with pytest.raises(ValueError, match="matches no registered declaration"):
        hook.expand("<!-- memschema:declarations nothing.* -->")


def test_every_declaration_is_on_a_format_page():
    shown = set()
    for page in PAGES:
        shown |= set(re.findall(r"^#### `([a-z0-9_]+\.[a-z0-9_]+)`", hook.expand(page.read_text()), re.M))
    missing = sorted(set(memschema.declarations()) - shown)
    assert not missing, f"declarations with no field table on any page: {missing}"


def _rows(name: str) -> list[tuple[str, str, str]]:
    """(offset, size, field) of each row of the generated table of declaration `name`."""
    table = hook.expand(f"<!-- memschema:declarations {name} -->")
    cells = [r.split("|")[1:6] for r in table.splitlines() if r.startswith("| ") and "`" in r]
    return [(offset.strip(), size.strip(), field.strip().strip("`")) for offset, size, _, field, _ in cells]


@pytest.mark.parametrize("name", sorted(memschema.declarations()))
def test_fixed_size_tables_tile_the_declaration(name):
    info = describe(memschema.declarations()[name])
    if info["size"] is None:
        return
    top = [(int(o), int(s)) for o, s, field in _rows(name) if "." not in field and "[]" not in field]
    assert top[0][0] == 0, name
    for (offset, size), (next_offset, _) in zip(top, top[1:]):
        assert offset + size == next_offset, f"{name}: a gap or overlap at {offset}"
    assert top[-1][0] + top[-1][1] == info["size"], name


# A declaration, a real file holding it at offset 0, and how to parse it (`locate` then walks the
# parsed value: an independent computation of each offset the table shows).
REAL = [("mem8.seed_header", "mem8/varied.m8"), ("amem.header", "amem/small_d8.amem"),
        ("rvf.segment_header", "rvf/s03_two_batches_delete.rvf"), ("rvf.level0_root", "rvf/spec_level0root.bin"),
        ("rvf.lineage_record", "rvf/spec_lineage_record.bin"), ("m8mem.header", "mem8/m8mem_memories.m8")]


@pytest.mark.parametrize(("name", "sample"), REAL)
def test_table_offsets_are_where_the_fields_are_in_real_files(name, sample):
    decl = memschema.declarations()[name]
    value = parse(decl, (CORPUS / sample).read_bytes(), 0, name)
    for offset, _, field in _rows(name):
        if offset.isdigit():
            assert int(offset) == locate(decl, value, field), f"{name}.{field} in {sample}"


def test_type_names_read_as_in_the_format_documents():
    assert hook.readable_type("le L") == "u32 LE"
    assert hook.readable_type("be H") == "u16 BE"
    assert hook.readable_type("Enum(le B)") == "Enum(u8)"
    assert hook.readable_type("Array(le q)") == "Array(i64 LE)"
    assert hook.readable_type("const b'MEM8'") == "const b'MEM8'"


def test_cli_reference_has_every_command_option_and_json_key():
    text = hook.expand("<!-- memschema:cli-reference -->")
    action = next(a for a in cli.build_parser()._actions if a.dest == "command")
    for name, parser in action.choices.items():
        assert f"## `memschema {name}`" in text, name
        for a in parser._actions:
            for flag in a.option_strings:
                if flag not in ("-h", "--help"):
                    assert f"`{flag}" in text, f"{name} {flag}"
        for key in parser.get_default("doc_json_keys"):
            assert f"| `{key}` |" in text, f"{name} json key {key}"
    assert "141" in text


def test_the_byte_map_hook_point_names_its_sample():
    out = hook.expand("<!-- memschema:byte-map seed.m8 -->")
    assert "seed.m8" in out and "memschema hexdump seed.m8" in out
    with pytest.raises(ValueError, match="no such sample"):
        hook.expand("<!-- memschema:byte-map nope.bin -->")


def test_mkdocs_nav_lists_every_page():
    config = (ROOT / "mkdocs.yml").read_text()
    listed = set(re.findall(r":\s*([a-z0-9-]+\.md)\s*$", config, re.M))
    assert listed == {p.name for p in PAGES}, listed ^ {p.name for p in PAGES}
