"""The drill history database: what a row holds, how drills are found, and every way a database can be bad.

Each behaviour runs against SQLite and against a real PostgreSQL server (``TTX_TEST_PG``, which
``.ci/run`` starts; outside CI the PostgreSQL cases skip when no server is given, in CI they fail).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.pool import QueuePool

from simulator.analysis.aar import analyse
from simulator.analysis.history import (
    MIGRATIONS,
    PEOPLE,
    SCHEMA_VERSION,
    Filters,
    HistoryError,
    NoHistory,
    default_path,
    entry_of,
    open_history,
    record_journal,
    remember,
    reopen,
    resolve_url,
    sha256,
    since_value,
)
from simulator.analysis.metrics import BY_NAME, measures
from simulator.analysis.recording import Target
from simulator.analysis.trends import median, textbook_reference, trends
from simulator.engine.journal import read_journal
from simulator.engine.replay import load_journal_scenario
from simulator.format.loader import LoadedScenario
from tests.drills import journal
from tests.tools import in_ci

PG_URL = os.environ.get("TTX_TEST_PG")


def postgres_url() -> str:
    """The test server's URL; skip (outside CI) or fail (in CI) without one."""
    if PG_URL:
        return PG_URL
    if in_ci():
        pytest.fail("CI must test the history against PostgreSQL: .ci/run starts a server and exports "
                    "TTX_TEST_PG; it is missing")
    pytest.skip("no PostgreSQL server given: set TTX_TEST_PG=postgresql://USER@HOST:PORT/DB (.ci/run "
                "starts one) to run the PostgreSQL cases")


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty history database URL: a SQLite file, or a private schema on the PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'history.sqlite'}"
        return
    base = resolve_url(postgres_url())
    schema = f"ttx_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(scope="module")
def journals(tmp_path_factory: pytest.TempPathFactory, flagship: LoadedScenario) -> dict[str, Path]:
    """Journals of the flagship: the textbook bot (seeds 7 and 3), the idle bot, and three "people"
    drills: a slow team in January, the same team faster in March, a second team in February."""
    home = tmp_path_factory.mktemp("journals")
    jan, feb, mar = (datetime(2026, m, 10, 9, 0, tzinfo=UTC) for m in (1, 2, 3))
    return {
        "textbook": journal(flagship, home / "textbook.jsonl"),
        "textbook-3": journal(flagship, home / "textbook-3.jsonl", seed=3),
        "idle": journal(flagship, home / "idle.jsonl", policy="idle"),
        "slow": journal(flagship, home / "slow.jsonl", policy="hesitant", people=True, played=jan),
        "other": journal(flagship, home / "other.jsonl", policy="hesitant", seed=3, people=True, played=feb),
        "fast": journal(flagship, home / "fast.jsonl", people=True, played=mar),
    }


def retired(path: Path, out: Path) -> Path:
    """A copy of a journal as if its scenario had been a file that is gone now (another id, no file)."""
    text = path.read_text().replace("builtin:jailbreak-wave", "/gone/retired.yaml")
    out.write_text(text.replace('"jailbreak-wave"', '"retired-drill"'))
    return out


# --- what a row holds --------------------------------------------------------------------------


def test_a_recorded_drill_holds_exactly_what_its_report_says(db: str, journals: dict[str, Path]) -> None:
    """Every headline figure, score component and per-role figure in the history equals the report's."""
    path = journals["textbook"]
    aar = analyse(*load_journal_scenario(path), path)
    with open_history(db) as history:
        recorded = record_journal(history, path, team="Red")
        detail = history.detail(recorded.row.id)
    row = detail.row
    assert recorded.new and row.id == sha256(path.read_bytes())
    assert {name: getattr(row, name) for name in BY_NAME} == measures(aar)
    assert (row.scenario_id, row.seed, row.policy, row.mode, row.team) == ("jailbreak-wave", 7, "textbook",
                                                                          "bot", "Red")
    assert [(c.name, c.points, c.weight, c.why) for c in detail.components] == \
        [(c.name, c.points, c.weight, c.why) for c in aar.result.ordered()]
    assert [(f.name, f.first_action, f.approvals) for f in detail.figures if f.kind == "role"] == \
        [(f.name, f.first_action, f.approvals) for f in aar.participants]
    assert [x["text"] for x in detail.improvements] == [f.text for f in aar.improvements]
    assert row.expectations_met == sum(1 for x in aar.expectations if x.status == "met")


def test_a_journal_recorded_twice_is_one_drill_and_a_missing_team_is_filled_in(db: str, journals: dict[str,
                                                                               Path]) -> None:
    """``ttx history add`` is idempotent by sha256; a second import may name the team the first left out."""
    with open_history(db) as history:
        first = record_journal(history, journals["fast"])
        again = record_journal(history, journals["fast"], team="Blue")
        third = record_journal(history, journals["fast"], team="Green")
        count = history.count()
    assert first.new and not again.new and not third.new
    assert again.changes == ("team set to Blue",) and third.changes == ("team stays Blue (not Green)",)
    assert third.row.team == "Blue" and count == 1


def test_the_row_a_recording_returns_is_the_row_the_history_reads_back(db: str, journals: dict[str,
                                                                       Path]) -> None:
    """Recording a new drill writes it and reads nothing back: the row it returns is built from the entry,
    and is the row (same values, same types) that finding the drill gives."""
    path = journals["slow"]
    aar = analyse(*load_journal_scenario(path), path)
    with open_history(db) as history:
        recorded = history.record(entry_of(aar, path.read_bytes(), team="Red", source="play", path=path))
        found = history.get(recorded.row.id)
    def typed(row: object) -> list[tuple[str, type]]:
        return [(name, type(value)) for name, value in vars(row).items()]

    assert recorded.new and typed(recorded.row) == typed(found)
    assert recorded.row == found


def test_opening_a_history_again_reuses_its_engine_and_closing_it_closes_its_connections(db: str) -> None:
    """``ttx play`` records drill after drill: each opening of the same database reuses the engine (and
    the statements it compiled), and closing a history leaves no connection open."""
    with open_history(db) as first:
        first.count()
    with open_history(db) as second:
        second.count()
    assert second.engine is first.engine
    pool = second.engine.pool
    assert isinstance(pool, QueuePool) and pool.checkedin() == pool.checkedout() == 0


def test_two_programs_recording_the_same_drill_at_once_make_one_row(db: str, journals: dict[str,
                                                                    Path]) -> None:
    """A shared database: two recorders racing on one journal end with one drill, and neither fails."""
    with open_history(db) as history:
        aar = analyse(*load_journal_scenario(journals["fast"]), journals["fast"])
        entry = entry_of(aar, journals["fast"].read_bytes(), team="Red", source="play")
        outcomes = []
        threads = [threading.Thread(target=lambda: outcomes.append(history.record(entry))) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert history.count() == 1
    assert sorted(o.new for o in outcomes) == [False, True]


def test_a_people_drill_is_filed_as_people_and_a_bot_run_by_its_policy(db: str, journals: dict[str,
                                                                       Path]) -> None:
    with open_history(db) as history:
        people = record_journal(history, journals["fast"], team="Red").row
        bot = record_journal(history, journals["idle"]).row
    assert (people.policy, people.mode) == (PEOPLE, "hot seat")
    assert (bot.policy, bot.mode, bot.by) == ("idle", "bot", "bot: idle")


def test_the_history_keeps_the_journal_so_a_drill_reopens_without_its_file(db: str, journals: dict[str, Path],
                                                                           tmp_path: Path) -> None:
    """The stored journal is byte for byte the file (its sha256 is the id), and reopens to the same facts."""
    copy = tmp_path / "drill.jsonl"
    copy.write_bytes(journals["textbook"].read_bytes())
    with open_history(db) as history:
        recorded = record_journal(history, copy)
        copy.unlink()
        assert sha256(history.journal(recorded.row.id)) == recorded.row.id
        reopened = reopen(history, recorded.row.short)
    assert reopened.aar.result.score == recorded.row.score and reopened.loaded is not None


def test_a_journal_whose_scenario_is_gone_is_recorded_from_its_header_and_marked(db: str, journals: dict[str,
                                                                                 Path],
                                                                                 tmp_path: Path) -> None:
    """The scenario file is missing: the row comes from the journal's header and result, marked unknown."""
    gone = retired(journals["textbook"], tmp_path / "retired.jsonl")
    with open_history(db) as history:
        recorded = record_journal(history, gone)
        notes = history.detail(recorded.row.id).notes
    assert not recorded.row.scenario_known
    assert "scenario not found" in recorded.line()
    assert any("could not be loaded" in n for n in notes)


# --- finding drills ----------------------------------------------------------------------------


def test_listing_filters_by_team_scenario_date_and_who_played(db: str, journals: dict[str, Path]) -> None:
    with open_history(db) as history:
        for name, team in (("slow", "Red"), ("other", "Blue"), ("fast", "Red"), ("textbook", None)):
            record_journal(history, journals[name], team=team)
        everything = history.drills()
        red = history.drills(Filters(team="red"))
        people_since = history.drills(Filters(policy=PEOPLE, since=datetime(2026, 2, 1)))
        newest = history.drills(Filters(policy=PEOPLE), limit=1)
        none = history.drills(Filters(scenario="sycophancy-drift"))
    assert [r.team for r in everything][:3] == ["Red", "Blue", "Red"]  # oldest first
    assert [r.played_at.month for r in red] == [1, 3]
    assert [r.team for r in people_since] == ["Blue", "Red"]
    assert [r.played_at.month for r in newest] == [3] and none == []


def test_a_team_whose_name_is_not_ascii_is_found_by_its_name_in_any_ascii_case(db: str, journals: dict[str,
                                                                                Path]) -> None:
    """``--team`` and the review's "your last run" find ``Équipe`` as ``Équipe`` or ``ÉQUIPE`` (the database
    lowers both sides; SQLite folds only ASCII letters, PostgreSQL all of them)."""
    with open_history(db) as history:
        recorded = record_journal(history, journals["fast"], team="Équipe")
        found = [[r.id for r in history.listing(Filters(team=name))] for name in ("Équipe", "ÉQUIPE")]
        last = history.last_run("jailbreak-wave", "ÉQUIPE")
    assert found == [[recorded.row.id]] * 2
    assert last is not None and last.id == recorded.row.id


def test_a_drill_is_found_by_any_unique_prefix_of_its_id(db: str, journals: dict[str, Path]) -> None:
    with open_history(db) as history:
        row = record_journal(history, journals["textbook"]).row
        assert history.get(row.id[:4].upper()).id == row.id
        with pytest.raises(HistoryError, match="no drill abcd1234 in the history"):
            history.get("abcd1234")
        with pytest.raises(HistoryError, match="not a drill id"):
            history.get("ab")


def test_the_last_run_is_the_same_teams_previous_people_drill_of_that_scenario(db: str, journals: dict[str,
                                                                               Path]) -> None:
    """What the review shows as "your last run": not another team's, not a bot's, not this drill."""
    with open_history(db) as history:
        slow = record_journal(history, journals["slow"], team="Red").row
        record_journal(history, journals["other"], team="Blue")
        record_journal(history, journals["textbook"], team="Red")
        fast = record_journal(history, journals["fast"], team="Red").row
        previous = history.last_run("jailbreak-wave", "Red", exclude=fast.id, before=fast.played_at)
        first = history.last_run("jailbreak-wave", "Red", exclude=slow.id, before=slow.played_at)
    assert previous is not None and previous.id == slow.id and first is None


def test_remember_records_and_names_the_run_before(tmp_path: Path, journals: dict[str, Path]) -> None:
    target = Target(str(tmp_path / "h.sqlite"), "Red")
    outcomes = []
    for name in ("slow", "fast"):
        path = journals[name]
        aar = analyse(*load_journal_scenario(path), path)
        outcomes.append(remember(target, entry_of(aar, path.read_bytes(), team="Red", source="play")))
    assert outcomes[0].previous is None and outcomes[0].recorded is not None
    assert outcomes[1].previous is not None and outcomes[1].previous.id == outcomes[0].recorded.row.id


def test_a_branch_is_nobodys_last_run_and_has_none_of_its_own(tmp_path: Path,
                                                             journals: dict[str, Path]) -> None:
    """A rewind of the slow drill (played on by the textbook bot) had its own parent as "your last run"
    (score ▲, as if a fresh attempt had improved), and became the "last run" of the next fresh attempt.
    Its review already puts it beside its parent; the next attempt is compared with the slow drill."""
    from simulator.engine.fork import load_fork
    from simulator.engine.journal import write_journal
    from simulator.engine.policies import Textbook
    from simulator.engine.runner import run_policy

    drill, loaded = load_fork(journals["slow"], "45m")
    run = run_policy(loaded, Textbook(loaded.scenario), drill=drill)
    branch = tmp_path / "branch.jsonl"
    write_journal(branch, run.drill.header("human"), run.drill.events)
    target = Target(str(tmp_path / "h.sqlite"), "Red")
    outcomes = {}
    for name, path, played in (("slow", journals["slow"], datetime(2026, 1, 10, tzinfo=UTC)),
                               ("branch", branch, datetime(2026, 1, 11, tzinfo=UTC)),
                               ("fast", journals["fast"], datetime(2026, 3, 10, tzinfo=UTC))):
        aar = analyse(*load_journal_scenario(path), path)
        header = read_journal(path).header
        outcomes[name] = remember(target, entry_of(aar, path.read_bytes(), team="Red", source="play",
                                                   played_at=played, header=header))
    slow = outcomes["slow"].recorded
    assert slow is not None and outcomes["branch"].recorded is not None
    assert outcomes["branch"].recorded.row.parent == slow.row.id and outcomes["branch"].previous is None
    assert outcomes["fast"].previous is not None and outcomes["fast"].previous.id == slow.row.id


def test_remember_reports_a_broken_history_instead_of_raising(tmp_path: Path, journals: dict[str,
                                                              Path]) -> None:
    """At the end of a drill a bad database is a sentence for the player, never a crash."""
    broken = tmp_path / "history.sqlite"
    broken.write_bytes(b"this is not a database" * 100)
    path = journals["fast"]
    aar = analyse(*load_journal_scenario(path), path)
    outcome = remember(Target(str(broken)), entry_of(aar, path.read_bytes(), team=None, source="play"))
    assert outcome.recorded is None and outcome.problem is not None
    assert "not a readable SQLite database" in outcome.problem


# --- bad databases -----------------------------------------------------------------------------


def test_reading_a_history_that_does_not_exist_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "history.sqlite"
    with pytest.raises(NoHistory, match="no drills recorded yet"):
        open_history(str(missing), create=False)
    assert not missing.parent.exists()


def test_a_corrupt_database_file_is_reported_and_left_untouched(tmp_path: Path, journals: dict[str,
                                                                Path]) -> None:
    path = tmp_path / "history.sqlite"
    garbage = b"\x00garbage, not SQLite\x00" * 500
    path.write_bytes(garbage)
    with pytest.raises(HistoryError, match=r"is not a readable SQLite database .*nothing was changed"):
        open_history(str(path))
    assert path.read_bytes() == garbage


def test_a_locked_database_says_so_and_records_once_the_lock_is_gone(tmp_path: Path, journals: dict[str,
                                                                     Path]) -> None:
    url = str(tmp_path / "history.sqlite")
    open_history(url).close()
    other = sqlite3.connect(url, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(HistoryError, match="another program holds its lock"), \
                open_history(url, busy_timeout=0.2) as history:
            record_journal(history, journals["textbook"])
    finally:
        other.execute("ROLLBACK")
        other.close()
    with open_history(url) as history:
        assert record_journal(history, journals["textbook"]).new


def test_a_database_written_by_a_newer_ttx_is_refused_and_never_changed(db: str, journals: dict[str,
                                                                        Path]) -> None:
    with open_history(db) as history:
        record_journal(history, journals["textbook"])
    engine = create_engine(resolve_url(db))
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO ttx_schema (version, description, applied_at, ttx_version) "
                          "VALUES (:v, 'from the future', :at, '9.0.0')"),
                     {"v": SCHEMA_VERSION + 1, "at": datetime(2030, 1, 1)})
    newer = rf"written by a newer ttx \(9\.0\.0, schema v{SCHEMA_VERSION + 1}.*nothing was changed"
    with pytest.raises(HistoryError, match=newer):
        open_history(db)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM drills")).scalar() == 1
        assert conn.execute(text("SELECT max(version) FROM ttx_schema")).scalar() == SCHEMA_VERSION + 1
    engine.dispose()


def test_a_database_of_something_else_is_not_taken_over(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE recipes (name TEXT)")
    with pytest.raises(HistoryError, match=r"is not a ttx history \(it has tables recipes"):
        open_history(str(path))
    with sqlite3.connect(path) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    assert tables == ["recipes"]


def test_a_postgresql_server_that_cannot_be_reached_is_one_line() -> None:
    with pytest.raises(HistoryError) as caught:
        open_history("postgresql://ttx@127.0.0.1:1/ttx")
    message = str(caught.value)
    assert message.startswith("cannot connect to the history database postgresql+psycopg://ttx@127.0.0.1:1/ttx")
    assert "\n" not in message


def test_the_schema_is_versioned_and_migrated_once(db: str) -> None:
    for _ in range(2):
        open_history(db).close()
    engine = create_engine(resolve_url(db))
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT version, ttx_version FROM ttx_schema ORDER BY version")).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [(step.version, "0.1.0") for step in MIGRATIONS]
    assert rows[-1][0] == SCHEMA_VERSION


def index_names(engine: Engine) -> set[str]:
    """The drills table's indexes."""
    return {str(i["name"]) for i in inspect(engine).get_indexes("drills")}


def test_a_version_1_history_gets_the_listing_index_and_keeps_its_drills(db: str, journals: dict[str,
                                                                         Path]) -> None:
    """A history the first release wrote (schema v1: drills_by_date, no covering index) is migrated the
    first time a newer ttx opens it: its drills stay, the listing reads the new index."""
    with open_history(db) as history:
        recorded = record_journal(history, journals["fast"], team="Red")
    engine = create_engine(resolve_url(db))
    with engine.begin() as conn:  # back to what the first release left behind
        conn.execute(text("DROP INDEX drills_listed"))
        conn.execute(text("CREATE INDEX drills_by_date ON drills (played_at)"))
        conn.execute(text("DELETE FROM ttx_schema WHERE version > 1"))
    assert "drills_by_date" in index_names(engine) and "drills_listed" not in index_names(engine)
    with open_history(db) as history:
        [listed] = history.listing()
    assert listed.id == recorded.row.id and listed.team == "Red"
    assert "drills_listed" in index_names(engine) and "drills_by_date" not in index_names(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT max(version) FROM ttx_schema")).scalar() == SCHEMA_VERSION
    engine.dispose()


# --- where the database is ----------------------------------------------------------------------


def test_the_default_history_is_in_the_user_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("TTX_DB")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_path() == tmp_path / "ttx" / "history.sqlite"
    assert resolve_url() == f"sqlite:///{tmp_path / 'ttx' / 'history.sqlite'}"


def test_db_urls_a_path_is_sqlite_postgresql_uses_psycopg_and_others_are_refused(tmp_path: Path) -> None:
    assert resolve_url(str(tmp_path / "h.db")) == f"sqlite:///{tmp_path / 'h.db'}"
    assert resolve_url("postgresql://lead:s3cret@db.example:5432/ttx").startswith("postgresql+psycopg://lead:")
    with pytest.raises(HistoryError, match="not mysql"):
        resolve_url("mysql://db.example/ttx")


def test_since_takes_a_date_or_a_span_back_from_now() -> None:
    now = datetime(2026, 3, 1, 12, 0)
    assert since_value("2026-01-31", now) == datetime(2026, 1, 31)
    assert since_value("30d", now) == now - timedelta(days=30)
    assert since_value("2w", now) == now - timedelta(days=14)
    with pytest.raises(ValueError, match="a span like 30d"):
        since_value("last spring", now)


# --- metrics and trends ------------------------------------------------------------------------


def test_a_change_in_time_is_the_gap_between_the_clocks_shown() -> None:
    """A review read "detect 1:02:00 → 0:28:00 ▼ 0:33:59 sooner": the player's declaration was
    stamped at 0:28:00.001. The change is the gap between the two clocks as shown."""
    detect = BY_NAME["time_to_detect"]
    assert detect.change(3720.0, 1680.001) == "▼ 0:34:00 sooner"
    assert detect.change(1680.001, 3720.0) == "▲ 0:34:00 later"

def test_a_time_reached_is_better_than_never_and_sooner_is_better() -> None:
    detect, score = BY_NAME["time_to_detect"], BY_NAME["score"]
    assert detect.better(None, 600.0) is True and detect.better(600.0, None) is False
    assert detect.change(None, 600.0) == "✔ reached (was never)"
    assert detect.change(600.0, None) == "✘ never (was 0:10:00)"
    assert detect.change(3000.0, 2400.0) == "▼ 0:10:00 sooner" and detect.better(3000.0, 2400.0)
    assert score.change(61.0, 72.5) == "▲ +11.5" and score.better(61.0, 72.5)
    assert detect.change(None, None) == "= same" and detect.better(None, None) is None


def test_the_median_time_counts_never_as_later_than_any_time() -> None:
    detect = BY_NAME["time_to_detect"]
    assert median([600.0, None, 1200.0], detect) == 1200.0
    assert median([None, None, 1200.0], detect) is None
    assert median([600.0, 1200.0], detect) == 900.0


def test_trends_mark_the_best_and_the_textbook_bots_median_on_the_same_seeds(db: str, journals: dict[str,
                                                                             Path]) -> None:
    """The yardstick is the textbook bot on the seeds the team played: here seed 7, so its own figures."""
    with open_history(db) as history:
        for name in ("slow", "fast"):
            record_journal(history, journals[name], team="Red")
        rows = history.drills(Filters(team="Red"))
        reference = textbook_reference(history, rows)
    textbook = measures(analyse(*load_journal_scenario(journals["textbook"]), journals["textbook"]))
    found = {t.metric.name: t for t in trends(rows, reference)}
    assert reference is not None and "seed(s) these drills used (7)" in reference.how
    assert found["score"].bot == textbook["score"]
    assert found["time_to_detect"].bot == textbook["time_to_detect"]
    assert found["score"].best == max(r.score for r in rows)
    assert found["time_to_detect"].best == min(r.time_to_detect for r in rows if r.time_to_detect)
    assert [v for _, v, _ in found["score"].points] == [r.score for r in rows]


def test_without_the_scenario_trends_fall_back_to_recorded_textbook_runs(db: str, journals: dict[str, Path],
                                                                         tmp_path: Path) -> None:
    def retire(name: str) -> Path:
        return retired(journals[name], tmp_path / f"{name}-retired.jsonl")

    with open_history(db) as history:
        people = record_journal(history, retire("fast"), team="Red").row
        bots = [record_journal(history, retire(n)).row for n in ("textbook", "textbook-3")]
        reference = textbook_reference(history, [people])
    assert reference is not None and "2 textbook bot run(s) recorded" in reference.how
    assert reference.medians["score"] == pytest.approx(sum(b.score for b in bots) / 2)


def test_a_journal_read_back_from_the_history_parses_like_the_file(db: str, journals: dict[str,
                                                                   Path]) -> None:
    with open_history(db) as history:
        row = record_journal(history, journals["slow"]).row
        stored = reopen(history, row.id).journal
    assert stored.events == read_journal(journals["slow"]).events


TREND_SVG = """
import hashlib, sys
from datetime import datetime, timedelta
from simulator.analysis import charts
if sys.argv[1] == "with docstrings":
    charts._without_setter_docstrings = lambda: None
panels = [charts.TrendPanel(f"metric {i}", [(datetime(2026, 1, 1) + timedelta(days=d),
                                             float(d % 7) if d % 11 else None, "Red") for d in range(90)],
                            3.0, 4.0) for i in range(9)]
print(hashlib.sha256(charts.trend_chart(panels).encode()).hexdigest())
"""


def test_the_trend_chart_is_the_same_without_matplotlibs_setter_docstrings() -> None:
    """The trend chart spares matplotlib its setter docstrings at import (a tenth of a second): what it
    draws is byte for byte what it draws with them."""
    import subprocess
    import sys

    drawn = {mode: subprocess.run([sys.executable, "-c", TREND_SVG, mode], capture_output=True, text=True,
                                  timeout=120, check=True).stdout.strip()
             for mode in ("with docstrings", "without")}
    assert len(drawn["without"]) == 64 and drawn["without"] == drawn["with docstrings"]
