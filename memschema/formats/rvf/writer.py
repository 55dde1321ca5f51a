"""Writing runtime-dialect stores exactly as rvf-runtime RvfStore does (RVF.md 3.1, 3.3, 3.7, 3.8,
3.10, 3.11): create/derive → MANIFEST; ingest → VEC, WITNESS, MANIFEST; delete → JOURNAL,
WITNESS, MANIFEST.  `StoreWriter` produces the bytes (in memory); `RvfStore` puts them in a file
under rvf-runtime's writer lock, a new file without ever replacing one (`create_new`) and an
existing one append-safely (`append_safely`), so a failed append leaves the previous manifest
the latest valid state.
"""

from __future__ import annotations

import contextlib
import copy
import os
import time
from pathlib import Path

import numpy as np
from construct import Container, ListContainer

from ...dtypes import struct_dtype
from ...errors import FormatError
from ...locking import Held
from ...parsing import build, constructible
from ...publish import FileStamp, create_new
from ...source import append_safely, atomic_write, read_source
from . import hashes
from .document import RvfDocument
from .layouts import RUNTIME
from .lockfile import WRITER_LOCK
from .runtime_payloads import (
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
from .segment import SEG_TYPES, header_bytes

PARENT_HASH_WINDOW = 65536


def new_file_id(path: str | os.PathLike = "", now_ns: int | None = None) -> bytes:
    """`fold32(path_utf8 ‖ le64(now_ns))[0:16]`, the runtime's file id."""
    now = time.time_ns() if now_ns is None else now_ns
    return hashes.fold32(os.fspath(path).encode() + now.to_bytes(8, "little"))[:16]


def runtime_parent_hash(parent_bytes) -> bytes:
    """Runtime `parent_hash`: fold32 of the last min(65536, size) bytes of the parent file."""
    return hashes.fold32(bytes(parent_bytes[-PARENT_HASH_WINDOW:]))


def segment_bytes(seg_type: int, segment_id: int, payload: bytes, content_hash: bytes | None = None) -> bytes:
    """A packed segment (every other header field as declared by default: flags, timestamp,
    checksum_algo, reserved 0); `content_hash` defaults to the runtime's rotated CRC-32 (rvf-wasm
    writes zero)."""
    digest = hashes.crc32_rotated(payload) if content_hash is None else content_hash
    return header_bytes(seg_type=seg_type, segment_id=segment_id, payload_length=len(payload),
                        content_hash=digest) + payload


def vec_payload_bytes(ids, vectors, dimension: int, head=vec_head) -> bytes:
    """VEC payload through the declarations: `head` (`vec_head`, or rvf-wasm's `wasm_vec_head` with
    the same field names) + records with the dtype of `vec_record`."""
    ids = np.asarray(ids, dtype=np.uint64).reshape(-1)
    vectors = np.asarray(vectors, dtype=np.float32).reshape(len(ids), dimension)
    records = np.empty(len(ids), dtype=struct_dtype(vec_record_fixed(dimension)))
    records["id"] = ids
    records["data"] = vectors
    return build(head, Container(dimension=dimension, vector_count=len(ids))) + records.tobytes()


def _plain(record) -> Container:
    """A parsed record (Container or numpy record) as plain Python values, to copy and rebuild."""
    return Container((k, bytes(v) if isinstance(v, (bytes, bytearray, memoryview)) else int(v))
                     for k, v in constructible(record).items() if not k.startswith("_"))


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
            raise FormatError("only a runtime-dialect store with a manifest can be reopened for writing", "", None,
                              "rvf.not_writable")
        m = doc.latest.value
        if m.get("file_identity") is None:
            raise FormatError("the latest manifest has no FileIdentity", f"{doc.latest.segment.path}.manifest",
                              doc.latest.segment.payload_offset, "rvf.not_writable")
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
    """A runtime store file: `create`, `open`, `ingest`, `delete`, `derive`, `document()`.

    Every write holds rvf-runtime's writer lock (`<path>.lock`, LOCKS.md 3.9) for its duration, or
    for the whole `with` block / until `close()` after `hold()`; `LockHeld` when another writer
    (rvf-node, another memschema process) holds it past `timeout` (default: fail at once, as
    upstream).  Under the lock the file is re-checked: if another writer changed it, the state is
    re-read from its latest manifest before appending; a torn append at the end is cut."""

    def __init__(self, path: str | os.PathLike, writer: StoreWriter, stamp: FileStamp | None = None,
                 timeout: float | None = None):
        self.path = Path(path)
        self.writer = writer
        self.stamp = stamp
        self.timeout = timeout
        self._held: Held | None = None

    @classmethod
    def create(cls, path, dimension: int, metric: str = "l2", profile_id: int = 0, *, replace: bool = False,
               timeout: float | None = None) -> RvfStore:
        """A new store at `path`.  An existing file (even one created a moment ago) is an error
        (`FileExistsError`) unless `replace=True`, which rewrites it atomically under its lock."""
        writer = StoreWriter(dimension=dimension, metric=metric, profile_id=profile_id,
                             identity=Container(file_id=new_file_id(path), parent_id=bytes(16),
                                                parent_hash=bytes(32), lineage_depth=0))
        with WRITER_LOCK.acquire(path, timeout):
            if replace:
                atomic_write(path, writer.create())
            else:
                create_new(path, writer.create())
            stamp = FileStamp.of(path)
        return cls(path, writer, stamp, timeout)

    @classmethod
    def open(cls, path, *, timeout: float | None = None) -> RvfStore:
        """Reopen a runtime store for writing (reading takes no lock, as upstream's readers)."""
        writer, stamp = _resume(path)
        return cls(path, writer, stamp, timeout)

    # -- the lock ----------------------------------------------------------------------------
    def hold(self, timeout: float | None = None) -> RvfStore:
        """Hold the writer lock until `close()` (upstream holds it from open to close)."""
        if self._held is None or not self._held.held:
            self._held = WRITER_LOCK.acquire(self.path, self.timeout if timeout is None else timeout)
        return self

    def close(self) -> None:
        if self._held is not None:
            self._held.release()

    def __enter__(self) -> RvfStore:
        return self.hold()

    def __exit__(self, *exc) -> None:
        self.close()

    def _locked(self):
        if self._held is not None and self._held.held:
            return contextlib.nullcontext()
        return WRITER_LOCK.acquire(self.path, self.timeout)

    def _sync(self) -> int:
        """Under the lock: re-read the state if the file changed since we last saw it, cut a torn
        append after the latest manifest; returns the bytes cut."""
        if FileStamp.of(self.path) != self.stamp:
            self.writer, self.stamp = _resume(self.path)
        cut = self.stamp.size - self.writer.size
        if cut > 0:
            with open(self.path, "r+b") as fh:
                fh.truncate(self.writer.size)
                fh.flush()
                os.fsync(fh.fileno())
            self.stamp = FileStamp.of(self.path)
        return max(cut, 0)

    def _append(self, operation) -> dict:
        with self._locked():
            cut = self._sync()
            before = self.writer.snapshot()
            try:
                chunk = operation()
                append_safely(self.path, chunk, before.size)
            except BaseException:
                self.writer = before      # the file was cut back; so is the state
                raise
            self.stamp = FileStamp.of(self.path)
        return {"epoch": self.writer.epoch, "bytes": len(chunk), "torn_tail_cut": cut}

    # -- operations ---------------------------------------------------------------------------
    def ingest(self, ids, vectors) -> dict:
        n = len(np.asarray(ids).reshape(-1))
        return {"accepted": n, "rejected": 0, **self._append(lambda: self.writer.ingest(ids, vectors))}

    def delete(self, ids) -> dict:
        ids = list(ids)
        result = self._append(lambda: self.writer.delete(ids))
        return {"deleted": self.writer.last_deleted, **result}

    def derive(self, child_path, *, timeout: float | None = None) -> RvfStore:
        """A child store at `child_path` (which must not exist); the parent is read, not locked."""
        data, _ = read_source(self.path)
        child = self.writer.child(data, child_path)
        with WRITER_LOCK.acquire(child_path, self.timeout if timeout is None else timeout):
            create_new(child_path, child.create())
            stamp = FileStamp.of(child_path)
        return RvfStore(child_path, child, stamp, self.timeout)

    def document(self) -> RvfDocument:
        from ...api import load
        return load(self.path, format="rvf")

    @property
    def file_id(self) -> str:
        return bytes(self.writer.identity.file_id).hex()


TORN = ("torn_header", "torn_payload")


def _resume(path) -> tuple[StoreWriter, FileStamp]:
    """The writer state of the store at `path` and the stamp of the file it was read from (taken
    first, so a change while reading shows).  Bytes after the latest manifest that are a torn
    append are left for `_sync` to cut; anything else needs `memschema repair`."""
    from ...api import load
    stamp = FileStamp.of(path)
    doc = load(path, format="rvf")
    tail, latest = doc.tail, doc.latest
    if tail is not None and not (tail.reason in TORN and latest is not None and tail.offset >= latest.segment.end):
        raise FormatError(f"{tail.length} bytes at offset {tail.offset} are not a torn append ({tail.reason}); "
                          "run `memschema repair` first", "tail", tail.offset, "rvf.needs_repair")
    return StoreWriter.resume(doc), stamp
