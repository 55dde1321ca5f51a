"""The upstream BM25 tokenizer (`src/engine/tokenizer.rs`, AMEM.md 2.6), used for tags 5 and 6."""

from __future__ import annotations

import re
from collections import Counter

import regex

# Rust's char::is_alphanumeric = Unicode Alphabetic or Numeric (Nd, Nl, No).  The stdlib `re` and
# str.isalnum() split inside Other_Alphabetic marks (Indic vowel signs, circled letters).
_TOKEN = regex.compile(r"[\p{Alphabetic}\p{N}]+")
# The same tokens restricted to >= 2 UTF-8 bytes in the regex itself (a run of two or more, or one
# character beyond ASCII), stop words still in: what the bulk term counting starts from.
_ASCII = re.compile(r"[a-z0-9]{2,}")
_CANDIDATE = regex.compile(r"[\p{Alphabetic}\p{N}]{2,}|[[\p{Alphabetic}\p{N}]&&[^\x00-\x7F]]", regex.V1)

STOP_WORDS = frozenset("""
the a an is are was were be been being have has had do does did will would could should may might shall
can need must to of in for on with at by from as into about but not or and if it its this that which who
what when where how all each both few more most other some such no than too very just also
""".split())


def tokenize(text: str) -> list[str]:
    """Lowercase, split at non-alphanumerics, keep tokens of >= 2 UTF-8 bytes that are not stop words."""
    return [t for t in _TOKEN.findall(text.lower())
            if len(t.encode("utf-8")) >= 2 and t not in STOP_WORDS]


def candidates(text: str) -> list[str]:
    """`tokenize` without the stop-word filter (the caller drops stop words in bulk).  ASCII text, the
    common case, goes through the faster stdlib `re` (there, alphanumeric is exactly [a-z0-9])."""
    lowered = text.lower()
    return _ASCII.findall(lowered) if lowered.isascii() else _CANDIDATE.findall(lowered)


def term_frequencies(text: str) -> tuple[Counter, int]:
    """(term -> occurrences, token count with repeats) of one node's content."""
    tokens = tokenize(text)
    return Counter(tokens), len(tokens)
