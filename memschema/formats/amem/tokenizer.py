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


# Texts tokenized together are joined by JOINER, whose SEPARATOR is matched as a token of its own:
# it is neither alphanumeric (it splits) nor cased nor case-ignorable, nor are the spaces around it
# (lowercasing the joined text, final sigma included, lowercases each text as it would alone).
# The bulk path works on UTF-8 bytes: the term index stores and sorts terms by their UTF-8 bytes.
SEPARATOR = "\x00"
JOINER = " \x00 "
SEPARATOR_TOKEN = SEPARATOR.encode()
_CANDIDATE_MANY = regex.compile(r"[\p{Alphabetic}\p{N}]{2,}|[[\p{Alphabetic}\p{N}]&&[^\x00-\x7F]]|\x00", regex.V1)
# ASCII: alphanumeric is exactly [0-9A-Za-z]; every other byte but the separator becomes a space
_ASCII_SPLIT = bytes(c if chr(c).isalnum() or c == SEPARATOR_TOKEN[0] else 0x20 for c in range(256))
ONE_CHARACTER_TOKENS = [bytes([c]) for c in b"0123456789abcdefghijklmnopqrstuvwxyz"]


def candidates_of_many(texts: list[str]) -> list[bytes]:
    """The UTF-8 candidates of several texts in one pass: their tokens in order, SEPARATOR_TOKEN
    after each (ASCII tokens of one character included: see `candidates_of_joined`)."""
    joined = JOINER.join(texts)
    if joined.count(SEPARATOR) == len(texts) - 1:
        return candidates_of_joined(joined.encode("utf-8", "surrogatepass"))   # a lone surrogate is no token
    tokens = []                             # a text holds the separator itself: one text at a time
    for text in texts:
        tokens += [t.encode("utf-8") for t in candidates(text)]
        tokens.append(SEPARATOR_TOKEN)
    return tokens


def candidates_of_joined(joined: bytes) -> list[bytes]:
    """`candidates_of_many` of texts already joined by JOINER and encoded (none holding SEPARATOR).
    ASCII text is split on bytes (several times faster than a regex), which leaves the one-character
    tokens in (`ONE_CHARACTER_TOKENS`: the caller drops them with the stop words); other text takes
    the Unicode regex."""
    if joined.isascii():
        tokens = joined.lower().translate(_ASCII_SPLIT).split()
    else:
        tokens = [t.encode("utf-8") for t in _CANDIDATE_MANY.findall(joined.decode("utf-8", "surrogatepass").lower())]
    tokens.append(SEPARATOR_TOKEN)
    return tokens


def term_frequencies(text: str) -> tuple[Counter, int]:
    """(term -> occurrences, token count with repeats) of one node's content."""
    tokens = tokenize(text)
    return Counter(tokens), len(tokens)
