"""Running every entry point on untrusted bytes: the contract the robustness properties and the
fuzz harnesses check.  Only `FormatError` may escape; anything else is re-raised as `Crash` naming
the call, so a test or fuzzer reports which entry point broke."""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import api
from ..errors import FormatError


class Crash(AssertionError):
    """An entry point raised something other than FormatError (the original is `__cause__`)."""

    def __init__(self, call: str, exc: BaseException):
        self.call = call
        self.exc = exc
        super().__init__(f"{call} raised {type(exc).__name__}: {exc}")


@dataclass
class Outcome:
    detected: str = ""
    loaded: bool = False
    dumped: bytes | None = None
    load_error: FormatError | None = None
    codes: set[str] = field(default_factory=set)
    errors: int = 0


def _call(name: str, func, *args, **kwargs):
    try:
        return func(*args, **kwargs)
    except FormatError:
        raise
    except Exception as exc:  # noqa: BLE001 - exactly what the contract forbids
        raise Crash(name, exc) from exc


def exercise(data: bytes, format: str | None = None, dump: bool = True) -> Outcome:
    """detect, load, dump and validate `data` (forcing `format` when given).  Returns what happened;
    raises `Crash` when any of them raises anything but FormatError."""
    out = Outcome()
    try:
        out.detected = _call("detect", api.detect, data).id
    except FormatError:
        out.detected = "<FormatError>"
    try:
        doc = _call("load", api.load, data, format=format)
        out.loaded = True
    except FormatError as exc:
        out.load_error = exc
        doc = None
    if doc is not None and dump:
        try:
            out.dumped = bytes(_call("dump", api.dump, doc))
        except FormatError:
            out.dumped = None
    try:
        report = _call("validate", api.validate, data, format=format)
    except FormatError as exc:
        raise Crash("validate", exc) from exc     # validate reports, it does not raise
    out.codes = report.codes()
    out.errors = len(report.errors)
    return out


# Bounds for one call on `n` input bytes: loading may keep a few parsed objects per input byte
# (construct Containers are large), never anything proportional to a *declared* size.
SECONDS = 2.0
ALLOC_FACTOR = 64
ALLOC_CONSTANT = 8 << 20


_warm: list[bool] = []


def _warm_up() -> None:
    """Import every format (and what it imports lazily) before the first measured call."""
    if not _warm:
        from .. import registry
        registry.formats()
        for fmt in registry.formats():
            for sample in (b"", bytes(64)):
                try:
                    exercise(sample, fmt.name)
                except Crash:
                    pass
        _warm.append(True)


def exercise_bounded(data: bytes, format: str | None = None, seconds: float = SECONDS,
                     factor: int = ALLOC_FACTOR, constant: int = ALLOC_CONSTANT) -> Outcome:
    """`exercise`, and fail when it takes more than `seconds` or its peak traced allocation exceeds
    `factor * len(data) + constant` bytes (decompression and array sizes must be checked against
    the bytes that exist before anything is allocated)."""
    import time
    import tracemalloc

    _warm_up()
    started_tracing = not tracemalloc.is_tracing()
    if started_tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    t0 = time.perf_counter()
    try:
        out = exercise(data, format)
    finally:
        elapsed = time.perf_counter() - t0
        peak = tracemalloc.get_traced_memory()[1] - base
        if started_tracing:
            tracemalloc.stop()
    limit = factor * len(data) + constant
    assert elapsed < seconds, f"took {elapsed:.2f} s on {len(data)} bytes (limit {seconds} s)"
    assert peak <= limit, f"allocated {peak} bytes at peak on {len(data)} bytes of input (limit {limit})"
    return out
