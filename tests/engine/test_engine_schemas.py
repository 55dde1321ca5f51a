"""`schemas/` holds language-neutral descriptions generated from the declarations; keep them in sync."""

from __future__ import annotations

from pathlib import Path

import pytest

from memschema.schemas import export_data, ksy_specs, render

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


@pytest.mark.parametrize("name", sorted(export_data()))
def test_schema_files_match_the_declarations(name):
    path = SCHEMAS / f"{name}.json"
    assert path.exists(), f"{path} missing: run `memschema schemas --export schemas`"
    assert path.read_text(encoding="utf-8") == render(export_data()[name]), \
        f"{path} is stale: run `memschema schemas --export schemas`"


def test_every_declared_field_is_documented():
    """Like a Kaitai .ksy with `doc` on every field: each named field of every Struct has a doc string."""
    missing = []

    def walk(where, fields):
        for field in fields or []:
            if field["name"] and not field["doc"]:
                missing.append(f"{where}.{field['name']}")
            walk(f"{where}.{field['name']}", field.get("fields"))
    for fmt, data in export_data().items():
        for decl_name, info in data["declarations"].items():
            walk(f"{fmt}.{decl_name}", info["fields"])
    assert not missing, "fields without a doc string: " + ", ".join(missing)


def test_every_layout_is_expressible_in_kaitai():
    _, failed = ksy_specs()
    assert not failed, "layouts Kaitai Struct cannot express: " + "; ".join(f"{k}: {v}" for k, v in failed.items())


@pytest.mark.parametrize("key", sorted(ksy_specs()[0]))
def test_ksy_files_match_the_layouts(key):
    ksy = ksy_specs()[0][key]
    path = SCHEMAS / f"{ksy.id}.ksy"
    assert path.exists(), f"{path} missing: run `memschema schemas --export schemas`"
    assert path.read_text(encoding="utf-8") == ksy.text(), f"{path} is stale: run `memschema schemas --export schemas`"


def test_no_ksy_without_a_layout():
    ids = {k.id for k in ksy_specs()[0].values()}
    stale = sorted(p.name for p in SCHEMAS.glob("*.ksy") if p.stem not in ids)
    assert not stale, f"schemas/ holds .ksy files of no registered layout: {stale}"
