"""`schemas/` holds language-neutral descriptions generated from the declarations; keep them in sync."""

from __future__ import annotations

from pathlib import Path

import pytest

from memschema.schemas import export_data, render

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
