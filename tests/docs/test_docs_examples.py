"""Every code block of README.md and docs/*.md runs, and so does every example of `memschema --help`.

Fence languages: `python` blocks run (in page order, one namespace per page) and `sh` blocks run
with bash, each command checked for its exit status (0, or N when its comment says `(exit N)`),
both in a folder holding the samples of `memschema demo` and a copy of `tests/corpus/`; `json`
blocks must parse; `text` blocks are output and are not run.  A block preceded by
`<!-- ci: .ci/run runs this block -->` (the quick start, which makes a virtual environment) is run by
CI: every command of it must appear verbatim in `.ci/run`.  Any other language fails.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from corpus_support import CORPUS, ROOT

from memschema import cli, registry

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
RUN, PARSED, SHOWN = {"python", "sh"}, {"json"}, {"text"}
CI_MARK = "<!-- ci: .ci/run runs this block -->"
EXIT = re.compile(r"#.*\(exit (\d+)\)")


@dataclass(frozen=True)
class Block:
    page: Path
    line: int          # 1-based line of the first code line
    lang: str
    code: str
    by_ci: bool

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks(page: Path) -> list[Block]:
    out, lines = [], page.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        if lines[i].startswith("```"):
            lang = lines[i][3:].strip()
            previous = next((x.strip() for x in reversed(lines[:i]) if x.strip()), "")
            end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
            out.append(Block(page, i + 2, lang, "\n".join(lines[i + 1:end]) + "\n", previous == CI_MARK))
            i = end
        i += 1
    return out


ALL = [b for page in PAGES for b in blocks(page)]


def test_every_page_has_blocks_and_every_block_a_known_language():
    assert {b.page for b in ALL} >= {ROOT / "README.md", ROOT / "docs" / "cookbook.md"}
    unknown = [f"{b.where}: ```{b.lang}" for b in ALL if b.lang not in RUN | PARSED | SHOWN]
    assert not unknown, "label each block python, sh (run), json (parsed) or text (not run): " + ", ".join(unknown)


@pytest.mark.parametrize("block", [b for b in ALL if b.lang in PARSED], ids=lambda b: b.where)
def test_json_blocks_parse(block):
    json.loads(block.code)


def commands(code: str) -> list[tuple[int, str]]:
    """(line offset, command) of a shell block; backslash continuations joined, comments kept."""
    out, pending, start = [], "", 0
    for n, line in enumerate(code.splitlines()):
        if not pending:
            start = n
        pending += line
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        if pending.strip() and not pending.lstrip().startswith("#"):
            out.append((start, pending))
        pending = ""
    return out


def test_quick_start_blocks_are_what_ci_runs():
    ci = (ROOT / ".ci" / "run").read_text()
    marked = [b for b in ALL if b.by_ci]
    assert {b.page.name for b in marked} >= {"README.md", "index.md"}
    for block in marked:
        for _, command in commands(block.code):
            assert command.strip() in ci, f"{block.where}: `{command}` is not run by .ci/run"


# --- running the blocks ------------------------------------------------------------------------

@pytest.fixture(scope="session")
def sample_folder(tmp_path_factory) -> Path:
    """The samples of `memschema demo` and a copy of the corpus under tests/corpus."""
    folder = tmp_path_factory.mktemp("docs-samples")
    assert cli.main(["demo", str(folder)]) == 0
    shutil.copytree(CORPUS, folder / "tests" / "corpus")
    return folder


@pytest.fixture(scope="session")
def shell_env(tmp_path_factory) -> dict:
    """`memschema`, `python` and `python3` on PATH run this interpreter, whatever is installed."""
    bindir = tmp_path_factory.mktemp("bin")
    for name, argv in (("memschema", f'"{sys.executable}" -m memschema'), ("python", f'"{sys.executable}"'),
                       ("python3", f'"{sys.executable}"')):
        shim = bindir / name
        shim.write_text(f'#!/bin/sh\nexec {argv} "$@"\n')
        shim.chmod(0o755)
    return {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"}


def run_shell(code: str, where: str, line: int, cwd: Path, env: dict) -> None:
    script = []
    for offset, command in commands(code):
        want = int(m.group(1)) if (m := EXIT.search(command)) else 0
        message = shlex.quote(f"{where.rsplit(':', 1)[0]}:{line + offset}: expected exit {want}: {command!r}")
        script += [command, f'rc=$?; if [ "$rc" != {want} ]; then echo "exit $rc:" {message} >&2; exit 97; fi']
    proc = subprocess.run(["bash", "-c", "\n".join(script)], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, f"{where}:\n{proc.stderr[-3000:]}\n{proc.stdout[-2000:]}"


def run_python(block: Block, namespace: dict) -> None:
    # Padding puts a traceback's line numbers on the lines of the page.
    code = compile("\n" * (block.line - 1) + block.code, str(block.page), "exec")
    exec(code, namespace)  # noqa: S102 - the documentation's own examples


RUNNABLE_PAGES = [p for p in PAGES if any(b.page == p and b.lang in RUN and not b.by_ci for b in ALL)]


@pytest.mark.parametrize("page", RUNNABLE_PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_page_examples_run(page, sample_folder, shell_env, tmp_path, monkeypatch):
    work = tmp_path / "work"
    shutil.copytree(sample_folder, work)
    monkeypatch.chdir(work)
    # A page may register a format (docs/engine.md's toy format): it must not outlive the page.
    monkeypatch.setattr(registry, "_formats", dict(registry._formats))
    monkeypatch.setattr(registry, "_converters", list(registry._converters))
    namespace: dict = {"__name__": f"docs_{page.stem}"}
    for block in (b for b in ALL if b.page == page and b.lang in RUN and not b.by_ci):
        if block.lang == "python":
            run_python(block, namespace)
        else:
            run_shell(block.code, block.where, block.line, work, shell_env)


def _command_parsers():
    action = next(a for a in cli.build_parser()._actions if a.dest == "command")
    return sorted(action.choices.items())


@pytest.mark.parametrize(("name", "parser"), _command_parsers(), ids=lambda x: x if isinstance(x, str) else "")
def test_help_examples_run(name, parser, sample_folder, shell_env, tmp_path):
    work = tmp_path / "work"
    shutil.copytree(sample_folder, work)
    examples = parser.get_default("doc_examples")
    assert all(c.lstrip().startswith(("memschema ", "python -m memschema")) for _, c in commands(examples)), name
    run_shell(examples, f"memschema {name} --help:1", 1, work, shell_env)


def test_top_level_help_examples_run(sample_folder, shell_env, tmp_path):
    work = tmp_path / "work"
    shutil.copytree(sample_folder, work)
    run_shell(cli.EXAMPLES, "memschema --help:1", 1, work, shell_env)
