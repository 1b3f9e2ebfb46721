"""A broken scenario names file:line:column and what was expected — one test per kind of mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.format.loader import lint_scenario, load_scenario
from simulator.format.yamlsafe import MAX_BYTES, FileProblems
from tests.conftest import MINIMAL, WriteScenario


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
    assert problem.endswith("found 'confabulatoin'")


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


def test_yaml11_base60_trap_is_explained_for_a_duration(write_scenario: WriteScenario) -> None:
    path = write_scenario(MINIMAL.replace("    at: 10m", "    at: 10:05"))
    (problem,) = problems_of(path)
    assert problem.startswith(f"{path}:23:9: at: ")
    assert "reads the unquoted 10:05 as a base-60 number" in problem


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
