"""The starter scenario ``ttx new`` writes: every section present, every field explained in a comment."""

from __future__ import annotations

import re
from pathlib import Path

from simulator.format.loader import builtin_dir

SCHEMA_FILE = "scenario.schema.json"
"""The schema ``ttx new`` writes beside a starter (what ``ttx schema`` prints), for editors."""
RANGES_SECTION = "Parameter ranges and their sources"
"""The heading in the authoring guide (``scenarios/README.md``) the starter's comments cite."""

STARTER = """\
# yaml-language-server: $schema=./{schema}
#
# A starter drill written by `ttx new`. Every section is present and every field is explained.
# It validates (`ttx validate --lint {file}`) and runs (`ttx run {file}`) as written; change it
# into your own incident. The authoring guide is scenarios/README.md of ttx (`ttx new` printed
# where it is installed); its section "{ranges}" has realistic figures,
# each with its source ("ranges" below). Durations are written 90s, 15m, 4h, 1h30m or 2d.
# The first line points your editor at {schema}, written beside this file.
#
# The example: a customer-service bot invents a refund policy (confabulation) after a
# knowledge-base migration; customers act on it (Air Canada, 2022-24).

# --- metadata ---------------------------------------------------------------------------------
id: {id}                                  # lower-case id used on the command line
title: {title}                            # shown in `ttx list` and the TUI
summary: A support bot invents a refund policy after a knowledge-base migration.  # one line, <= 160 chars
briefing: |                               # what players read before the drill starts
  You run the support assistant for Skyway, an airline. It answers about 2 customer
  messages a second. Yesterday the knowledge base moved to a new system. Watch what reaches
  you and decide when this is an incident.
facilitator_notes: |                      # only the facilitator reads this: the truth and the traps
  Truth: the migration dropped the refund-policy pages from retrieval, so the bot fills
  the gap by inventing a generous bereavement-refund policy. The billing ticket is a red herring.
based_on:                                 # real incidents this draws on (table under "ranges")
  - "Air Canada, 2022-24: bot invented a refund policy; the airline was held liable"
published:                                # optional: the real incident's published timeline
  incident: "Air Canada, 2022-24"         # (a built-in's `--policy historical` replays it)
  source: "Moffatt v. Air Canada, 2024 BCCRT 149"   # where the figures come from (table under "ranges")
  first_signal: {{inject: customer-post, as_published: "customer complaint"}}  # the inject that stands for it
  contained: {{about: 456d, as_published: "~15 months (tribunal)"}}  # or at_least / at_most
assumptions:                              # label every parameter that is not published
  - "Traffic 2 messages/s: inside the enterprise-bot range (0.1-5/s; Klarna ~0.9/s)."
  - "2% of replies state an invented policy: assumed."
objectives:                               # shown in the briefing
  - Declare within 30 minutes of the first customer post.
  - Take a stage-1 action within an hour of declaring.

# --- time -------------------------------------------------------------------------------------
duration: 6h                              # simulated length from harm start (t=0)
tick: 1m                                  # monitoring interval; use 10m-15m for multi-day drills
seed: 1                                   # default seed; `ttx run --seed N` overrides it
roles: [ic, ml, ts, comms, legal]         # roles in play: ic, ml, ts, comms, legal

# --- the system under incident ----------------------------------------------------------------
features:                                 # product surfaces, by id
  support-bot:
    title: Skyway support assistant       # human name
    traffic_rps: 2                        # requests/s; ranges: enterprise 0.1-5, brand 10-1,000
    shape:                                # optional traffic multiplier over time, linear between points
      - {{at: 0s, factor: 1.0}}
      - {{at: 3h, factor: 1.3}}
      - {{at: 6h, factor: 1.0}}

streams:                                  # harm, by id; harm is drawn per tick, never per output
  invented-policy:
    title: Invented refund policy stated as fact
    harm_type: confabulation              # NIST AI 600-1 risk (see the schema for all 12)
    hazard: S6                            # optional MLCommons hazard code (S1-S14)
    vectors: ["LLM09:2025"]               # optional OWASP LLM 2025 / MITRE ATLAS tags
    feature: support-bot                  # the feature it flows through
    harmful_fraction:                     # constant, logistic (floor/ceiling/growth/midpoint) or bass (p/q)
      model: constant
      value: 0.02
    severity: {{harm: 1.0, population: 1.0, domain: 1.5}}  # harm type x who is affected x domain
    classifier_recall: 0.3                # guard recall on this family (Llama Guard 3: 0.93; a gap: 0.2-0.5)

# --- what the team can see --------------------------------------------------------------------
signals:                                  # only instrumented signals ever alert
  user_reports:
    kind: user_reports                    # z-score spike of reports over a rolling baseline
    title: User reports
    p_report: 0.01                        # P(report | harmful output seen); ranges: 0.001-0.01
    baseline_per_hour: 2                  # reports per hour about other things (noise)
    window: 30m                           # window compared with the baseline
    baseline: 3h                          # length of the rolling baseline
    z_threshold: 4                        # alert above this z-score
  social:
    kind: social_posts                    # public posts, delayed and viral
    title: Social mentions
    instrumented: false                   # set true (with p_post, virality, delay, viral_threshold) to use it

# --- the MSEL: injects -------------------------------------------------------------------------
injects:
  - id: billing-ticket                    # unique id
    at: 20m                               # fire at a time ...
    channel: ticket                       # pager, email, chat, ticket, social, press, regulator, dashboard
    sender: {{name: "{{name}}", title: "Customer, {{city}}"}}  # {{name}}, {{ticket}} ...: seeded Faker
    to: [ts]                              # roles it reaches (private to them)
    subject: "{{ticket}}: charged twice for seat selection"
    body: |                               # never write harmful text: use {{sample}}, a redacted placeholder
      I was charged twice for my seat. Please refund one charge. Ticket {{ticket}}.
    synopsis: A billing complaint unrelated to the incident.  # one line for the facilitator's MSEL
    red_herring: true                     # a distraction
    notes: Red herring; the billing system is fine.         # controller notes

  - id: customer-post
    trigger: {{harm_at_least: 100}}       # ... or on a trigger (signal, inject, action, action_effective,
                                          # harm_at_least or declared), optionally with a delay
    channel: social
    sender: {{name: "{{handle}}", title: about 5k followers}}
    to: [comms, ic]
    subject: "'Skyway's bot promised me a refund. Now they say no.'"
    body: |
      Screenshot of the bot's answer: {{sample}}
    synopsis: The first signal comes from outside.
    expects:                              # expected player actions, each with a deadline
      - action: declare_incident          # a built-in verb or a catalogue action id
        within: 30m                       # counted from the inject firing
        objective: Detection and declaration
        contingency: ops-asks             # fired if the deadline is missed

  - id: report-spike
    trigger: {{signal: user_reports, delay: 2m}}  # the delay waits after the condition holds
    channel: pager
    sender: {{name: Report triage bot, title: Support tooling}}
    to: [ts]
    subject: "Reports: 'your bot promised me a refund' ({{reports_per_hour}}/h)"
    body: |
      Customers quote a bereavement-refund policy we do not have. Attached: {{sample}}
    synopsis: The internal signal, if reports spike.
    expects:
      - action: investigate
        role: ts
        within: 1h
        objective: Scope the harm

  - id: ops-asks
    contingency: true                     # ... or only as a contingency
    channel: chat
    sender: {{name: "{{name}}", title: Head of customer operations}}
    to: [ic]
    subject: Is anyone looking at the refund complaints?
    body: |
      Agents are being asked to honour a policy that does not exist. Who owns this?
    synopsis: Contingency when nobody declares.

# --- what the team can do -----------------------------------------------------------------------
actions:
  - id: pin-policy-answer
    title: Pin the real refund policy as the bot's answer
    description: A canned answer for refund questions. Fast; paraphrased questions slip past it.
    roles: [ml, ts]                       # who may take it
    latency: 10m                          # time to take effect
    stage: 1                              # 1 stop the bleed, 2 fan out and strengthen, 3 fix at the source
    effects:
      - {{stream: invented-policy, harmful_multiplier: 0.3, half_life: 2h}}  # fades as a block list does
    blocked_fraction: 0.01                # share of legitimate requests refused while active (collateral)
    repeatable: true                      # may be refreshed
  - id: restore-retrieval
    title: Restore the policy pages to retrieval
    description: Re-index the migrated knowledge base. Durable; takes a while.
    roles: [ml]
    approval: ic                          # who must approve it first
    latency: 1h
    stage: 3
    effects:
      - {{stream: invented-policy, harmful_multiplier: 0.05}}
  - id: bot-offline
    title: Switch the support bot off
    description: Kill switch; customers queue for human agents.
    roles: [ml, ic]
    approval: ic
    latency: 5m
    stage: 1
    effects:
      - {{feature: support-bot, traffic_multiplier: 0.0}}  # 0 disables the feature
    exposure: 0.0                         # load added to the acting role (harmful samples reviewed)

# --- investigation, clocks, people, scoring ----------------------------------------------------
investigation:
  latency: 30m                            # time from `investigate` to findings
  log_retention: 7d                       # logs older than this are gone when findings arrive
  factors:                                # contributing factors the findings list
    - "The migration dropped the policy pages from the retrieval index."
    - "The bot was not told to say 'I don't know' when retrieval comes back empty."

clocks:                                   # deadlines that start during the incident
  - id: consumer-complaint
    title: Reply to the consumer regulator's inquiry (assumed 5-day service level)
    starts: {{declared: true}}            # a trigger: when the clock starts (awareness)
    deadline: 5d
    met_by: notify_regulator              # the action that satisfies it

people:                                   # responder load
  load_per_hour: 0.08                     # load each on-shift role gains per hour
  slowdown: 1.0                           # action latency x (1 + slowdown x load)
  handoff: 15m                            # a rotated role is away this long
  rest: 10m                               # a resting role is away this long
  rest_relief: 0.4                        # load a rest removes

questions:                                # discussion questions (HSEEP): answered with a confidence
  - id: who-pulls-the-bot
    prompt: "Who may switch the bot off, and who must hear it first?"
    to: [ic, ts]                          # roles that answer; omit for every role in play
    ask: {{with: customer-post}}          # at: 45m, trigger: {{...}}, with: INJECT or hot_wash: true
    kind: one                             # one, several (choices) or text (free text)
    options:                              # 2-8 options for one / several
      - {{id: ic, text: "The incident commander, then tell comms"}}
      - {{id: exec, text: "Only an executive, after a meeting"}}
    expected: [ic]                        # optional: scored (correct, calibration, alignment)
    why: "The IC owns containment; waiting for a meeting lets the bot keep promising refunds."
    within: 10m                           # time to answer (default 15m)
    pauses: false                         # true: the drill clock stops while it is open
    objective: Take a stage-1 action within an hour of declaring.  # one of `objectives`
  - id: what-would-you-change
    prompt: "What one change to the plan would have caught this sooner?"
    ask: {{hot_wash: true}}               # asked at the end, before the review
    kind: text

scoring:
  containment_threshold: 0.005            # contained = harmful outputs/s at or under this ...
  watch_period: 30m                       # ... for this long
  update_cadence: 30m                     # a structured update expected this often
  escalate_within: 30m                    # escalations this soon after declaring earn full points
  stage1_target: 1h                       # ranges: a containment action within 60 min of declaring
  expected_escalations: [exec, comms]     # exec, legal, privacy, comms, ts_lead
  weights:                                # component weights of the 0-100 score
    containment: 30
    harm: 25
    detection: 10
    collateral: 10
    communication: 8
    escalation: 5
    classification: 4
    expectations: 4
    clocks: 2
    load: 2
    discussion: 6                         # scored only when a question has an `expected` answer
"""


def starter_scenario(scenario_id: str, file: str) -> str:
    """The commented starter scenario for ``scenario_id``, written to ``file``.

    Its ``$schema`` comment names :data:`SCHEMA_FILE` in the same folder (``ttx new`` writes it
    there), a path that works wherever the folder is moved or checked out.
    """
    title = scenario_id.replace("-", " ").replace("_", " ").strip().capitalize() or "My drill"
    return STARTER.format(schema=SCHEMA_FILE, ranges=RANGES_SECTION, id=scenario_id,
                          title=_quoted(title), file=file)


def guide_path() -> Path:
    """The installed authoring guide (``scenarios/README.md``), which the starter's comments cite."""
    return builtin_dir() / "README.md"


def scenario_id_of(name: str) -> str:
    """A valid scenario id from a name or file stem (``My Drill`` → ``my-drill``)."""
    slug = re.sub(r"[^a-z0-9_-]+", "-", name.lower()).strip("-_")
    return slug[:64] or "my-drill"


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
