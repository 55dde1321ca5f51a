"""Compiled fast paths (optional: `pip install .` succeeds without a compiler; the pure-Python
code they accelerate is always there).  Everything else about the package is in pyproject.toml."""

from setuptools import Extension, setup

setup(ext_modules=[
    # MEM8 token-LZW decoding (memschema/formats/mem8/codecs/token_lzw.py falls back to Python)
    Extension("memschema.formats.mem8.codecs._lzw", ["memschema/formats/mem8/codecs/_lzw.c"], optional=True),
])
