"""The upstream BM25 tokenizer (`src/engine/tokenizer.rs`, AMEM.md 2.6), used for tags 5 and 6."""

from __future__ import annotations

from collections import Counter

import regex

# Rust's char::is_alphanumeric = Unicode Alphabetic or Numeric (Nd, Nl, No).  The stdlib `re` and
# str.isalnum() split inside Other_Alphabetic marks (Indic vowel signs, circled letters).
_TOKEN = regex.compile(r"[\p{Alphabetic}\p{N}]+")

STOP_WORDS = frozenset("""
the a an is are was were be been being have has had do does did will would could should may might shall
can need must to of in for on with at by from as into about but not or and if it its this that which who
what when where how all each both few more most other some such no than too very just also
""".split())


def tokenize(text: str) -> list[str]:
    """Lowercase, split at non-alphanumerics, keep tokens of >= 2 UTF-8 bytes that are not stop words."""
    return [t for t in _TOKEN.findall(text.lower())
            if len(t.encode("utf-8")) >= 2 and t not in STOP_WORDS]


def term_frequencies(text: str) -> tuple[Counter, int]:
    """(term -> occurrences, token count with repeats) of one node's content."""
    tokens = tokenize(text)
    return Counter(tokens), len(tokens)
