"""Per-format whole-file strategies, found by convention.

A format package `memschema/formats/<pkg>/` may hold a module `strategies.py` exposing
`valid_files(variant=None) -> SearchStrategy[bytes]` and `broken_files() -> SearchStrategy[tuple[bytes,
str]]` (file bytes, finding code `memschema.validate` must report).  Every subpackage is probed, so
a new format is covered as soon as it ships that module.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

from hypothesis import strategies as st

from .. import registry


def format_packages() -> list[str]:
    """Names of the subpackages of `memschema.formats`."""
    pkg = importlib.import_module("memschema.formats")
    return sorted(info.name for info in pkgutil.iter_modules(pkg.__path__) if info.ispkg)


def strategy_modules() -> dict[str, ModuleType]:
    """`pkg -> memschema.formats.<pkg>.strategies` for every package that has one."""
    out = {}
    for name in format_packages():
        modname = f"memschema.formats.{name}.strategies"
        try:
            out[name] = importlib.import_module(modname)
        except ModuleNotFoundError as exc:
            if exc.name != modname:  # the module exists but imports something missing: a real error
                raise
    return out


def _module_for(format_id: str) -> tuple[ModuleType, str | None]:
    base, _, variant = format_id.partition("/")
    modules = strategy_modules()
    if base in modules:
        return modules[base], variant or None
    if registry.is_registered(base):   # a format registered by a package of another name
        pkg = type(registry.get_format(base)).__module__.split(".")[2]
        if pkg in modules:
            return modules[pkg], variant or base
    raise LookupError(f"no whole-file strategies for {format_id!r}: memschema/formats/<pkg>/strategies.py "
                      f"exists for {', '.join(sorted(modules)) or 'no format yet'}")


def valid_files(format_id: str) -> st.SearchStrategy[bytes]:
    """Valid files of `format_id` (`"amem"`, `"amem/spec-v1"`, ...): consistent offsets, counts,
    hashes and indexes; `memschema.validate` reports no error on them and dump is byte-identical."""
    module, variant = _module_for(format_id)
    return module.valid_files(variant) if variant else module.valid_files()


def broken_files(format_id: str) -> st.SearchStrategy[tuple[bytes, str]]:
    """Subtly broken files of `format_id` with the finding code `memschema.validate` must report."""
    module, _ = _module_for(format_id)
    return module.broken_files()
