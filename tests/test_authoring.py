"""Authoring tools: `ttx new` writes a drill that validates and runs; MSEL sheets round-trip through CSV."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from simulator.engine.runner import run_named
from simulator.format.loader import builtin_dir, builtin_ids, lint_scenario, load_scenario
from simulator.format.msel import COLUMNS, MselError, export_csv, merge
from simulator.format.scenario import Inject, Scenario
from simulator.format.starter import RANGES_SECTION
from tests.conftest import MINIMAL, TtxInProcess, WriteScenario
from tests.test_cli import ttx  # a real process: one test per command family; the others use cli

FLAGSHIP = "jailbreak-wave"


# --- ttx new ------------------------------------------------------------------------------------


def test_new_writes_a_commented_starter_that_validates_lint_clean_and_runs(tmp_path: Path,
                                                                           cli: TtxInProcess) -> None:
    out = cli("new", "my-drill", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    path = tmp_path / "my-drill.yaml"
    text = path.read_text()
    loaded, warnings = lint_scenario(str(path))
    assert warnings == []
    assert loaded.scenario.id == "my-drill"
    for section in Scenario.model_fields:
        assert f"\n{section}:" in text, f"section {section!r} missing from the starter"
    assert text.startswith("# yaml-language-server: $schema=")
    schema = path.parent / text.splitlines()[0].split("$schema=", 1)[1]
    assert schema.is_file(), "the starter must point editors at a schema that exists"
    commented = [line for line in text.splitlines() if "#" in line]
    assert len(commented) > 60, "every field should be explained in a comment"
    textbook = run_named(str(path), "textbook").result
    idle = run_named(str(path), "idle").result
    assert textbook.time_to_contain is not None and idle.time_to_contain is None
    assert textbook.score > idle.score + 30


def test_new_takes_an_output_path_and_refuses_to_overwrite(tmp_path: Path, cli: TtxInProcess) -> None:
    target = tmp_path / "drills" / "night-shift.yaml"
    target.parent.mkdir()
    assert cli("new", "night-shift", "-o", str(target)).returncode == 0
    assert load_scenario(str(target)).scenario.id == "night-shift"
    again = cli("new", "night-shift", "-o", str(target))
    assert again.returncode == 2 and "exists" in again.stderr


def test_new_accepts_a_file_name_and_derives_the_id(tmp_path: Path) -> None:
    assert ttx("new", "Night Shift.yaml", cwd=tmp_path).returncode == 0
    assert load_scenario(str(tmp_path / "Night Shift.yaml")).scenario.id == "night-shift"


def schema_comment_target(drill: Path) -> Path:
    """Where an editor looks for the schema the drill's first line names (relative: from its folder)."""
    first = drill.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# yaml-language-server: $schema=")
    return drill.parent / first.split("$schema=", 1)[1]


def test_the_starter_points_editors_at_the_schema_written_beside_it(tmp_path: Path,
                                                                    cli: TtxInProcess) -> None:
    """`ttx new drills/night.yaml` from elsewhere: the $schema path resolves from the drill's own folder
    to what `ttx schema` prints, and still does once the folder is moved."""
    (tmp_path / "drills").mkdir()
    out = cli("new", "drills/night.yaml", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "drills/scenario.schema.json (for editor completion)" in out.stdout
    drill = tmp_path / "drills" / "night.yaml"
    assert not Path(drill.read_text().splitlines()[0].split("$schema=", 1)[1]).is_absolute()
    assert schema_comment_target(drill).read_text() == cli("schema").stdout
    moved = tmp_path / "elsewhere"
    (tmp_path / "drills").rename(moved)
    assert schema_comment_target(moved / "night.yaml").is_file()


def test_new_refreshes_an_old_schema_and_leaves_a_foreign_file_alone(tmp_path: Path,
                                                                     cli: TtxInProcess) -> None:
    schema = tmp_path / "scenario.schema.json"
    schema.write_text('{"$id": "https://ttx.invalid/scenario.schema.json", "old": true}')
    assert "refreshed" in cli("new", "one", cwd=tmp_path).stdout
    assert schema.read_text() == cli("schema").stdout
    schema.write_text("{}")
    assert "is not ttx's schema, so it was left alone" in cli("new", "two", cwd=tmp_path).stdout
    assert schema.read_text() == "{}"


def test_the_starter_cites_a_guide_that_ships_with_the_section_it_names(tmp_path: Path,
                                                                        cli: TtxInProcess) -> None:
    """No comment sends the author to DOMAIN.md (not in the repository); the section the comments
    cite is a heading of the guide `ttx new` prints the path of, and it names its sources."""
    out = cli("new", "my-drill", cwd=tmp_path)
    text = (tmp_path / "my-drill.yaml").read_text()
    guide = Path(out.stdout.split("parameter ranges and their sources: ", 1)[1].strip())
    cited = re.findall(r'section "([^"]+)"', text)
    headings = [line.lstrip("#").strip() for line in guide.read_text().splitlines() if line.startswith("#")]
    assert cited == [RANGES_SECTION] and any(h.endswith(RANGES_SECTION) for h in headings)
    assert guide == Path(str(builtin_dir())) / "README.md"
    for shipped in (text, guide.read_text(), cli("schema").stdout):
        assert "DOMAIN.md" not in shipped
    section = re.split(rf"^#+ .*{RANGES_SECTION}$", guide.read_text(), flags=re.M)[1].split("\n## ", 1)[0]
    for source in ("2.5 billion prompts", "Klarna", "Llama Guard 3 (Meta's model card)", "Shen et al.",
                   "P(report | harmful output seen)", "Incident response for AI", "Art. 73", "Art. 33"):
        assert source in section, source


# --- MSEL export ----------------------------------------------------------------------------------


def _rows(text: str) -> list[dict[str, str]]:
    """An MSEL sheet's rows by column header."""
    return list(csv.DictReader(io.StringIO(text)))


def test_export_has_the_hseep_columns_and_one_row_per_inject_then_per_question() -> None:
    scenario = load_scenario(FLAGSHIP).scenario
    text = export_csv(scenario)
    header = next(csv.reader(io.StringIO(text)))
    for hseep in ("Event No.", "Scenario Time", "Event Synopsis", "From", "To", "Method / Channel",
                  "Message", "Expected Player Action", "Objective / Capability", "Notes"):
        assert hseep in header
    rows = _rows(text)
    injects = [r for r in rows if r["Method / Channel"] != "question"]
    assert [r["Inject ID"] for r in injects] == [i.id for i in scenario.injects]
    assert [r["Inject ID"] for r in rows[len(injects):]] == [q.id for q in scenario.questions]
    spike = next(r for r in rows if r["Inject ID"] == "report-spike")
    assert spike["Trigger"] == "signal user_reports + 2m"
    assert spike["Expected Player Action"].splitlines() == [
        "declare_incident within 20m else why-no-incident", "ts: investigate within 45m"]
    assert spike["Objective / Capability"].splitlines()[0] == "Detection and declaration"
    assert next(r for r in rows if r["Inject ID"] == "refusal-ticket")["Scenario Time"] == "0:15:00"


# --- round trip -----------------------------------------------------------------------------------


def _same(a: Inject, b: Inject) -> bool:
    """Equal in every field; text compared without trailing line breaks (spreadsheets drop them)."""
    def norm(i: Inject) -> dict[str, object]:
        d = i.model_dump()
        d["body"], d["notes"] = i.body.rstrip("\n"), i.notes.rstrip("\n")
        return d
    return norm(a) == norm(b)


@pytest.mark.parametrize("sid", builtin_ids())
def test_msel_round_trip_is_lossless(sid: str, tmp_path: Path) -> None:
    loaded = load_scenario(sid)
    original = Path(loaded.path).read_text()
    sheet = export_csv(loaded.scenario)
    merged = merge(sheet, "msel.csv", loaded.scenario, original)
    path = tmp_path / f"{sid}.yaml"
    path.write_text(merged)
    again, warnings = lint_scenario(str(path))
    assert warnings == []
    assert all(_same(a, b) for a, b in zip(loaded.scenario.injects, again.scenario.injects, strict=True))
    assert again.scenario.model_dump(exclude={"injects"}) == loaded.scenario.model_dump(exclude={"injects"})
    assert export_csv(again.scenario) == sheet
    start = original.index("\ninjects:")
    assert merged[:start] == original[:start], "lines before the injects section must be kept"
    after = original.index("\nactions:")
    assert merged.endswith(original[after:]), "lines after the injects section must be kept"


def test_an_edited_sheet_merges_back(tmp_path: Path) -> None:
    loaded = load_scenario(FLAGSHIP)
    rows = _rows(export_csv(loaded.scenario))
    rows[0]["Scenario Time"] = "0:25:00"
    rows = [r for r in rows if r["Inject ID"] != "offline-fallout"]
    rows.append({key: "" for _, key in COLUMNS} | {
        "Scenario Time": "1h", "From": "{name}", "From Title": "Board member", "To": "ic, comms",
        "Method / Channel": "email", "Subject": "Quick question from the board",
        "Message": "Are we in the news?", "Expected Player Action": "comms: send_update within 30m",
        "Objective / Capability": "Keep the board informed"})
    merged = merge(_sheet(rows), "msel.csv", loaded.scenario, Path(loaded.path).read_text())
    path = tmp_path / "edited.yaml"
    path.write_text(merged)
    scenario = load_scenario(str(path)).scenario
    moved = scenario.inject("refusal-ticket")
    assert moved is not None and moved.at == 25 * 60
    assert scenario.inject("offline-fallout") is None
    added = scenario.inject("quick-question-from-the-board")
    assert added is not None and added.at == 3600 and [r.value for r in added.to] == ["ic", "comms"]
    assert added.expects[0].objective == "Keep the board informed"
    assert run_named(str(path), "textbook", 1).result.time_to_contain is not None


def _sheet(rows: list[dict[str, str]]) -> str:
    """The CSV text of an MSEL sheet with ``rows`` (the first row's columns, or the inject columns)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]) if rows else [h for _, h in COLUMNS],
                            lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


# --- bad rows -------------------------------------------------------------------------------------


def _broken(row: int, column: str, value: str) -> str:
    """The flagship's MSEL sheet with ``column`` of spreadsheet row ``row`` (header = 1) set to ``value``."""
    loaded = load_scenario(FLAGSHIP)
    rows = _rows(export_csv(loaded.scenario))
    rows[row - 2][column] = value
    return _sheet(rows)


@pytest.mark.parametrize(("row", "column", "value", "message"), [
    (2, "Method / Channel", "fax",
     "msel.csv:2: column Method / Channel: expected one of pager, email, chat, ticket, social, press, "
     "regulator, dashboard (or question for a discussion question), found 'fax'"),
    (2, "Scenario Time", "quarter past",
     "msel.csv:2: column Scenario Time: expected a time such as 0:15:00 or a duration such as 15m, "
     "found 'quarter past'"),
    (2, "Scenario Time", "9h",
     "msel.csv:2: column Scenario Time: 9h is after the end of the drill (4h)"),
    (3, "Trigger", "signal user_reprots + 2m",
     "msel.csv:3: column Trigger: 'jailbreak-wave' has no signal 'user_reprots'; "
     "did you mean 'user_reports'?"),
    (3, "Trigger", "when reports spike",
     "msel.csv:3: column Trigger: expected 'contingency' or one of signal, inject, action, "
     "action_effective, harm_at_least, declared (then a value and an optional '+ delay'), "
     "found 'when reports spike'"),
    (3, "To", "ts, intern",
     "msel.csv:3: column To: unknown role 'intern' (roles: ic, ml, ts, comms, legal)"),
    (3, "Expected Player Action", "declare_incident within 20m else nobody\nts: investigate within 45m",
     "msel.csv:3: column Expected Player Action: line 1: contingency inject 'nobody' does not exist"),
    (3, "Expected Player Action", "declare_incident\nts: take-ofline within 20m",
     "msel.csv:3: column Expected Player Action: line 2: 'jailbreak-wave' has no action "
     "'take-ofline'; did you mean 'take-offline'?"),
    (3, "Expected Player Action", "declare quickly please!",
     "msel.csv:3: column Expected Player Action: line 1: expected '[role:] action [within 20m] "
     "[else inject-id]', found 'declare quickly please!'"),
    (3, "Message", "Attached output: {sampel}",
     "msel.csv:3: column Message: unknown placeholder {sampel} (known: city, company, email, first_name, "
     "handle, last_name, mentions_per_hour, name, outlet, reports_per_hour, sample, scenario, "
     "ticket, time)"),
    (4, "Inject ID", "report-spike", "msel.csv:4: column Inject ID: duplicate inject id 'report-spike'"),
    (4, "Red Herring", "perhaps", "msel.csv:4: column Red Herring: expected 'yes' or empty, found 'perhaps'"),
])
def test_a_bad_row_is_reported_with_row_and_column(row: int, column: str, value: str, message: str) -> None:
    loaded = load_scenario(FLAGSHIP)
    with pytest.raises(MselError) as caught:
        merge(_broken(row, column, value), "msel.csv", loaded.scenario, Path(loaded.path).read_text())
    assert message in caught.value.problems


def test_import_into_a_scenario_without_injects_adds_the_section(write_scenario: WriteScenario) -> None:
    text = MINIMAL[:MINIMAL.index("injects:")] + MINIMAL[MINIMAL.index("actions:"):]
    with_injects = load_scenario(str(write_scenario(MINIMAL, "with.yaml"))).scenario
    bare = load_scenario(str(write_scenario(text, "bare.yaml"))).scenario
    merged = merge(export_csv(with_injects), "msel.csv", bare, text)
    again = load_scenario(str(write_scenario(merged, "merged.yaml"))).scenario
    assert [i.id for i in again.injects] == ["first", "nudge"]
    assert merged.index("injects:") < merged.index("actions:")


def test_a_missing_column_is_reported_on_the_header_row() -> None:
    loaded = load_scenario(FLAGSHIP)
    text = export_csv(loaded.scenario).replace("Method / Channel", "Medium", 1)
    with pytest.raises(MselError) as caught:
        merge(text, "msel.csv", loaded.scenario, "")
    assert caught.value.problems == ["msel.csv:1: column Method / Channel: missing from the header row"]


def test_msel_commands_round_trip_and_report_bad_rows(tmp_path: Path, cli: TtxInProcess) -> None:
    sheet, merged = tmp_path / "msel.csv", tmp_path / "new.yaml"
    assert cli("msel", "export", FLAGSHIP, "-o", str(sheet)).returncode == 0
    out = cli("msel", "import", str(sheet), "--into", FLAGSHIP, "-o", str(merged))
    assert out.returncode == 0, out.stderr
    assert cli("validate", "--lint", str(merged)).stdout.strip() == f"{merged}: ok"
    sheet.write_text(_broken(2, "Method / Channel", "fax"))
    bad = cli("msel", "import", str(sheet), "--into", FLAGSHIP, "-o", str(tmp_path / "x.yaml"))
    assert bad.returncode == 2
    assert f"{sheet}:2: column Method / Channel: expected one of" in bad.stderr
    assert not (tmp_path / "x.yaml").exists()


def test_msel_import_of_a_missing_or_binary_sheet_says_what_to_do(tmp_path: Path) -> None:
    """A typo'd sheet name gets "no such file" and how to make one (not a bare [Errno 2]); a binary
    file gets "not a CSV text file"; both exit 2 without a traceback."""
    missing = ttx("msel", "import", "msel.csv", "--into", FLAGSHIP, cwd=tmp_path)
    assert missing.returncode == 2
    assert "msel.csv: no such file (ttx msel export SCENARIO -o msel.csv" in missing.stderr
    (tmp_path / "sheet.xlsx").write_bytes(b"PK\x03\x04\xd0\xff" * 8)
    binary = ttx("msel", "import", "sheet.xlsx", "--into", FLAGSHIP, cwd=tmp_path)
    assert binary.returncode == 2 and "sheet.xlsx: not a CSV text file" in binary.stderr
    assert "Traceback" not in missing.stderr + binary.stderr

