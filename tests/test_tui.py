"""The drill TUI as a player drives it: keys in, what the widgets show (and what gets saved) out."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Input, Markdown, OptionList, Select, Sparkline, Static, Tabs

from simulator.engine.journal import read_journal
from simulator.engine.replay import replay
from simulator.engine.session import LocalSession
from simulator.format.commands import VERBS, Command
from simulator.format.hms import day_clock, day_span
from simulator.format.loader import LoadedScenario, load_scenario
from tests.conftest import MINIMAL, WriteScenario, end_in_tui, end_through_hot_wash
from tui.app import DrillApp, Opening
from tui.screens.briefing import BriefingScreen
from tui.screens.dashboard import DashboardScreen
from tui.screens.dialogs import ApprovalScreen, ComposerScreen, ParamsScreen, field_options, field_required
from tui.screens.help import HelpScreen
from tui.screens.picker import PickerScreen
from tui.screens.review import ReviewScreen
from tui.widgets.actions import DIALOG_VERBS, ActionPanel
from tui.widgets.header import DrillHeader
from tui.widgets.injects import InjectFeed

SIZE = (100, 30)


def drill_app(flagship: LoadedScenario, tmp_path: Path) -> DrillApp:
    """The flagship at seed 7, clock paused, frozen wall clock, saving into ``tmp_path``."""
    return DrillApp(LocalSession(flagship, seed=7), wall=lambda: 0.0, start_paused=True, save_dir=tmp_path)


def text_of(widget: Static) -> str:
    """What a static widget shows, as plain text."""
    return str(widget.render())


def incident_text(app: DrillApp) -> str:
    """What the dashboard's incident panel shows (also while a dialog covers it)."""
    assert app.dashboard is not None
    return text_of(app.dashboard.query_one("#incident-text", Static))


def under_way(app: DrillApp) -> list[str]:
    """The incident panel's lines for actions under way (``⧗ title  ETA …``)."""
    return [line for line in incident_text(app).splitlines() if line.startswith("⧗ ")]


def acting_role(app: DrillApp) -> str | None:
    """The role tab shown as active above the action list."""
    return app.screen.query_one("#role-tabs", Tabs).active


async def test_a_drill_from_briefing_to_review(flagship: LoadedScenario, tmp_path: Path) -> None:
    """Start, read injects, take the kill switch as ML, approve it as IC, send an update, end, save."""
    app = drill_app(flagship, tmp_path)
    session = app.session
    assert isinstance(session, LocalSession)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        assert isinstance(app.screen, DashboardScreen)
        await pilot.press("n", "n")
        feed = app.screen.query_one("#inject-list", OptionList)
        assert feed.option_count == 2
        assert "User-report spike" in str(feed.get_option_at_index(0).prompt)
        assert "2 unread" in str(app.screen.query_one(InjectFeed).border_title)

        await pilot.press("r")
        assert acting_role(app) == "role-ml"
        actions = app.screen.query_one("#action-list", OptionList)
        actions.highlighted = actions.get_option_index("take-offline")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ApprovalScreen)
        question = str(app.screen.query_one("#approval-question", Static).render())
        assert question.startswith("IC: approve “Take the assistant offline”")
        assert "? #1 Take the assistant offline  ML asks IC" in incident_text(app), "the request waits"

        await pilot.press("y")
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen)
        assert "? #1" not in incident_text(app), "approved, it waits no more"
        assert under_way(app) == ["⧗ Take the assistant offline  ETA 0:33:00 (in 0:05:00)"]

        await pilot.press("u")
        await pilot.pause()
        assert isinstance(app.screen, ComposerScreen)
        for part, words in (("know", "reports spiked at 0:28"), ("suspect", "a jailbreak"),
                            ("doing", "kill switch")):
            app.screen.query_one(f"#update-{part}", Input).value = words
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "Updates 1" in incident_text(app)

        await end_in_tui(pilot)
        await pilot.pause()
        assert isinstance(app.screen, ReviewScreen)
        assert session.result is not None
        table = app.screen.query_one("#breakdown", DataTable)
        shown = {str(row[0]): str(row[1]) for row in map(table.get_row_at, range(table.row_count))}
        assert shown == {c.name: f"{c.points:.1f}" for c in session.result.breakdown}
        headline = text_of(app.screen.query_one("#review-headline", Static))
        assert f"Score {session.result.score:.1f} / 100" in headline

        await pilot.press("s")
        await pilot.pause()
        saved = sorted(p.suffix for p in tmp_path.iterdir())
        assert saved == [".jsonl", ".md"]
        report = next(tmp_path.glob("*.md")).read_text()
        assert "## Improvement plan" in report
        assert f"| Overall score | {session.result.score:.1f} / 100 |" in report
        update = ("| ic | update to internal: know: reports spiked at 0:28 / suspect: a jailbreak / "
                  "doing: kill switch |")
        assert update in report, "the composer sent IC's structured update to the internal audience"


async def test_a_refused_action_says_why(flagship: LoadedScenario, tmp_path: Path) -> None:
    """Setting severity before declaring is refused, and the engine's reason reaches the screen."""
    app = drill_app(flagship, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        actions = app.screen.query_one("#action-list", OptionList)
        actions.highlighted = actions.get_option_index("set_severity")
        await pilot.press("enter")
        await pilot.pause()
        app.screen.query_one("#field-level", Select).value = "sev2"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen)
        assert "✘ set_severity refused at 0:00:00: declare the incident first" in incident_text(app)


async def test_the_truth_stays_hidden_until_the_training_toggle(flagship: LoadedScenario,
                                                                tmp_path: Path) -> None:
    """The signals never plot the hidden harm rate unless `t` (show truth) is on."""
    app = drill_app(flagship, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter", "n", "n")
        truth_row = app.screen.query_one("#signal-truth")
        assert not truth_row.display
        await pilot.press("t")
        assert truth_row.display
        assert truth_row.query_one(Sparkline).data, "the hidden harm rate is plotted"
        assert str(app.screen.query_one("#signals").border_title) == "Signals + TRUTH (training)"
        await pilot.press("t")
        assert not truth_row.display


async def test_help_lists_the_footer_keys_and_the_theme_toggles(flagship: LoadedScenario,
                                                                tmp_path: Path) -> None:
    """`?` opens help naming every footer key with what it does; `d` switches between the light and
    dark themes."""
    app = drill_app(flagship, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter", "question_mark")
        assert isinstance(app.screen, HelpScreen)
        keys = dict(app.screen.rows)
        for key, description in (("space", "Run or pause the drill clock"),
                                 ("n", "Jump to the next inject or question"),
                                 ("r", "Act as the next role"), ("u", "Write a stakeholder update"),
                                 ("a", "Decide the oldest request"), ("e", "End the drill"),
                                 ("?", "Show every key"), ("q", "Quit")):
            assert keys[key].startswith(description), (key, keys.get(key))
        await pilot.press("escape")
        dark = app.current_theme.dark
        await pilot.press("d")
        assert app.current_theme.dark is not dark


async def test_the_picker_opens_the_chosen_scenario(flagship: LoadedScenario, tmp_path: Path) -> None:
    """`ttx play --pick`: the list shows each scenario's summary; the footer names Enter ("Play this
    scenario", not hidden behind the list's own Enter) and Enter opens the briefing."""
    app = DrillApp(choose=lambda sid: LocalSession(flagship, seed=7), scenarios=[flagship.scenario],
                   wall=lambda: 0.0, start_paused=True, save_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, PickerScreen)
        listed = str(app.screen.query_one(OptionList).get_option_at_index(0).prompt)
        assert flagship.scenario.summary in listed
        enter = app.screen.active_bindings["enter"].binding
        assert enter.action == "choose" and enter.show and enter.description == "Play this scenario"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, BriefingScreen)
        briefing = app.screen.query_one("#briefing-text", Markdown).source
        assert briefing.startswith(f"# {flagship.scenario.title}\n")


async def test_a_saved_journal_replays_to_the_same_result(flagship: LoadedScenario, tmp_path: Path) -> None:
    """LocalSession.save writes a journal `ttx replay` accepts, the player's commands included."""
    session = LocalSession(flagship, seed=7)
    await session.next_inject()
    await session.submit(Command(role="ic", action="declare_incident", params={"commander": "ic"}))
    await session.submit(Command(role="ml", action="block-list"))
    await end_through_hot_wash(session)
    path = session.save(tmp_path / "drill.jsonl")
    report = replay(read_journal(path), flagship)
    assert report.matches, report.first_difference
    assert read_journal(path).header["policy"] == "human"
    await session.close()


async def test_the_command_palette_finds_an_action_of_any_role(flagship: LoadedScenario,
                                                               tmp_path: Path) -> None:
    """ctrl+p, "ML: block", Enter: the block list starts as ML without switching the role tabs."""
    app = drill_app(flagship, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter", "ctrl+p")
        await pilot.press(*"ML: Block known")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await pilot.pause()
        assert [line.split("  ETA")[0] for line in under_way(app)] == ["⧗ Block known jailbreak prompts"]
        assert acting_role(app) == "role-ic"


async def test_a_jump_keeps_each_timeline_entry_at_its_own_time(flagship: LoadedScenario) -> None:
    """After `n` folds a burst of events at once, the timeline still says when each one happened."""
    session = LocalSession(flagship, seed=7)
    await session.next_inject()
    await session.next_inject()
    times = {text: t for t, text in session.view.timeline}
    ticket = next(t for text, t in times.items() if text.startswith("[ticket]"))
    page = next(t for text, t in times.items() if text.startswith("[pager]"))
    assert ticket == 15 * 60 and page < session.view.now
    assert session.view.now == session.drill.now
    await session.close()


FORM_VERBS = sorted(v.id for v in VERBS.values() if v.params.model_fields and v.id not in DIALOG_VERBS)
"""Verbs that open a parameter form (or the update composer)."""


async def test_every_verb_form_makes_a_valid_command(flagship: LoadedScenario, tmp_path: Path) -> None:
    """Each parameter form, filled with its defaults and first choices, reaches the engine valid."""
    app = drill_app(flagship, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        assert app.session is not None
        for verb in FORM_VERBS:
            app.post_message(ActionPanel.ActionRequested(sorted(VERBS[verb].roles)[0], verb))
            await pilot.pause()
            if verb == "send_update":
                assert isinstance(app.screen, ComposerScreen)
                app.screen.query_one("#update-know", Input).value = "reports up"
            else:
                assert isinstance(app.screen, ParamsScreen), verb
                for field in app.screen.query(Input):
                    field.value = field.value or "war room: stand by"
                for name, info in app.screen.model.model_fields.items():
                    options, _ = field_options(info.annotation, app.screen.roles)
                    choice = app.screen.query_one(f"#field-{name}")
                    if isinstance(choice, Select) and choice.value is Select.NULL and options and \
                            field_required(info):
                        choice.value = options[0][1]
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert not isinstance(app.screen, ParamsScreen | ComposerScreen), verb
            refusals = [reason for _, action, reason in app.session.view.refusals if action == verb]
            assert verb in app.session.view.taken or refusals, f"{verb}: the form sent nothing"
            assert not any(r.startswith("bad parameter") for r in refusals), (verb, refusals)
        taken = app.session.view.taken
        assert {"declare_incident", "classify", "escalate", "send_update", "message"} <= taken


async def test_any_valid_scenario_plays_through(write_scenario: WriteScenario, tmp_path: Path) -> None:
    """A small scenario from a file (three roles, one signal, no clocks) plays from briefing to review."""
    loaded = load_scenario(write_scenario(MINIMAL))
    app = DrillApp(LocalSession(loaded, seed=1), wall=lambda: 0.0, start_paused=True, save_dir=tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter", "n")
        feed = app.screen.query_one("#inject-list", OptionList)
        assert "Reports are up" in str(feed.get_option_at_index(0).prompt)
        await pilot.press("r")
        assert acting_role(app) == "role-ml"
        actions = app.screen.query_one("#action-list", OptionList)
        assert actions.get_option_at_index(0).id == "filter"
        await pilot.press("enter")
        await pilot.pause()
        assert [line.split("  ETA")[0] for line in under_way(app)] == ["⧗ Filter it"]
        await end_in_tui(pilot)
        await pilot.pause()
        assert isinstance(app.screen, ReviewScreen)


async def test_at_80_columns_the_header_keeps_the_acting_role_and_the_real_time(tmp_path: Path) -> None:
    """A long title at 80×24 used to push "acting as Incident commander" off the edge ("…"), and
    then the real time was dropped to make room: the header now shortens the role (``acting as IC``)
    and cuts the title, keeping the real time (the full title is the tooltip); at 100 columns it
    shows everything."""
    loaded = load_scenario("biased-image-generation")
    app = DrillApp(LocalSession(loaded, seed=1), wall=lambda: 0.0, start_paused=True, save_dir=tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter")
        app.show_header()
        header = app.screen.query_one(DrillHeader)
        line = text_of(header)
        assert line.rstrip().endswith("│ real 0:00:00 │ acting as IC") and line.startswith(" Skewed images")
        assert "…" in line and len(line.rstrip()) <= 80
        assert header.tooltip == "Skewed images, public storm", "the cut title is whole in the tooltip"
        await pilot.press("r")
        app.show_header()
        assert text_of(app.screen.query_one(DrillHeader)).rstrip().endswith("real 0:00:00 │ acting as ML")
        await pilot.press("r", "r", "r", "r")
        await pilot.resize_terminal(120, 30)
        await pilot.pause()
        app.show_header()
        line = text_of(app.screen.query_one(DrillHeader))
        assert "Skewed images, public storm" in line and header.tooltip is None
        assert "real 0:00:00" in line and line.rstrip().endswith("acting as Incident commander")


async def test_a_multi_day_drill_header_counts_days_not_hundreds_of_hours(tmp_path: Path) -> None:
    """A 5-day drill's header said "/ 120:00:00" (a 500-day one "12000:00:00"): past 24 hours the
    header writes days."""
    loaded = load_scenario("sycophancy-drift")
    app = DrillApp(LocalSession(loaded, seed=1), wall=lambda: 0.0, start_paused=True, save_dir=tmp_path)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("enter")
        app.show_header()
        assert "sim 0:00:00 / 5d │" in text_of(app.screen.query_one(DrillHeader))
    assert [day_clock(t) for t in (302, 86399, 86400, 500 * 86400 + 302)] == [
        "0:05:02", "23:59:59", "1d", "500d 0:05:02"]
    assert [day_span(t) for t in (4 * 3600, 36 * 3600, 5 * 86400, 500 * 86400)] == [
        "4:00:00", "1d12h", "5d", "500d"]


async def test_moving_into_the_inject_feed_opens_the_newest_inject(flagship: LoadedScenario,
                                                                   tmp_path: Path) -> None:
    """`i` used to focus the feed with nothing highlighted, so Enter showed nothing; now the newest
    inject opens at once (and counts as read), ↓ goes to the older ones."""
    app = drill_app(flagship, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter", "n", "n")
        detail = app.screen.query_one("#inject-detail", Static)
        assert "Press i to read the newest inject" in text_of(detail)
        await pilot.press("i")
        await pilot.pause()
        assert text_of(detail).startswith("User-report spike on Atlas chat")
        assert "1 unread" in str(app.screen.query_one(InjectFeed).border_title)
        await pilot.press("down")
        await pilot.pause()
        assert text_of(detail).startswith("INC-")


async def test_a_tall_form_scrolls_at_80_by_24_so_every_field_and_submit_can_be_reached(
        flagship: LoadedScenario, tmp_path: Path) -> None:
    """The facilitator's ad-hoc inject form (channel, five roles, subject, body, sender) is taller than
    an 80×24 terminal: it used to be cut off below the subject (body, sender and the buttons out of
    reach); it now scrolls, and tabbing to Submit brings it into view."""
    from textual.widgets import Button

    from simulator.format.commands import AdhocParams

    app = drill_app(flagship, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter")
        await app.push_screen(ParamsScreen("Ad-hoc inject", "facilitator", AdhocParams,
                                           ["ic", "ml", "ts", "comms", "legal"]))
        await pilot.pause()
        form = app.screen.query_one("#params-form")
        assert form.max_scroll_y > 0, "the form is taller than the screen and scrolls"
        submit = app.screen.query_one("#submit", Button)
        submit.focus()
        await pilot.pause()
        await pilot.wait_for_scheduled_animations()  # focusing scrolls the form with an animation
        await pilot.pause()
        assert form.region.contains_region(submit.region), "Submit is scrolled into view"
        assert submit.region.bottom <= 24


async def test_the_header_timer_tolerates_a_dashboard_being_taken_down(flagship: LoadedScenario,
                                                                      tmp_path: Path) -> None:
    """The twice-a-second header redraw can fire while the dashboard's widgets are being removed
    (quitting); it then does nothing instead of failing with NoMatches."""
    app = drill_app(flagship, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        assert app.dashboard is not None
        await app.dashboard.query_one(DrillHeader).remove()
        assert not app.dashboard.query(DrillHeader), "the header is gone, the dashboard still attached"
        assert app.dashboard.is_attached
        app.show_header()
        assert isinstance(app.screen, DashboardScreen) and not app.dashboard.query(DrillHeader)


async def test_the_review_sets_the_run_beside_the_real_team_and_doing_nothing(flagship: LoadedScenario,
                                                                               tmp_path: Path) -> None:
    """Ending the flagship at 1:00 shows "you vs the real team": this run's declaration, containment
    and harm beside Tay's timeline replayed on the same seed (when it declared and contained) and the
    do-nothing run, harm counted to 1:00 for all three, and the real team's harm curve on the same
    chart as the other two."""
    from simulator.format.durations import clock
    from tui.widgets.chart import LineChart

    app = drill_app(flagship, tmp_path)
    session = app.session
    assert isinstance(session, LocalSession)
    async with app.run_test(size=(120, 50)) as pilot:
        await pilot.press("enter")
        session.drill.advance_to(3600)
        await session.submit(Command(role="ic", action="declare_incident", params={"commander": "ic"}))
        await end_in_tui(pilot)
        await pilot.pause()
        assert isinstance(app.screen, ReviewScreen)
        review = app.review
        assert review is not None and review.real_team is not None
        shown = text_of(app.screen.query_one("#real-team", Static))
        assert "Microsoft Tay" in shown and "public tweets" in shown and "~16 h" in shown
        ours, real, idle = review.real_team.runs
        assert [ours.label, real.label, idle.label] == ["this run", "the real team", "doing nothing"]
        assert ours.time_to_detect == 3600
        assert real.time_to_detect is None or real.time_to_detect > 3600, "Tay's team declared later"
        assert real.harm_volume == idle.harm_volume, "before its first signal the real team did nothing"
        declared = clock(real.time_to_detect) if real.time_to_detect is not None else "never"
        for figure in (f"{ours.harm_volume:,}", declared, "1:00:00", "never"):
            assert figure in shown
        chart = app.screen.query_one("#harm-chart", LineChart)
        assert [s.label for s in chart.series] == ["doing nothing (same seed)", "the real team (historical)",
                                                   "this run"]


async def test_ttx_play_builds_its_drill_once_the_briefing_is_on_screen(flagship: LoadedScenario,
                                                                       tmp_path: Path) -> None:
    """``ttx play`` hands the app an :class:`Opening`: the briefing is drawn from the scenario alone,
    the engine is built after that first frame (while the players read), and Enter starts that drill."""
    built: list[LocalSession] = []

    def build() -> LocalSession:
        built.append(LocalSession(flagship, seed=7))
        return built[-1]

    app = DrillApp(opening=Opening(flagship.scenario, build), wall=lambda: 0.0, start_paused=True,
                   save_dir=tmp_path)
    assert app.session is None and built == []
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, BriefingScreen)
        assert len(built) == 1 and app.session is built[0], "built once, after the briefing showed"
        await pilot.press("enter")
        assert isinstance(app.screen, DashboardScreen)
        assert built[0].started and len(built) == 1


async def test_a_built_ins_brief_opens_the_same_briefing_and_its_drill(flagship: LoadedScenario,
                                                                        tmp_path: Path) -> None:
    """For a built-in, ``ttx play`` briefs from the file's :class:`Brief` (no pydantic before the first
    frame): the same page as the validated scenario's, and the drill built after it is that scenario's."""
    from simulator.format.brief import builtin_brief
    from tui.screens.briefing import briefing_markdown

    briefed = builtin_brief("jailbreak-wave")
    assert briefed is not None
    app = DrillApp(opening=Opening(briefed[1], lambda: LocalSession(flagship, seed=7)), wall=lambda: 0.0,
                   start_paused=True, save_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, BriefingScreen) and app.session is not None
        assert briefing_markdown(app.screen.scenario, None) == briefing_markdown(flagship.scenario, None)
        await pilot.press("enter")
        assert isinstance(app.screen, DashboardScreen) and app.session.scenario is flagship.scenario


async def test_enter_pressed_before_the_opening_is_built_builds_it_then_starts(flagship: LoadedScenario,
                                                                               tmp_path: Path) -> None:
    """A start request that arrives before the briefing was shown builds the drill first (never a crash)."""

    class NeverShown(DrillApp):
        def on_briefing_screen_shown(self, message: BriefingScreen.Shown) -> None:
            """As if Enter came before the briefing's first frame: the app's own handler does not run."""
            message.prevent_default()

    app = NeverShown(opening=Opening(flagship.scenario, lambda: LocalSession(flagship, seed=7)),
                     wall=lambda: 0.0, start_paused=True, save_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, BriefingScreen) and app.session is None
        await pilot.press("enter")
        assert isinstance(app.screen, DashboardScreen)
        assert app.session is not None and app.session.started


async def test_saving_a_rewound_branch_keeps_the_originals_journal_and_report(flagship: LoadedScenario,
                                                                             tmp_path: Path) -> None:
    """End, save (s), rewind (w) and play the branch, end, save again: the branch gets a journal and a
    report of its own beside the original's, which are left as they were. (The branch used to be
    "saved" under the original's names: its report overwrote the original's, its journal never written.)"""
    app = drill_app(flagship, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter", "n", "n")
        await end_in_tui(pilot)
        await pilot.pause()
        await pilot.press("s")
        await pilot.pause()
        (original,) = tmp_path.glob("*.jsonl")
        journal, report = original.read_bytes(), original.with_suffix(".md").read_text()

        await pilot.press("tab", "w")  # the timeline's first row
        await pilot.pause()
        assert isinstance(app.screen, BriefingScreen)
        await pilot.press("enter")
        await end_in_tui(pilot)
        await pilot.pause()
        assert isinstance(app.screen, ReviewScreen)
        await pilot.press("s")
        await pilot.pause()

        (branch,) = set(tmp_path.glob("*.jsonl")) - {original}
        assert original.read_bytes() == journal and original.with_suffix(".md").read_text() == report
        assert read_journal(branch).header["fork"]["parent"] == original.name
        assert branch.with_suffix(".md").is_file()


async def test_the_hot_wash_footer_offers_no_clock_controls(flagship: LoadedScenario, tmp_path: Path) -> None:
    """Once the hot wash runs, the clock has stopped: space (Run/Pause) and n (Next) did nothing there
    but stayed in the footer; they leave it."""
    from textual.widgets._footer import FooterKey

    from tui.widgets.footer import DrillFooter

    def offered() -> list[str]:
        return [key.description for key in app.screen.query_one(DrillFooter).query(FooterKey)]

    app = drill_app(flagship, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        assert {"Run/Pause", "Next"} <= set(offered())
        await app.live().end()
        for _ in range(5):
            await pilot.pause()
        assert app.live().view.hot_wash and not app.live().view.ended
        while not isinstance(app.screen, DashboardScreen):  # each hot-wash question's dialog
            await pilot.press("escape")
            await pilot.pause()
        assert not {"Run/Pause", "Next"} & set(offered())
