"""The optional C extension `memschema._sigbus` (see memschema/guard.py); everything else is in
pyproject.toml.  `optional=True`: a machine without a compiler installs memschema without it."""

from setuptools import Extension, setup

setup(ext_modules=[Extension("memschema._sigbus", ["memschema/_sigbus.c"], optional=True)])
