"""Shared test support: where the corpus of real upstream files is, and the `dump --json` ⊇ expected
contract of `tests/corpus/README.md`.

The corpus is a copy of the project's shared corpus kept in the repository (`tests/corpus/`), so a
fresh clone runs every test; `tests/engine/test_engine_corpus_copy.py` keeps the copy identical to
`../shared/corpus` when that folder exists.  `MEMSCHEMA_CORPUS` points the tests at another copy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("MEMSCHEMA_CORPUS", ROOT / "tests" / "corpus"))

# Keys that describe the upstream reader, provenance or other files (corpus README): not compared.
EXCLUDED_KEYS = frozenset("""
upstream_reader notes note source file writer calls origin file_size sha256 interpretation
read_backwards_order read_by_importance conversion decoded_sections rvf_node_at_generation
rvf_node_reopened rvf_wasm_at_generation term_index_loaded doc_lengths_loaded lineage
spec_parent_hash witness_action_hash action_hash_sources hash_of idmap_sidecar
vectors_with_parent_read_through description_padding_zero pad_zero
""".split())


def require_corpus(sub: str = "") -> Path:
    """A corpus folder; a failure (never a skip) when it is missing: the corpus ships with the tests."""
    path = CORPUS / sub
    if not path.is_dir():
        pytest.fail(f"corpus folder {path} is missing (tests/corpus ships with the repository; "
                    "is MEMSCHEMA_CORPUS set to a wrong folder?)")
    return path


def corpus_files(sub: str) -> list[str]:
    """Names of the data files of one corpus folder (for parametrize)."""
    folder = CORPUS / sub
    if not folder.is_dir():
        raise FileNotFoundError(f"corpus folder {folder} is missing (tests/corpus ships with the repository)")
    return sorted(p.name for p in folder.iterdir()
                  if p.is_file() and not p.name.endswith((".json", ".md")))


def expected_for(path: Path) -> dict:
    return json.loads(path.with_name(path.name + ".expected.json").read_text())


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def mismatches(expected, actual, path: str = "$") -> list[str]:
    """Every place where `actual` does not contain `expected` (empty list = contract holds)."""
    out: list[str] = []
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path}: expected an object, got {type(actual).__name__}"]
        for key, value in expected.items():
            if key in EXCLUDED_KEYS:
                continue
            if key.endswith("_name") and key[:-5] in expected and isinstance(actual.get(key[:-5]), str):
                if actual[key[:-5]].lower() != str(value).lower():
                    out.append(f"{path}.{key[:-5]}: expected name {value!r}, got {actual[key[:-5]]!r}")
                continue
            if key not in actual:
                if key.endswith("_name") and key[:-5] in actual:
                    continue  # dump holds only the integer; the integer is compared
                out.append(f"{path}.{key}: missing")
                continue
            sub = actual[key]
            name_key = f"{key}_name"
            if _is_number(value) and isinstance(sub, str) and name_key in expected:
                continue  # enum: dump holds the name; compared through `<key>_name`
            out.extend(mismatches(value, sub, f"{path}.{key}"))
        return out
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return [f"{path}: expected a list, got {type(actual).__name__}"]
        if len(expected) != len(actual):
            return [f"{path}: expected {len(expected)} elements, got {len(actual)}"]
        for i, (e, a) in enumerate(zip(expected, actual)):
            out.extend(mismatches(e, a, f"{path}[{i}]"))
        return out
    if _is_number(expected) and _is_number(actual):
        if expected != actual:
            out.append(f"{path}: expected {expected!r}, got {actual!r}")
        return out
    if expected != actual:
        out.append(f"{path}: expected {expected!r}, got {actual!r}")
    return out


def assert_contains(expected, actual, name: str = "") -> None:
    problems = mismatches(expected, actual)
    if problems:
        shown = "\n  ".join(problems[:20])
        more = f"\n  ... {len(problems) - 20} more" if len(problems) > 20 else ""
        pytest.fail(f"{name}: dump does not contain the expected JSON:\n  {shown}{more}")


def assert_same_bytes(rebuilt: bytes, original: bytes, name: str = "") -> None:
    """Byte-identical, or a failure naming the first differing offset."""
    if rebuilt == original:
        return
    first = next((i for i, (a, b) in enumerate(zip(rebuilt, original)) if a != b), min(len(rebuilt), len(original)))
    pytest.fail(f"{name}: rebuilt {len(rebuilt)} bytes vs original {len(original)}; first difference at offset "
                f"{first} (0x{first:x}): {rebuilt[first:first + 8].hex()} != {original[first:first + 8].hex()}")


def corpus_where(sub: str, **match) -> list[str]:
    """Corpus file names whose expected JSON has the given top-level values (for parametrize)."""
    folder = CORPUS / sub
    out = []
    for name in corpus_files(sub):
        expected = expected_for(folder / name)
        if all(expected.get(k) == v for k, v in match.items()):
            out.append(name)
    return out


def cli_dump_json(path: Path, *extra: str) -> dict:
    """What `memschema dump --json [extra] PATH` prints, run as the command a user runs."""
    out = subprocess.run([sys.executable, "-m", "memschema.cli", "dump", "--json", *extra, str(path)],
                         capture_output=True, text=True)
    assert out.returncode == 0, f"{path.name}: dump failed: {out.stderr}"
    return json.loads(out.stdout)
