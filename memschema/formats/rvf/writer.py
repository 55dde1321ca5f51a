"""Writing runtime-dialect stores exactly as rvf-runtime RvfStore does (RVF.md 3.1, 3.3, 3.7, 3.8,
3.10, 3.11): create/derive → MANIFEST; ingest → VEC, WITNESS, MANIFEST; delete → JOURNAL,
WITNESS, MANIFEST.  `StoreWriter` produces the bytes (in memory); `RvfStore` puts them in a file,
atomically for a new file and append-safely (`append_safely`) for an existing one, so a failed
append leaves the previous manifest the latest valid state.
"""

from __future__ import annotations

import copy
import os
import time
from pathlib import Path

import numpy as np
from construct import Container, ListContainer

from ...dtypes import struct_dtype
from ...parsing import build
from ...source import append_safely, atomic_write, read_source
from . import hashes
from .runtime import (
    IDENTITY_MARKER,
    JOURNAL_DELETE_VECTOR,
    METRICS,
    WITNESS_COMPUTATION,
    WITNESS_DATA_PROVENANCE,
    journal_payload,
    manifest_payload,
    vec_head,
    vec_record_fixed,
    witness_payload,
)
from .segment import SEG_TYPES, SEGMENT_MAGIC, SEGMENT_VERSION, segment_header
from .store import RUNTIME, RvfDocument

PARENT_HASH_WINDOW = 65536


def new_file_id(path: str | os.PathLike = "", now_ns: int | None = None) -> bytes:
    """`fold32(path_utf8 ‖ le64(now_ns))[0:16]`, the runtime's file id."""
    now = time.time_ns() if now_ns is None else now_ns
    return hashes.fold32(os.fspath(path).encode() + now.to_bytes(8, "little"))[:16]


def runtime_parent_hash(parent_bytes) -> bytes:
    """Runtime `parent_hash`: fold32 of the last min(65536, size) bytes of the parent file."""
    return hashes.fold32(bytes(parent_bytes[-PARENT_HASH_WINDOW:]))


def segment_bytes(seg_type: int, segment_id: int, payload: bytes, content_hash: bytes | None = None) -> bytes:
    """A packed segment; `content_hash` defaults to the runtime's rotated CRC-32 (rvf-wasm writes zero)."""
    digest = hashes.crc32_rotated(payload) if content_hash is None else content_hash
    header = Container(magic=SEGMENT_MAGIC, version=SEGMENT_VERSION, seg_type=seg_type, flags=0,
                       segment_id=segment_id, payload_length=len(payload), timestamp_ns=0, checksum_algo=0,
                       compression=0, reserved_0=0, reserved_1=0,
                       content_hash=digest, uncompressed_len=0, alignment_pad=0)
    return build(segment_header, header, "segment_header") + payload


def vec_payload_bytes(ids, vectors, dimension: int, head=vec_head) -> bytes:
    """VEC payload through the declarations: `head` (`vec_head`, or rvf-wasm's `wasm_vec_head` with
    the same field names) + records with the dtype of `vec_record`."""
    ids = np.asarray(ids, dtype=np.uint64).reshape(-1)
    vectors = np.asarray(vectors, dtype=np.float32).reshape(len(ids), dimension)
    records = np.empty(len(ids), dtype=struct_dtype(vec_record_fixed(dimension)))
    records["id"] = ids
    records["data"] = vectors
    return build(head, Container(dimension=dimension, vector_count=len(ids))) + records.tobytes()


def _plain(container) -> Container:
    """A parsed container without construct's stream reference (so it can be copied)."""
    return Container((k, bytes(v) if isinstance(v, (bytes, bytearray)) else int(v))
                     for k, v in container.items() if not k.startswith("_"))


class StoreWriter:
    """The runtime writer's state for one open session: ids continue at max(directory id) + 1 and
    the witness chain starts at zero (RVF.md 3.11)."""

    def __init__(self, *, dimension: int, metric: str = "l2", profile_id: int = 0, identity=None,
                 size: int = 0, epoch: int = 0, directory=None, loaded_ids=(), deleted_ids=()):
        if metric not in METRICS:
            raise ValueError(f"metric must be one of {', '.join(METRICS)}")
        if not 0 < dimension < 1 << 16:
            raise ValueError("dimension must be 1..65535")
        self.dimension, self.metric, self.profile_id = dimension, metric, profile_id
        self.identity = identity or Container(file_id=new_file_id(), parent_id=bytes(16), parent_hash=bytes(32),
                                              lineage_depth=0)
        self.size, self.epoch = size, epoch
        self.directory = ListContainer(directory or [])
        self.next_id = max((e.seg_id for e in self.directory), default=0) + 1
        self.loaded = set(int(i) for i in loaded_ids)
        self.deleted = sorted(set(int(i) for i in deleted_ids))
        self.prev_witness: bytes | None = None
        self.last_deleted = 0

    # -- sessions --------------------------------------------------------------------------
    @classmethod
    def resume(cls, doc: RvfDocument) -> StoreWriter:
        """Reopen a loaded runtime store for writing, as `RvfStore::open` does."""
        if doc.dialect != RUNTIME or doc.latest is None:
            raise ValueError("only a runtime-dialect store with a manifest can be reopened for writing")
        m = doc.latest.value
        if m.get("file_identity") is None:
            raise ValueError("the latest manifest has no FileIdentity")
        return cls(dimension=m.dimension, metric=str(m.metric), profile_id=m.profile_id,
                   identity=_plain(m.file_identity), size=doc.tail.offset if doc.tail else len(doc.data),
                   epoch=m.epoch, directory=[_plain(e) for e in m.segment_dir],
                   loaded_ids=doc.loaded_ids.tolist(), deleted_ids=list(m.get("deleted_ids", [])))

    def snapshot(self) -> StoreWriter:
        return copy.deepcopy(self)

    # -- segments --------------------------------------------------------------------------
    def _segment(self, seg_type: str, payload: bytes) -> bytes:
        value = SEG_TYPES[seg_type]
        out = segment_bytes(value, self.next_id, payload)
        self.directory.append(Container(seg_id=self.next_id, offset=self.size, payload_length=len(payload),
                                        seg_type=value))
        self.next_id += 1
        self.size += len(out)
        return out

    def manifest(self) -> bytes:
        listed = ListContainer(Container(e) for e in self.directory)
        payload = build(manifest_payload, Container(
            epoch=self.epoch, dimension=self.dimension, total_vectors=len(self.loaded),
            seg_count=len(listed), profile_id=self.profile_id, metric=self.metric, reserved=bytes(2),
            segment_dir=listed, del_count=len(self.deleted), deleted_ids=list(self.deleted),
            identity_marker=IDENTITY_MARKER, file_identity=self.identity, trailing=b""), "manifest_payload")
        return self._segment("manifest", payload)

    def witness(self, witness_type: int, action: str) -> bytes:
        raw = action.encode("ascii")
        prev = hashes.ZERO32 if self.prev_witness is None else hashes.fold32(self.prev_witness)
        payload = build(witness_payload, Container(witness_type=witness_type, timestamp_ns=time.time_ns(),
                                                   action_len=len(raw), action=raw, prev_hash=prev,
                                                   trailing=b""), "witness_payload")
        self.prev_witness = payload
        return self._segment("witness", payload)

    # -- operations ------------------------------------------------------------------------
    def create(self) -> bytes:
        """A new (or derived) store: one MANIFEST at epoch 0."""
        return self.manifest()

    def ingest(self, ids, vectors) -> bytes:
        ids = np.asarray(ids, dtype=np.uint64).reshape(-1)
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.size != len(ids) * self.dimension:
            raise ValueError(f"{vectors.size} values for {len(ids)} ids of dimension {self.dimension}")
        self.epoch += 1
        out = self._segment("vec", vec_payload_bytes(ids, vectors, self.dimension))
        self.loaded.update(ids.tolist())
        out += self.witness(WITNESS_COMPUTATION, f"ingest:count={len(ids)},epoch={self.epoch}")
        return out + self.manifest()

    def delete(self, ids) -> bytes:
        ids = [int(i) for i in ids]
        self.epoch += 1
        entries = ListContainer(Container(entry_type=JOURNAL_DELETE_VECTOR, reserved=0, entry_length=8,
                                          vector_id=i) for i in ids)
        out = self._segment("journal", build(journal_payload, Container(
            entry_count=len(ids), epoch=self.epoch, prev_journal_seg_id=0, entries=entries, trailing=b""),
            "journal_payload"))
        # every requested id is journaled; only live ones join deleted_ids and the witness count
        live = {i for i in ids if i in self.loaded} - set(self.deleted)
        self.deleted = sorted(set(self.deleted) | live)
        self.last_deleted = len(live)
        out += self.witness(WITNESS_DATA_PROVENANCE, f"delete:count={len(live)},epoch={self.epoch}")
        return out + self.manifest()

    def child(self, parent_bytes, child_path: str | os.PathLike = "") -> StoreWriter:
        """Writer of a derived child: fresh file_id, parent_id, depth + 1, runtime parent_hash."""
        identity = Container(file_id=new_file_id(child_path), parent_id=bytes(self.identity.file_id),
                             parent_hash=runtime_parent_hash(parent_bytes),
                             lineage_depth=self.identity.lineage_depth + 1)
        return StoreWriter(dimension=self.dimension, metric=self.metric, profile_id=self.profile_id,
                           identity=identity)


class RvfStore:
    """A runtime store file: `create`, `open`, `ingest`, `delete`, `derive`, `document()`."""

    def __init__(self, path: str | os.PathLike, writer: StoreWriter):
        self.path = Path(path)
        self.writer = writer

    @classmethod
    def create(cls, path, dimension: int, metric: str = "l2", profile_id: int = 0) -> RvfStore:
        writer = StoreWriter(dimension=dimension, metric=metric, profile_id=profile_id,
                             identity=Container(file_id=new_file_id(path), parent_id=bytes(16),
                                                parent_hash=bytes(32), lineage_depth=0))
        atomic_write(path, writer.create())
        return cls(path, writer)

    @classmethod
    def open(cls, path) -> RvfStore:
        from ...api import load
        doc = load(path, format="rvf")
        writer = StoreWriter.resume(doc)
        if writer.size != len(doc.data):
            raise ValueError(f"{path}: ends in a torn append ({len(doc.data) - writer.size} bytes); "
                             "repair it before appending")
        return cls(path, writer)

    def _append(self, operation) -> dict:
        before = self.writer.snapshot()
        try:
            chunk = operation()
            append_safely(self.path, chunk, before.size)
        except BaseException:
            self.writer = before      # the file was cut back; so is the state
            raise
        return {"epoch": self.writer.epoch, "bytes": len(chunk)}

    def ingest(self, ids, vectors) -> dict:
        n = len(np.asarray(ids).reshape(-1))
        return {"accepted": n, "rejected": 0, **self._append(lambda: self.writer.ingest(ids, vectors))}

    def delete(self, ids) -> dict:
        result = self._append(lambda: self.writer.delete(list(ids)))
        return {"deleted": self.writer.last_deleted, **result}

    def derive(self, child_path) -> RvfStore:
        data, _ = read_source(self.path)
        child = self.writer.child(data, child_path)
        atomic_write(child_path, child.create())
        return RvfStore(child_path, child)

    def document(self) -> RvfDocument:
        from ...api import load
        return load(self.path, format="rvf")

    @property
    def file_id(self) -> str:
        return bytes(self.writer.identity.file_id).hex()
