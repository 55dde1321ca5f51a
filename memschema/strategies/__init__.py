"""Hypothesis strategies derived from memschema's declarations, for testing memschema and any other
reader of these formats.

- `from_construct(decl, **overrides)`: values of any construct declaration (build them with
  `decl.build`); `memschema.declarations()` lists the registered ones.
- `valid_files(format_id)` / `broken_files(format_id)`: whole files of a format, valid or broken
  together with the finding code a validator must report.
- `mutations(files)`: truncations, bit flips, overflowing count/offset/length fields, corrupted
  hashes of the files a strategy draws, with what a reader must do with them.
- `decoder_mutations(files, format)` / `decoder_mutators(format)`: changes that keep checksums
  valid (the format's `reseal` and `MUTATORS`), so the bytes reach the decoders.
- `check_value_roundtrip(decl, value)` / `check_bytes_survive(decl, data)`: the round-trip
  properties every declaration must have.
- `exercise(data, format=None)`: detect/load/dump/validate untrusted bytes; anything but
  FormatError becomes `Crash`.
- `same_value(a, b)` / `difference(a, b)`: parsed values compared exactly (floats bit for bit).

See docs/strategies.md.
"""

from .compare import difference, same_value
from .derive import SUPPORTED, external_context, from_construct
from .exercise import Crash, Outcome, exercise, exercise_bounded
from .files import broken_files, format_packages, strategy_modules, valid_files
from .mutate import FINDING, NO_CRASH, Field, Mutation, decoder_mutations, decoder_mutators, located_fields, mutations
from .roundtrip import check_bytes_survive, check_value_roundtrip

__all__ = ["FINDING", "NO_CRASH", "SUPPORTED", "Crash", "Field", "Mutation", "Outcome", "broken_files",
           "check_bytes_survive", "check_value_roundtrip", "decoder_mutations", "decoder_mutators", "difference",
           "exercise", "exercise_bounded", "external_context", "format_packages", "from_construct", "located_fields",
           "mutations", "same_value", "strategy_modules", "valid_files"]
