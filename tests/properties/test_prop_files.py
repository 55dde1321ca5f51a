"""Whole files from every format's strategies module (`memschema/formats/<pkg>/strategies.py`,
found automatically): valid files load, validate without errors and dump byte-identically; broken
files give the stated finding code; mutations of valid files never crash, and overflowing a
count/offset/length field or corrupting a hash is noticed."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

import memschema
from memschema.strategies import FINDING, broken_files, exercise_bounded, mutations, strategy_modules, valid_files

MODULES = strategy_modules()
PACKAGES = sorted(MODULES) or [pytest.param("<none>", marks=pytest.mark.skip(reason="no format has strategies.py"))]
FILES = settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                        HealthCheck.large_base_example, HealthCheck.filter_too_much])

# (package, property) -> reason, for strategies-module bugs or format bugs not yet fixed.
KNOWN: dict[tuple[str, str], str] = {}


def _known(pkg: str, prop: str) -> None:
    if (pkg, prop) in KNOWN:
        pytest.xfail(KNOWN[(pkg, prop)])


@pytest.mark.parametrize("pkg", PACKAGES)
def test_valid_files_load_validate_and_dump(pkg):
    _known(pkg, "valid")

    @FILES
    @given(valid_files(pkg))
    def check(data):
        doc = memschema.load(data)
        report = memschema.validate(data)
        assert report.ok, f"{pkg}: a valid file has errors:\n{report}"
        assert memschema.dump(doc) == data, f"{pkg}: dump of a valid file is not byte-identical"

    check()


@pytest.mark.parametrize("pkg", PACKAGES)
def test_broken_files_report_their_code(pkg):
    _known(pkg, "broken")

    @FILES
    @given(broken_files(pkg))
    def check(item):
        data, code = item
        report = memschema.validate(data)
        assert code in report.codes(), f"{pkg}: expected finding {code!r}, validate reported:\n{report}"

    check()


@pytest.mark.parametrize("pkg", PACKAGES)
def test_valid_file_mutations(pkg):
    _known(pkg, "mutations")

    @FILES
    @given(mutations(valid_files(pkg), pkg))
    def check(mutation):
        out = exercise_bounded(mutation.data)
        if mutation.expect == FINDING:
            assert out.load_error is not None or out.codes, f"{pkg}: {mutation} went unnoticed"
        if out.dumped is not None:
            assert out.dumped == mutation.data, f"{pkg}: {mutation} loads, but dump is not byte-identical"

    check()
