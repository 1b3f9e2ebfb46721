"""Team progress over time (``ttx history trends``): each headline figure per drill, with the team's best
and the textbook bot's median as yardsticks, as a terminal table or a self-contained HTML page.

The bot's median is the textbook policy played on the seeds the team's drills used, against the current
scenario file, so both faced the same incidents; when the scenario cannot be found, the textbook runs
recorded in the history (``ttx run --record``) stand in.
"""

from __future__ import annotations

import hashlib
import json
import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from html import escape
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from simulator.analysis.charts import TrendPanel, trend_chart
from simulator.analysis.history import PEOPLE, DrillRow, Filters, History, HistoryError, local
from simulator.analysis.metrics import BY_NAME, TRENDED, Metric, Value, measures
from simulator.analysis.report import CSS, Table, html_table

if TYPE_CHECKING:
    from simulator.format.loader import LoadedScenario

MAX_BOT_SEEDS = 12
"""At most this many seeds (the most played) are run by the textbook bot for its median."""


@dataclass(frozen=True)
class Reference:
    """The textbook bot's median of every metric, and how it was had."""

    medians: dict[str, Value]
    how: str


@dataclass(frozen=True)
class Trend:
    """One metric over the drills, oldest first."""

    metric: Metric
    points: list[tuple[datetime, Value, str]]
    """(when, value, team) per drill."""
    best: Value
    bot: Value

    @property
    def latest(self) -> Value:
        """The most recent drill's value."""
        return self.points[-1][1] if self.points else None

    def panel(self) -> TrendPanel:
        """This trend in plotted units: times in minutes, shares in percent."""
        scale, unit = {"time": (1 / 60, " (min)"), "share": (100.0, " (%)")}.get(self.metric.unit, (1.0, ""))

        def plotted(value: Value) -> Value:
            return None if value is None else value * scale

        return TrendPanel(self.metric.title + unit, [(w, plotted(v), team) for w, v, team in self.points],
                          plotted(self.best), plotted(self.bot))


def trends(rows: list[DrillRow], reference: Reference | None) -> list[Trend]:
    """Each trended metric over ``rows`` (oldest first), with its best and the bot's median."""
    out = []
    for name in TRENDED:
        metric = BY_NAME[name]
        points = [(r.played_at, _value(r, name), r.team or "no team") for r in rows]
        out.append(Trend(metric, points, best([v for _, v, _ in points], metric),
                         reference.medians.get(name) if reference is not None else None))
    return out


def _value(row: DrillRow, name: str) -> Value:
    value = getattr(row, name)
    return None if value is None else float(value)


def best(values: list[Value], metric: Metric) -> Value:
    """The best of ``values`` (for a time, the soonest reached; ``None`` if never reached)."""
    known = [v for v in values if v is not None]
    if not known:
        return None
    return max(known) if metric.higher_is_better else min(known)


def median(values: list[Value], metric: Metric) -> Value:
    """The median, "never" counting as later than any time (so it can be the median)."""
    if not values:
        return None
    if metric.unit == "time":
        ranked = sorted(values, key=lambda v: float("inf") if v is None else v)
        middle = ranked[(len(ranked) - 1) // 2:len(ranked) // 2 + 1]
        if any(v is None for v in middle):
            return None
        return statistics.fmean([v for v in middle if v is not None])
    return statistics.median([v for v in values if v is not None] or [0.0])


# --- the textbook bot's yardstick --------------------------------------------------------------


def textbook_reference(history: History, rows: list[DrillRow]) -> Reference | None:
    """The textbook bot on the seeds ``rows`` were played on (or its recorded runs, if the scenario is
    gone); ``None`` when neither can be had."""
    if not rows:
        return None
    seeds = sorted(seed for seed, _ in Counter(r.seed for r in rows).most_common(MAX_BOT_SEEDS))
    source = _scenario_file(history, rows[-1])
    reference = _simulated(history, source, seeds) if source is not None else None
    if reference is not None:
        return reference
    recorded = history.drills(Filters(scenario=rows[-1].scenario_id, policy="textbook"))
    if not recorded:
        return None
    return Reference({name: median([_value(r, name) for r in recorded], BY_NAME[name]) for name in TRENDED},
                     f"median of the {len(recorded)} textbook bot run(s) recorded in the history (the "
                     "scenario file was not found to run it)")


def _scenario_file(history: History, row: DrillRow) -> Path | None:
    """The drill's scenario file now: the built-in of its id, else the file its journal names.

    Found by path alone (as :func:`simulator.format.loader.resolve` would), so a trend whose bot figures
    are cached never imports the scenario loader.
    """
    library = Path(str(resources.files("scenarios")))
    builtin = library / f"{row.scenario_id}.yaml"
    if builtin.is_file():
        return builtin
    try:
        header = json.loads(history.journal(row.id).split(b"\n", 1)[0])
    except (HistoryError, ValueError):
        return None
    source = str(header.get("scenario_source") or "")
    builtin_id = source.removeprefix("builtin:")
    path = library / f"{builtin_id}.yaml" if builtin_id != source else Path(source)
    return path if source and path.is_file() else None


def _simulated(history: History, source: Path, seeds: list[int]) -> Reference | None:
    """The textbook bot's median on ``seeds`` (``None`` if the scenario no longer loads). Each seed is
    played once per scenario file and ttx and kept in the history, so a trend drawn again costs no
    simulation (and no loading of the scenario)."""
    key = "sha256:" + hashlib.sha256(source.read_bytes()).hexdigest()
    known = {seed: history.reference(key, seed, "textbook") for seed in seeds}
    missing = [seed for seed, found in known.items() if found is None]
    if missing:
        loaded = _load(source)
        if loaded is None:
            return None
        for seed in missing:
            known[seed] = _textbook(loaded, seed)
            history.remember_reference(key, seed, "textbook", known[seed] or {})
    values = {name: [(known[seed] or {}).get(name) for seed in seeds] for name in TRENDED}
    medians = {name: median(vs, BY_NAME[name]) for name, vs in values.items()}
    shown = ", ".join(map(str, seeds))
    return Reference(medians, f"median of the textbook bot on the seed(s) these drills used ({shown}), "
                              "current scenario file")


def _load(source: Path) -> LoadedScenario | None:
    from simulator.format.loader import load_scenario
    from simulator.format.yamlsafe import FileProblems

    try:
        return load_scenario(source)
    except (FileNotFoundError, FileProblems):
        return None


def _textbook(loaded: LoadedScenario, seed: int) -> dict[str, Value]:
    """Every metric of the textbook bot on one seed."""
    from simulator.analysis.aar import facts
    from simulator.engine.journal import Journal
    from simulator.engine.policies import load_policy
    from simulator.engine.runner import run_policy

    run = run_policy(loaded, load_policy("textbook", loaded.scenario), seed)
    header = run.drill.header(run.result.policy)
    return measures(facts(Journal(header, run.drill.events), loaded.scenario, run.result, None))


# --- rendering -----------------------------------------------------------------------------------


def teams(found: list[Trend]) -> list[str]:
    """The teams whose drills a trend covers, by name."""
    return sorted({team for t in found for _, _, team in t.points})


def summary(found: list[Trend], team: str | None = None) -> Table:
    """Per metric, for one team's drills (``None``: all of them): first, latest, the change since the
    drill before, best, the bot's median, and the latest against the bot."""
    rows = []
    for t in found:
        m = t.metric
        values = [v for _, v, who in t.points if team is None or who == team]
        latest = values[-1] if values else None
        previous = values[-2] if len(values) > 1 else None
        rows.append([m.title, m.text(values[0] if values else None), m.text(latest),
                     m.change(previous, latest) if len(values) > 1 else "",
                     m.text(best(values, m)), m.text(t.bot) if t.bot is not None or m.unit == "time" else "—",
                     _against(m, latest, t.bot)])
    return ["metric", "first", "latest", "latest vs previous", "best", "textbook bot", "latest vs bot"], rows


def summaries(found: list[Trend]) -> list[tuple[str | None, Table]]:
    """The summary per team when the trend covers several (each against its own previous drill)."""
    names = teams(found)
    if len(names) == 1:
        return [(None, summary(found))]
    return [(name, summary(found, name)) for name in names]


def _against(metric: Metric, latest: Value, bot: Value) -> str:
    better = metric.better(bot, latest)
    if better is None:
        return "level" if latest == bot and latest is not None else ""
    return "ahead" if better else "behind"


def drill_table(rows: list[DrillRow]) -> Table:
    """The drills the trend covers."""
    detect, contain = BY_NAME["time_to_detect"], BY_NAME["time_to_contain"]
    return (["date", "id", "team", "score", "detect", "contain", "harm averted"],
            [[local(r.played_at), r.short, r.team or "—", f"{r.score:.1f}", detect.text(r.time_to_detect),
              contain.text(r.time_to_contain), f"{r.harm_averted:.0%}"] for r in rows])


def title_of(rows: list[DrillRow], team: str | None) -> str:
    """The page's title: the scenario and whose drills."""
    who = f"team {team}" if team else "every team"
    return f"Trends: {rows[-1].scenario_title} ({rows[-1].scenario_id}), {who}"


def render_html(rows: list[DrillRow], found: list[Trend], reference: Reference | None,
                team: str | None) -> str:
    """The trends as one self-contained page: inline CSS and SVG, no scripts, no requests."""
    title = title_of(rows, team)
    how = reference.how if reference is not None else "no textbook bot reference (scenario not found)"
    chart = trend_chart([t.panel() for t in found])
    whose = "the team's" if team else "any team's"
    sub = (f"{len(rows)} drill(s) played by people, {local(rows[0].played_at)} to {local(rows[-1].played_at)}"
           f" · teams: {', '.join(teams(found))}")
    tables = "".join((f"<h3>team {escape(name)}</h3>" if name else "") + html_table(table)
                     for name, table in summaries(found))
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
            f'<header><h1>{escape(title)}</h1>\n<p class="sub">{escape(sub)}</p></header>\n<main>\n'
            f'<section id="summary"><h2>Summary</h2>{tables}</section>\n'
            f'<section id="charts"><h2>Each metric over time</h2><figure id="chart-trends">'
            f"{chart}<figcaption>One point per drill. Green dashes: {whose} best; grey dots: the "
            f"textbook bot ({escape(how)}). "
            "Red × at the top: never reached (never declared, never contained). Times run from harm "
            "start.</figcaption></figure></section>\n"
            f'<section id="drills"><h2>Drills</h2>{html_table(drill_table(rows))}</section>\n'
            "</main>\n</body>\n</html>\n")


def trend_drills(history: History, team: str | None, scenario: str | None,
           since: datetime | None, *, branches: bool = False) -> tuple[list[DrillRow], int]:
    """The drills people played that a trend covers (one scenario), and how many branches were left
    out: a branch (a rewind, ``w`` on the review or ``ttx play --from``) replays its parent's past
    and is not a fresh attempt, so a team's series counts it only with ``branches``.

    Raises:
        HistoryError: none match, or they span several scenarios and none was named.
    """
    found = history.drills(Filters(team=team, scenario=scenario, since=since, policy=PEOPLE))
    rows = found if branches else [r for r in found if r.parent is None]
    left_out = len(found) - len(rows)
    if found and not rows:
        raise HistoryError(f"the {left_out} matching drill(s) are all branches (rewinds of another "
                           "drill); --branches trends them")
    if not rows:
        who = f" by team {team}" if team else ""
        what = f" of {scenario}" if scenario else ""
        raise HistoryError(f"no drills{what} played by people{who} in the history {history.where}")
    scenarios = sorted({r.scenario_id for r in rows})
    if len(scenarios) > 1:
        raise HistoryError(f"these drills are of {len(scenarios)} scenarios ({', '.join(scenarios)}); "
                           "trends compare one: choose it with --scenario")
    return rows, left_out
