"""The after-action report (AAR/IP) of a journal, rendered as self-contained HTML or Markdown."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simulator.format.hms import clock

if TYPE_CHECKING:  # the analysis imports the engine; `ttx --help` should not pay for it
    from simulator.analysis.aar import (
        AfterAction,
        ExpectationRow,
        Finding,
        InvestigationFindings,
        QuestionRow,
        RoleFigures,
        TimelineEntry,
    )

Table = tuple[list[str], list[list[str]]]
"""A table as (headers, rows) of plain text; each renderer escapes it for its format."""

STATUS_MARK = {"met": "met", "late": "LATE", "missed": "MISSED", "open": "open"}


def build_report(journal_path: str | Path, scenario: str | None = None) -> AfterAction:
    """Read a journal, load its scenario (or ``scenario``) and analyse it.

    Raises:
        JournalError: the journal cannot be read.
        ValueError: no result in the journal and no scenario to re-derive it.
    """
    from simulator.analysis.aar import analyse
    from simulator.analysis.branch import branch_of, parent_beside
    from simulator.engine.journal import read_journal
    from simulator.engine.replay import load_journal_scenario
    from simulator.format.yamlsafe import FileProblems

    try:
        journal, loaded = load_journal_scenario(journal_path, scenario)
    except (FileNotFoundError, FileProblems):
        journal, loaded = read_journal(journal_path), None
    aar = analyse(journal, loaded, journal_path)
    parent = parent_beside(journal, journal_path)
    if parent is not None:
        aar.branch = branch_of(aar, journal, parent, loaded)
        if aar.branch is None:
            aar.notes.append(f"This drill is a fork of {parent.name}, which could not be read beside it: "
                             "no comparison with the original.")
    return aar


def render(aar: AfterAction, fmt: str) -> str:
    """The report as ``html`` or ``md``."""
    if fmt == "html":
        return render_html(aar)
    if fmt == "md":
        return render_markdown(aar)
    raise ValueError(f"unknown report format {fmt!r} (use html or md)")


# --- shared content ----------------------------------------------------------------------------


def _time(value: float | None) -> str:
    return "never" if value is None else clock(value)


def summary_table(a: AfterAction) -> Table:
    """Scenario, participants, headline numbers."""
    r = a.result
    early = f" to {clock(a.ended_at)}" if a.duration and a.ended_at < a.duration else ""
    idle = f" (do nothing{early}: {a.idle_harm_volume:,})" if a.idle_harm_volume is not None else ""
    rows = [
        ["Scenario", f"{a.title} ({a.scenario_id}), seed {a.seed}"],
        ["Date", a.date],
        ["Participants", participants_line(a)],
        ["Overall score", f"{r.score:.1f} / 100"],
        ["Time to detect (declared)", _time(r.time_to_detect)],
        ["Time to contain", _time(r.time_to_contain)],
        ["Harm volume", f"{r.harm_volume:,} harmful outputs{idle}"],
        ["Weighted harm", f"{r.weighted_harm:,.1f} (do nothing{early}: {r.baseline_weighted_harm:,.1f})"],
        ["Harm averted vs do-nothing", f"{r.harm_averted:.0%}"],
        ["Collateral", f"{r.collateral:.2%} of legitimate requests blocked"],
    ]
    return ["", ""], rows


def real_team_table(a: AfterAction) -> Table:
    """You vs the real team: declared, contained and harm of this run, the real team's and doing nothing."""
    if a.real_team is None:
        return [], []
    runs = a.real_team.runs
    rows = [["declared", *[_time(r.time_to_detect) for r in runs]],
            ["contained", *[_time(r.time_to_contain) for r in runs]],
            ["harmful outputs", *[f"{r.harm_volume:,}" for r in runs]]]
    return ["", *[r.label for r in runs]], rows


def real_team_lines(a: AfterAction) -> list[str]:
    """Who the real team was, what the public record says, and how its timeline played on this seed."""
    c = a.real_team
    if c is None:
        return []
    signal = (f"on this seed at {clock(c.first_signal)}" if c.first_signal is not None
              else "not within the drill on this seed")
    contained = c.contained_as_published or "no published figure"
    stretch = (f"Harm is counted to {clock(a.ended_at)}, when this drill ended, for all three runs; the "
               "real team's declaration and containment are those of its whole run."
               if a.duration and a.ended_at < a.duration
               else "Harm is counted over the whole drill for all three runs.")
    return [f"The real team: {c.incident}, its published timeline replayed by the scenario's historical "
            "policy on the same seed (assumptions labelled in the policy).",
            f"Published: first signal — {c.signal_as_published} ({signal}); contained — {contained}.",
            stretch, f"Source: {c.source}."]


def participants_line(a: AfterAction) -> str:
    """Who played: named players with roles, else the roles that acted (and the bot, if any).

    ``ttx play`` journals its hot seat as policy ``human``: people at one keyboard, not a bot.
    """
    if a.players:
        return "; ".join(f"{p.name} ({', '.join(p.roles) or 'no role'})" for p in a.players)
    bot = a.policy not in (None, "", "human")
    acted = [f.name for f in a.participants  # a bot run's exercise control only closes questions
             if (f.actions or f.refusals) and not (bot and f.name not in a.roles)]
    in_play = f"(in play: {', '.join(a.roles)})"
    if a.policy == "human":
        who = "one keyboard (ttx play hot seat): "
    elif a.policy:
        who = f"bot policy '{a.policy}' playing "
    else:
        who = ""
    if not acted:
        return f"{who.removesuffix(' playing ').removesuffix(': ')}: no role acted {in_play}".lstrip(": ")
    return f"{who}roles {', '.join(acted)} {in_play}"


def breakdown_table(a: AfterAction) -> Table:
    parts = a.result.ordered()
    rows = [[c.name, f"{c.points:.1f}", f"{c.weight:g}", c.why] for c in parts]
    return ["component", "points", "weight", "why"], rows


def timeline_table(a: AfterAction) -> Table:
    def who(e: TimelineEntry) -> str:
        return f"{e.actor} ({e.player})" if e.player else e.actor

    return ["time", "who", "event"], [[clock(e.t), who(e), e.text] for e in a.timeline]


def expectations_table(a: AfterAction) -> Table:
    def row(x: ExpectationRow) -> list[str]:
        done = clock(x.done_at) if x.done_at is not None else ""
        return [x.role, x.inject, x.action, _time(x.fired) if x.fired is not None else "",
                _time(x.due) if x.due is not None else "no deadline", STATUS_MARK[x.status], done,
                x.objective]

    rows = [row(x) for x in sorted(a.expectations, key=lambda x: (x.role, x.fired or 0.0))]
    return ["role", "inject", "expected action", "fired", "due", "status", "done at", "objective"], rows


def expectation_counts(a: AfterAction) -> Table:
    roles = sorted({x.role for x in a.expectations})
    rows = [[role, *[str(sum(1 for x in a.expectations if x.role == role and x.status == s))
                     for s in ("met", "late", "missed", "open")]] for role in roles]
    return ["role", "met", "late", "missed", "open"], rows


def figures_table(figures: list[RoleFigures], players: bool) -> Table:
    def row(f: RoleFigures) -> list[str]:
        first = _time(f.first_action) if f.first_action is not None else "no action"
        load = f"{f.peak_load:.2f}" + (f" at {clock(f.peak_load_at)}" if f.peak_load_at is not None else "")
        head = [f.name, ", ".join(f.roles)] if players else [f.name]
        return [*head, first, str(f.actions), str(f.refusals), str(f.approvals), load]

    head = ["player", "roles"] if players else ["role"]
    return [*head, "first action", "actions", "refusals", "approvals", "peak load"], [row(f) for f in figures]


def objectives_table(a: AfterAction) -> Table:
    """Each exercise objective with its evidence and the rating it adds up to."""
    rows = [[ev.objective, ev.rating, f"{ev.met} met, {ev.missed} missed",
             f"{ev.answered} of {ev.asked} answered" + (f"; {ev.right} right, {ev.wrong} wrong"
                                                          if ev.right or ev.wrong else ""),
             f"{ev.strengths} strength(s), {ev.improvements} for improvement"]
            for ev in a.objective_evidence]
    return ["objective", "rating", "expectations", "questions", "observations"], rows


RATING_KEY = ("Rating, computed from the evidence (HSEEP): P performed without challenges, S some "
              "challenges, M major challenges, U unable to be performed, — no evidence.")


def discussion_summary(a: AfterAction) -> str:
    """One line: questions asked, answers, the discussion component's figures."""
    part = next((c for c in a.result.breakdown if c.name == "discussion"), None)
    answers = sum(len(q.answers) for q in a.discussion)
    line = f"{len(a.discussion)} question(s) asked, {answers} answer(s)"
    return line + (f"; score {part.points:.1f}: {part.why}" if part is not None else "")


def question_head(q: QuestionRow) -> list[str]:
    """A question's header lines: when asked, to whom, how it closed, the expected answer and why."""
    phase = "hot wash" if q.hot_wash else f"asked at {clock(q.asked_at)}"
    closed = f"closed at {clock(q.closed_at)} ({q.reason})" if q.closed_at is not None else "still open"
    lines = [f"{phase} to {', '.join(q.to)}; {closed}"]
    if q.alignment is not None:
        lines.append(f"alignment {q.alignment:.0%} ({'aligned' if q.aligned else 'not aligned'}, ≥60 %)")
    if q.expected:
        lines.append(f"expected: {q.shown(q.expected)}" + (f" — {q.why}" if q.why else ""))
    if q.objective:
        lines.append(f"objective: {q.objective}")
    return lines


def answers_table(q: QuestionRow) -> Table:
    """Every answer to one question: who, as which role, what, how sure, right or not, the note.

    A free-text question's table has no confidence column (it asks none) and no right-or-wrong one
    (it is not scored)."""
    def mark(correct: bool | None) -> str:
        return "" if correct is None else ("right" if correct else "wrong")

    if q.kind == "text":
        return ["time", "who", "role", "answer", "note"], [
            [clock(x.t), x.who, x.role, x.text, x.note] for x in q.answers]
    rows = [[clock(x.t), x.who, x.role, q.shown(x.choices), confidence_text(x.confidence),
             mark(x.correct), x.note] for x in q.answers]
    return ["time", "who", "role", "answer", "confidence", "", "note"], rows


def confidence_text(confidence: int | None) -> str:
    """How sure an answer was (``85 %``); empty for an answer that carries none."""
    return "" if confidence is None else f"{confidence} %"


def observations_table(a: AfterAction) -> Table:
    rows = [[clock(o.t), f"{o.by} ({o.seat})" if o.by != o.seat else o.seat,
             "strength" if o.tag == "strength" else "area for improvement", o.objective or "general", o.text]
            for o in a.observations]
    return ["time", "by", "tag", "objective", "observation"], rows


def plan_table(a: AfterAction) -> Table:
    rows = [[f.text, f.action, f.owner, ""] for f in a.improvements]
    return ["area for improvement", "corrective action", "owner role", "due date"], rows


def findings_lines(findings: list[Finding]) -> list[str]:
    return [f.text for f in findings] or ["None recorded."]


def text_table(table: Table, indent: str = "  ") -> str:
    """A plain-text table for the terminal, each column padded to its widest cell."""
    head, rows = table
    if not rows:
        return indent + "(none)"
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    lines = [indent + "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
             for r in [head, *rows]]
    lines.insert(1, indent + "  ".join("─" * w for w in widths))
    return "\n".join(lines)


NO_INVESTIGATION = "No investigation completed: the contributing factors were never established."


def investigation_parts(i: InvestigationFindings) -> tuple[str, list[str], list[str], str]:
    """(heading, contributing factors, harm traced, what the logs showed) of one investigation."""
    return (f"Findings at {clock(i.t)} ({i.by})", i.factors, i.harm, i.logs)


def investigations_markdown(a: AfterAction) -> list[str]:
    """The "Investigation findings" section's lines."""
    if not a.investigations:
        return [NO_INVESTIGATION, ""]
    out: list[str] = []
    for found in a.investigations:
        heading, factors, harm, logs = investigation_parts(found)
        out += [f"### {_md_cell(heading)}", "", "Contributing factors:", "",
                *[f"- {_md_cell(f)}" for f in factors], "", "Harm traced:", "",
                *[f"- {_md_cell(h)}" for h in harm], "", _md_cell(logs), ""]
    return out


def investigations_html(a: AfterAction) -> str:
    """The "Investigation findings" section's body."""
    if not a.investigations:
        return f"<p>{_h(NO_INVESTIGATION)}</p>"
    out = []
    for found in a.investigations:
        heading, factors, harm, logs = investigation_parts(found)
        out.append(f"<h3>{_h(heading)}</h3><p>Contributing factors:</p><ul>"
                   + "".join(f"<li>{_h(f)}</li>" for f in factors) + "</ul><p>Harm traced:</p><ul>"
                   + "".join(f"<li>{_h(h)}</li>" for h in harm) + f"</ul><p>{_h(logs)}</p>")
    return "\n".join(out)


# --- Markdown ------------------------------------------------------------------------------------


def _md_cell(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("|", "\\|").replace("\r", " ").replace("\n", " "))


def md_table(table: Table) -> str:
    """A GFM table; cells are escaped so journal text cannot break out of it."""
    head, rows = table
    lines = ["| " + " | ".join(_md_cell(h) or " " for h in head) + " |",
             "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(_md_cell(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def branch_table(a: AfterAction) -> Table:
    """This branch beside the drill it was forked from (same past up to the fork point)."""
    assert a.branch is not None
    mine, theirs = a.result, a.branch.parent_result
    rows = [["score / 100", f"{mine.score:.1f}", f"{theirs.score:.1f}"],
            ["time to detect", _time(mine.time_to_detect), _time(theirs.time_to_detect)],
            ["time to contain", _time(mine.time_to_contain), _time(theirs.time_to_contain)],
            ["harmful outputs", f"{mine.harm_volume:,}", f"{theirs.harm_volume:,}"],
            ["harm averted vs doing nothing", f"{mine.harm_averted:.0%}", f"{theirs.harm_averted:.0%}"]]
    return ["", "this branch", f"the original ({a.branch.parent})"], rows


def branch_lines(a: AfterAction) -> tuple[list[str], list[str]]:
    """What was decided differently after the fork point: only here, only in the original."""
    assert a.branch is not None
    return (a.branch.only_here or ["nothing"]), (a.branch.only_parent or ["nothing"])


def discussion_markdown(a: AfterAction) -> list[str]:
    """The Discussion section in Markdown: each question with every answer, then the observations."""
    parts = [_md_cell(discussion_summary(a)), ""]
    for q in a.discussion:
        parts += [f"### {_md_cell(q.prompt)}", "", *[f"- {_md_cell(line)}" for line in question_head(q)], ""]
        parts += [md_table(answers_table(q)), ""] if q.answers else ["_No answers._", ""]
    if a.observations:
        parts += ["### Observations", "", md_table(observations_table(a)), ""]
    return parts


def render_markdown(a: AfterAction) -> str:
    """The report as GitHub-flavoured Markdown, for pasting into a ticket (charts omitted)."""
    parts = [f"# After-action report: {_md_cell(a.title)}", ""]
    for note in [a.rederived, *a.notes]:
        if note:
            parts += [f"> **Note:** {_md_cell(note)}", ""]
    parts += ["## Summary", "", md_table(summary_table(a)), ""]
    if a.branch is not None:
        here, there = branch_lines(a)
        parts += [f"## This branch vs the original from {clock(a.branch.at)}", "",
                  md_table(branch_table(a)), "", "Decided only in this branch:", "",
                  *[f"- {_md_cell(x)}" for x in here], "", "Decided only in the original:", "",
                  *[f"- {_md_cell(x)}" for x in there], ""]
    if a.objective_evidence:
        parts += ["### Exercise objectives", "", md_table(objectives_table(a)), "", f"_{RATING_KEY}_", ""]
    parts += ["### Score breakdown", "",
              md_table(breakdown_table(a)), "",
              "_Charts (harm over time against doing nothing; signals the team saw) are in the HTML "
              "report: `ttx report JOURNAL -o aar.html`._", ""]
    if a.real_team is not None:
        parts += ["## You vs the real team", "", md_table(real_team_table(a)), "",
                  *[f"{_md_cell(line)}  " for line in real_team_lines(a)], ""]
    if a.discussion or a.observations:
        parts += ["## Discussion", "", *discussion_markdown(a)]
    parts += ["## Strengths", ""]
    parts += [f"- {_md_cell(t)}" for t in findings_lines(a.strengths)]
    parts += ["", "## Areas for improvement", ""]
    parts += [f"- {_md_cell(t)}" for t in findings_lines(a.improvements)]
    parts += ["", "## Investigation findings", "", *investigations_markdown(a)]
    parts += ["## Improvement plan", "", md_table(plan_table(a)), "",
              "## Expectations (MSEL)", "", md_table(expectation_counts(a)), "",
              md_table(expectations_table(a)), "", "## Per-role figures", "",
              md_table(figures_table(a.participants, players=False)), ""]
    if a.players:
        parts += ["### Per-player figures", "", md_table(figures_table(a.players, players=True)), ""]
    parts += ["## Timeline", "", md_table(timeline_table(a)), ""]
    return "\n".join(parts)


# --- HTML ----------------------------------------------------------------------------------------

CSS = """
:root { --ink: #1d1d1f; --muted: #5f6368; --line: #d9d9de; --good: #1e7b45; --bad: #b3261e; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
       max-width: 1040px; margin: 2rem auto; padding: 0 1.25rem; }
h1 { font-size: 1.7rem; margin-bottom: .2rem; }
h2 { margin-top: 2.2rem; border-bottom: 2px solid var(--line); }
.sub { color: var(--muted); margin-top: 0; }
.note { border-left: 4px solid #e0a800; background: #fff8e1; padding: .6rem .9rem; }
table { border-collapse: collapse; width: 100%; margin: .6rem 0 1rem; font-size: .9rem; }
th, td { border-bottom: 1px solid var(--line); padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: #f3f4f6; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.kpis { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: .6rem; }
.kpi { border: 1px solid var(--line); border-radius: 6px; padding: .5rem .7rem; }
.kpi b { display: block; font-size: 1.35rem; } .kpi span { color: var(--muted); font-size: .8rem; }
ul.good li::marker { content: "+  "; color: var(--good); }
ul.bad li::marker { content: "−  "; color: var(--bad); }
.status-met { color: var(--good); } .status-missed, .status-LATE { color: var(--bad); font-weight: 600; }
figure { margin: 1rem 0; } figure svg { width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: .85rem; }
tr.hidden td { color: var(--muted); font-style: italic; }
nav ol { columns: 2; color: var(--muted); }
@media print {
  body { max-width: none; margin: 0; font-size: 10.5pt; } nav { display: none; }
  h2 { break-after: avoid; } table, figure, .kpis { break-inside: avoid; }
  tr { break-inside: avoid; } a { color: inherit; text-decoration: none; }
  @page { margin: 1.5cm; }
}
"""


def _h(text: Any) -> str:
    return escape(str(text), quote=True)


def html_table(table: Table, cls: str = "", status_col: int | None = None) -> str:
    """An HTML table with every cell escaped."""
    head, rows = table
    out = [f'<table class="{_h(cls)}">']
    if any(head):
        out.append("<thead><tr>" + "".join(f"<th>{_h(h)}</th>" for h in head) + "</tr></thead>")
    out.append("<tbody>")
    for r in rows:
        cells = []
        for i, c in enumerate(r):
            klass = f' class="status-{_h(c)}"' if i == status_col else ""
            cells.append(f"<td{klass}>{_h(c)}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def _timeline_html(a: AfterAction) -> str:
    rows = []
    for e in a.timeline:
        who = f"{e.actor} ({e.player})" if e.player else e.actor
        klass = ' class="hidden"' if e.hidden else ""
        rows.append(f'<tr{klass} data-kind="{_h(e.kind)}"><td>{_h(clock(e.t))}</td><td>{_h(who)}</td>'
                    f"<td>{_h(e.text)}</td></tr>")
    return ('<table class="timeline"><thead><tr><th>time</th><th>who</th><th>event</th></tr></thead>'
            "<tbody>" + "\n".join(rows) + "</tbody></table>")


def _kpis(a: AfterAction) -> str:
    r = a.result
    items = [(f"{r.score:.1f}", "score / 100"), (_time(r.time_to_detect), "time to detect"),
             (_time(r.time_to_contain), "time to contain"), (f"{r.harm_volume:,}", "harmful outputs"),
             (f"{r.harm_averted:.0%}", "harm averted vs doing nothing")]
    return '<div class="kpis">' + "".join(f'<div class="kpi"><b>{_h(v)}</b><span>{_h(k)}</span></div>'
                                          for v, k in items) + "</div>"


def _charts(a: AfterAction) -> str:
    from simulator.analysis.charts import harm_chart, signals_chart

    parts = []
    if a.series.harm_t:
        real = " and the real team's timeline (historical policy)" if a.series.real_t else ""
        parts.append(f'<figure id="chart-harm">{harm_chart(a.series)}<figcaption>Harmful outputs over time '
                     f"(hidden truth) against the do-nothing run{real} on the same seed; green lines: "
                     "containment actions taking effect (ticks at the bottom: re-applied); purple dashes: "
                     "stages declared done; dotted: incident declared; shaded: contained."
                     "</figcaption></figure>")
    if a.series.signals:
        parts.append(f'<figure id="chart-signals">{signals_chart(a.series)}<figcaption>Signals the team saw '
                     "each monitoring tick; red dashes: alerts.</figcaption></figure>")
    return "\n".join(parts) or "<p>No harm or signal data in this journal.</p>"


def _branch_html(a: AfterAction) -> str:
    from simulator.analysis.charts import branch_chart

    assert a.branch is not None
    here, there = branch_lines(a)
    return (html_table(branch_table(a), "branch")
            + f'<figure id="chart-branch">{branch_chart(a.series, a.branch)}<figcaption>Harmful outputs '
            f"from the fork point at {_h(clock(a.branch.at))} on: this branch against the original "
            "(the same drill up to there).</figcaption></figure>"
            + "<h3>Decided only in this branch</h3><ul>" + "".join(f"<li>{_h(x)}</li>" for x in here)
            + "</ul><h3>Decided only in the original</h3><ul>"
            + "".join(f"<li>{_h(x)}</li>" for x in there) + "</ul>")


def _objectives_html(a: AfterAction) -> str:
    if not a.objective_evidence:
        return ""
    return ("<h3>Exercise objectives</h3>" + html_table(objectives_table(a), "objectives")
            + f'<p class="sub">{_h(RATING_KEY)}</p>')


def _discussion_html(a: AfterAction) -> str:
    parts = [f"<p>{_h(discussion_summary(a))}</p>"]
    for q in a.discussion:
        parts.append(f'<h3 id="question-{_h(q.question)}">{_h(q.prompt)}</h3><ul>'
                     + "".join(f"<li>{_h(line)}</li>" for line in question_head(q)) + "</ul>")
        parts.append(html_table(answers_table(q), "answers") if q.answers else "<p>No answers.</p>")
    if a.observations:
        parts.append("<h3>Observations</h3>" + html_table(observations_table(a), "observations"))
    return "\n".join(parts)


def _section(sid: str, title: str, body: str) -> str:
    return f'<section id="{sid}"><h2>{_h(title)}</h2>\n{body}\n</section>'


SECTIONS = [("summary", "Summary"), ("real-team", "You vs the real team"), ("charts", "Charts"),
            ("discussion", "Discussion"), ("strengths", "Strengths"),
            ("improvements", "Areas for improvement"),
            ("investigations", "Investigation findings"), ("plan", "Improvement plan"),
            ("expectations", "Expectations (MSEL)"), ("figures", "Per-role and per-player figures"),
            ("timeline", "Timeline")]


def render_html(a: AfterAction) -> str:
    """The report as one self-contained HTML page (inline CSS and SVG, no scripts, no requests)."""
    note = f'<p class="note" id="rederived">{_h(a.rederived)}</p>' if a.rederived else ""
    note += "".join(f'<p class="note">{_h(n)}</p>' for n in a.notes)
    players = (f"<h3>Per player</h3>{html_table(figures_table(a.players, players=True))}"
               if a.players else "")
    bodies = {
        "summary": note + _kpis(a) + html_table(summary_table(a), "summary") + _objectives_html(a)
        + "<h3>Score breakdown</h3>" + html_table(breakdown_table(a), "breakdown"),
        "real-team": html_table(real_team_table(a), "real-team")
        + "".join(f"<p>{_h(line)}</p>" for line in real_team_lines(a)),
        "charts": _charts(a),
        "discussion": _discussion_html(a),
        "strengths": '<ul class="good">' + "".join(f"<li>{_h(t)}</li>" for t in findings_lines(a.strengths))
        + "</ul>",
        "improvements": '<ul class="bad">' + "".join(f"<li>{_h(t)}</li>"
                                                     for t in findings_lines(a.improvements)) + "</ul>",
        "investigations": investigations_html(a),
        "plan": html_table(plan_table(a), "plan"),
        "expectations": html_table(expectation_counts(a), "expectation-counts")
        + html_table(expectations_table(a), "expectations", status_col=5),
        "figures": "<h3>Per role</h3>" + html_table(figures_table(a.participants, players=False)) + players,
        "timeline": _timeline_html(a),
    }
    shown = [(sid, t) for sid, t in SECTIONS if (sid != "real-team" or a.real_team is not None)
             and (sid != "discussion" or a.discussion or a.observations)]
    if a.branch is not None:
        bodies["branch"] = _branch_html(a)
        shown.insert(1, ("branch", f"This branch vs the original from {clock(a.branch.at)}"))
    links = "".join(f'<li><a href="#{sid}">{_h(t)}</a></li>' for sid, t in shown)
    nav = f"<nav><ol>{links}</ol></nav>"
    sections = "\n".join(_section(sid, t, bodies[sid]) for sid, t in shown)
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>After-action report: {_h(a.title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
            f"<header><h1>After-action report: {_h(a.title)}</h1>\n"
            f'<p class="sub">Scenario {_h(a.scenario_id)} · seed {_h(a.seed)} · {_h(a.date)} · '
            f"HSEEP-style AAR/IP generated by ttx</p></header>\n{nav}\n<main>\n{sections}\n</main>\n"
            "</body>\n</html>\n")
