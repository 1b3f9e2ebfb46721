"""The inject feed's rows wrap under the same hanging indent as the action list's, so a wrapped
subject's last words are not read as a row of their own. Keys in through Pilot, screens out."""

from __future__ import annotations

from pathlib import Path

from textual.content import Content

from simulator.engine.session import LocalSession
from simulator.format.loader import LoadedScenario
from tui.app import DrillApp
from tui.format import HANG, hang_content
from tui.widgets.picklist import PickList


def test_a_wrapped_row_keeps_its_styles_under_the_hanging_indent() -> None:
    """The bold subject stays bold on its second line, behind the indent."""
    row = Content.assemble(("0:15:00", "dim"), " ", ("INC-77420: Atlas refusing our prompts", "bold"))
    wrapped = hang_content(row, 24)
    assert wrapped.plain == "0:15:00 INC-77420: Atlas\n  refusing our prompts"
    second = wrapped.plain.index("refusing")
    assert {str(s.style) for s in wrapped.spans if s.start <= second < s.end} == {"bold"}
    assert hang_content(row, 0).plain == row.plain, "no wrapping before the list is laid out"


async def test_at_80_columns_a_wrapped_inject_row_hangs_under_its_time(flagship: LoadedScenario,
                                                                     tmp_path: Path) -> None:
    """At 80×24 the refusals ticket (0:15:00) and the report spike (0:28:00) wrap; each row's later
    lines start under the time, two cells in, where the unread marker leaves room, never at the edge."""
    app = DrillApp(LocalSession(flagship, seed=7), wall=lambda: 0.0, start_paused=True, save_dir=tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter", "n", "n")
        await pilot.pause()
        feed = app.screen.query_one("#inject-list", PickList)
        rows = [str(feed.get_option_at_index(i).prompt) for i in range(feed.option_count)]
    wrapped = [row for row in rows if "\n" in row]
    assert wrapped, rows
    for row in wrapped:
        first, *later = row.split("\n")
        assert first.startswith("● 0:"), row
        assert all(line.startswith(HANG) and not line.startswith(HANG + " ") for line in later), row
