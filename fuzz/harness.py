"""atheris harness for one format: `python fuzz/harness.py --format FMT [libFuzzer args] [corpus dirs]`.

Every input goes through detect, then load / dump / validate with the format forced
(`load(data, format=FMT)`), so the decoder sees every input, also bytes detection would route
elsewhere (the detected path of those is fuzzed by the other formats' runs).
Anything but `FormatError` is a crash; libFuzzer writes the input to `-artifact_prefix`.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports(include=["memschema"]):
    import memschema
    from memschema.strategies.exercise import exercise

    memschema.list_formats()          # imports every format module under instrumentation


def _format_arg(argv: list[str]) -> tuple[str, list[str]]:
    if "--format" not in argv:
        raise SystemExit("usage: harness.py --format FMT [libFuzzer args]")
    i = argv.index("--format")
    return argv[i + 1], argv[:i] + argv[i + 2:]


FORMAT, ARGV = _format_arg(sys.argv)


def test_one_input(data: bytes) -> None:
    exercise(data, FORMAT)


def main() -> None:
    atheris.Setup(ARGV, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
