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


# Texts tokenized together are joined by SEPARATOR, which is matched as a token of its own: it is
# neither alphanumeric (it splits) nor cased nor case-ignorable (lowercasing the joined text, final
# sigma included, lowercases each text as it would alone).
SEPARATOR = "\x00"
_ASCII_MANY = re.compile(r"[a-z0-9]{2,}|\x00")
_CANDIDATE_MANY = regex.compile(r"[\p{Alphabetic}\p{N}]{2,}|[[\p{Alphabetic}\p{N}]&&[^\x00-\x7F]]|\x00", regex.V1)


def candidates_of_many(texts: list[str]) -> tuple[list[str], list[int]]:
    """`candidates` of several texts in one regex pass: (their tokens in order with a SEPARATOR after
    each text but the last, tokens per text counting that separator)."""
    joined = SEPARATOR.join(texts)
    if joined.count(SEPARATOR) == len(texts) - 1:
        lowered = joined.lower()
        tokens = (_ASCII_MANY if lowered.isascii() else _CANDIDATE_MANY).findall(lowered)
    else:                                   # a text holds the separator itself: one text at a time
        tokens = []
        for text in texts:
            tokens += candidates(text) + [SEPARATOR]
        tokens.pop()
    counts, at = [], 0
    for _ in range(len(texts) - 1):
        after = tokens.index(SEPARATOR, at) + 1
        counts.append(after - at)
        at = after
    counts.append(len(tokens) - at)
    return tokens, counts


def term_frequencies(text: str) -> tuple[Counter, int]:
    """(term -> occurrences, token count with repeats) of one node's content."""
    tokens = tokenize(text)
    return Counter(tokens), len(tokens)
