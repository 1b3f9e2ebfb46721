"""`ttx play` arguments: mistakes get a clear message and exit 2 before any screen opens."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import MINIMAL


def play(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``ttx play ARGS`` in a subprocess (these arguments fail before any screen opens)."""
    return subprocess.run([sys.executable, "-m", "simulator.cli", "play", *args], capture_output=True,
                          text=True, timeout=60)


@pytest.mark.parametrize(("args", "message"), [
    (("no-such-drill",), "no scenario file or built-in scenario named 'no-such-drill' (built-in: "),
    (("--speed", "0"), "--speed: expected a speed above 0 and at most 3600, found '0'"),
    (("--speed", "fast"), "--speed: expected a speed like 1, 10 or 60, found 'fast'"),
    (("jailbreak-wave", "--pick"), "give a SCENARIO or --pick, not both"),
    (("--seed", "x"), "--seed: expected a whole number like 7, found 'x'"),
    (("--seed", "-1"), "--seed: expected a seed of 0 or more, found '-1'"),
    (("--save-dir", "/no/such/folder"), "--save-dir /no/such/folder: no such folder"),
])
def test_bad_arguments_are_refused_with_a_reason(args: tuple[str, ...], message: str) -> None:
    out = play(*args)
    assert out.returncode == 2
    assert message in out.stderr


def test_help_names_the_options() -> None:
    out = play("--help")
    assert out.returncode == 0
    for option in ("--pick", "--seed", "--speed", "--save-dir", "SCENARIO"):
        assert option in out.stdout


def test_a_broken_scenario_file_is_reported_at_file_line_col(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(MINIMAL.replace("duration: 2h", "duration: two hours"))
    out = play(str(broken))
    assert out.returncode == 2
    assert f"{broken}:5:11: duration: expected a duration like '90s'" in out.stderr


def test_the_garbage_collector_waits_until_the_drill_is_built(monkeypatch: pytest.MonkeyPatch,
                                                               tmp_path: Path) -> None:
    """Up to the briefing's first frame the collector is paused (it cost ~5 % of the launch and freed
    next to nothing); building the drill, after that frame, turns it back on, and so does any way out."""
    import gc

    from simulator.cli.main import build_parser
    from simulator.cli.play import cmd_play
    from tui.app import Opening

    seen: list[bool] = []

    def run_drill(opening: Opening, **_: object) -> None:
        seen.append(gc.isenabled())
        opening.build()
        seen.append(gc.isenabled())

    monkeypatch.setattr("tui.app.run_drill", run_drill)
    parse = build_parser("play").parse_args
    assert cmd_play(parse(["play", "--seed", "7", "--no-history", "--save-dir", str(tmp_path)])) == 0
    assert seen == [False, True] and gc.isenabled()
    with pytest.raises(FileNotFoundError):
        cmd_play(parse(["play", "no-such-drill", "--no-history", "--save-dir", str(tmp_path)]))
    assert gc.isenabled()
