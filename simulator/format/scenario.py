"""The scenario format: pydantic models that are the single definition of a drill file and its JSON Schema.

No ``from __future__ import annotations`` here: Python evaluates each annotation as the class is
defined, where pydantic would evaluate every annotation string again (~12 % of defining the models,
which every command that reads a scenario pays).
"""

from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from simulator.format.durations import Duration
from simulator.format.taxonomy import VECTOR_TAG_PATTERN, Channel, HarmType, Hazard, Role

Id = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=64)]
"""Lower-case identifier: letters, digits, ``-`` and ``_``."""

Fraction = Annotated[float, Field(ge=0.0, le=1.0)]


class Model(BaseModel):
    """Base for every scenario model: unknown keys are errors, field docstrings become schema text
    (:mod:`simulator.format.schema` reads them when it writes the schema, not at every import).

    Validators are built when first used (``defer_build``): reading a scenario builds the one for
    the whole file, and no model builds its own at import unless something validates it alone."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


# --- the system under incident -------------------------------------------------------------


class TrafficPoint(Model):
    """One point of a piecewise-linear traffic shape."""

    at: Duration
    """Sim time of this point, from harm start."""
    factor: Annotated[float, Field(ge=0.0)]
    """Multiplier on the feature's base traffic at this time."""


class Feature(Model):
    """A product surface harm can flow through (chat, image generation, plugins/tools, retrieval …)."""

    title: str
    """Human name of the feature."""
    traffic_rps: Annotated[float, Field(gt=0.0)]
    """Base traffic in requests per second."""
    shape: list[TrafficPoint] = []
    """Optional traffic shape over time; linear between points, flat beyond the ends."""


# --- harm streams ---------------------------------------------------------------------------


class ConstantFraction(Model):
    """The harmful fraction stays the same for the whole drill."""

    model: Literal["constant"]
    value: Fraction
    """Fraction of the feature's outputs that are harmful."""


class LogisticFraction(Model):
    """A jailbreak or behaviour spreading with logistic adoption."""

    model: Literal["logistic"]
    floor: Fraction
    """Harmful fraction long before the midpoint (the curve's lower asymptote)."""
    ceiling: Fraction
    """Harmful fraction once the spread saturates."""
    growth_per_hour: Annotated[float, Field(gt=0.0, le=50.0)]
    """Logistic growth rate k, per hour."""
    midpoint: Duration
    """Sim time at which the fraction is halfway between floor and ceiling."""


class BassFraction(Model):
    """A jailbreak spreading by Bass diffusion (innovators p, imitators q).

    Hour-scale adoption is not published: p ≈ 0.01–0.05/h, q ≈ 0.3–1.0/h is an assumption;
    label it in the scenario (authoring guide, "Parameter ranges and their sources").
    """

    model: Literal["bass"]
    ceiling: Fraction
    """Harmful fraction when every potential adopter uses the exploit."""
    p_per_hour: Annotated[float, Field(gt=0.0, le=1.0)]
    """Innovation coefficient, per hour."""
    q_per_hour: Annotated[float, Field(ge=0.0, le=10.0)]
    """Imitation coefficient, per hour."""


HarmfulFraction = Annotated[
    ConstantFraction | LogisticFraction | BassFraction, Field(discriminator="model")
]


class SeverityWeight(Model):
    """Severity of one harmful output: harm type × affected population × deployment domain."""

    harm: Annotated[float, Field(gt=0.0, le=10.0)] = 1.0
    """Weight of the harm type (content nature)."""
    population: Annotated[float, Field(gt=0.0, le=10.0)] = 1.0
    """Weight of who is affected (e.g. 2.0 for minors or vulnerable users)."""
    domain: Annotated[float, Field(gt=0.0, le=10.0)] = 1.0
    """Weight of the deployment domain (e.g. 2.0 for medical advice)."""

    @property
    def weight(self) -> float:
        """The product of the three factors."""
        return self.harm * self.population * self.domain


class HarmStream(Model):
    """Harmful outputs of one harm type flowing through one feature."""

    title: str
    """What the team would call this harm."""
    harm_type: HarmType
    """NIST AI 600-1 risk."""
    hazard: Hazard | None = None
    """MLCommons hazard code a guard classifier would emit."""
    vectors: list[Annotated[str, Field(pattern=VECTOR_TAG_PATTERN)]] = []
    """OWASP LLM 2025 (``LLM01:2025``) or MITRE ATLAS (``AML.T0054``) tags."""
    feature: Id
    """The feature this stream flows through."""
    harmful_fraction: HarmfulFraction
    """Fraction of the feature's outputs that are harmful, over time."""
    severity: SeverityWeight = SeverityWeight()
    """Severity weight of each harmful output."""
    classifier_recall: Fraction = 0.93
    """Recall of the deployed guard classifier on this family (Llama Guard 3: 0.93; a gap: 0.2–0.5)."""


# --- signals ---------------------------------------------------------------------------------


class SignalBase(Model):
    """What every signal has."""

    title: str
    """Name shown on the dashboard."""
    instrumented: bool = True
    """Uninstrumented signals never produce observations or alerts."""


class UserReportsSignal(SignalBase):
    """User reports: ∝ harmful outputs seen, with a z-score spike alert over a rolling baseline."""

    kind: Literal["user_reports"]
    p_report: Fraction = 0.003
    """P(report | harmful output seen); 0.001–0.01, assumed (authoring guide: parameter ranges)."""
    baseline_per_hour: Annotated[float, Field(ge=0.0, le=1e6)] = 20.0
    """Reports per hour about unrelated issues (the noise floor); at most a million."""
    window: Duration = 15 * 60.0
    """Window whose report count is compared with the baseline."""
    baseline: Duration = 2 * 3600.0
    """Length of the rolling baseline before the window."""
    z_threshold: Annotated[float, Field(gt=0.0)] = 4.0
    """Alert when the window's z-score over the baseline passes this."""


class OutputAnomalySignal(SignalBase):
    """Guard-flagged output rate: harmful × recall plus false positives, with a z-score alert."""

    kind: Literal["output_anomaly"]
    false_positive_rate: Fraction = 0.04
    """Share of benign outputs the guard flags (Llama Guard 3: 0.04)."""
    window: Duration = 10 * 60.0
    """Window compared with the baseline."""
    baseline: Duration = 60 * 60.0
    """Length of the rolling baseline before the window."""
    z_threshold: Annotated[float, Field(gt=0.0)] = 5.0
    """Alert when the window's z-score passes this."""


class ClassifierConfidenceSignal(SignalBase):
    """Mean guard confidence, which falls as outputs the guard is unsure of grow."""

    kind: Literal["classifier_confidence"]
    baseline: Fraction = 0.93
    """Mean confidence on normal traffic."""
    sensitivity: Annotated[float, Field(ge=0.0)] = 20.0
    """Confidence lost per unit of missed harmful fraction (harmful × (1 − recall))."""
    noise: Annotated[float, Field(ge=0.0)] = 0.004
    """Standard deviation of the per-tick reading."""
    drop_threshold: Annotated[float, Field(gt=0.0)] = 0.02
    """Alert when confidence stays this far under baseline."""
    sustain: Duration = 5 * 60.0
    """How long the drop must last before the alert fires."""


class DriftSignal(SignalBase):
    """Output-distribution drift score after a model or prompt update."""

    kind: Literal["drift"]
    sensitivity: Annotated[float, Field(ge=0.0)] = 200.0
    """Drift score per unit of harmful fraction."""
    noise: Annotated[float, Field(ge=0.0)] = 0.05
    """Standard deviation of the per-tick reading."""
    threshold: Annotated[float, Field(gt=0.0)] = 0.5
    """Alert when the drift score stays above this."""
    sustain: Duration = 10 * 60.0
    """How long the score must stay above threshold."""


class SocialSignal(SignalBase):
    """Public posts and their reach: delayed, viral."""

    kind: Literal["social_posts"]
    p_post: Fraction = 0.0003
    """P(public post | harmful output seen); 0.0001–0.001, assumed (authoring guide: parameter ranges)."""
    virality: Annotated[float, Field(ge=0.0, le=1e4)] = 20.0
    """Mentions each visible post draws per hour; at most 10,000 (beyond it a tick's mentions
    overflow the draw)."""
    delay: Duration = 20 * 60.0
    """Time from a harmful output to its post being visible."""
    viral_threshold: Annotated[float, Field(gt=0.0)] = 300.0
    """Mentions per hour at which the story counts as viral (the alert)."""
    baseline_per_hour: Annotated[float, Field(ge=0.0, le=1e6)] = 10.0
    """Mentions per hour of the product on a normal day; at most a million."""


Signal = Annotated[
    UserReportsSignal | OutputAnomalySignal | ClassifierConfidenceSignal | DriftSignal | SocialSignal,
    Field(discriminator="kind"),
]


# --- triggers, injects, expectations ---------------------------------------------------------


class Trigger(Model):
    """A condition on the drill's state; exactly one condition is set. Fires once, after ``delay``."""

    signal: Id | None = None
    """Fires when this signal raises its alert."""
    inject: Id | None = None
    """Fires when this inject has fired."""
    action: Id | None = None
    """Fires when this action (catalogue id or built-in verb) is taken."""
    action_effective: Id | None = None
    """Fires when this catalogue action takes effect."""
    harm_at_least: Annotated[int, Field(gt=0)] | None = None
    """Fires when this many harmful outputs have been emitted (hidden truth)."""
    declared: bool | None = None
    """``true``: fires when the incident is declared."""
    delay: Duration = 0.0
    """Wait this long after the condition holds."""

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        set_ = [n for n in ("signal", "inject", "action", "action_effective", "harm_at_least", "declared")
                if getattr(self, n) is not None]
        if len(set_) != 1:
            raise ValueError(
                "a trigger needs exactly one of signal, inject, action, action_effective, "
                f"harm_at_least, declared; found {', '.join(set_) or 'none'}"
            )
        return self


class Expectation(Model):
    """An expected player action with a deadline (an MSEL 'expected player action')."""

    action: Id
    """The action expected: a catalogue id or a built-in verb such as ``declare_incident``."""
    role: Role | None = None
    """The role expected to take it; any role when absent."""
    within: Duration | None = None
    """Deadline, counted from the inject firing. Without one the expectation is never missed
    (``ttx validate --lint`` warns)."""
    objective: str = ""
    """The exercise objective / capability this tests."""
    contingency: Id | None = None
    """Contingency inject fired when the deadline is missed."""


class Persona(Model):
    """Who an inject comes from. Text fields may use template placeholders such as ``{name}``."""

    name: str
    """Sender name, e.g. ``'{name}'`` for a generated one."""
    title: str = ""
    """Sender's job or handle line."""


class Inject(Model):
    """One MSEL row: a message reaching some roles at a time or on a trigger."""

    id: Id
    """Unique inject id."""
    at: Duration | None = None
    """Fire at this sim time."""
    trigger: Trigger | None = None
    """Fire when this condition holds."""
    contingency: bool = False
    """Fired only when an expectation naming it is missed."""
    channel: Channel
    """How it arrives."""
    sender: Persona
    """Who it is from."""
    to: Annotated[list[Role], Field(min_length=1)]
    """Roles it goes to (private to them; the facilitator sees all)."""
    subject: str
    """One-line subject (templated)."""
    body: str
    """Message text (templated). Harmful content only as ``{sample}``, a redacted placeholder."""
    synopsis: str = ""
    """One-line MSEL synopsis for the facilitator."""
    expects: list[Expectation] = []
    """Expected player actions, each with a deadline."""
    red_herring: bool = False
    """A distraction: it points away from the real cause."""
    notes: str = ""
    """Facilitator / controller notes."""

    @model_validator(mode="after")
    def _one_timing(self) -> Self:
        kinds = [k for k, v in (("at", self.at), ("trigger", self.trigger)) if v is not None]
        if self.contingency:
            kinds.append("contingency")
        if len(kinds) != 1:
            raise ValueError(
                "an inject needs exactly one of 'at', 'trigger' or 'contingency: true'; "
                f"found {', '.join(kinds) or 'none'}"
            )
        return self


# --- discussion questions ------------------------------------------------------------------------

QuestionKind = Literal["one", "several", "text"]
"""How a question is answered: one option, several options, or free text."""

DEFAULT_WITHIN = 15 * 60.0
"""How long the team has to answer a question that does not say (a hot-wash question: until closed)."""

MAX_OPTIONS = 8
"""Most options a choice question offers."""


class QuestionOption(Model):
    """One answer a choice question offers."""

    id: Id
    """Option id, unique within its question (``expected`` names these)."""
    text: Annotated[str, Field(min_length=1, max_length=300)]
    """What the option says."""


class Ask(Model):
    """When a question is asked: exactly one of ``at``, ``trigger``, ``with`` or ``hot_wash``."""

    model_config = ConfigDict(populate_by_name=True)

    at: Duration | None = None
    """Ask at this sim time, from harm start."""
    trigger: Trigger | None = None
    """Ask when this condition holds (the trigger injects use)."""
    with_: Id | None = Field(default=None, alias="with")
    """Ask when this inject is delivered (written ``with: inject-id``)."""
    hot_wash: bool = False
    """Ask at the drill's end, in the hot wash before the review."""

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        set_ = [name for name, value in (("at", self.at), ("trigger", self.trigger), ("with", self.with_))
                if value is not None]
        if self.hot_wash:
            set_.append("hot_wash")
        if len(set_) != 1:
            raise ValueError("'ask' needs exactly one of 'at', 'trigger', 'with' or 'hot_wash: true'; "
                             f"found {', '.join(set_) or 'none'}")
        return self


class Question(Model):
    """A discussion question the team answers during the drill or in the hot wash (HSEEP).

    Choice answers carry a confidence (0–100); with an ``expected`` answer a question is scored
    (correct, calibration, team alignment) and ``why`` is shown once it closes.
    """

    id: Id
    """Unique question id."""
    prompt: Annotated[str, Field(min_length=1, max_length=1000)]
    """The question as the team reads it."""
    to: list[Role] = []
    """Roles that answer; every role in play when empty."""
    ask: Ask
    """When it is asked."""
    kind: QuestionKind = "one"
    """``one`` (pick one option), ``several`` (pick any options) or ``text`` (free text)."""
    options: Annotated[list[QuestionOption], Field(max_length=MAX_OPTIONS)] = []
    """The options of a choice question (2–8); none for ``text``."""
    expected: list[Id] = []
    """The expected answer, as option ids: exactly one for ``one``; none for ``text``. Scored when set."""
    why: str = ""
    """Why the expected answer is right; shown once the question closes (training)."""
    within: Duration | None = None
    """How long the team has (15m when absent; a hot-wash question stays open until closed)."""
    pauses: bool = False
    """The drill clock stops while the question is open."""
    objective: str = ""
    """The exercise objective this question evidences; one of the scenario's ``objectives``."""

    @model_validator(mode="after")
    def _fits_kind(self) -> Self:
        if self.kind == "text":
            if self.options:
                raise ValueError("a 'text' question takes no 'options'")
            if self.expected:
                raise ValueError("a 'text' question has no 'expected' answer")
            return self
        if len(self.options) < 2:
            raise ValueError(f"a {self.kind!r} question needs 2 to {MAX_OPTIONS} 'options'; "
                             f"found {len(self.options)}")
        return self

    @property
    def hot_wash(self) -> bool:
        """Asked in the hot wash at the end."""
        return self.ask.hot_wash

    @property
    def deadline(self) -> float | None:
        """Seconds the team has once it is asked (``None``: until closed — a question that stops the
        clock, pausing or in the hot wash, cannot run out)."""
        if self.hot_wash or self.pauses:
            return None
        return self.within if self.within is not None else DEFAULT_WITHIN

    @property
    def scored(self) -> bool:
        """Whether the question has an expected answer (and so counts in the discussion score)."""
        return bool(self.expected)

    def option(self, option_id: str) -> QuestionOption | None:
        """The option with this id, if any."""
        return next((o for o in self.options if o.id == option_id), None)


# --- actions -----------------------------------------------------------------------------------


class Effect(Model):
    """What an action does when it takes effect. Name a stream or a feature."""

    stream: Id | None = None
    """The harm stream this changes."""
    feature: Id | None = None
    """The feature this changes."""
    harmful_multiplier: Fraction | None = None
    """Multiply the stream's harmful fraction by this (0.2 = blocks 80%)."""
    half_life: Duration | None = None
    """The effect fades with this half-life as adversaries adapt (block lists); durable when absent."""
    traffic_multiplier: Fraction | None = None
    """Multiply the feature's traffic by this (throttling); 0 disables it."""

    @model_validator(mode="after")
    def _target(self) -> Self:
        if (self.stream is None) == (self.feature is None):
            raise ValueError("an effect names exactly one of 'stream' or 'feature'")
        if self.stream is not None and self.harmful_multiplier is None:
            raise ValueError("a stream effect needs 'harmful_multiplier'")
        if self.feature is not None and self.traffic_multiplier is None:
            raise ValueError("a feature effect needs 'traffic_multiplier'")
        if self.stream is not None and self.traffic_multiplier is not None:
            raise ValueError("'traffic_multiplier' goes on a feature effect, not a stream effect")
        if self.feature is not None and self.harmful_multiplier is not None:
            raise ValueError("'harmful_multiplier' goes on a stream effect, not a feature effect")
        return self


class Action(Model):
    """A containment or remediation action in the scenario's catalogue."""

    id: Id
    """Unique action id."""
    title: str
    """What the button says."""
    description: str = ""
    """What it does and what it costs, for the players."""
    roles: Annotated[list[Role], Field(min_length=1)]
    """Roles that may take it."""
    approval: Role | None = None
    """Role that must approve it first (e.g. the incident commander for taking the model offline)."""
    latency: Duration
    """Time from approval to effect (a filter deploy takes minutes, a rollback longer, a retrain hours)."""
    stage: Literal[1, 2, 3]
    """Remediation stage: 1 stop the bleed, 2 fan out and strengthen, 3 fix at the source."""
    effects: list[Effect] = []
    """What changes when it takes effect."""
    blocked_fraction: Fraction = 0.0
    """Share of legitimate requests on the affected features refused while active (collateral)."""
    exposure: Annotated[float, Field(ge=0.0, le=1.0)] = 0.0
    """Load added to the acting role (harmful samples reviewed)."""
    repeatable: bool = False
    """May be taken again (e.g. refreshing a decaying block list)."""


# --- investigation, clocks, people, scoring ---------------------------------------------------


class Investigation(Model):
    """What an investigation can find: root cause is several contributing factors, not one bug."""

    latency: Duration = 45 * 60.0
    """Time from starting an investigation to its findings."""
    log_retention: Duration | None = None
    """Request logs older than this are gone when the investigation runs; unlimited when absent."""
    factors: Annotated[list[str], Field(min_length=1)]
    """Contributing factors the findings reveal."""


class Clock(Model):
    """A deadline that starts during the incident, e.g. GDPR Art. 33's 72 hours."""

    id: Id
    """Unique clock id."""
    title: str
    """What the clock is."""
    starts: Trigger
    """When it starts (awareness)."""
    deadline: Duration
    """Time allowed from start."""
    met_by: Id
    """Action (catalogue id or built-in verb) that satisfies it."""


class People(Model):
    """How responder load builds and is relieved."""

    load_per_hour: Annotated[float, Field(ge=0.0, le=1.0)] = 0.08
    """Load each on-shift role gains per hour after the incident is declared."""
    slowdown: Annotated[float, Field(ge=0.0, le=5.0)] = 1.0
    """Action latency is multiplied by 1 + slowdown × load."""
    handoff: Duration = 15 * 60.0
    """A rotated role is unavailable this long while the next person takes over."""
    rest: Duration = 10 * 60.0
    """A resting role is unavailable this long."""
    rest_relief: Fraction = 0.4
    """Load removed by a rest."""


class Weights(Model):
    """Weights of the score's components; they need not sum to 100."""

    containment: Annotated[float, Field(ge=0)] = 30
    harm: Annotated[float, Field(ge=0)] = 25
    detection: Annotated[float, Field(ge=0)] = 10
    collateral: Annotated[float, Field(ge=0)] = 10
    communication: Annotated[float, Field(ge=0)] = 8
    escalation: Annotated[float, Field(ge=0)] = 5
    classification: Annotated[float, Field(ge=0)] = 4
    expectations: Annotated[float, Field(ge=0)] = 4
    clocks: Annotated[float, Field(ge=0)] = 2
    load: Annotated[float, Field(ge=0)] = 2
    discussion: Annotated[float, Field(ge=0)] = 6
    """Discussion questions (correct share, calibration, alignment); scored only when a question
    has an ``expected`` answer."""


class Scoring(Model):
    """How a run is scored."""

    containment_threshold: Annotated[float, Field(ge=0.0)]
    """Contained = expected harmful outputs per second at or under this, held through a watch period."""
    watch_period: Duration = 30 * 60.0
    """How long harm must stay under the threshold to count as contained."""
    update_cadence: Duration = 30 * 60.0
    """Expected interval between stakeholder updates after declaration."""
    escalate_within: Duration = 30 * 60.0
    """Escalation within this of declaring earns full points."""
    stage1_target: Duration = 60 * 60.0
    """Stage-1 containment should take effect within this of declaring (Microsoft's guidance: 60 minutes)."""
    expected_escalations: list[Literal["exec", "legal", "privacy", "comms", "ts_lead"]] = ["exec"]
    """Escalations a good response makes."""
    weights: Weights = Weights()
    """Weights of the components."""


# --- the real incident's published timeline ----------------------------------------------------


class PublishedTime(Model):
    """A time from the public record: one figure (``about``) or a range (``at_least`` / ``at_most``).

    "~16 h" is ``about: 16h``; "< 1 day" is ``at_most: 1d``; "3–4 days" is ``at_least: 3d`` and
    ``at_most: 4d``; "months" is ``at_least: 60d``. A drill's historical run lands within a factor
    of 2 of it when it falls between half the lower end and twice the upper end.
    """

    about: Duration | None = None
    """The published figure, when the record gives one."""
    at_least: Duration | None = None
    """Lower end of a published range."""
    at_most: Duration | None = None
    """Upper end of a published range."""
    counted_from: Literal["harm_start", "first_signal", "public_statement"] = "harm_start"
    """What the record counts from: harm start (t=0), the real team's first signal ("disabled ~1 day
    after the viral post") or its first public statement ("paused ~1 day after acknowledging")."""
    as_published: Annotated[str, Field(min_length=1)]
    """The figure in the source's own words, shown beside the run's."""

    @model_validator(mode="after")
    def _figure_or_range(self) -> Self:
        if (self.about is None) == (self.at_least is None and self.at_most is None):
            raise ValueError("a published time needs either 'about' or a range ('at_least' and/or "
                             "'at_most'), not both and not neither")
        if self.at_least is not None and self.at_most is not None and self.at_least > self.at_most:
            raise ValueError("'at_least' is later than 'at_most'")
        return self

    def bounds(self) -> tuple[float, float]:
        """The published range in sim seconds (an open upper end is infinite)."""
        if self.about is not None:
            return self.about, self.about
        return self.at_least or 0.0, float("inf") if self.at_most is None else self.at_most

    def window(self, factor: float = 2.0) -> tuple[float, float]:
        """The times within ``factor`` of the published range."""
        low, high = self.bounds()
        return low / factor, high * factor


class PublishedSignal(Model):
    """How the real team first found out, and which inject of this drill stands for it."""

    inject: Id
    """The inject that is the real team's first signal in this drill (the historical policy acts
    on nothing before it)."""
    as_published: Annotated[str, Field(min_length=1)]
    """The signal in the source's words, e.g. ``public tweets`` or ``customer complaint``."""
    time: PublishedTime | None = None
    """When it came, counted from harm start, if the record says (it rarely does)."""

    @model_validator(mode="after")
    def _from_harm_start(self) -> Self:
        if self.time is not None and self.time.counted_from != "harm_start":
            raise ValueError("the first signal's time is counted from harm start")
        return self


class Published(Model):
    """The real incident's published response: the yardstick the ``historical`` policy replays.

    The built-in scenarios ship a scripted policy, ``scenarios/historical/<id>.yaml``, that plays
    the real team's timeline (``ttx run ID --policy historical``); a test checks that its run lands
    within a factor of 2 of the figures here, and every review shows it beside the team's run.
    """

    incident: Annotated[str, Field(min_length=1)]
    """The real incident, e.g. ``Microsoft Tay, March 2016``."""
    source: Annotated[str, Field(min_length=1)]
    """Where the figures come from (the authoring guide's incidents table, a decision, a postmortem)."""
    first_signal: PublishedSignal
    """How the real team found out."""
    contained: PublishedTime | None = None
    """When the real team stopped the harm (``None``: the record gives no figure)."""


class Scenario(Model):
    """A tabletop drill: the system, its harm, what the team can see, and what the team can do."""

    id: Id
    """Unique scenario id, used on the command line."""
    title: str
    """Scenario title."""
    summary: Annotated[str, Field(max_length=160)]
    """One line for ``ttx list``."""
    briefing: str
    """What players are told before the drill starts."""
    facilitator_notes: str = ""
    """What only the facilitator reads: the truth, the traps, what to watch for."""
    based_on: list[str] = []
    """Real incidents this draws on (the authoring guide lists some, with how fast each was contained)."""
    published: Published | None = None
    """The real incident's published timeline (first signal, time to contain) that the scenario's
    ``historical`` policy is calibrated to."""
    assumptions: list[str] = []
    """Parameters that are assumed rather than published, labelled as such."""
    objectives: list[str] = []
    """Exercise objectives shown in the briefing."""
    duration: Duration
    """Simulated length of the drill from harm start."""
    tick: Duration = 60.0
    """Monitoring interval: signals are sampled and harm is drawn once per tick."""
    seed: int = 1
    """Default seed."""
    roles: Annotated[list[Role], Field(min_length=1)]
    """Roles in play."""
    features: Annotated[dict[Id, Feature], Field(min_length=1)]
    """Product features by id."""
    streams: Annotated[dict[Id, HarmStream], Field(min_length=1)]
    """Harm streams by id."""
    signals: dict[Id, Signal] = {}
    """Signals by id; only instrumented ones ever fire."""
    injects: list[Inject] = []
    """The MSEL."""
    actions: list[Action] = []
    """The action catalogue."""
    investigation: Investigation | None = None
    """What investigating finds."""
    clocks: list[Clock] = []
    """Regulatory or SLA clocks."""
    people: People = People()
    """Responder load model."""
    questions: list[Question] = []
    """Discussion questions: asked at a time, on a trigger, with an inject, or in the hot wash."""
    scoring: Scoring
    """How runs are scored."""

    def action(self, action_id: str) -> Action | None:
        """The catalogue action with this id, if any."""
        return next((a for a in self.actions if a.id == action_id), None)

    def inject(self, inject_id: str) -> Inject | None:
        """The inject with this id, if any."""
        return next((i for i in self.injects if i.id == inject_id), None)

    def question(self, question_id: str) -> Question | None:
        """The discussion question with this id, if any."""
        return next((q for q in self.questions if q.id == question_id), None)
