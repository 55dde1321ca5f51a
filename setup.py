"""Compiled fast paths and guards (optional: `pip install .` succeeds without a compiler; the
pure-Python code they accelerate or guard is always there).  Everything else is in pyproject.toml."""

from setuptools import Extension, setup

setup(ext_modules=[
    # SIGBUS guard for memory-mapped reads (memschema/guard.py reads small files instead without it)
    Extension("memschema._sigbus", ["memschema/_sigbus.c"], optional=True),
    # the chain of records that state their own size (memschema/sized_records.py falls back to Python)
    Extension("memschema._follow", ["memschema/_follow.c"], optional=True),
    # MEM8 token-LZW decoding (memschema/formats/mem8/codecs/token_lzw.py falls back to Python)
    Extension("memschema.formats.mem8.codecs._lzw", ["memschema/formats/mem8/codecs/_lzw.c"],
              depends=["memschema/formats/mem8/codecs/lzw_core.h"], optional=True),
    # a batch of MEM8 record frames: CRC, zlib, token-LZW, bincode (record_frame.py falls back to
    # its Python decoder; needs zlib's header, as CPython's own zlib module does)
    Extension("memschema.formats.mem8.codecs._frames", ["memschema/formats/mem8/codecs/_frames.c"],
              depends=["memschema/formats/mem8/codecs/lzw_core.h", "memschema/formats/mem8/codecs/inflate_core.h"],
              libraries=["z"], optional=True),
    # the RVF runtime's witness-chain fold (memschema/formats/rvf/hashes.py falls back to Python)
    Extension("memschema.formats.rvf._fold", ["memschema/formats/rvf/_fold.c"], optional=True),
])
