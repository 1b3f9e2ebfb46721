"""Text helpers shared by the screens: role names, load bars, countdowns, list rows under a hanging
indent and redacted-sample highlighting."""

from __future__ import annotations

import re
import textwrap

from textual.content import Content
from textual.markup import escape

from simulator.format.hms import clock
from simulator.format.taxonomy import ROLE_LABELS, ROLE_SHORT, Role

REDACTED = re.compile(r"\[REDACTED[^\]]*\]")
"""A harmful model output as the engine writes it: a labelled placeholder, never real content."""

SHORT_ROLES = {role.value: label for role, label in ROLE_SHORT.items()}
"""Role ids as they fit in tabs and feed lines."""


CHOICE_LABELS = {"1": "1 · stop the bleed", "2": "2 · fan out and strengthen", "3": "3 · fix at the source",
                 "sev1": "SEV1 · most severe", "sev2": "SEV2", "sev3": "SEV3", "sev4": "SEV4 · least severe",
                 "exec": "Executive on-call", "legal": "Legal", "privacy": "Privacy office",
                 "comms": "Communications", "ts_lead": "Trust & safety lead"}
"""What a form's list shows for a choice the engine names by id: remediation stages (the only choice
of numbers), severities and escalation targets. Roles, harm types and hazards have their own."""


def role_name(role: str) -> str:
    """The human name of a role id (``ic`` → ``Incident commander``)."""
    try:
        return ROLE_LABELS[Role(role)]
    except ValueError:
        return role


def short_role(role: str) -> str:
    """A compact role label (``ts`` → ``T&S``)."""
    return SHORT_ROLES.get(role, role)


BORDER_CELLS = 6
"""Cells of a border a title cannot use: two corners, a dash and a space at each end."""


def scroll_hint(above: int, below: int, width: int, key: str) -> str:
    """How many lines are out of sight and which way, and how to scroll them (``key`` focuses the
    box, then ↑↓), in ``width`` cells: "↑ 1 more · ↓ 20 more (m, then ↑↓)", shortened before
    anything is cut ("↑ 1 · ↓ 20 more (m ↑↓)"); empty when everything is in sight."""
    shown = [p for p in (f"↑ {above}" if above else "", f"↓ {below}" if below else "") if p]
    if not shown:
        return ""
    candidates = [" · ".join(f"{p} more" for p in shown) + f" ({key}, then ↑↓)",
                  " · ".join(shown) + f" more ({key}, then ↑↓)", " · ".join(shown) + f" more ({key} ↑↓)"]
    return next((c for c in candidates if len(c) <= width), candidates[-1])


def load_bar(load: float, width: int = 10) -> str:
    """A load/fatigue level 0–1 as a bar of ``width`` cells."""
    filled = round(max(0.0, min(1.0, load)) * width)
    return "█" * filled + "░" * (width - filled)


def countdown(seconds: float) -> str:
    """Time left as ``H:MM:SS``, or ``overdue H:MM:SS``."""
    return clock(seconds) if seconds >= 0 else f"overdue {clock(-seconds)}"


HANG = "  "
"""Indent of a list row's every line after its first (an action's wrapped title and the detail below
it, an inject's wrapped subject), so a wrapped row's last word is not read as a row of its own."""


def hang(text: str, width: int, first: str = "") -> str:
    """``text`` after ``first``, wrapped to ``width`` cells with :data:`HANG` before each later line
    (no wrapping while the width is unknown or too small to wrap into)."""
    if width <= len(HANG) + 8:
        return first + text
    return "\n".join(textwrap.wrap(text, width, initial_indent=first, subsequent_indent=HANG,
                                   break_on_hyphens=False, break_long_words=True)) or first


def hang_content(row: Content, width: int) -> Content:
    """A styled one-line ``row`` wrapped as :func:`hang` wraps text, each piece keeping its style."""
    plain, pieces, at = row.plain, [], 0
    for n, line in enumerate(hang(plain, width).split("\n")):
        text = line.removeprefix(HANG) if n else line
        start = plain.index(text, at)
        at = start + len(text)
        pieces.append(row[start:at] if n == 0 else HANG + row[start:at])
    return Content("\n").join(pieces)


LIST_ITEM = re.compile(r"^\s*([-*•]|\d+[.)])\s")
"""A line that starts a list item (kept on its own line when text is reflowed)."""


def reflow(text: str) -> str:
    """Join lines a scenario author wrapped mid-sentence (YAML ``|`` blocks), so the panel wraps them
    to its own width; a line ending a sentence, a blank line and a list item still break."""
    out: list[str] = []
    for line in text.splitlines():
        previous = out[-1] if out else ""
        ended = previous.rstrip().rstrip("\"')]”’»").endswith((".", "!", "?", ":", ";"))
        if previous.strip() and line.strip() and not ended and not LIST_ITEM.match(line) \
                and not LIST_ITEM.match(previous):
            out[-1] = f"{previous.rstrip()} {line.strip()}"
        else:
            out.append(line)
    return "\n".join(out)


def highlight_redacted(text: str) -> Content:
    """Body text with each redacted-sample placeholder set apart in the warning colour."""
    out = Content("")
    last = 0
    for match in REDACTED.finditer(text):
        redacted = Content.styled(match.group(0), "bold $text-warning")
        out = out.append(text[last:match.start()]).append(redacted)
        last = match.end()
    return out.append(text[last:])


def speed_label(speed: float, paused: bool) -> str:
    """The clock's speed as the header shows it."""
    return "PAUSED" if paused else f"▶ {speed:g}×"


__all__ = ["HANG", "countdown", "escape", "hang", "hang_content", "highlight_redacted", "load_bar", "reflow",
           "role_name", "short_role", "speed_label"]
