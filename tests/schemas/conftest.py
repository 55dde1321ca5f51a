"""The real Kaitai Struct compiler for the `.ksy` tests: npm `kaitai-struct-compiler` (driven by
`node/ksc.js`) and `js-yaml`, from `<repo>/.interop` or `$MEMSCHEMA_KSC_DIR`, installed there with
npm when absent; the generated Python parsers run on the `kaitaistruct` runtime (a test extra)."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("kaitai-struct-compiler@0.11.0", "js-yaml@4.1.0")
SCRIPT = Path(__file__).resolve().parent / "node" / "ksc.js"


def _unavailable(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"Kaitai Struct compiler: {reason}; CI must have it (the tests install it with npm)")
    pytest.skip(f"Kaitai Struct compiler: {reason}")


def _modules() -> Path:
    return Path(os.environ.get("MEMSCHEMA_KSC_DIR", ROOT / ".interop")) / "node_modules"


def _present(modules: Path) -> bool:
    return (modules / "kaitai-struct-compiler" / "kaitai-struct-compiler.js").is_file() and \
        (modules / "js-yaml" / "package.json").is_file()


@pytest.fixture(scope="session")
def ksc():
    """`compile(paths, outdir, language="python")` -> {path: {"files", "problems", "error"}}."""
    node = shutil.which("node")
    if node is None:
        _unavailable("node is not installed")
    modules = _modules()
    if not _present(modules) and shutil.which("npm"):
        modules.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--prefix", str(modules.parent), *PACKAGES, "--no-audit", "--no-fund"],
                       capture_output=True, text=True, timeout=300)
    if not _present(modules):
        _unavailable(f"{' and '.join(PACKAGES)} are not installed in {modules} and npm could not install them")
    try:
        import kaitaistruct  # noqa: F401
    except ImportError:
        _unavailable("the kaitaistruct Python runtime is not installed (pip install -e '.[test]')")

    def compile_(paths, outdir: Path, language: str = "python") -> dict:
        proc = subprocess.run([node, str(SCRIPT), language, str(outdir), *map(str, paths)], capture_output=True,
                              text=True, timeout=600, env={**os.environ, "KSC_MODULES": str(modules)})
        if proc.returncode != 0:
            raise AssertionError(f"ksc.js failed:\n{proc.stderr}")
        return json.loads(proc.stdout)["report"]

    return compile_


def load_parser(path: Path, ksy_id: str):
    """The root class of a generated Python parser (module loaded under a name of its own)."""
    name = f"_ksy_{ksy_id}_{abs(hash(str(path)))}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    wanted = ksy_id.replace("_", "").lower()
    return next(v for k, v in vars(module).items() if isinstance(v, type) and k.lower() == wanted)
