"""Where formats plug in.  The engine knows no format by name: each format module defines a
`Format` subclass and calls `register()`; `memschema.formats` imports every module below it (and
any package exposing the `memschema.formats` entry point), so adding a format touches nothing here.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import construct

from .errors import Finding

if TYPE_CHECKING:  # pragma: no cover
    from .document import Document
    from .layout import Layout
    from .locking import LockProtocol
    from .repairing import RepairResult

NOT_BINARY = "not_binary"
UNKNOWN = "unknown"


@dataclass(frozen=True)
class Detection:
    """What the bytes are: `format` id, optional `variant`, and a human description."""

    format: str
    variant: str | None = None
    description: str = ""

    @property
    def id(self) -> str:
        return f"{self.format}/{self.variant}" if self.variant else self.format

    @property
    def is_memory_file(self) -> bool:
        return self.format not in (NOT_BINARY, UNKNOWN)

    def __str__(self) -> str:
        return self.id + (f" ({self.description})" if self.description else "")


class Format:
    """Base of every format.  Subclasses set the class attributes and override what they support."""

    name: ClassVar[str] = ""                      # format id, e.g. "mem8"; prefix of `--as NAME.decl`
    title: ClassVar[str] = ""
    variants: ClassVar[tuple[str, ...]] = ()
    extensions: ClassVar[tuple[str, ...]] = ()
    priority: ClassVar[int] = 100                 # detection order, lower first
    declarations: ClassVar[Mapping[str, construct.Construct]] = {}
    # The whole file, per variant ("" for a format without variants): sections, offsets, counts.
    layouts: ClassVar[Mapping[str, Layout]] = {}
    # A plug-in that only names files (side files) and loads none: it owes no layout or samples.
    names_only: ClassVar[bool] = False

    def layout_for(self, variant: str | None) -> Layout | None:
        """The layout of `variant` (the only one when the format has a single layout)."""
        if variant in self.layouts:
            return self.layouts[variant]
        if not self.variants and len(self.layouts) == 1:
            return next(iter(self.layouts.values()))
        return None

    lock: ClassVar[LockProtocol | None] = None   # the writer lock the upstream tool takes (LOCKS.md)
    # keyword options `load` accepts beyond the bytes (name -> help); `memschema.load/validate(...,
    # **options)` pass them through and the CLI offers each as `--name VALUE` on dump/validate/inspect
    load_options: ClassVar[Mapping[str, str]] = {}

    def detect(self, data) -> Detection | None:
        """Return a Detection if the bytes are this format (or a not-binary look-alike it knows).
        A format may declare `detect(self, data, *, name="")` instead: the engine then also passes
        the source's file name ("" for bytes) and asks it about empty files too."""
        return None

    def sniff(self, data) -> Detection | None:
        """Name a not-binary file this format's tools write (e.g. zlib JSON), tried once no format's
        `detect` matched and before the engine's generic sniffing."""
        return None

    def load(self, data, detection: Detection, *, name: str = "") -> Document:
        """Decode the bytes; by default the variant's layout is the whole document."""
        layout = self.layout_for(detection.variant)
        if layout is None:
            raise NotImplementedError(f"{self.name}: load")
        from .document import LayoutDocument
        return LayoutDocument.from_bytes(data, detection, layout, name)

    def dump_as(self, decl_name: str, value: Any, data) -> dict:
        """JSON for `dump --as NAME.decl`; formats add derived keys (hash checks, names)."""
        from .jsonify import to_jsonable
        return {decl_name: to_jsonable(value)}

    def add_commands(self, subparsers) -> None:
        """Add format-specific CLI subcommands (e.g. `lineage`)."""

    def tables(self, doc: Document) -> dict[str, Any]:
        """Derived tables for `memschema export` beyond the layout's sections: name ->
        `memschema.export.Records(decl, values, extra)` or a mapping of column name -> values."""
        return {}

    def samples(self) -> dict[str, bytes]:
        """Small sample files made by this format's own writer (file name -> bytes), for
        `memschema demo` and the README quick start."""
        return {}

    def lock_for(self, detection: Detection) -> LockProtocol | None:
        """The writer lock to hold while writing files of `detection`; None when upstream takes none."""
        return self.lock

    def repair(self, data, detection: Detection) -> RepairResult | None:
        """Salvage a damaged file: keep every complete unit, cut torn tails, drop what does not
        decode, rebuild what can be rebuilt.  None: this format (or variant) has no repair."""
        return None


@dataclass(frozen=True)
class Converter:
    """Converts a detected source (`source` id or `format/*`) into `target`."""

    source: str
    target: str
    func: Callable[..., tuple[bytes, list[Finding]]]
    description: str = ""

    def accepts(self, detection: Detection) -> bool:
        return self.source in (detection.id, f"{detection.format}/*", detection.format)


_formats: dict[str, Format] = {}
_converters: list[Converter] = []
_loaded = False


def register(fmt: Format | type[Format]) -> Format:
    instance = fmt() if isinstance(fmt, type) else fmt
    if not instance.name:
        raise ValueError("a format needs a name")
    _formats[instance.name] = instance
    return instance


def register_converter(source: str, target: str, func, description: str = "") -> None:
    _converters.append(Converter(source, target, func, description))


def _load_plugins() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    pkg = importlib.import_module(__package__ + ".formats")
    for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
        if info.name.rpartition(".")[2] in ("strategies", "mutators"):
            # hypothesis strategies and fuzzing mutators register nothing; memschema.strategies
            # imports them on demand (they import hypothesis: about 90 ms of every first load)
            continue
        importlib.import_module(info.name)
    try:
        from importlib.metadata import entry_points
        for ep in entry_points(group="memschema.formats"):
            ep.load()
    except Exception:  # noqa: BLE001 - a broken third-party plugin must not break memschema
        pass


def formats() -> list[Format]:
    _load_plugins()
    return sorted(_formats.values(), key=lambda f: (f.priority, f.name))


def get_format(name: str) -> Format:
    _load_plugins()
    base = name.split("/", 1)[0]
    if base not in _formats:
        raise KeyError(f"unknown format {name!r}; known: {', '.join(sorted(_formats))}")
    return _formats[base]


def is_registered(name: str) -> bool:
    _load_plugins()
    return name.split("/", 1)[0] in _formats


def converters() -> list[Converter]:
    _load_plugins()
    return list(_converters)


def declarations() -> dict[str, construct.Construct]:
    """Every registered declaration as `format.name` -> construct, including each whole-file
    layout as one construct (`format.file_<variant>`)."""
    out = {}
    for fmt in formats():
        for key, decl in fmt.declarations.items():
            out[f"{fmt.name}.{key}"] = decl
    return out


def layouts() -> dict[str, Layout]:
    """Every registered whole-file layout as `format/variant` (or `format`) -> Layout."""
    out = {}
    for fmt in formats():
        for variant, layout in fmt.layouts.items():
            out[f"{fmt.name}/{variant}" if variant else fmt.name] = layout
    return out


def iter_formats() -> Iterable[Format]:
    return iter(formats())
