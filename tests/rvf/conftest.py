"""The real RVF implementations for interop tests, from `<repo>/.interop` or
`$MEMSCHEMA_RVF_NODE_DIR`, installed there with npm when absent: `@ruvector/rvf-node` (the native
rvf-runtime binding) and `@ruvector/rvf-wasm` (the browser module whose store export is the
wasm_export dialect)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NODE_DIR = Path(__file__).resolve().parent / "node"
PACKAGES = {"rvf-node": "@ruvector/rvf-node@0.2.3", "rvf-wasm": "@ruvector/rvf-wasm@0.1.9"}


def _modules_dir() -> Path:
    base = Path(os.environ.get("MEMSCHEMA_RVF_NODE_DIR", ROOT / ".interop"))
    return base / "node_modules" if (base / "node_modules").is_dir() or base.name != "node_modules" else base


def _present(modules: Path, name: str) -> bool:
    if not (modules / "@ruvector" / name / "package.json").is_file():
        return False
    if name == "rvf-node":   # the platform binary comes in its own package
        return any((modules / "@ruvector").glob("rvf-node-*/*.node"))
    return (modules / "@ruvector" / name / "pkg" / "rvf_wasm_bg.wasm").is_file()


def _unavailable(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"RVF interop: {reason}; CI must have it (.ci/run installs it)")
    pytest.skip(f"RVF interop: {reason}")


def _install(name: str) -> tuple[str, Path]:
    """(node executable, node_modules folder holding package `name`), installed with npm if absent."""
    node = shutil.which("node")
    if node is None:
        _unavailable("node is not installed")
    modules = _modules_dir()
    if not _present(modules, name) and shutil.which("npm"):
        prefix = modules.parent
        prefix.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--prefix", str(prefix), PACKAGES[name], "--no-audit", "--no-fund"],
                       capture_output=True, text=True, timeout=300)
    if not _present(modules, name):
        _unavailable(f"{PACKAGES[name]} is not installed in {modules} and npm could not install it")
    return node, modules


def _runner(name: str, script: str):
    node, modules = _install(name)

    def run(ops: list[dict], timeout: int = 300) -> list[dict]:
        proc = subprocess.run([node, str(NODE_DIR / script)], input=json.dumps(ops), capture_output=True,
                              text=True, timeout=timeout, env={**os.environ, "RVF_NODE_DIR": str(modules)})
        if proc.returncode != 0:
            raise AssertionError(f"{script} failed on {json.dumps(ops)[:2000]}:\n{proc.stderr}")
        return json.loads(proc.stdout)

    return run


@pytest.fixture(scope="session")
def rvf_node_env() -> tuple[str, dict]:
    """(node executable, environment with RVF_NODE_DIR) for the scripts in `tests/rvf/node/`."""
    node, modules = _install("rvf-node")
    return node, {**os.environ, "RVF_NODE_DIR": str(modules)}


@pytest.fixture(scope="session")
def rvf_node():
    """A function running `tests/rvf/node/rvf_ops.js` with a list of operations; returns the
    binding's reports (one per operation)."""
    return _runner("rvf-node", "rvf_ops.js")


@pytest.fixture(scope="session")
def rvf_wasm():
    """A function running `tests/rvf/node/rvf_wasm_ops.mjs` (rvf-wasm's C-ABI exports)."""
    return _runner("rvf-wasm", "rvf_wasm_ops.mjs")
