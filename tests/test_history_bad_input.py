"""Every bad input issue 15 names, wherever a lead meets it: a one-line error that says what is wrong, a
database that is never changed, and a drill whose journal is never lost.

The bad histories: a corrupt file, a file another program holds locked, a database written by a newer
ttx, a database of something else, and a PostgreSQL server that cannot be reached; then a journal whose
scenario is unknown.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

import simulator.analysis.history.store
from simulator.analysis.aar import analyse
from simulator.analysis.history import SCHEMA_VERSION, entry_of, open_history, record_journal, remember
from simulator.analysis.recording import Target
from simulator.cli import main
from simulator.engine.events import Kind
from simulator.engine.journal import read_journal
from simulator.engine.replay import load_journal_scenario
from simulator.format.loader import LoadedScenario
from simulator.team.remote import RemoteSession
from tests.conftest import end_through_hot_wash
from tests.drills import journal
from tests.test_history import retired
from tests.test_server_crash import CODE, Host

UNREACHABLE = "postgresql://ttx@127.0.0.1:1/ttx"
"""A PostgreSQL URL nothing answers (port 1 on loopback: refused at once)."""


@dataclass(frozen=True)
class BadHistory:
    """A history ttx must refuse: where it is, what the error says, and whether it is as it was."""

    url: str
    says: str
    """A regular expression the one-line error matches."""
    unchanged: Callable[[], bool]


def file_kept(path: Path) -> Callable[[], bool]:
    """Whether ``path`` still holds the bytes it holds now."""
    before = path.read_bytes()
    return lambda: path.read_bytes() == before


@contextmanager
def bad_history(kind: str, tmp_path: Path, drill: Path,
                monkeypatch: pytest.MonkeyPatch) -> Iterator[BadHistory]:
    """A history of ``kind`` for the length of the ``with`` (a locked one stays locked until its end)."""
    path = tmp_path / "history.sqlite"
    if kind == "unreachable":
        yield BadHistory(UNREACHABLE, r"cannot connect to the history database postgresql\+psycopg://ttx@"
                                      r"127\.0\.0\.1:1/ttx", lambda: True)
        return
    if kind == "corrupt":
        path.write_bytes(b"\x00garbage, not SQLite\x00" * 500)
        yield BadHistory(str(path), r"is not a readable SQLite database .*nothing was changed",
                         file_kept(path))
        return
    if kind == "something else":
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE recipes (name TEXT)")
        yield BadHistory(str(path), r"is not a ttx history \(it has tables recipes.*nothing was changed",
                         file_kept(path))
        return
    with open_history(str(path)) as history:
        record_journal(history, drill, team="Red")
    if kind == "newer":
        engine = create_engine(f"sqlite:///{path}")
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO ttx_schema (version, description, applied_at, ttx_version) "
                              "VALUES (:v, 'from the future', :at, '9.0.0')"),
                         {"v": SCHEMA_VERSION + 1, "at": datetime(2030, 1, 1)})
        engine.dispose()
        newer = rf"written by a newer ttx \(9\.0\.0, schema v{SCHEMA_VERSION + 1}; this is ttx "
        yield BadHistory(str(path), newer + r".*upgrade ttx to use it; nothing was changed", file_kept(path))
        return
    assert kind == "locked"
    monkeypatch.setattr(simulator.analysis.history.store, "BUSY_TIMEOUT", 0.2)
    kept = file_kept(path)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        yield BadHistory(str(path), r"another program holds its lock \(database is locked\); try again",
                         kept)
    finally:
        other.execute("ROLLBACK")
        other.close()


BAD = ["corrupt", "locked", "newer", "something else", "unreachable"]


@pytest.fixture(scope="module")
def drill(tmp_path_factory: pytest.TempPathFactory, flagship: LoadedScenario) -> Path:
    """A drill people played (the flagship, textbook decisions)."""
    return journal(flagship, tmp_path_factory.mktemp("bad") / "drill.jsonl", people=True)


def one_line_error(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """Run ``ttx ARGS``, which must fail with exit status 2 and one line on stderr; that line."""
    status = main(list(args))
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1, err
    return err.strip()


@pytest.mark.parametrize("kind", BAD)
def test_ttx_history_and_history_add_refuse_a_bad_database_in_one_line(
        kind: str, tmp_path: Path, drill: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Listing it or adding a journal to it: ``ttx history: error: …`` on one line, the database as it was."""
    with bad_history(kind, tmp_path, drill, monkeypatch) as bad:
        listing = one_line_error(capsys, "history", "--db", bad.url)
        adding = one_line_error(capsys, "history", "add", "--db", bad.url, str(drill))
        assert bad.unchanged()
    assert listing.startswith("ttx history: error: ") and adding.startswith("ttx history add: error: ")
    assert re.search(bad.says, listing) and re.search(bad.says, adding), (listing, adding)


@pytest.mark.parametrize("kind", BAD)
def test_a_drill_ending_on_a_bad_history_goes_on_to_its_review_with_the_reason(
        kind: str, tmp_path: Path, drill: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What ``ttx play`` does as a drill ends never raises: the reason is one line for the player (the
    review then saves the journal, ``tests/test_history_tui.py``), and the database is as it was."""
    aar = analyse(*load_journal_scenario(drill), drill)
    entry = entry_of(aar, drill.read_bytes(), team="Red", source="play")
    with bad_history(kind, tmp_path, drill, monkeypatch) as bad:
        outcome = remember(Target(bad.url, "Red"), entry)
        assert bad.unchanged()
    assert outcome.recorded is None and outcome.problem is not None and "\n" not in outcome.problem
    assert re.search(bad.says, outcome.problem), outcome.problem


@pytest.mark.parametrize("kind", ["corrupt", "unreachable"])
async def test_ttx_host_on_a_bad_history_warns_and_the_journal_stays(kind: str, tmp_path: Path, drill: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The team drill ends as usual; recording it fails with a warning that names the journal, which is
    whole where it was (``ttx history add`` records it later)."""
    path = tmp_path / "team.jsonl"
    with bad_history(kind, tmp_path, drill, monkeypatch) as bad:
        host = await Host.start("jailbreak-wave", "--port", "0", "--journal", str(path), "--code", CODE,
                                "--linger", "0.2", "--db", bad.url, until="facilitator token:")
        assert host.token is not None
        fac = await RemoteSession.open(host.url, name="Lee", facilitator_token=host.token)
        try:
            await fac.start()
            await end_through_hot_wash(fac)
            _, err = await asyncio.wait_for(host.proc.communicate(), 30)
        finally:
            await fac.close()
        assert bad.unchanged()
    warning = next(line for line in err.decode().splitlines() if line.startswith("warning: "))
    assert host.proc.returncode == 0
    assert warning.startswith("warning: not recorded in the history: ")
    assert f"the journal is safe at {path} (ttx history add {path} records it later)" in warning
    assert re.search(bad.says, warning), warning
    assert any(e.kind == Kind.RESULT for e in read_journal(path).events), "the whole drill is in its journal"


def test_a_journal_whose_scenario_is_unknown_is_recorded_from_its_header_and_marked(
        tmp_path: Path, drill: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``ttx history add`` takes it (its figures from the journal's own result), says so, and the table
    and ``show`` mark it."""
    gone = retired(drill, tmp_path / "retired.jsonl")
    assert main(["history", "add", "--team", "Red", str(gone)]) == 0
    added = capsys.readouterr().out
    assert main(["history"]) == 0
    table = capsys.readouterr().out
    assert main(["history", "show", "--json", table.splitlines()[1].split()[0]]) == 0
    shown = capsys.readouterr().out
    assert "(scenario not found: recorded from the journal header)" in added
    assert "retired-drill (?)" in table.splitlines()[1]
    assert '"scenario_known": false' in shown and '"scenario_id": "retired-drill"' in shown
