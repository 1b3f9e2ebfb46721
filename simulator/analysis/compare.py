"""Two drills side by side (``ttx compare``): every headline figure, score component, expectation,
per-role first action and approvals, and the decisions one made that the other did not.

Both sides are :class:`~simulator.analysis.history.Reopened` drills (from the history or a journal
file), so the figures are the after-action report's own. Rendered as a terminal table or as one
self-contained HTML page with both harm curves on one chart.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from html import escape

from simulator.analysis.aar import AfterAction, ExpectationRow
from simulator.analysis.history import Reopened, local
from simulator.analysis.metrics import METRICS, Metric, Value, clock_gap, measures
from simulator.analysis.report import CSS, Table, html_table, text_table
from simulator.engine.events import Event, Kind
from simulator.engine.journal import journal_text
from simulator.engine.scoring import Component
from simulator.format.commands import VERBS
from simulator.format.durations import clock

NOT_DECISIONS = frozenset({"approve", "deny", "message"})
"""Commands that are not decisions of their own (approvals are counted per role; chat is not a decision)."""

KEY_PARAM = {"escalate": "to", "send_update": "audience", "classify": "harm_type", "set_severity": "level",
             "declare_stage_done": "stage", "rotate": "target", "rest": "target",
             "notify_regulator": "authority"}
"""The parameter that makes a verb a different decision (escalating to legal is not escalating to exec)."""


@dataclass(frozen=True)
class Decision:
    """A decision a drill made: first taken at ``t`` by ``role``, ``times`` times in all."""

    key: str
    title: str
    role: str
    t: float
    times: int


@dataclass(frozen=True)
class Side:
    """One of the two drills."""

    name: str
    """``A`` or ``B``."""
    drill: Reopened
    decisions: dict[str, Decision]

    @property
    def aar(self) -> AfterAction:
        """Its after-action facts."""
        return self.drill.aar

    def caption(self) -> str:
        """Which drill this is, in a line."""
        a, row = self.aar, self.drill.row
        who = row.by if row is not None else _who(a)
        when = local(row.played_at) if row is not None else a.date
        return f"{self.name}: {self.drill.label} · {a.scenario_id} seed {a.seed} · {who} · {when}"


@dataclass(frozen=True)
class Comparison:
    """Two drills and everything that differs between them."""

    a: Side
    b: Side

    def notes(self) -> list[str]:
        """Caveats: different scenarios or seeds make the figures less comparable."""
        a, b = self.a.aar, self.b.aar
        out = []
        if a.scenario_id != b.scenario_id:
            out.append(f"Different scenarios ({a.scenario_id} and {b.scenario_id}): times and harm are not "
                       "like for like.")
        elif a.seed != b.seed:
            out.append(f"Different seeds ({a.seed} and {b.seed}): the incident itself differed a little "
                       "(harm averted compares each with doing nothing on its own seed).")
        if a.scenario_id == b.scenario_id and abs(a.ended_at - b.ended_at) >= 60:
            shorter = "A" if a.ended_at < b.ended_at else "B"
            out.append(f"A ended at {clock(a.ended_at)} and B at {clock(b.ended_at)} "
                       f"(of {clock(a.duration)}): harm volume counts each run to its own end, so "
                       f"{shorter}'s is lower partly for being shorter; harm averted compares each with "
                       "doing nothing over its own span.")
        if self.a.drill.row is not None and self.a.drill.row.id == getattr(self.b.drill.row, "id", None):
            out.append("A and B are the same drill.")
        out += [n for n in (_branch_note(self.b, self.a), _branch_note(self.a, self.b)) if n]
        return out

    def measures(self) -> Table:
        """Every headline figure: A, B, and how B differs from A."""
        ma, mb = measures(self.a.aar), measures(self.b.aar)
        return (["", "A", "B", "B vs A", ""],
                [[m.title, m.text(ma[m.name]), m.text(mb[m.name]), *_verdict(m, ma[m.name], mb[m.name])]
                 for m in METRICS])

    def components(self) -> Table:
        """Score components (points), heaviest first as in the report."""
        pa = {c.name: c for c in self.a.aar.result.ordered()}
        pb = {c.name: c for c in self.b.aar.result.ordered()}
        names = list(pa) + [n for n in pb if n not in pa]
        points = Metric("points", "points", "points", True, lambda _: None)
        rows = []
        for name in names:
            va = pa[name].points if _counted(pa.get(name)) else None
            vb = pb[name].points if _counted(pb.get(name)) else None
            weight = max(p.weight for p in (pa.get(name), pb.get(name)) if p is not None)
            shown = [points.text(v) if _counted(p) else "not counted" if p is not None else "—"
                     for v, p in ((va, pa.get(name)), (vb, pb.get(name)))]
            verdict = _verdict(points, va, vb) if va is not None and vb is not None else ["", ""]
            rows.append([name, f"{weight:g}", *shown, *verdict])
        return ["component", "weight", "A", "B", "B vs A", ""], rows

    def expectations(self) -> Table:
        """Every MSEL expectation that fell due in either drill: its status in each."""
        sa = {(x.inject, x.action, x.role): x for x in self.a.aar.expectations}
        sb = {(x.inject, x.action, x.role): x for x in self.b.aar.expectations}
        rows = []
        for k in list(sa) + [k for k in sb if k not in sa]:
            xa, xb = sa.get(k), sb.get(k)
            objective = next((x.objective for x in (xa, xb) if x is not None), "")
            rows.append([k[0], f"{k[1]} ({k[2]})", _status(xa), _status(xb), objective])
        return ["inject", "expected action (role)", "A", "B", "objective"], rows

    def roles(self) -> Table:
        """Per role: first action and approvals given, in each drill."""
        fa = {f.name: f for f in self.a.aar.participants}
        fb = {f.name: f for f in self.b.aar.participants}
        rows = []
        for name in list(fa) + [n for n in fb if n not in fa]:
            a, b = fa.get(name), fb.get(name)
            first_a = a.first_action if a is not None else None
            first_b = b.first_action if b is not None else None
            rows.append([name, _first(first_a), _first(first_b), _lag(first_a, first_b),
                         str(a.approvals if a else 0), str(b.approvals if b else 0),
                         str(a.actions if a else 0), str(b.actions if b else 0)])
        return (["role", "first action A", "first action B", "B vs A", "approvals A", "approvals B",
                 "actions A", "actions B"], rows)

    def only(self, side: str) -> Table:
        """The decisions only ``side`` (``A`` or ``B``) made, in the order it made them."""
        mine, theirs = (self.a, self.b) if side == "A" else (self.b, self.a)
        rows = [[clock(d.t), d.role, d.title, _times(d.times)]
                for d in sorted(mine.decisions.values(), key=lambda d: d.t) if d.key not in theirs.decisions]
        return ["first at", "role", "decision", "times"], rows

    def shared(self) -> Table:
        """The decisions both made: when each first made it."""
        both = [k for k in self.a.decisions if k in self.b.decisions]
        rows = []
        for k in sorted(both, key=lambda k: self.a.decisions[k].t):
            da, db = self.a.decisions[k], self.b.decisions[k]
            rows.append([da.title, clock(da.t), clock(db.t), _lag(da.t, db.t), _times(da.times),
                         _times(db.times)])
        return ["decision", "A first at", "B first at", "B vs A", "times A", "times B"], rows


def compare(a: Reopened, b: Reopened) -> Comparison:
    """Put two drills side by side."""
    return Comparison(Side("A", a, decisions(a)), Side("B", b, decisions(b)))


def decisions(drill: Reopened) -> dict[str, Decision]:
    """Every distinct decision of a drill (accepted commands, less approvals and chat), first time kept."""
    titles = _catalogue_titles(drill)
    out: dict[str, Decision] = {}
    for e in drill.journal.events:
        if e.kind != Kind.COMMAND or e.actor in (None, "engine", "facilitator"):
            continue
        action = str(e.payload.get("action"))
        if action in NOT_DECISIONS:
            continue
        key, title = _decision(e, action, titles)
        seen = out.get(key)
        out[key] = (Decision(key, title, str(e.actor), e.t, 1) if seen is None
                    else Decision(key, title, seen.role, seen.t, seen.times + 1))
    return out


def _decision(e: Event, action: str, titles: dict[str, str]) -> tuple[str, str]:
    """A decision's key and its title in words."""
    param = KEY_PARAM.get(action)
    value = (e.payload.get("params") or {}).get(param) if param else None
    title = titles.get(action) or (VERBS[action].title if action in VERBS else action)
    if value is None:
        return action, title
    return f"{action}:{value}", f"{title}: {value}"


def _catalogue_titles(drill: Reopened) -> dict[str, str]:
    if drill.loaded is not None:
        return {a.id: a.title for a in drill.loaded.scenario.actions}
    return {str(e.payload.get("action")): str(e.payload["title"]) for e in drill.journal.events
            if e.kind == Kind.ACTION_STARTED and e.payload.get("title")}


def _verdict(metric: Metric, a: Value, b: Value) -> list[str]:
    better = metric.better(a, b)
    return [metric.change(a, b), "" if better is None else ("better" if better else "worse")]


def _counted(part: Component | None) -> bool:
    """Whether a drill's score counted this component (a weight-0 one, such as discussion when no scored
    question was asked, was not: its 0 points are no measure of the team)."""
    return part is not None and part.weight > 0


def _branch_note(branch: Side, other: Side) -> str:
    """``B is a branch of A at 0:45 …`` when ``branch`` was forked (a rewind), else ``""``."""
    fork = branch.drill.journal.header.get("fork")
    if not isinstance(fork, dict):
        return ""
    parent = str(fork.get("parent_sha256", "")).removeprefix("sha256:")
    at = clock(float(fork.get("at", 0.0)))
    if parent and parent == _drill_sha(other):
        return (f"{branch.name} is a branch of {other.name} at {at}: the same drill up to then, rewound and "
                "played on; the differences are what the rewind changed, not a fresh attempt.")
    return (f"{branch.name} is a branch of {parent[:10] or 'another drill'} at {at} "
            "(a rewind, not a fresh attempt).")


def _drill_sha(side: Side) -> str:
    """The sha256 (hex) a fork names its parent by: the history's id, or the journal's bytes."""
    if side.drill.row is not None:
        return side.drill.row.id
    text = journal_text(side.drill.journal.header, side.drill.journal.events)
    return hashlib.sha256(text.encode()).hexdigest()


def _status(x: ExpectationRow | None) -> str:
    return "—" if x is None else x.status


def _first(t: float | None) -> str:
    return "no action" if t is None else clock(t)


def _lag(a: float | None, b: float | None) -> str:
    if a is None or b is None or a == b:
        return "" if a == b else ("B only" if a is None else "A only")
    return f"{clock_gap(a, b)} {'later' if b > a else 'sooner'}"


def _times(n: int) -> str:
    return "once" if n == 1 else f"{n}×"


def _who(a: AfterAction) -> str:
    if a.policy in ("human", "team"):
        return "people"
    return f"bot: {a.policy}" if a.policy else "?"


# --- rendering -----------------------------------------------------------------------------------

SECTIONS = (("Headline figures", "measures"), ("Score components (points)", "components"),
            ("Expectations (MSEL)", "expectations"), ("Per role: first action and approvals", "roles"),
            ("Decisions only A made", "only_a"), ("Decisions only B made", "only_b"),
            ("Decisions both made", "shared"))


def tables(c: Comparison) -> list[tuple[str, Table]]:
    """Every section's table, in order."""
    made = {"measures": c.measures, "components": c.components, "expectations": c.expectations,
            "roles": c.roles, "only_a": lambda: c.only("A"), "only_b": lambda: c.only("B"),
            "shared": c.shared}
    return [(title, made[key]()) for title, key in SECTIONS]


def render_text(c: Comparison) -> str:
    """The comparison for the terminal."""
    parts = [c.a.caption(), c.b.caption(), *[f"note: {n}" for n in c.notes()]]
    for title, table in tables(c):
        parts += ["", title, text_table(table)]
    return "\n".join(parts) + "\n"


VERDICTS = ".status-better { color: var(--good); } .status-worse { color: var(--bad); font-weight: 600; }\n"
"""Better and worse in the report's colours."""


def _html(table: Table) -> str:
    """A section's table; the better / worse column (an unnamed last one) in colour."""
    head, rows = table
    if not rows:
        return "<p>None.</p>"
    return html_table(table, status_col=len(head) - 1 if head and head[-1] == "" else None)


def render_html(c: Comparison) -> str:
    """The comparison as one self-contained page: inline CSS and SVG, no scripts, no requests."""
    from simulator.analysis.charts import compare_chart

    a, b = c.a.aar, c.b.aar
    notes = "".join(f'<p class="note">{escape(n)}</p>' for n in c.notes())
    chart = ""
    if a.series.harm_t or b.series.harm_t:
        chart = (f'<figure id="chart-compare">{compare_chart(a.series, b.series)}<figcaption>Harmful '
                 "outputs over time (the hidden truth) in both drills, against doing nothing on A's seed; "
                 "dotted: incident declared; dashed: contained (each in its drill's colour)."
                 "</figcaption></figure>")
    sections = "\n".join(f'<section id="{key}"><h2>{escape(title)}</h2>{_html(table)}</section>'
                         for (title, table), (_, key) in zip(tables(c), SECTIONS, strict=True))
    title = f"Comparison: {a.title}" + ("" if a.scenario_id == b.scenario_id else f" / {b.title}")
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{escape(title)}</title>\n<style>{CSS}{VERDICTS}</style>\n</head>\n<body>\n"
            f"<header><h1>{escape(title)}</h1>\n<p class=\"sub\">{escape(c.a.caption())}<br>"
            f"{escape(c.b.caption())}</p></header>\n<main>\n{notes}{chart}\n{sections}\n</main>\n"
            "</body>\n</html>\n")
