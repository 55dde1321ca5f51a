"""Engine: a format declared only by its layout gets loading, JSON, writing, explain and hexdump
from that one declaration; a field added to a record appears in all of them with no other edit."""

from __future__ import annotations

import json

import pytest
from construct import Bytes, Const, Default, Int8ul, Int16ul, Int32ul, Struct, this

import memschema
from memschema import cli, registry
from memschema.layout import EOF, Layout, Section, View, explain

RECORD_FIELDS = (
    "kind" / Int8ul * "record kind",
    "value" / Int16ul * "the value",
    "blob_offset" / Int32ul * "where the record's blob starts, relative to the blob region",
    "blob_length" / Int16ul * "blob length in bytes",
)


def toy_layout(*extra) -> Layout:
    header = Struct(
        "magic" / Const(b"TOY2") * "file magic",
        "record_count" / Int32ul * "number of records",
        "blob_region_offset" / Int32ul * "absolute offset of the blob region",
        "blob_region_size" / Int32ul * "size of the blob region",
    )
    record = Struct(*RECORD_FIELDS, *extra)
    blob = Struct("n" / Int8ul * "blob payload length", "payload" / Bytes(this.n) * "payload bytes")
    trailer = Struct("tag" / Default(Int8ul, 0xEE) * "trailer tag", "note" / Int8ul * "any byte")
    return Layout(
        "toy2", "Toy file", "header, records, blob region, then trailers until the end",
        Section("header", header, "16-byte header"),
        Section("records", record, "fixed records", count=this.header.record_count),
        Section("blobs", Bytes(this.header.blob_region_size), "blob region", at=this.header.blob_region_offset,
                size=this.header.blob_region_size),
        Section("trailers", trailer, "two-byte trailers until the end", count=EOF),
        View("blob", blob, "one record's blob", table="records", offset="blob_offset", length="blob_length",
             base=this.header.blob_region_offset, region="blobs"),
    )


def make_format(layout: Layout):
    class Toy2(memschema.Format):
        name = "toy2"
        layouts = {"": layout}
        declarations = {"file": layout.as_construct()}

        def detect(self, data):
            return memschema.Detection("toy2") if bytes(data[:4]) == b"TOY2" else None
    return Toy2


def write(layout: Layout, rows: list[dict]) -> bytes:
    blobs = [bytes([len(p)]) + p for p in (b"alpha", b"be")]
    return layout.build({"header": {"magic": b"TOY2"}, "records": layout.table("records", rows),
                         "blob": blobs, "trailers": [{"note": 1}, {"note": 2}]})


@pytest.fixture
def register():
    def plug(layout):
        memschema.register(make_format(layout))
    yield plug
    registry._formats.pop("toy2", None)


def test_writer_fills_counts_offsets_and_sizes_from_the_layout(register):
    layout = toy_layout()
    data = write(layout, [{"kind": 1, "value": 10}, {"kind": 2, "value": 20}])
    register(layout)
    doc = memschema.load(data)
    assert doc.parsed.header.record_count == 2
    assert doc.parsed.header.blob_region_offset == 16 + 2 * 9
    assert doc.parsed.view_element("blob", 1).payload == b"be"
    assert memschema.dump(doc) == data
    assert layout.placement_problems(data) == []


def test_an_added_field_appears_in_json_writer_explain_and_hexdump(register, tmp_path, capsys):
    layout = toy_layout("flags" / Default(Int16ul, 7) * "a field added later")
    data = write(layout, [{"kind": 1, "value": 10}, {"kind": 2, "value": 20, "flags": 9}])
    path = tmp_path / "f.toy2"
    path.write_bytes(data)
    register(layout)
    # the writer wrote it (default and given value), at the end of each 11-byte record
    assert data[16 + 9:16 + 11] == (7).to_bytes(2, "little") and data[16 + 20:16 + 22] == (9).to_bytes(2, "little")
    assert cli.main(["dump", "--json", str(path)]) == 0
    dumped = json.loads(capsys.readouterr().out)
    assert [r["flags"] for r in dumped["records"]] == [7, 9]
    answer = explain(memschema.load(path).parsed, 16 + 11 + 9)
    assert (answer.leaf.path, answer.leaf.value, answer.leaf.doc) == ("records[1].flags", 9, "a field added later")
    assert cli.main(["hexdump", "--json", str(path)]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    flags = [r for r in rows if r["path"].endswith(".flags")]
    assert [(r["path"], r["offset"], r["value"]) for r in flags] == [("records[0].flags", 25, 7),
                                                                        ("records[1].flags", 36, 9)]


def test_explain_and_hexdump_on_a_damaged_file_stop_where_parsing_stops(register, tmp_path, capsys):
    layout = toy_layout()
    data = bytearray(write(layout, [{"kind": 1, "value": 10}, {"kind": 2, "value": 20}]))
    data[4:8] = (1000).to_bytes(4, "little")          # record_count far beyond the bytes
    register(layout)
    path = tmp_path / "bad.toy2"
    path.write_bytes(bytes(data))
    with pytest.raises(memschema.FormatError) as exc:
        memschema.load(path)
    assert exc.value.path == "records"
    assert cli.main(["explain", "--json", str(path), "5", "20"]) in (0, 1)
    answers = json.loads(capsys.readouterr().out)["offsets"]
    assert answers[0]["path"] == "header.record_count" and answers[0]["value"] == 1000
    assert answers[1]["parsing_stopped"]["path"] == "records"
    assert cli.main(["hexdump", str(path)]) in (0, 1)
    assert "parsing stopped at records" in capsys.readouterr().out


def test_hexdump_rows_tile_the_file(register):
    layout = toy_layout()
    data = write(layout, [{"kind": 1, "value": 10}, {"kind": 2, "value": 20}]) + b"\xee"   # a torn trailer
    register(layout)
    doc = memschema.load(data)
    rows = doc.parsed.leaves()
    assert sum(r.size for r in rows) == len(data)
    assert all(a.end == b.offset for a, b in zip(rows, rows[1:]))
    assert rows[-1].kind == "tail" and doc.parsed.placed["trailers"].tail.length == 1
    assert memschema.dump(doc) == data


def test_lazy_records_keep_offsets_only_and_parse_on_demand():
    from construct import GreedyBytes
    rec = Struct("n" / Int8ul * "length", "b" / Bytes(this.n) * "bytes")
    layout = Layout("lazy", "t", "records until the end", Section("recs", rec, "records", count=EOF),
                    Section("rest", GreedyBytes, "nothing", size=EOF))
    data = bytes([2, 1, 2, 0, 3, 7, 7, 7, 5, 1])            # three records, then a torn one
    eager, lazy = layout.parse(data), layout.parse(data, lazy=True)
    assert list(lazy.placed["recs"].offsets) == [0, 3, 4]
    assert [r.b for r in lazy.recs] == [r.b for r in eager.recs] == [b"\x01\x02", b"", b"\x07\x07\x07"]
    assert lazy.recs[-1].n == 3 and lazy.placed["recs"].tail.offset == 8
    assert lazy.build() == eager.build() == data


def test_hexdump_rows_keep_file_order_around_empty_fields():
    """A field of no bytes at the end of a record shares its offset with the next record's first
    field; it is listed first (file order), so the rows still tile the file."""
    record = Struct("n" / Int8ul * "payload length", "payload" / Bytes(this.n) * "payload",
                    "pad" / Bytes(this.n % 2) * "one byte after an odd payload, none after an even one")
    layout = Layout("toy3", "Toy", "records until the end", Section("records", record, "records", count=EOF))
    data = b"\x02ab" + b"\x01c\x00"
    rows = layout.parse(data).leaves()
    assert [(r.offset, r.size, r.path) for r in rows[:4]] == [
        (0, 1, "records[0].n"), (1, 2, "records[0].payload"), (3, 0, "records[0].pad"), (3, 1, "records[1].n")]
    pos = 0
    for r in rows:
        assert r.offset == pos, f"{r.path} at {r.offset}, expected {pos}"
        pos = r.end
    assert pos == len(data)


def test_an_empty_field_neither_breaks_the_rows_nor_hides_the_field_after_it():
    """A zero-length field (an empty string) sits before the field that starts at its offset; the
    byte there is explained as that field, not the empty one."""
    item = Struct("n" / Int8ul * "length", "text" / Bytes(this.n) * "text", "flag" / Int8ul * "flag")
    layout = Layout("toy3", "Toy", "records until the end", Section("items", item, "items", count=EOF))
    data = bytes([0, 7, 2]) + b"ab" + bytes([9])
    parsed = layout.parse(data)
    rows = parsed.leaves()
    assert [(r.offset, r.size, r.path) for r in rows] == [
        (0, 1, "items[0].n"), (1, 0, "items[0].text"), (1, 1, "items[0].flag"),
        (2, 1, "items[1].n"), (3, 2, "items[1].text"), (5, 1, "items[1].flag")]
    assert explain(parsed, 1).leaf.path == "items[0].flag"
