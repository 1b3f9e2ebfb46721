"""How many notices (toasts) show at once, and which give way to a new one."""

from __future__ import annotations

from collections.abc import Iterable

from textual.notifications import Notification

MAX_NOTICES = 2
"""Notices shown at once. The end of a drill raised six (requested, asked, decided, in effect, hot
wash …): at 80×24 they covered the right half of the screen and the footer's keys. The feed, the
incident panel and the review keep what a notice said; a notice only draws the eye."""


def notices_to_drop(shown: Iterable[Notification], room_for: int = 1) -> list[Notification]:
    """The notices to take down so that ``room_for`` new ones fit within :data:`MAX_NOTICES`:
    the oldest first, an error (a refusal, a lost connection) only when nothing else is left."""
    live = sorted((n for n in shown if not n.has_expired),
                  key=lambda n: (n.severity == "error", n.raised_at))
    return live[:max(0, len(live) + room_for - MAX_NOTICES)]
