"""The agentic-memory index bodies (AMEM.md 2.6) as the upstream writer lays them out, built in bulk
from numpy columns through their declarations.  The writer stores them; validation compares a
stored body with the one rebuilt here byte for byte (canonical bytes), and parses only a body that
differs, to say how.

Tag 5 (term index) quirk kept on purpose: upstream writes a term's length as `len as u16`, which
wraps for a term of 65,536 bytes or more (one word at the content limit, or longer once lowercased)
while all of the term's bytes follow; its reader then fails to parse tag 5 and runs without a term
index.  `TermCollector` writes the same bytes and says so (`long_terms`)."""

from __future__ import annotations

from array import array
from collections.abc import Iterator

import numpy as np
from construct import Container, Struct

from ...dtypes import struct_dtype
from ...errors import FormatError
from ...records import Columns, iter_serialized, serialize_one
from . import agentic
from .model import pad_vector
from .tokenizer import ONE_CHARACTER_TOKENS, SEPARATOR_TOKEN, STOP_WORDS, candidates_of_joined, candidates_of_many

POSTING = struct_dtype(agentic.posting)
TEMPORAL = struct_dtype(agentic.temporal_entry)
TERM_LENGTH = struct_dtype(Struct(agentic.term_entry.len)).fields["len"][0]   # u16
MAX_DOC_LENGTHS = 1 << 26   # tag 6 is dense by id: refuse ids that would make it absurdly large


def _grouped(ids: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(distinct keys ascending, ids ordered by (key, id), ids per key)."""
    order = np.lexsort((ids, keys))
    distinct, counts = np.unique(keys[order], return_counts=True)
    return distinct, ids[order], counts


def type_index_body(ids: np.ndarray, event_types: np.ndarray) -> bytes:
    """Tag 1: per non-empty event type (ascending) the ascending ids of its nodes."""
    types, members, counts = _grouped(np.asarray(ids, np.uint64), np.asarray(event_types))
    return serialize_one(agentic.type_index, {"groups": Columns(event_type=types, node_ids=(members, counts))},
                         "type_index")


def temporal_index_body(ids: np.ndarray, created_at: np.ndarray) -> bytes:
    """Tag 2: (created_at, id) pairs sorted by created_at, then id."""
    ids, created_at = np.asarray(ids, np.uint64), np.asarray(created_at, np.uint64)
    order = np.lexsort((ids, created_at))
    entries = np.zeros(len(ids), TEMPORAL)
    entries["created_at"], entries["node_id"] = created_at[order], ids[order]
    return serialize_one(agentic.temporal_index, {"n": len(entries), "entries": entries}, "temporal_index")


def session_index_body(ids: np.ndarray, session_ids: np.ndarray) -> bytes:
    """Tag 3: per session (ascending) the ascending ids of its nodes."""
    sessions, members, counts = _grouped(np.asarray(ids, np.uint64), np.asarray(session_ids))
    return serialize_one(agentic.session_index, {"n": len(sessions), "sessions": Columns(
        session_id=sessions, node_ids=(members, counts))}, "session_index")


def cluster_map_body(clusters, dimension: int) -> bytes:
    """Tag 4: the clusters a library caller stored (the CLI and MCP server write none)."""
    centroids = [pad_vector(c.centroid, dimension) for c in clusters]
    flat = np.concatenate(centroids) if centroids else np.zeros(0, "<f4")
    members = np.asarray([i for c in clusters for i in c.node_ids], np.uint64)
    return serialize_one(agentic.cluster_map, {
        "cluster_count": len(clusters), "dimension": dimension,
        "clusters": Columns(centroid=(flat, [dimension] * len(clusters)),
                            node_ids=(members, [len(c.node_ids) for c in clusters]))}, "cluster_map")


class TermCollector:
    """Tags 5 and 6 accumulated one node at a time (the node's text can be dropped right after), so
    validation streams the contents: decode, tokenize, discard.  Tokens are counted in batches with
    numpy (one sort per batch instead of a Counter per node); a posting is 12 bytes (term number,
    record number, occurrences) until the body is written."""

    BATCH = 1 << 16     # tokens held before they are counted
    TEXTS = 512         # texts tokenized in one regex pass at most
    CHARS = 1 << 20     # and characters: a large text is tokenized alone, not held beside others

    def __init__(self) -> None:
        # UTF-8 term -> number; the stop words, the text separator and the one-character ASCII
        # tokens take the first numbers, so they are dropped by one comparison
        self.vocabulary: dict[bytes, int] = {w.encode(): i for i, w in enumerate(sorted(STOP_WORDS))}
        self.separator = self.vocabulary[SEPARATOR_TOKEN] = len(self.vocabulary)
        for token in ONE_CHARACTER_TOKENS:
            self.vocabulary[token] = len(self.vocabulary)
        self.first_term = len(self.vocabulary)
        self.doc_ids = array("Q")
        self._texts: list[str] = []
        self._chars = 0                             # characters in `_texts`
        self._tokens: list[bytes] = []              # tokens not yet counted, a separator after each node's
        self._counted = 0                           # nodes whose tokens are counted
        self._lengths: list[np.ndarray] = []        # tokens per node, repeats included (tag 6)
        self._postings: list[np.ndarray] = []       # chunks of (term, record, tf) rows

    def add(self, node_id: int, text: str) -> None:
        self.doc_ids.append(node_id)
        self._texts.append(text)
        self._chars += len(text)
        if len(self._texts) >= self.TEXTS or self._chars >= self.CHARS:
            self._tokenize()

    def add_joined(self, node_ids, joined: bytes) -> None:
        """The texts of `node_ids`, already joined by JOINER as UTF-8 (none of them holding SEPARATOR)."""
        self._tokenize()
        self.doc_ids.extend(node_ids)
        self._take(candidates_of_joined(joined))

    def _tokenize(self) -> None:
        if self._texts:
            texts, self._texts, self._chars = self._texts, [], 0
            self._take(candidates_of_many(texts))

    def _take(self, tokens: list[bytes]) -> None:
        self._tokens += tokens
        if len(self._tokens) >= self.BATCH:
            self._count()

    def _count(self) -> None:
        """Postings of the nodes tokenized since the last count (each node's tokens end at its
        separator)."""
        vocabulary = self.vocabulary
        for token in dict.fromkeys(self._tokens):
            if token not in vocabulary:
                vocabulary[token] = len(vocabulary)
        terms = np.fromiter(map(vocabulary.__getitem__, self._tokens), np.int64, len(self._tokens))
        ends = terms == self.separator
        nodes = int(np.count_nonzero(ends))
        docs = np.cumsum(ends) - ends           # the node of each token, counted from the first pending
        kept = terms >= self.first_term
        terms, docs = terms[kept], docs[kept]
        self._lengths.append(np.bincount(docs, minlength=nodes).astype(np.uint32))
        pairs, tf = np.unique((docs + self._counted) << 32 | terms, return_counts=True)
        rows = np.empty((len(pairs), 3), np.uint32)
        rows[:, 0], rows[:, 1], rows[:, 2] = pairs & 0xFFFF_FFFF, pairs >> 32, tf
        self._postings.append(rows)
        self._counted += nodes
        self._tokens = []

    def _flush(self) -> None:
        self._tokenize()
        self._count()

    @property
    def doc_lengths(self) -> np.ndarray:
        self._flush()
        return np.concatenate(self._lengths) if self._lengths else np.zeros(0, np.uint32)

    def long_terms(self) -> list[tuple[str, int]]:
        """(term, UTF-8 length) of the terms whose length does not fit the u16 length field."""
        self._flush()
        limit = np.iinfo(TERM_LENGTH).max
        return [(t.decode("utf-8"), len(t)) for t in self.vocabulary if len(t) > limit]

    def term_index_body(self) -> bytes:
        return b"".join(self.term_index_pieces())

    def term_index_pieces(self) -> Iterator[bytes]:
        """Tag 5 in pieces (compared with a stored body piece by piece, never held whole):
        doc_count, avg_doc_length (f32 arithmetic), then the terms sorted by UTF-8 bytes, each with
        its postings ascending by node id."""
        lengths = self.doc_lengths          # counts what is pending
        terms = sorted(t for t, n in self.vocabulary.items() if n >= self.first_term)
        rank = np.zeros(len(self.vocabulary), np.uint32)
        rank[np.fromiter(map(self.vocabulary.__getitem__, terms), np.int64, len(terms))] = np.arange(len(terms))
        rows = np.concatenate(self._postings) if self._postings else np.zeros((0, 3), np.uint32)
        rows[:, 0] = rank[rows[:, 0]]
        del rank
        ids = np.frombuffer(self.doc_ids, np.uint64)
        # rows are in record order: when the ids ascend with it, one stable sort by term suffices
        by = np.argsort(rows[:, 0], kind="stable") if np.all(ids[1:] >= ids[:-1]) else \
            np.lexsort((ids[rows[:, 1]], rows[:, 0]))
        postings = np.zeros(len(by), POSTING)
        postings["node_id"] = ids[rows[by, 1]]
        postings["tf"] = rows[by, 2]
        per_term = np.bincount(rows[:, 0], minlength=len(terms))
        del by, rows
        doc_count = len(self.doc_ids)
        avg = np.float32(lengths.sum()) / np.float32(doc_count) if doc_count else np.float32(0)
        sizes = np.fromiter(map(len, terms), np.int64, len(terms))
        blob = b"".join(terms)
        del terms
        # `len as u16` as upstream writes it: a longer term's length wraps (see the module docstring)
        yield from iter_serialized(agentic.term_index, {
            "doc_count": doc_count, "avg_doc_length": float(avg), "term_count": len(sizes),
            "terms": Columns(len=sizes % (np.iinfo(TERM_LENGTH).max + 1), term=(blob, sizes),
                             postings=(postings, per_term))}, "term_index")

    def doc_lengths_body(self) -> bytes:
        """Tag 6: token counts dense by node id (count = max id + 1, 0 for missing ids)."""
        ids = np.frombuffer(self.doc_ids, np.uint64)
        count = int(ids.max()) + 1 if len(ids) else 0
        if count > MAX_DOC_LENGTHS:
            raise FormatError(f"doc lengths are dense by id: max id {count - 1} would need {count} entries",
                              "nodes.id", None, "amem.unrepresentable")
        dense = np.zeros(count, np.uint32)
        dense[ids] = self.doc_lengths
        return serialize_one(agentic.doc_lengths, {"count": count, "length": dense}, "doc_lengths")


def entry(tag: int, body: bytes) -> Container:
    """One index entry (its length is rebuilt from the body by the declaration)."""
    return Container(tag=tag, body=body)


def matches(stored, pieces) -> bool:
    """Whether `stored` (bytes or a view over the file) is exactly the concatenation of `pieces`."""
    view, at = memoryview(stored), 0
    for piece in pieces:
        if view[at:at + len(piece)] != piece:
            return False
        at += len(piece)
    return at == len(view)
