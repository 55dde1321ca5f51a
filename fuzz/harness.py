"""atheris harness for one format: `python fuzz/harness.py --format FMT [libFuzzer args] [corpus dirs]`.

Every input goes through detect, then load / dump / validate with the format forced
(`load(data, format=FMT)`), so the decoder sees every input, also bytes detection would route
elsewhere (the detected path of those is fuzzed by the other formats' runs).
Anything but `FormatError` is a crash; libFuzzer writes the input to `-artifact_prefix`.

Half of the mutations are libFuzzer's own; the other half come from the format's decoder mutators
(`memschema.strategies.decoder_mutators`: byte changes followed by the format's checksum fix-ups,
and changes inside one encoding layer), so mutated bytes get past the CRCs and hashes to the
decompressors and record decoders.  With `MEMSCHEMA_FUZZ_STATS=FILE` the executions per mutator
are written to FILE (JSON, about once a second).
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from collections import Counter

import atheris

with atheris.instrument_imports(include=["memschema"]):
    import memschema
    from memschema.strategies.exercise import exercise
    from memschema.strategies.mutate import decoder_mutators

    memschema.list_formats()          # imports every format module under instrumentation


def _format_arg(argv: list[str]) -> tuple[str, list[str]]:
    if "--format" not in argv:
        raise SystemExit("usage: harness.py --format FMT [libFuzzer args]")
    i = argv.index("--format")
    return argv[i + 1], argv[:i] + argv[i + 2:]


FORMAT, ARGV = _format_arg(sys.argv)
MUTATORS = decoder_mutators(FORMAT)
NAMES = sorted(MUTATORS)
STATS = os.environ.get("MEMSCHEMA_FUZZ_STATS")
execs: Counter[str] = Counter()
last = ["corpus"]            # what made the next input: "corpus" (seeds), "libfuzzer" or a mutator name
flushed = [time.monotonic()]


def custom_mutator(data: bytes, max_size: int, seed: int) -> bytes:
    rnd = random.Random(seed)
    if NAMES and rnd.random() < 0.5:
        name = rnd.choice(NAMES)
        try:
            out = MUTATORS[name](bytes(data), rnd)
        except Exception:  # noqa: BLE001 - a mutator that cannot take these bytes: libFuzzer mutates instead
            out = None
        if out is not None and len(out) <= max_size:
            last[0] = name
            return out
    last[0] = "libfuzzer"
    return atheris.Mutate(data, max_size)


def _flush() -> None:
    flushed[0] = time.monotonic()
    with open(STATS, "w") as fh:
        json.dump(dict(execs), fh)


def test_one_input(data: bytes) -> None:
    execs[last[0]] += 1
    if STATS and time.monotonic() - flushed[0] > 1:
        _flush()
    exercise(data, FORMAT)


def main() -> None:
    atheris.Setup(ARGV, test_one_input, custom_mutator=custom_mutator)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
