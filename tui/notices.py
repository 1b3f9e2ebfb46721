"""How many notices (toasts) show at once, which give way to a new one, and which wait for a dialog."""

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


class WaitingNotices:
    """Notices kept back while a dialog is open: at 80×24 a notice above the footer covered a
    dialog's lower right corner, where its buttons are. Those on screen when a dialog opens, and those
    raised while it is open, show once the last dialog closes, each for its full time (the newest
    :data:`MAX_NOTICES`, as ever)."""

    def __init__(self) -> None:
        """Nothing waits yet."""
        self._waiting: list[Notification] = []

    def __len__(self) -> int:
        """How many notices wait."""
        return len(self._waiting)

    def hold(self, notices: Iterable[Notification]) -> None:
        """Keep ``notices`` back until the dialog closes."""
        self._waiting.extend(notices)

    def release(self) -> list[Notification]:
        """The notices that waited, oldest first, raised afresh so that each shows for its full time."""
        waited, self._waiting = self._waiting, []
        return [Notification(n.message, n.title, n.severity, n.timeout, n.markup) for n in waited]

    def forget(self) -> None:
        """Drop every waiting notice (the app cleared its notices: the screen it opens must be clear)."""
        self._waiting.clear()
