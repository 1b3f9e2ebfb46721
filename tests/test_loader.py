"""A broken scenario names file:line:column and what was expected — one test per kind of mistake."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from simulator.cli.main import main
from simulator.engine.drill import Drill
from simulator.engine.events import Kind
from simulator.format.durations import Duration, parse_duration
from simulator.format.loader import lint_scenario, load_scenario
from simulator.format.yamlsafe import MAX_BYTES, FileProblems
from tests.conftest import MINIMAL, WriteScenario

Capture = pytest.CaptureFixture[str]
"""What ``capsys`` is."""


def problems_of(path: Path) -> list[str]:
    """The located problems loading ``path`` fails with (fails the test if it loads)."""
    with pytest.raises(FileProblems) as caught:
        load_scenario(str(path))
    return [str(p) for p in caught.value.problems]


def test_the_minimal_scenario_is_valid(write_scenario: WriteScenario) -> None:
    """The fixture every other test breaks is itself valid."""
    assert load_scenario(str(write_scenario(MINIMAL))).scenario.id == "mini"


def test_unknown_field_is_located_and_the_nearest_field_suggested(write_scenario: WriteScenario) -> None:
    path = write_scenario(MINIMAL.replace("    traffic_rps: 50", "    trafic_rps: 50"))
    found = problems_of(path)
    assert any(p.startswith(f"{path}:10:5: unknown field 'trafic_rps' in features.chat; "
                            "did you mean 'traffic_rps'? (allowed here: shape, title, traffic_rps)")
               for p in found)
    assert any("missing required field 'traffic_rps'" in p and ":9:5:" in p for p in found)


def test_missing_required_field_points_at_its_parent(write_scenario: WriteScenario) -> None:
    path = write_scenario(MINIMAL.replace("    harm_type: confabulation\n", ""))
    assert problems_of(path) == [f"{path}:13:5: missing required field 'harm_type' in streams.bad-advice"]


def test_wrong_enum_value_lists_what_is_allowed(write_scenario: WriteScenario) -> None:
    path = write_scenario(MINIMAL.replace("harm_type: confabulation", "harm_type: confabulatoin"))
    (problem,) = problems_of(path)
    assert problem.startswith(f"{path}:14:16: harm_type: expected 'cbrn', 'confabulation'")
    assert problem.endswith("found 'confabulatoin'; did you mean 'confabulation'?")


def test_an_enum_value_that_is_one_word_of_an_allowed_one_points_to_it(write_scenario: WriteScenario) -> None:
    """``harm_type: privacy`` is spelt nothing like ``data_privacy``, but it is one of its words."""
    path = write_scenario(MINIMAL.replace("harm_type: confabulation", "harm_type: privacy"))
    (problem,) = problems_of(path)
    assert problem.endswith("found 'privacy'; did you mean 'data_privacy'?")


def test_an_unknown_action_like_none_lists_the_catalogues(write_scenario: WriteScenario) -> None:
    """An action written from memory that resembles nothing: the error lists the scenario's actions
    (a misspelt one gets "did you mean" instead, as every unknown id does)."""
    path = write_scenario(MINIMAL.replace("      - action: declare_incident", "      - action: page-oncall"))
    assert problems_of(path) == [f"{path}:30:17: unknown action 'page-oncall'; the catalogue's actions "
                                 "(besides the built-in verbs): filter"]


def test_duration_without_a_unit_is_refused(write_scenario: WriteScenario) -> None:
    path = write_scenario(MINIMAL.replace("duration: 2h", "duration: 7200"))
    (problem,) = problems_of(path)
    assert problem.startswith(f"{path}:5:11: duration: ")
    assert "with a unit like '7200s'" in problem


def test_duplicate_keys_are_an_error_naming_both_places(write_scenario: WriteScenario) -> None:
    path = write_scenario(MINIMAL.replace("duration: 2h\n", "duration: 2h\nduration: 3h\n"))
    assert problems_of(path) == [
        f"{path}:6:1: duplicate key 'duration' (first at line 5, column 1)"]


def test_yaml11_norway_trap_is_explained_where_a_string_was_meant(write_scenario: WriteScenario) -> None:
    path = write_scenario(MINIMAL.replace("sender: {name: VP, title: VP}",
                                          "sender: {name: VP, title: no}"))
    (problem,) = problems_of(path)
    assert problem.startswith(f"{path}:36:31: title: input should be a valid string, found False")
    assert "YAML 1.1 reads the unquoted no as a boolean: write 'no' in quotes" in problem


def validate_output(path: Path, capsys: Capture) -> tuple[int, str]:
    """``ttx validate PATH`` as a person runs it: the exit status and the problems it printed on
    stderr, which (when there are any) it closes with ``ttx validate: error: N problems in PATH
    (above)``, checked here and left out of what is returned."""
    status = main(["validate", str(path)])
    lines = capsys.readouterr().err.splitlines()
    if lines:
        count = len(lines) - 1
        closing = f"ttx validate: error: {count} problem{'' if count == 1 else 's'} in {path} (above)"
        assert lines.pop() == closing
    return status, "".join(f"{line}\n" for line in lines)


def suggested_forms(message: str) -> list[str]:
    """The durations a hint tells the author to write (``…; write 10m5s (…) or 10h5m (…)``)."""
    advice = message.rsplit("write ", 1)[1]
    return re.findall(r"(?<![\w'])(?:\d+(?:\.\d+)?[smhd])+(?![\w'])", advice)


@pytest.mark.parametrize("written", ["10:05", "'10:05'", "'15 min'", "'15 minuts'", "'4H'", "'1h30'",
                                     "'PT1H30M'", "'90'"])
def test_a_duration_hint_names_a_form_that_validates(
        write_scenario: WriteScenario, capsys: Capture, written: str) -> None:
    """`at: 10:05` (quoted or not, and other near misses) gets a hint whose every suggestion validates."""
    long_drill = MINIMAL.replace("duration: 2h", "duration: 12h")
    path = write_scenario(long_drill.replace("    at: 10m", f"    at: {written}"))
    status, err = validate_output(path, capsys)
    (line,) = err.splitlines()
    assert status == 2 and line.startswith(f"{path}:23:9: at: ") and "write " in line
    forms = suggested_forms(line)
    assert forms
    for form in forms:
        path.write_text(long_drill.replace("    at: 10m", f"    at: {form}"), encoding="utf-8")
        assert validate_output(path, capsys) == (0, ""), form


def test_the_unquoted_base60_duration_says_how_yaml_read_it(
        write_scenario: WriteScenario, capsys: Capture) -> None:
    """The hint explains the trap (605 seconds) and offers both readings of 10:05, never quotes."""
    path = write_scenario(MINIMAL.replace("    at: 10m", "    at: 10:05"))
    _, err = validate_output(path, capsys)
    assert err.strip() == (f"{path}:23:9: at: expected a duration with units; YAML 1.1 reads the "
                           "unquoted 10:05 as the base-60 number 605: write 10m5s (minutes and seconds) "
                           "or 10h5m (hours and minutes)")


def test_base60_text_where_text_is_expected_is_fixed_by_quotes(
        write_scenario: WriteScenario, capsys: Capture) -> None:
    """For a text field the fix is quoting, and the quoted value then validates."""
    path = write_scenario(MINIMAL.replace("subject: Reports are up", "subject: 10:05"))
    _, err = validate_output(path, capsys)
    assert "reads the unquoted 10:05 as the base-60 number 605: write '10:05' in quotes" in err
    path.write_text(MINIMAL.replace("subject: Reports are up", "subject: '10:05'"), encoding="utf-8")
    assert validate_output(path, capsys) == (0, "")


def test_a_yaml11_boolean_in_a_duration_gets_no_advice_to_quote_it(
        write_scenario: WriteScenario, capsys: Capture) -> None:
    """Quoting `off` would not make it a duration, so the hint only says how YAML read it."""
    path = write_scenario(MINIMAL.replace("    at: 10m", "    at: off"))
    _, err = validate_output(path, capsys)
    assert "YAML 1.1 reads the unquoted off as a boolean" in err and "quotes" not in err


@given(st.one_of(st.integers(min_value=0, max_value=10**12),
                 st.floats(min_value=0, max_value=1e15, allow_nan=False, allow_infinity=False)))
def test_the_unit_a_bare_number_duration_suggests_parses_to_that_number(number: float) -> None:
    """`within: 1e-05` suggests '0.00001s' (which parses), never '1e-05s' (which does not)."""
    with pytest.raises(ValidationError) as caught:
        TypeAdapter(Duration).validate_python(number)
    suggestion = re.search(r"like '([^']+)s'", str(caught.value))
    assert suggestion is not None and parse_duration(suggestion[1] + "s") == float(number)


def test_a_negative_duration_is_not_offered_a_negative_fix() -> None:
    with pytest.raises(ValidationError, match="never negative") as caught:
        TypeAdapter(Duration).validate_python(-5)
    assert "'-5s'" not in str(caught.value)


def test_billion_laughs_is_refused_quickly(write_scenario: WriteScenario) -> None:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for n in range(1, 9):
        refs = ",".join([f"*a{n - 1}"] * 9)
        lines.append(f"a{n}: &a{n} [{refs}]")
    path = write_scenario("\n".join(lines) + "\n")
    (problem,) = problems_of(path)
    assert "expands to more than 100,000 values through aliases" in problem


def test_a_recursive_alias_is_a_located_problem_not_a_crash(write_scenario: WriteScenario) -> None:
    """An alias to a value that contains it is refused at file:line:col (it used to raise RecursionError)."""
    path = write_scenario(MINIMAL + "loop: &loop [1, *loop]\n")
    (problem,) = problems_of(path)
    assert problem.startswith(f"{path}:") and "an alias refers to a value that contains it" in problem


@pytest.mark.parametrize("depth", [150, 1200])
def test_absurdly_deep_nesting_is_a_problem_not_a_crash(write_scenario: WriteScenario, depth: int) -> None:
    """Thousands of nested brackets are refused with a located problem (they used to raise RecursionError)."""
    path = write_scenario(MINIMAL + "deep: " + "[" * depth + "]" * depth + "\n")
    (problem,) = problems_of(path)
    assert problem.startswith(f"{path}:") and "nested" in problem


def test_oversized_file_is_refused(write_scenario: WriteScenario) -> None:
    path = write_scenario(MINIMAL + "# " + "x" * MAX_BYTES + "\n")
    (problem,) = problems_of(path)
    assert problem.startswith(f"{path}:1:1: file is ") and "the limit is 1,048,576 bytes" in problem


def test_invalid_yaml_syntax_is_located(write_scenario: WriteScenario) -> None:
    path = write_scenario(MINIMAL.replace("roles: [ic, ml, comms]", "roles: [ic, ml, comms"))
    (problem,) = problems_of(path)
    assert problem.startswith(f"{path}:7:9: not valid YAML: expected ',' or ']'")



@pytest.mark.parametrize(("broken", "said"), [
    ("roles:\n  - ic\n  - ml\n  comms: yes\n",
     "this key does not line up with the lines above: check its indentation (expected <block end>, "
     "but found '?')"),
    ("roles:\t[ic, ml, comms]\n", "a tab: indent with spaces (found character '\\t' that cannot"),
    ("roles: [ic, ml, comms]\nfeatures:\n  chat:\n    title: Chat\n  traffic_rps: 50  # requests/s\n"
     "    shape: []\n",
     "this line is indented deeper than the line above, which has its value already: check the "
     "indentation of both (expected <block end>, but found '<block mapping start>')"),
])
def test_the_yaml_problems_new_authors_meet_are_said_in_words(
        write_scenario: WriteScenario, broken: str, said: str) -> None:
    """A key out of line with the list above it, a tab, or a key indented under one that has its value
    (the line above it dedented by mistake) used to read only "expected <block end>, but found '?'",
    "found character '\\t' that cannot start any token" or "… '<block mapping start>'": the problem
    says what to check, with the parser's words in brackets."""
    path = write_scenario(MINIMAL.replace("roles: [ic, ml, comms]\n", broken))
    (problem,) = problems_of(path)
    assert f"not valid YAML: {said}" in problem, problem


@pytest.mark.parametrize(("tagged", "tag"), [("!!int sev3", "!!int"), ("!!float 1e9x", "!!float"),
                                             ("!!timestamp soon", "!!timestamp")])
def test_a_value_its_own_tag_cannot_read_is_a_problem_at_its_place(
        write_scenario: WriteScenario, tagged: str, tag: str) -> None:
    """``title: !!int sev3`` used to end ``ttx validate`` in a ValueError traceback."""
    path = write_scenario(MINIMAL.replace("title: Minimal drill", f"title: {tagged}"))
    (problem,) = problems_of(path)
    assert problem.startswith(f"{path}:2:8: '{tagged.split()[1]}' is not a valid {tag} value"), problem


def test_python_tags_are_refused(write_scenario: WriteScenario) -> None:
    path = write_scenario(MINIMAL.replace("title: Minimal drill", "title: !!python/name:os.system x"))
    (problem,) = problems_of(path)
    assert problem.startswith(f"{path}:2:8: unsupported tag 'tag:yaml.org,2002:python/name:os.system'")


def test_unknown_reference_suggests_the_nearest_id(write_scenario: WriteScenario) -> None:
    path = write_scenario(MINIMAL.replace("{stream: bad-advice, harmful", "{stream: bad-advise, harmful"))
    assert problems_of(path) == [
        f"{path}:47:18: unknown stream 'bad-advise'; did you mean 'bad-advice'?"]


def test_trigger_cycle_is_reported(write_scenario: WriteScenario) -> None:
    text = MINIMAL.replace("    at: 10m\n", "    trigger: {inject: second}\n").replace(
        "actions:\n", """  - id: second
    trigger: {inject: first}
    channel: chat
    sender: {name: A}
    to: [ic]
    subject: s
    body: b
actions:
""")
    found = problems_of(write_scenario(text))
    cycle = ":23:14: trigger cycle: first → second → first; none of these can ever fire"
    assert any(cycle in p for p in found)


def test_unreachable_contingency_is_reported(write_scenario: WriteScenario) -> None:
    path = write_scenario(MINIMAL.replace("        contingency: nudge\n", ""))
    assert problems_of(path) == [
        f"{path}:33:18: contingency inject 'nudge' is unreachable: no expectation names it"]


def test_inject_after_the_end_is_an_impossible_value(write_scenario: WriteScenario) -> None:
    path = write_scenario(MINIMAL.replace("    at: 10m", "    at: 3h"))
    assert problems_of(path) == [
        f"{path}:23:9: this inject never fires: its time is after the drill's duration"]


def test_lint_warns_that_an_inject_at_the_drills_end_is_never_delivered(
        write_scenario: WriteScenario) -> None:
    """An inject timed at exactly the duration fires as the drill ends, so nobody ever reads it: the
    drill runs to its end without delivering it, and lint says so where its time is written."""
    text = MINIMAL.replace("    at: 10m", "    at: 2h")
    loaded, warnings = lint_scenario(str(path := write_scenario(text)))
    drill = Drill(loaded.scenario, 1)
    drill.run_to_end()
    assert "first" not in {e.payload.get("inject") for e in drill.events if e.kind == Kind.INJECT}
    assert [str(w) for w in warnings if "never delivered" in w.message] == [
        f"{path}:23:9: warning: this inject is never delivered: its time is the drill's end "
        "(the drill ends before anyone reads it)"]


def test_unknown_template_placeholder_is_reported(write_scenario: WriteScenario) -> None:
    path = write_scenario(MINIMAL.replace('body: "Sample: {sample}"', 'body: "Hi {nmae}"'))
    (problem,) = problems_of(path)
    assert problem.startswith(f"{path}:28:11: unknown placeholder {{nmae}}")


def test_several_errors_are_reported_at_once(write_scenario: WriteScenario) -> None:
    """A scenario with two mistakes gets both, each at its own place, in file order."""
    path = write_scenario(MINIMAL.replace("traffic_rps: 50", "traffic_rps: -5").replace(
        "harm_type: confabulation", "harm_type: nope"))
    located = [p.removeprefix(f"{path}:").split(": ")[:2] for p in problems_of(path)]
    assert located == [["10:18", "traffic_rps"], ["14:16", "harm_type"]]


def test_lint_warns_about_streams_roles_and_deadlines(write_scenario: WriteScenario) -> None:
    text = MINIMAL.replace("    to: [ic]\n    subject: Reports", "    to: [legal]\n    subject: Reports")
    text = text.replace("        within: 15m\n        contingency: nudge\n", "")
    text = text.replace("  - id: nudge\n    contingency: true", "  - id: nudge\n    at: 1h")
    text = text.replace("      - {stream: bad-advice, harmful_multiplier: 0.1}",
                        "      - {feature: chat, traffic_multiplier: 1.0}")
    _, warnings = lint_scenario(str(write_scenario(text)))
    messages = [w.message for w in warnings]
    assert "no action can reduce harm stream 'bad-advice'" in messages
    assert any("inject goes to role 'legal', which is not in play" in m for m in messages)
    assert "expectation has no deadline ('within'); it can never be missed" in messages
    assert all(str(w).split(":")[3].strip().startswith("warning") for w in warnings)


def test_builtin_ids_resolve_and_unknown_names_list_the_builtins() -> None:
    assert load_scenario("jailbreak-wave").scenario.id == "jailbreak-wave"
    with pytest.raises(FileNotFoundError, match=r"built-in: .*jailbreak-wave"):
        load_scenario("no-such-drill")


def test_an_approver_who_is_not_in_play_is_an_error(write_scenario: WriteScenario) -> None:
    path = write_scenario(MINIMAL.replace("    roles: [ml]\n", "    roles: [ml]\n    approval: legal\n"))
    assert problems_of(path) == [
        f"{path}:44:15: approval needs role 'legal', which is not in play, so this action could "
        "never be approved"]


def test_lint_warns_when_no_incident_commander_is_in_play(write_scenario: WriteScenario) -> None:
    """Several verbs are the incident commander's alone; without one a drill cannot be resolved."""
    _, warnings = lint_scenario(str(write_scenario(MINIMAL.replace("roles: [ic, ml, comms]",
                                                                   "roles: [ml, comms]"))))
    assert [w.message for w in warnings if w.message.startswith("no incident commander")] == [
        "no incident commander (ic) in play: nobody can declare_stage_done, resolve, rotate, set_severity"]


def test_a_zero_tick_is_an_error_at_the_tick(write_scenario: WriteScenario) -> None:
    """``tick: 0s`` used to divide by zero in ``ttx run`` and loop forever in ``sweep``/``play``."""
    path = write_scenario(MINIMAL.replace("duration: 2h\n", "duration: 2h\ntick: 0s\n"))
    assert problems_of(path) == [f"{path}:6:7: tick must be at least 1ms; found 0s"]


def test_a_tick_giving_millions_of_ticks_is_an_error(write_scenario: WriteScenario) -> None:
    path = write_scenario(MINIMAL.replace("duration: 2h\n", "duration: 2h\ntick: 0.005s\n"))
    assert problems_of(path) == [
        f"{path}:6:7: tick 0.005s gives 1,440,000 ticks over the drill's 2h; at most 1,000,000 are "
        "allowed (choose a longer tick)"]


@pytest.mark.parametrize(("rps", "shown"), [(".inf", "inf"), ("2.0e12", "2e+12")])
def test_traffic_too_large_to_draw_is_an_error_naming_the_limit(write_scenario: WriteScenario, rps: str,
                                                               shown: str) -> None:
    """An infinite or astronomically large rate used to end in a NumPy ValueError traceback."""
    path = write_scenario(MINIMAL.replace("traffic_rps: 50", f"traffic_rps: {rps}"))
    assert problems_of(path) == [
        f"{path}:10:18: traffic_rps × the largest shape factor is {shown} requests/s; at most 1e+09 "
        "requests/s are allowed (beyond that one tick's outputs overflow the harm draw)"]


@pytest.mark.parametrize("signal", [
    "reports: {kind: user_reports, title: Reports, baseline_per_hour: 1.0e300}",
    "social: {kind: social_posts, title: Social, virality: 1.0e300}",
    "social: {kind: social_posts, title: Social, baseline_per_hour: .inf}"])
def test_monitor_rates_too_large_to_draw_are_an_error(write_scenario: WriteScenario, signal: str) -> None:
    """Reports or mentions per hour beyond the format's bound used to overflow the monitor's draw
    mid-drill (``lam value too large``) instead of failing the load."""
    path = write_scenario(MINIMAL.replace("  reports:\n    kind: user_reports\n    title: User reports",
                                          f"  {signal}"))
    assert [p for p in problems_of(path) if "less than or equal" in p], problems_of(path)


def test_streams_on_one_feature_may_not_be_more_than_all_of_its_outputs(
        write_scenario: WriteScenario) -> None:
    """Two streams at 1.0 on one feature used to emit twice the outputs the feature serves."""
    second = """  more-advice:
    title: More bad advice
    harm_type: confabulation
    feature: chat
    harmful_fraction: {model: logistic, floor: 0.1, ceiling: 0.99, growth_per_hour: 2, midpoint: 1h}
signals:
"""
    path = write_scenario(MINIMAL.replace("signals:\n", second, 1))
    assert problems_of(path) == [
        f"{path}:21:23: the harmful fractions of the streams on feature 'chat' can add up to 1.01 "
        "(bad-advice 0.02, more-advice 0.99); together they may be at most 1 (all of its outputs)"]


ONE_PASS = (MINIMAL.replace("    traffic_rps: 50", "    trafic_rps: 50")
            .replace("harm_type: confabulation", "harm_type: confabulatoin")
            .replace("    at: 10m", "    at: 10:05")
            .replace("actions:\n", """  - id: spike
    trigger: {signal: user_report}
    channel: pager
    sender: {name: Triage}
    to: [ic]
    subject: Spike
    body: "Hi {nmae}"
actions:
""")
            .replace("{stream: bad-advice, harmful", "{stream: bad-advise, harmful"))
"""MINIMAL with three schema errors and three cross-reference problems, one of them in an item
that also references a stream with a schema error."""


def test_schema_and_reference_problems_come_in_one_pass_in_file_order(
        write_scenario: WriteScenario, capsys: Capture) -> None:
    """A bad `signal: user_report` is reported with the schema errors, not after they are fixed."""
    path = write_scenario(ONE_PASS)
    status, err = validate_output(path, capsys)
    lines = err.splitlines()
    assert status == 2
    places = [tuple(int(n) for n in line.removeprefix(f"{path}:").split(":")[:2]) for line in lines]
    assert places == sorted(places)
    messages = "\n".join(lines)
    for expected in ("unknown field 'trafic_rps'", "harm_type: expected 'cbrn'", "at: expected a duration",
                     "unknown signal 'user_report'; did you mean 'reports'?", "unknown placeholder {nmae}",
                     "unknown stream 'bad-advise'; did you mean 'bad-advice'?"):
        assert expected in messages


def test_fixing_the_schema_errors_uncovers_no_new_problem(
        write_scenario: WriteScenario, capsys: Capture) -> None:
    """What the one pass reported besides schema errors is exactly what remains once they are fixed."""
    path = write_scenario(ONE_PASS)
    _, before = validate_output(path, capsys)
    path.write_text(ONE_PASS.replace("trafic_rps", "traffic_rps").replace("confabulatoin", "confabulation")
                    .replace("at: 10:05", "at: 10m5s"), encoding="utf-8")
    _, after = validate_output(path, capsys)
    assert after and set(after.splitlines()) < set(before.splitlines())
    assert len(before.splitlines()) - len(after.splitlines()) == 4  # trafic_rps counts twice (+ missing)


@pytest.mark.parametrize("breakage", [
    ("harm_type: confabulation", "harm_type: nope"),                        # the stream an effect names
    ("    body: Please declare.", "    body: Please declare.\n    to_do: 1"),  # the contingency inject
    ("kind: user_reports", "kind: user_reportz"),                           # the signal a trigger names
    ("duration: 2h", "duration: 2 hourz"),                                  # what 'at' is checked against
    ("roles: [ic, ml, comms]", "roles: [icc]"),                             # the roles approvals need
    ("scoring:\n  containment_threshold: 0.05\n", ""),                     # a required section
], ids=["stream", "contingency", "signal", "duration", "roles", "scoring"])
def test_a_schema_error_is_not_echoed_as_a_reference_problem(
        write_scenario: WriteScenario, breakage: tuple[str, str]) -> None:
    """What refers to a part with a schema error is not also reported as unknown: only the error is."""
    text = MINIMAL.replace(*breakage).replace("  - id: first\n    at: 10m",
                                              "  - id: first\n    trigger: {signal: reports}")
    assert len(problems_of(write_scenario(text))) == 1


def test_two_broken_items_of_one_list_are_both_recognised_as_broken(write_scenario: WriteScenario) -> None:
    """Two injects refused whole: cutting the first shifts the second's index, yet the contingency a
    good inject names is still known to be the broken second, so only the two errors are reported."""
    injects = """injects:
  - id: early
    at: 5m
    trigger: {declared: true}
    channel: chat
    sender: {name: A}
    to: [ic]
    subject: s
    body: b
  - id: nudge
    contingency: true
    at: 1h
    channel: chat
    sender: {name: VP}
    to: [ic]
    subject: Anyone on this?
    body: Please declare.
  - id: first
    at: 10m
    channel: pager
    sender: {name: On-call}
    to: [ic]
    subject: Reports are up
    body: b
    expects:
      - {action: declare_incident, within: 15m, contingency: nudge}
"""
    text = MINIMAL[:MINIMAL.index("injects:\n")] + injects + MINIMAL[MINIMAL.index("actions:\n"):]
    problems = problems_of(write_scenario(text))
    assert len(problems) == 2, problems
    assert all("an inject needs exactly one of 'at', 'trigger' or 'contingency: true'" in p for p in problems)
