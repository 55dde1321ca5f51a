"""Engine: one CLI grammar — `--json` everywhere with one envelope and one finding shape, folders
walked, exit codes, capped text output, ISO 8601 times, help texts, broken pipes, progress on a
terminal, completion, `python -m memschema`."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest
from corpus_support import CORPUS, corpus_files

import memschema
from memschema import cli, registry
from memschema.cli import demo
from memschema.cli.reporting import CAP
from memschema.formats.mem8.seed import CONTENT_AREA
from memschema.formats.mem8.seed_store import SeedDocument
from memschema.output import OUTPUT_VERSION

FINDING_KEYS = {"severity", "code", "message", "path", "offset"}


def run_json(capsys, *argv: str) -> tuple[int, dict]:
    status = cli.main(list(argv))
    out = json.loads(capsys.readouterr().out)
    assert out["memschema_output"] == OUTPUT_VERSION, f"{argv}: no memschema_output"
    return status, out


def memschema_cmd(*argv: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "memschema", *argv], capture_output=True, text=True,
                          timeout=120, **kw)


@pytest.fixture(scope="module")
def samples(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("samples")
    assert cli.main(["demo", str(folder)]) == 0
    return folder


@pytest.fixture(scope="module")
def broken_rvf(tmp_path_factory, samples) -> Path:
    """sample_store.rvf with the first payload byte of its latest MANIFEST flipped: a hash error."""
    doc = memschema.load(samples / "sample_store.rvf")
    data = bytearray(doc.data)
    data[doc.latest.segment.payload_offset] ^= 0xFF
    path = tmp_path_factory.mktemp("broken") / "broken.rvf"
    path.write_bytes(data)
    assert not memschema.validate(path).ok
    return path


def truncated_seed(path: Path, blocks: int) -> Path:
    """A seed file whose every block declares content_len 4025 (> the 4024 stored): one
    mem8.content_truncated error per block (upstream's open() panics on such a block)."""
    doc = SeedDocument.new()
    for i in range(blocks):
        doc.append_block(b"x%d" % i, 0.5, timestamp=1767225600000000 + i)
    data = bytearray(doc.build())
    built = memschema.load(bytes(data))
    for i in range(blocks):
        at = built.offset_of(f"blocks[{i}].content_len")
        data[at:at + 4] = (CONTENT_AREA + 1).to_bytes(4, "little")
    path.write_bytes(data)
    return path


# --- --json everywhere -----------------------------------------------------------------------

def test_every_command_has_a_json_option():
    parser = cli.build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    assert {"detect", "inspect", "dump", "validate", "convert", "schemas", "demo", "lineage"} <= set(commands)
    for name, sub in commands.items():
        flags = {s for a in sub._actions for s in a.option_strings}
        assert "--json" in flags, f"memschema {name} has no --json"


def test_every_json_output_carries_the_envelope_and_only_documented_keys(capsys, samples, tmp_path):
    commands = next(a for a in cli.build_parser()._actions if a.dest == "command").choices
    seed, amem = str(samples / "seed.m8"), str(samples / "brain_agentic.amem")
    for argv in (["detect", "--json", seed], ["inspect", "--json", amem], ["dump", "--json", seed],
                 ["validate", "--json", seed], ["schemas", "--json"], ["demo", "--json", str(tmp_path / "d")],
                 ["convert", "--json", amem, str(tmp_path / "c.amem"), "--to", "amem/spec-v1"],
                 ["lineage", "--json", str(samples / "sample_store.rvf"), str(samples / "sample_child.rvf")],
                 ["dump", "--json", "--as", "mem8.seed_header", seed]):
        status, out = run_json(capsys, *argv)
        assert status == 0, argv
        documented = commands[argv[0]].get_default("doc_json_keys")
        keys = set(out) - {"memschema_output"}
        if "…" in documented:   # dump: the common keys, then the format's own (--as: no detection, no variant)
            assert set(documented) - {"…"} - ({"variant"} if "--as" in argv else set()) <= keys, argv
        else:
            assert keys <= set(documented), f"memschema {argv[0]} --json: undocumented keys {keys - set(documented)}"


def test_findings_have_one_shape_in_every_command(capsys, samples, broken_rvf, tmp_path):
    _, validated = run_json(capsys, "validate", "--json", str(broken_rvf))
    _, inspected = run_json(capsys, "inspect", "--json", str(broken_rvf))
    _, converted = run_json(capsys, "convert", "--json", str(samples / "brain_agentic.amem"),
                            str(tmp_path / "s.amem"), "--to", "amem/spec-v1")
    _, demoed = run_json(capsys, "demo", "--json", str(tmp_path / "d"))
    findings = (validated["reports"][0]["findings"] + inspected["findings"] + converted["findings"]
                + [f for r in demoed["reports"] for f in r["findings"]])
    assert validated["reports"][0]["findings"] and converted["findings"]
    for f in findings:
        assert set(f) == FINDING_KEYS, f
    assert inspected["findings"] == validated["reports"][0]["findings"]


@pytest.mark.parametrize("sub", ["mem8", "rvf", "amem"])
def test_dump_names_the_variant_the_same_way_in_every_format(sub):
    for name in corpus_files(sub):
        path = CORPUS / sub / name
        try:
            doc = memschema.load(path)
        except memschema.FormatError:
            continue  # not a whole memory file (structures for --as, zlib JSON)
        out = memschema.output.document_json(doc)
        fields = doc.to_json()
        assert (out["format"], out["variant"]) == (doc.format, doc.variant), f"{sub}/{name}"
        for legacy in ("variant", "dialect", "layout"):  # a format's own key for the same thing agrees
            if legacy in fields:
                assert fields[legacy] == doc.variant, f"{sub}/{name}: {legacy} {fields[legacy]!r} != {doc.variant!r}"
        assert {k: v for k, v in out.items() if k not in ("memschema_output", "format", "variant")} == \
            {k: v for k, v in fields.items() if k not in ("format", "variant")}, f"{sub}/{name}: keys lost"


def test_bytes_are_hex_and_integers_stay_integers_by_declaration(capsys, samples):
    _, seed = run_json(capsys, "dump", "--json", str(samples / "seed.m8"))
    assert seed["header"]["magic"] == b"MEM8".hex()          # declared Const(b"MEM8"): bytes -> hex
    _, rvf = run_json(capsys, "dump", "--json", str(samples / "sample_store.rvf"))
    assert isinstance(rvf["segments"][0]["magic"], int)      # declared u32: an integer


# --- unreadable files, exit codes ---------------------------------------------------------------

def test_validate_json_of_unreadable_and_foreign_files_is_a_report_with_one_error(capsys, tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("just text\n")
    status, out = run_json(capsys, "validate", "--json", str(tmp_path / "missing.m8"), str(text))
    assert status == 2
    missing, foreign = out["reports"]
    assert [f["code"] for f in missing["findings"]] == ["unreadable"] and not missing["ok"]
    assert [f["code"] for f in foreign["findings"]] == ["not_memory_file"] and not foreign["ok"]
    assert out["summary"]["unreadable"] == 2


def test_exit_codes(capsys, samples, broken_rvf, tmp_path):
    text = tmp_path / "notes.m8"
    text.write_text('{"contexts": []}')
    good = str(samples / "seed.m8")
    expected = {("validate", good): 0, ("validate", str(broken_rvf)): 1, ("validate", str(text)): 2,
                ("inspect", good): 0, ("inspect", str(broken_rvf)): 1, ("inspect", str(text)): 2,
                ("detect", good): 0, ("detect", str(text)): 2, ("dump", str(text)): 2,
                ("inspect", str(tmp_path / "missing")): 2, ("detect", str(tmp_path / "missing")): 2}
    got = {(command, path): cli.main([command, path]) for command, path in expected}
    capsys.readouterr()
    assert got == expected
    with pytest.raises(SystemExit) as usage:
        cli.main(["validate"])
    assert usage.value.code == 2


def test_inspect_shows_the_error_of_a_file_that_does_not_decode(capsys, tmp_path):
    bad = tmp_path / "bad.m8"
    bad.write_bytes(b"MEM8\x01\x00\x03")
    assert cli.main(["inspect", str(bad)]) == 1
    head, finding = capsys.readouterr().out.splitlines()
    assert head == f"{bad}: mem8/seed: FAILED (1 errors, 0 warnings)"
    assert finding.split()[:4] == ["error", "truncated", "header.block_count", "@6"], finding


# --- folders ---------------------------------------------------------------------------------

def _tree(tmp_path: Path, samples: Path) -> Path:
    root = tmp_path / "tree"
    (root / "a" / "b").mkdir(parents=True)
    (root / ".hidden").mkdir()
    (root / "a" / "seed.m8").write_bytes((samples / "seed.m8").read_bytes())
    (root / "a" / "b" / "store.rvf").write_bytes((samples / "sample_store.rvf").read_bytes())
    (root / ".hidden" / "store.rvf").write_bytes(b"not looked at")
    (root / "README.md").write_text("# notes\n")
    truncated_seed(root / "a" / "b" / "many.m8", 3)
    return root


def test_validate_walks_folders_recursively_with_a_summary(capsys, samples, tmp_path):
    root = _tree(tmp_path, samples)
    assert cli.main(["validate", str(root)]) == 1
    out = capsys.readouterr().out
    assert "a/seed.m8: mem8/seed: OK" in out and "a/b/store.rvf: rvf/runtime: OK" in out
    assert ".hidden" not in out
    assert "3 files: 2 ok, 1 with errors, 0 unreadable; 1 skipped" in out
    assert "3  error    mem8.content_truncated" in out
    status, js = run_json(capsys, "validate", "--json", str(root))
    assert status == 1
    assert js["summary"]["files"] == 3 and js["summary"]["skipped"] == 1
    assert js["summary"]["codes"] == [{"code": "mem8.content_truncated", "severity": "error", "count": 3}]
    assert [s["variant"] for s in js["skipped"]] == ["text"]


def test_detect_walks_folders_and_names_every_file(capsys, samples, tmp_path):
    root = _tree(tmp_path, samples)
    assert cli.main(["detect", str(root)]) == 0     # README.md found in a folder: named, not an error
    out = capsys.readouterr().out
    assert "README.md: not_binary/text: not a binary memory file" in out
    assert out.strip().splitlines()[-1] == "4 files: mem8/seed 2, not memory files 1, rvf/runtime 1"
    status, js = run_json(capsys, "detect", "--json", str(root))
    assert js["summary"]["by_format"] == {"mem8/seed": 2, "not memory files": 1, "rvf/runtime": 1}
    assert {e["id"] for e in js["files"]} == {"mem8/seed", "rvf/runtime", "not_binary/text"}
    (root / "junk.bin").write_bytes(b"\x00\x01\x02 no layout")
    assert cli.main(["detect", str(root)]) == 2     # binary, no known layout: reported
    capsys.readouterr()


def test_validate_of_the_corpus_folder_counts_every_code(capsys):
    status, js = run_json(capsys, "validate", "--json", str(CORPUS))
    summary = js["summary"]
    data_files = sum(len(corpus_files(sub)) for sub in ("mem8", "rvf", "amem"))
    assert summary["files"] + summary["skipped"] == data_files + len(list(CORPUS.rglob("*.json"))) + \
        len(list(CORPUS.rglob("*.md")))
    assert status == 2  # the --as structures of the rvf folder are not whole memory files
    assert {"code": "mem8.content_truncated", "severity": "error", "count": 1} in summary["codes"]


# --- text output ---------------------------------------------------------------------------------

def test_text_output_caps_the_findings_of_one_code(capsys, tmp_path):
    path = truncated_seed(tmp_path / "many.m8", CAP + 5)
    assert cli.main(["validate", str(path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert sum("mem8.content_truncated" in line for line in lines) == CAP + 1
    assert lines[-1].strip() == "… 5 more mem8.content_truncated findings (--all lists them)"
    assert cli.main(["validate", "--all", str(path)]) == 1
    assert sum("mem8.content_truncated" in line for line in capsys.readouterr().out.splitlines()) == CAP + 5
    status, js = run_json(capsys, "validate", "--json", str(path))
    assert len(js["reports"][0]["findings"]) == CAP + 5        # JSON is never capped


def test_inspect_shows_iso_8601_beside_raw_times(capsys, samples, tmp_path):
    assert cli.main(["inspect", str(samples / "brain_agentic.amem")]) == 0
    out = capsys.readouterr().out
    assert "1767225600000000 µs (2026-01-01T00:00:00Z)" in out
    assert cli.main(["inspect", str(samples / "brain_spec_v1.amem")]) == 0
    assert "1767225600 s (2026-01-01T00:00:00Z)" in capsys.readouterr().out
    assert cli.main(["inspect", str(samples / "sample_memories.m8")]) == 0
    assert "1700000000 s (2023-11-14T22:13:20Z)" in capsys.readouterr().out
    assert cli.main(["inspect", str(truncated_seed(tmp_path / "t.m8", 1))]) == 1      # its error is listed too
    assert "1767225600000000 µs (2026-01-01T00:00:00Z)" in capsys.readouterr().out


# --- help, python -m, completion -----------------------------------------------------------------

def test_help_lists_formats_exit_codes_and_examples():
    parser = cli.build_parser()
    top = parser.format_help()
    for fmt in registry.formats():
        assert f"  {fmt.name} " in top, fmt.name
    assert "exit codes:" in top and "141" in top
    commands = next(a for a in parser._actions if a.dest == "command").choices
    for name, sub in commands.items():
        text = sub.format_help()
        assert "examples:" in text and f"memschema {name}" in text.split("examples:")[1], name
        assert "exit codes:" in text, name


def test_python_dash_m_memschema_is_the_command(samples):
    out = memschema_cmd("detect", str(samples / "seed.m8"))
    assert out.returncode == 0 and "mem8/seed" in out.stdout
    assert memschema_cmd("--version").stdout.strip() == f"memschema {memschema.__version__}"


def test_shell_completion_through_argcomplete(tmp_path):
    pytest.importorskip("argcomplete", reason="argcomplete is in the test extra")
    target = tmp_path / "completions"
    line = "memschema val"
    env = {**os.environ, "_ARGCOMPLETE": "1", "COMP_LINE": line, "COMP_POINT": str(len(line)),
           "_ARGCOMPLETE_STDOUT_FILENAME": str(target)}
    memschema_cmd(env=env)
    assert [c.strip() for c in target.read_text().split("\x0b")] == ["validate"]


# --- pipes and terminals ---------------------------------------------------------------------------

def test_a_closed_pipe_is_not_success_and_prints_no_traceback(tmp_path):
    big = truncated_seed(tmp_path / "big.m8", 200)       # a dump far larger than a pipe buffer
    proc = subprocess.Popen([sys.executable, "-m", "memschema", "dump", "--json", str(big)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.read(100)
    proc.stdout.close()
    status = proc.wait(timeout=120)
    stderr = proc.stderr.read().decode()
    assert status == 141, stderr
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr


def _stderr_on_a_terminal(argv: list[str]) -> tuple[int, str]:
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "memschema", *argv], stdout=subprocess.DEVNULL,
                            stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(master, 4096)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    return proc.wait(timeout=60), b"".join(chunks).decode()


def test_progress_goes_to_stderr_only_on_a_terminal(samples):
    status, shown = _stderr_on_a_terminal(["validate", str(samples)])
    assert status == 0
    assert f"[1/{len(list(samples.iterdir()))}] validating " in shown and "\x1b[K" in shown
    piped = memschema_cmd("validate", str(samples))
    assert piped.returncode == 0 and piped.stderr == ""


# --- demo, lineage -----------------------------------------------------------------------------------

def test_demo_writes_a_new_folder_outside_any_checkout(tmp_path, monkeypatch, capsys):
    checkout = tmp_path / "checkout"
    (checkout / ".git").mkdir(parents=True)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setattr(demo.tempfile, "gettempdir", lambda: str(checkout / "tmp"))
    (checkout / "tmp").mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(checkout)
    old = os.umask(0o022)
    try:
        assert cli.main(["demo"]) == 0
    finally:
        os.umask(old)
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith("wrote ") and " sample files to " in first, first
    written = Path(first.split(" sample files to ", 1)[1].rstrip(os.sep))
    assert written.parent == home and written.name.startswith(demo.PREFIX), first
    assert list(checkout.rglob("*.m8")) == []
    modes = {oct(p.stat().st_mode & 0o777) for p in written.iterdir()}
    assert modes == {"0o644"}, modes


def test_lineage_says_when_there_is_nothing_to_follow(tmp_path, samples):
    foreign = memschema_cmd("lineage", str(samples / "brain_agentic.amem"))
    assert foreign.returncode == 2 and "not an RVF file (amem)" in foreign.stderr
    nested = tmp_path / "outer"
    (nested / "inner").mkdir(parents=True)
    (nested / "inner" / "s.rvf").write_bytes((samples / "sample_store.rvf").read_bytes())
    out = memschema_cmd("lineage", str(nested))
    assert out.returncode == 2 and "does not descend into sub-folders" in out.stderr
    good = memschema_cmd("lineage", str(samples / "sample_child.rvf"), str(samples / "sample_store.rvf"))
    assert good.returncode == 0 and "sample_child.rvf <- sample_store.rvf" in good.stdout
