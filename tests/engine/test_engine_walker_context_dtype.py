"""Engine: an Array of records whose size the enclosing record decides (`Array(this._.dimension,
Float32l)` inside the element, as an RVF VEC record is declared) is read as one zero-copy numpy
table, with the same values construct gives and the same leaves for `explain`."""

from __future__ import annotations

import numpy as np
from construct import Array, Float32l, GreedyBytes, Int16ul, Int32ul, Int64ul, Struct, VarInt, this

from memschema.walker import element_dtype, leaves, parse_value, root_context

record = Struct(
    "id" / Int64ul * "vector id",
    "data" / Array(this._.dimension, Float32l) * "dimension floats",
)
payload = Struct(
    "dimension" / Int16ul * "vector dimension",
    "count" / Int32ul * "records",
    "records" / Array(this.count, record) * "records",
    "rest" / GreedyBytes * "bytes after the records",
)


def _bytes(dimension: int, ids: list[int]) -> bytes:
    rows = [{"id": i, "data": [i + j * 0.5 for j in range(dimension)]} for i in ids]
    return payload.build({"dimension": dimension, "count": len(ids), "records": rows, "rest": b"\x01"})


def test_the_element_dtype_follows_the_enclosing_context():
    dt = element_dtype(record, root_context(dimension=3))
    assert dt.names == ("id", "data") and dt.itemsize == 8 + 3 * 4
    assert dt.fields["data"][1] == 8 and dt.fields["data"][0].shape == (3,)
    assert element_dtype(record, root_context()) is None             # no dimension known: no table


def test_records_of_a_context_size_are_a_numpy_table_with_constructs_values():
    data = _bytes(4, [7, 9, 11])
    value, end = parse_value(payload, data)
    assert end == len(data)
    table = value.records
    assert isinstance(table, np.ndarray) and table.dtype.names == ("id", "data")
    assert np.shares_memory(table, np.frombuffer(data, np.uint8))      # zero copy
    want = payload.parse(data)
    assert table["id"].tolist() == [r.id for r in want.records]
    assert table["data"].tolist() == [list(r.data) for r in want.records]
    assert bytes(value.rest) == b"\x01"


def test_leaves_of_the_table_name_every_field():
    data = _bytes(2, [5, 6])
    found, error = leaves(payload, data, lo=6 + 16, hi=6 + 16 + 8)     # the second record's id
    assert error is None
    assert [(x.path, x.offset, x.value) for x in found] == [("records[1].id", 22, 6)]


def test_a_field_of_no_fixed_size_keeps_the_record_walk():
    varying = Struct("id" / VarInt * "varint id", "data" / Array(this._.dimension, Float32l) * "floats")
    assert element_dtype(varying, root_context(dimension=2)) is None


def test_a_record_walk_with_a_sink_names_each_field_once():
    """Layouts list leaves with numpy off (every value walked): a table of context-sized records
    then gives each field once, not once from the window and again from the record walk."""
    from memschema.walker import Walker, Window
    data = _bytes(2, [5, 6])
    window = Window(0, None)
    Walker(data, numpy=False, sink=window).walk(payload, 0, len(data), "", root_context())
    paths = [x.path for x in window.leaves if x.size]
    assert len(paths) == len(set(paths)) == 2 + 2 * (1 + 2) + 1


def test_a_parsed_layout_is_freed_without_the_cycle_collector():
    """The root context keeps every section's value (numpy views over the file) and is not its own
    `_root`: dropping the Parsed frees them (and a file's mmap) at once, not when `gc` runs."""
    import gc
    import weakref

    from memschema.layout import EOF, Layout, Section
    layout = Layout("ctx", "Ctx", "payloads until the end", Section("payloads", payload, "one payload", count=EOF))
    parsed = layout.parse(_bytes(3, [1, 2]))
    tables = [v.records for v in parsed["payloads"] if isinstance(v.records, np.ndarray)]
    assert tables
    ref = weakref.ref(tables[0])
    assert "_root" not in parsed.context or parsed.context["_root"] is not parsed.context
    was = gc.isenabled()
    gc.disable()
    try:
        del parsed, tables
        assert ref() is None, "the parsed file lives on in a reference cycle"
    finally:
        if was:
            gc.enable()
