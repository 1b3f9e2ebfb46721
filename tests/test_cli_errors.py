"""Every ttx subcommand reports a failure as ``ttx CMD: error: …``, whatever went wrong, and exits 2."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from simulator.cli.main import build_parser, main
from tests.conftest import MINIMAL

Capture = pytest.CaptureFixture[str]
"""What ``capsys`` is."""

FREE_PORT_URL = "ws://127.0.0.1:9299"
"""Nothing listens here (this helper's port range), so a join fails fast."""

CASES: list[tuple[str, list[str], str]] = [
    ("ttx list", ["list", "--bogus"], "unrecognized arguments: --bogus"),
    ("ttx history", ["history", "--bogus"], "unrecognized arguments: --bogus"),
    ("ttx history add", ["history", "add"], "the following arguments are required: JOURNAL"),
    ("ttx history show", ["history", "show", "999999"], "no drills recorded yet"),
    ("ttx history trends", ["history", "trends"], "no drills recorded yet"),
    ("ttx history remove", ["history", "remove", "999999"], "no drills recorded yet"),
    ("ttx history", ["history", "--db", "mysql://db/ttx"], "ttx keeps its history in SQLite or PostgreSQL"),
    ("ttx history", ["history", "--limit", "0"], "--limit: expected 1 or more"),
    ("ttx history add", ["history", "add", "missing.jsonl"], "1 of 1 journal(s) not recorded (above)"),
    ("ttx history add", ["history", "add", "bad.yaml"], "1 of 1 journal(s) not recorded (above)"),
    ("ttx history trends", ["history", "trends", "--since", "spring"], "expected a date like 2026-01-31"),
    ("ttx compare", ["compare", "a.jsonl", "b.jsonl"], "a.jsonl: no such journal file"),
    ("ttx compare", ["compare", "bad.yaml", "bad.yaml"], "not a ttx journal"),
    ("ttx compare", ["compare", "abcd1234", "bad.yaml"], "no drills recorded yet"),
    ("ttx schema", ["schema", "extra"], "unrecognized arguments: extra"),
    ("ttx validate", ["validate", "missing.yaml"], "missing.yaml: no such scenario file"),
    ("ttx validate", ["validate", "."], ".: is a folder; expected a scenario file"),
    ("ttx run", ["run", "jailbreak-wave", "--policy", "missing.yaml"], "missing.yaml: no such policy file"),
    ("ttx run", ["run", "jailbreak-wave", "--policy", "textbok"], "did you mean 'textbook'?"),
    ("ttx run", ["run", "bad.yaml"], "1 problem in bad.yaml (above)"),
    ("ttx run", ["run", "jailbrek-wave"], "did you mean 'jailbreak-wave'?"),
    ("ttx run", ["run", "jailbreak-wave", "--journal", "no-folder/run.jsonl"],
     "cannot write no-folder/run.jsonl: no such folder no-folder"),
    ("ttx run", ["run", "--from", "missing.jsonl", "--at", "10m"], "missing.jsonl: no such file"),
    ("ttx replay", ["replay", "missing.jsonl"], "missing.jsonl: no such file"),
    ("ttx replay", ["replay", "bad.yaml"], "not a ttx journal"),
    ("ttx play", ["play", "missing.yaml"], "missing.yaml: no such scenario file"),
    ("ttx play", ["play", "bad.yaml"], "1 problem in bad.yaml (above)"),
    ("ttx play", ["play", "jailbreak-wave", "--pick"], "give a SCENARIO or --pick, not both"),
    ("ttx new", ["new", "drill", "-o", "no-folder/drill.yaml"], "no such folder no-folder"),
    ("ttx new", ["new", "bad"], "bad.yaml exists; choose another name or add --force"),
    ("ttx msel", ["msel"], "give export or import"),
    ("ttx msel export", ["msel", "export", "missing.yaml"], "missing.yaml: no such scenario file"),
    ("ttx msel export", ["msel", "export", "bad.yaml"], "1 problem in bad.yaml (above)"),
    ("ttx msel import", ["msel", "import", "missing.csv", "--into", "jailbreak-wave"],
     "missing.csv: no such file"),
    ("ttx msel import", ["msel", "import", "bad.yaml", "--into", "jailbreak-wave"],
     "problems in bad.yaml (above)"),
    ("ttx host", ["host", "missing.yaml", "--port", "0"], "missing.yaml: no such scenario file"),
    ("ttx host", ["host", "bad.yaml", "--port", "0"], "1 problem in bad.yaml (above)"),
    ("ttx host", ["host", "--resume", "missing.jsonl"], "missing.jsonl: no such journal"),
    ("ttx join", ["join", FREE_PORT_URL, "--code", "X", "--role", "ic", "--name", "A", "--headless"],
     f"cannot reach {FREE_PORT_URL}"),
    ("ttx join", ["join", "http://x", "--code", "X", "--role", "ic", "--name", "A"], "bad URL 'http://x'"),
    ("ttx join", ["join", FREE_PORT_URL, "--code", "X", "--role", "ops", "--name", "A"],
     "argument --role: expected a role: ic, ml, ts, comms, legal"),
    ("ttx join", ["join", FREE_PORT_URL, "--code", "X", "--role", "legl", "--name", "A"],
     "found 'legl'; did you mean 'legal'?"),
    ("ttx report", ["report", "missing.jsonl"], "missing.jsonl: no such file"),
    ("ttx report", ["report", "bad.yaml"], "not a ttx journal"),
    ("ttx report", ["report", "missing.jsonl", "-o", "."], "cannot write .: it is a folder"),
    ("ttx watch", ["watch", "missing.jsonl"], "missing.jsonl: no such file"),
    ("ttx watch", ["watch", "bad.yaml"], "not a ttx journal"),
    ("ttx sweep", ["sweep", "jailbreak-wave", "--policy", "missing.yaml", "--runs", "1"],
     "missing.yaml: no such policy file"),
    ("ttx sweep", ["sweep", "bad.yaml", "--runs", "1"], "1 problem in bad.yaml (above)"),
    ("ttx sweep", ["sweep", "jailbreak-wave", "--runs", "0"], "--runs and --workers must be at least 1"),
]
"""(subcommand, what a person typed, what the error must say): a wrong file and bad input for each."""


def subcommands(parser: argparse.ArgumentParser) -> set[str]:
    """Every subcommand's name (``ttx run``, ``ttx msel import`` …), however deep."""
    found: set[str] = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                found |= {child.prog} | subcommands(child)
    return found


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder holding ``bad.yaml`` (a scenario with one schema error), the current directory."""
    (tmp_path / "bad.yaml").write_text(MINIMAL.replace("duration: 2h", "duration: 7200"), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_every_subcommand_has_a_failure_case() -> None:
    """A new subcommand must be added to CASES, so this test keeps covering all of them."""
    assert {prog for prog, _, _ in CASES} == subcommands(build_parser())


def exit_status(argv: list[str]) -> int:
    """``ttx ARGV`` in this process: its exit status (argument errors exit through argparse)."""
    try:
        return main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)


@pytest.mark.parametrize(("prog", "argv", "says"), CASES, ids=[" ".join(c[1]) for c in CASES])
def test_a_failure_ends_in_one_line_naming_the_subcommand(
        workdir: Path, capsys: Capture, prog: str, argv: list[str], says: str) -> None:
    """Whatever failed, the last line is ``PROG: error: what was wrong``, and the exit status is 2."""
    status = exit_status(argv)
    err = capsys.readouterr().err
    last = err.rstrip("\n").splitlines()[-1]
    assert status == 2, err
    assert last.startswith(f"{prog}: error: ") and says in last, err
    assert "Traceback" not in err


def test_the_issue_command_says_no_such_file_as_ttx_run(tmp_path: Path) -> None:
    """`ttx run x --policy missing.yaml`, typed in a shell: 'ttx run: error: … no such policy file'."""
    out = subprocess.run([str(Path(sys.executable).parent / "ttx"), "run", "jailbreak-wave", "--policy",
                          "missing.yaml"], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr == ("ttx run: error: missing.yaml: no such policy file (a policy is idle, "
                          "textbook, historical, or the path of a scripted policy YAML file)\n")


def test_a_role_is_named_by_its_id_its_short_label_or_its_name_in_the_lobby() -> None:
    """What ``ttx join --role`` and the SSH seat's role prompt accept; anything else is no role."""
    from simulator.format.taxonomy import Role, role_named

    assert [role_named(text) for text in ("ml", "ML", "ML engineer", " ml   ENGINEER ", "T&S",
                                          "trust & safety", "Incident commander")] == \
        [Role.ML, Role.ML, Role.ML, Role.ML, Role.TS, Role.TS, Role.IC]
    assert [role_named(text) for text in ("ops", "", "facilitator", "m l")] == [None] * 4
