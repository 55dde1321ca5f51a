"""Layouts the `.ksy` and export tests run on besides the registered ones: the engine's toy layout
(offsets, a sized region, a view, trailers until the end) and the AMEM agentic-memory file written
out as a layout from AMEM.md Part 2 with the declarations of `memschema.formats.amem.agentic`
(sections placed by header offsets, an array-valued record, a view into the content block, and
index entries whose body switches on the tag)."""

from __future__ import annotations

from construct import Array, FixedSized, Float32l, GreedyBytes, Struct, Switch, this
from engine.test_engine_layout import toy_layout

from memschema.formats.amem import agentic
from memschema.layout import EOF, Layout, Section, View

_tag, _length = agentic.index_entry.subcons[:2]
index_entry = Struct(
    _tag, _length,
    "body" / FixedSized(this.length, Switch(this.tag, agentic.INDEX_BODIES, GreedyBytes))
    * "the index body by tag (type, temporal, session, cluster map, term index, doc lengths); other tags raw",
)

amem_agentic_layout = Layout(
    "amem_agentic_memory", "AMEM file as the agentic-memory crate writes it",
    "64-byte header; node and edge tables, content block and feature vectors at the offsets the header "
    "gives; TLV index entries from the end of the vectors to the end of the file",
    Section("header", agentic.header, "64-byte header at offset 0"),
    Section("nodes", agentic.node_record, "72-byte node records", at=this.header.node_table_offset,
            count=this.header.node_count),
    Section("edges", agentic.edge_record, "32-byte edge records", at=this.header.edge_table_offset,
            count=this.header.edge_count),
    Section("content", GreedyBytes, "one size-prefixed LZ4 blob per node", at=this.header.content_block_offset,
            size=this.header.feature_vec_offset - this.header.content_block_offset),
    Section("vectors", Array(this.header.dimension, Float32l), "one feature vector (dimension f32) per node",
            at=this.header.feature_vec_offset, count=this.header.node_count),
    Section("indexes", index_entry, "TLV index entries until the end of the file", count=EOF),
    View("blob", agentic.content_blob, "a node's content blob", table="nodes", offset="content_offset",
         length="content_length", base=this.header.content_block_offset, region="content"),
    extension="amem",
)

TEST_LAYOUTS = {"toy2": toy_layout(), "amem/agentic-memory": amem_agentic_layout}
TEST_DECLARATIONS = {"amem/agentic-memory": {k: v for k, v in vars(agentic).items() if isinstance(v, Struct)}}
