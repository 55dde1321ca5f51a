"""The real RVF implementation for interop tests: `@ruvector/rvf-node` (native rvf-runtime binding)
from `<repo>/.interop` or `$MEMSCHEMA_RVF_NODE_DIR`, installed there with npm when absent."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "@ruvector/rvf-node@0.2.3"
SCRIPT = Path(__file__).resolve().parent / "node" / "rvf_ops.js"


def _modules_dir() -> Path:
    base = Path(os.environ.get("MEMSCHEMA_RVF_NODE_DIR", ROOT / ".interop"))
    return base / "node_modules" if (base / "node_modules").is_dir() or base.name != "node_modules" else base


def _present(modules: Path) -> bool:
    return (modules / "@ruvector" / "rvf-node" / "package.json").is_file() and \
        any((modules / "@ruvector").glob("rvf-node-*/*.node"))


def _unavailable(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"rvf-node interop: {reason}; CI must have it (.ci/run installs it)")
    pytest.skip(f"rvf-node interop: {reason}")


@pytest.fixture(scope="session")
def rvf_node_env() -> tuple[str, dict]:
    """(node executable, environment with RVF_NODE_DIR) for the scripts in `tests/rvf/node/`."""
    node = shutil.which("node")
    if node is None:
        _unavailable("node is not installed")
    modules = _modules_dir()
    if not _present(modules) and shutil.which("npm"):
        prefix = modules.parent
        prefix.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--prefix", str(prefix), PACKAGE, "--no-audit", "--no-fund"],
                       capture_output=True, text=True, timeout=300)
    if not _present(modules):
        _unavailable(f"{PACKAGE} (with its native linux binary) is not installed in {modules} and "
                     "npm could not install it")
    return node, {**os.environ, "RVF_NODE_DIR": str(modules)}


@pytest.fixture(scope="session")
def rvf_node(rvf_node_env):
    """A function running `tests/rvf/node/rvf_ops.js` with a list of operations; returns the
    binding's reports (one per operation)."""
    node, env = rvf_node_env

    def run(ops: list[dict]) -> list[dict]:
        proc = subprocess.run([node, str(SCRIPT), json.dumps(ops)], capture_output=True, text=True,
                              timeout=120, env=env)
        if proc.returncode != 0:
            raise AssertionError(f"rvf-node script failed on {ops}:\n{proc.stderr}")
        return json.loads(proc.stdout)

    return run
