"""Inject text: templates filled from a seeded Faker, and redacted placeholders instead of harmful outputs."""

from __future__ import annotations

import string
import threading
from typing import TYPE_CHECKING, Any

from simulator.format.taxonomy import HARM_TYPE_LABELS, HAZARD_LABELS, HarmType, Hazard

if TYPE_CHECKING:
    from faker import Faker

PERSONA_FIELDS = frozenset({"name", "first_name", "last_name", "handle", "email", "company",
                            "ticket", "city", "outlet"})
"""Placeholders filled with generated details (the same value everywhere in one inject)."""
CONTEXT_FIELDS = frozenset({"sample", "time", "reports_per_hour", "mentions_per_hour", "scenario"})
"""Placeholders filled from the drill: a redacted sample, the clock, observed signal values."""
FIELDS = PERSONA_FIELDS | CONTEXT_FIELDS


def placeholders(template: str) -> list[str]:
    """The placeholder names a template uses.

    Raises:
        ValueError: the template's braces do not parse.
    """
    return [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]


def unknown_placeholders(template: str) -> list[str]:
    """Placeholders that are not in :data:`FIELDS`, in order of appearance."""
    return [name for name in placeholders(template) if name not in FIELDS]


_local = threading.local()


def _faker() -> Faker:
    """One Faker per thread: reseeding a shared one from two threads would mix their text."""
    fake: Faker | None = getattr(_local, "faker", None)
    if fake is None:
        from faker import Faker  # imported on first use: validating a scenario never needs it

        fake = _local.faker = Faker("en_US")
    return fake


def persona_values(seed: int) -> dict[str, str]:
    """Generated details for one inject; the same seed always gives the same values."""
    fake = _faker()
    fake.seed_instance(seed)
    first, last = fake.first_name(), fake.last_name()
    return {
        "name": f"{first} {last}",
        "first_name": first,
        "last_name": last,
        "handle": "@" + fake.user_name(),
        "email": f"{first.lower()}.{last.lower()}@{fake.free_email_domain()}",
        "company": fake.company(),
        "ticket": ticket_number(seed),
        "city": fake.city(),
        "outlet": fake.random_element(["The Ledger", "TechWire", "Daily Signal", "The Inquirer Review",
                                       "Circuit News", "Morning Byte"]),
    }


def ticket_number(seed: int) -> str:
    """A ticket number for one inject, from its seed (no persona needed)."""
    return f"INC-{10000 + seed % 90000}"


def redacted_sample(harm_type: HarmType, hazard: Hazard | None, confidence: float, number: int) -> str:
    """A labelled stand-in for one harmful model output. ttx never writes the content itself."""
    parts = [f"harm: {HARM_TYPE_LABELS[harm_type]}"]
    if hazard is not None:
        parts.append(f"hazard {hazard.value} {HAZARD_LABELS[hazard]}")
    parts.append(f"guard confidence {confidence:.2f}")
    parts.append(f"sample #{number}")
    return "[REDACTED model output · " + " · ".join(parts) + "]"


def render(template: str, values: dict[str, Any]) -> str:
    """Fill a template; validated scenarios only use known placeholders."""
    return template.format_map(values)
