"""The ttx command as a user types it: a real subprocess, real exit codes, real output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from simulator.format.schema import schema_text
from tests.conftest import MINIMAL

REPO = Path(__file__).resolve().parent.parent


def ttx(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    """Run ``ttx ARGS`` as a user would (a subprocess in ``cwd``) and capture what it printed."""
    return subprocess.run([sys.executable, "-m", "simulator.cli", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=120)


def test_list_shows_every_builtin_with_a_summary() -> None:
    out = ttx("list")
    assert out.returncode == 0
    assert "jailbreak-wave" in out.stdout and "guard classifier misses it" in out.stdout


def test_validate_passes_builtins_and_fails_broken_files_with_exit_2(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(MINIMAL.replace("duration: 2h", "duration: two hours"))
    good = ttx("validate", "scenarios/jailbreak-wave.yaml")
    assert good.returncode == 0 and "ok" in good.stdout
    bad = ttx("validate", str(broken), "jailbreak-wave")
    assert bad.returncode == 2
    assert f"{broken}:5:11: duration: expected a duration like '90s'" in bad.stderr
    assert "jailbreak-wave: ok" in bad.stdout


def test_validate_lint_of_the_flagship_has_no_warnings() -> None:
    out = ttx("validate", "--lint", "jailbreak-wave")
    assert out.returncode == 0 and out.stdout.strip() == "jailbreak-wave: ok"


def test_run_json_has_the_documented_keys(tmp_path: Path) -> None:
    journal = tmp_path / "run.jsonl"
    out = ttx("run", "jailbreak-wave", "--policy", "textbook", "--seed", "7", "--json",
              "--journal", str(journal))
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    for key in ("scenario", "seed", "policy", "time_to_detect", "time_to_contain", "harm_volume",
                "weighted_harm", "harm_averted", "collateral", "score", "breakdown"):
        assert key in result
    assert isinstance(result["harm_volume"], int)
    assert set(result["breakdown"]["containment"]) == {"value", "weight", "points", "why"}
    replay = ttx("replay", str(journal))
    assert replay.returncode == 0 and replay.stdout.startswith("replay matches:")


def test_run_prints_a_readable_table_by_default() -> None:
    out = ttx("run", "jailbreak-wave", "--policy", "idle", "--seed", "1")
    assert out.returncode == 0, out.stderr
    assert "time to contain     never" in out.stdout
    assert "containment        0.0" in out.stdout


def test_a_wrong_flag_says_what_is_allowed() -> None:
    out = ttx("run", "jailbreak-wave", "--sed", "3")
    assert out.returncode == 2
    assert "--sed → did you mean --seed?" in out.stderr
    assert ("options here: --at, --db, --from, --help, --journal, --json, --policy, --record, --scenario, "
            "--seed, --team") in out.stderr


def test_an_unknown_policy_or_scenario_is_a_clear_error() -> None:
    heroic = ttx("run", "jailbreak-wave", "--policy", "heroic")
    assert heroic.returncode == 2
    assert ("unknown policy 'heroic'; a policy is idle, textbook, historical, or the path of a scripted"
            in heroic.stderr)
    out = ttx("run", "no-such-drill")
    assert out.returncode == 2 and "built-in: " in out.stderr and "jailbreak-wave" in out.stderr


def test_schema_command_prints_the_committed_schema() -> None:
    assert ttx("schema").stdout == (REPO / "scenarios" / "schema.json").read_text()


def test_committed_schema_is_not_stale() -> None:
    """Regenerate with `python -m simulator.format.schema` after changing simulator/scenario.py."""
    assert (REPO / "scenarios" / "schema.json").read_text() == schema_text()


def test_builtin_scenarios_point_editors_at_the_schema() -> None:
    for path in (REPO / "scenarios").glob("*.yaml"):
        assert path.read_text().startswith("# yaml-language-server: $schema=./schema.json"), path


def test_replay_and_report_of_something_that_is_not_a_journal_say_what_it_is(tmp_path: Path) -> None:
    """A missing file, a directory, a binary file or a text file that is not JSON lines: each gets
    one line naming the file and the problem, exit 2, no traceback."""
    (tmp_path / "notes.md").write_text("# notes\n")
    (tmp_path / "blob.bin").write_bytes(b"\x00\xd0\xff\xfe" * 16)
    cases = {"missing.jsonl": "missing.jsonl: no such file",
             ".": "is a directory; expected a journal file",
             "blob.bin": "blob.bin: not a ttx journal (not text",
             "notes.md": "notes.md:1: not a ttx journal (the first line is not JSON"}
    for command in ("replay", "report"):
        for name, message in cases.items():
            out = ttx(command, name, cwd=tmp_path)
            assert out.returncode == 2, (command, name, out.stderr)
            assert message in out.stderr, (command, name, out.stderr)
            assert "Traceback" not in out.stderr


def test_the_readme_shows_what_ttx_run_prints() -> None:
    """The README's sample of ``ttx run`` output (summary and first components) is what the command
    prints today for the flagship on its own seed; regenerate the sample when a change moves it."""
    readme = (REPO / "README.md").read_text()
    sample = readme.split("`ttx run` prints a summary", 1)[1].split("```\n", 2)[1]
    shown = [line for line in sample.splitlines() if line.strip() and line.strip() != "..."]
    out = ttx("run", "jailbreak-wave")
    assert out.returncode == 0
    printed = out.stdout.splitlines()
    assert all(line in printed for line in shown), [line for line in shown if line not in printed]


def test_replay_of_a_cut_short_journal_says_why_it_differs(tmp_path: Path) -> None:
    """A journal cut off mid-drill (no result) still 'differs' (exit 1), and ttx replay says that
    it stops early rather than leaving the user to suspect tampering."""
    full = tmp_path / "run.jsonl"
    assert ttx("run", "jailbreak-wave", "--journal", str(full)).returncode == 0
    cut = tmp_path / "cut.jsonl"
    cut.write_text("\n".join(full.read_text().splitlines()[:21]) + "\n")
    out = ttx("replay", str(cut))
    assert out.returncode == 1
    assert "replay DIFFERS" in out.stderr
    assert "the journal stops at 0:10:00 without a result" in out.stderr and "ttx report" in out.stderr


def test_a_negative_or_non_numeric_seed_is_a_usage_error() -> None:
    """``--seed -1`` was a NumPy traceback; every command that takes a seed now says what it expects."""
    for args in (("run", "jailbreak-wave", "--seed", "-1"), ("sweep", "jailbreak-wave", "--seed-start", "-3"),
                 ("play", "--seed", "x"), ("host", "jailbreak-wave", "--seed", "-2")):
        out = ttx(*args)
        assert out.returncode == 2, args
        assert "argument --seed" in out.stderr and "Traceback" not in out.stderr, out.stderr
        assert "expected a seed of 0 or more" in out.stderr or "expected a whole number" in out.stderr


def test_replay_of_a_journal_whose_scenario_file_is_gone_says_which_and_how_to_give_it(
        tmp_path: Path) -> None:
    """A journal recorded from my.yaml, after my.yaml was moved: ttx replay names the missing file
    and --scenario (not just "no scenario file or built-in named 'my-drill'"); with --scenario it
    replays."""
    scenario = tmp_path / "my.yaml"
    scenario.write_text(MINIMAL)
    assert ttx("run", "my.yaml", "--journal", "run.jsonl", cwd=tmp_path).returncode == 0
    scenario.rename(tmp_path / "moved.yaml")
    out = ttx("replay", "run.jsonl", cwd=tmp_path)
    assert out.returncode == 2
    assert "run.jsonl: recorded with the scenario my.yaml, which is not there now" in out.stderr
    assert "--scenario PATH" in out.stderr
    assert ttx("replay", "run.jsonl", "--scenario", "moved.yaml", cwd=tmp_path).returncode == 0


def test_a_port_out_of_range_is_one_line_and_leaves_no_journal(tmp_path: Path) -> None:
    """``ttx host --port 99999`` (or ``--ssh -5``) used to end in an OverflowError traceback and leave a
    new journal behind; it is a usage error naming the range, and the folder stays empty."""
    for flag, value in (("--port", "99999"), ("--ssh", "-5"), ("--port", "http")):
        out = ttx("host", "jailbreak-wave", flag, value, cwd=tmp_path)
        assert out.returncode == 2 and "Traceback" not in out.stderr
        last = out.stderr.strip().splitlines()[-1]
        assert last.startswith(f"ttx host: error: argument {flag}: expected a port")
    assert list(tmp_path.iterdir()) == []


def test_a_pasted_token_loses_its_spaces_and_a_token_with_other_characters_is_named() -> None:
    """A facilitator token pasted with a trailing space, or read from a file into
    ``TTX_FACILITATOR_TOKEN`` with its newline, is the token (nothing is listening here, so the seat
    says it cannot connect); one with other characters is a usage error, not a pydantic traceback."""
    import os

    env = {**os.environ, "TTX_FACILITATOR_TOKEN": "white-cell-secret\n"}
    pasted = subprocess.run([sys.executable, "-m", "simulator.cli", "join", "ws://127.0.0.1:9",
                             "--name", "Lee"], capture_output=True, text=True, cwd=REPO, timeout=120, env=env)
    assert "Traceback" not in pasted.stderr and "facilitator-token" not in pasted.stderr
    assert pasted.returncode != 0
    odd = ttx("join", "ws://127.0.0.1:9", "--name", "Lee", "--facilitator-token", "white cell")
    assert odd.returncode == 2 and "Traceback" not in odd.stderr
    assert "argument --facilitator-token (or TTX_FACILITATOR_TOKEN): expected the token ttx host printed" \
        in odd.stderr
