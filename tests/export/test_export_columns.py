"""Export columns follow the declaration: a field added to a layout's record reaches the table with
no other edit; enums export as names, bytes as binary, the file and byte offset of every record kept."""

from __future__ import annotations

import pytest
from construct import Default, Int16ul
from engine.test_engine_layout import make_format, toy_layout, write

import memschema
from memschema import registry
from memschema.export import collect

pa = pytest.importorskip("pyarrow")


@pytest.fixture
def toy(tmp_path):
    layout = toy_layout("flags" / Default(Int16ul, 7) * "a field added later")
    memschema.register(make_format(layout))
    path = tmp_path / "f.toy2"
    path.write_bytes(write(layout, [{"kind": 1, "value": 10}, {"kind": 2, "value": 20, "flags": 9}]))
    yield path
    registry._formats.pop("toy2", None)


def test_an_added_field_becomes_a_column(toy):
    tables = collect([toy])
    records = tables["toy2_records"].to_pydict()
    assert records["flags"] == [7, 9] and records["value"] == [10, 20]
    assert records["offset"] == [16, 27] and records["file"] == [str(toy)] * 2
    assert tables["toy2_records"].schema.field("flags").type == pa.uint16()
    assert tables["toy2_header"].to_pydict()["magic"] == [b"TOY2"]
    assert tables["toy2_trailers"].num_rows == 2
    assert tables["files"].to_pydict()["decoded"] == [True]
