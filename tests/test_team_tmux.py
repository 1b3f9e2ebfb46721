"""The host and two ``--headless`` players in tmux panes (event lines, for scripts): a private inject
shows only in its role's pane; an approval asked in one pane reaches the other. The dashboards
(``ttx join`` without ``--headless``) have their own tmux test in tests/test_join_tmux.py."""

from __future__ import annotations

import asyncio
import os
import shlex
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from simulator.format.commands import Command
from simulator.team.remote import RemoteSession
from tests.tmux import TmuxServer

pytestmark = pytest.mark.tmux  # skipped without tmux outside CI, failed in CI (tests/tools.py)

REPO = Path(__file__).resolve().parent.parent
CODE = "K7Q2MD"


class Panes(TmuxServer):
    """A private tmux server (its own socket) with one window split into panes."""

    def __init__(self) -> None:
        super().__init__(f"ttx-test-{os.getpid()}")

    def tmux(self, *args: str, check: bool = True) -> str:
        """As :meth:`TmuxServer.tmux`, but failing on a non-zero exit unless told otherwise."""
        return super().tmux(*args, check=check)

    def command(self, *args: str) -> str:
        """The shell line running ``ttx ARGS`` from the repository (the pane stays 30 s after it exits)."""
        return f"cd {shlex.quote(str(REPO))} && {shlex.quote(sys.executable)} -m simulator.cli " + \
            " ".join(shlex.quote(a) for a in args) + "; sleep 30"

    def text(self, pane: int) -> str:
        """Pane ``pane``'s screen and scrollback."""
        return self.screen(f"drill:0.{pane}", history=True)

    def wait_for_pane(self, pane: int, check: Callable[[str], bool], timeout: float = 20) -> str:
        """Poll pane ``pane`` (with scrollback) until ``check`` holds."""
        return self.wait_for(check, f"drill:0.{pane}", timeout, history=True)


@pytest.fixture
def panes() -> Iterator[Panes]:
    made = Panes()
    yield made
    made.kill()


async def test_private_inject_shows_in_one_pane_and_an_approval_crosses_panes(panes: Panes,
                                                                              tmp_path: Path) -> None:
    panes.tmux("new-session", "-d", "-s", "drill", "-x", "220", "-y", "60",
               panes.command("host", "jailbreak-wave", "--port", "0", "--code", CODE, "--speed", "30",
                             "--journal", str(tmp_path / "drill.jsonl"), "--linger", "5"))
    banner = await asyncio.to_thread(panes.wait_for_pane, 0, lambda t: "facilitator token:" in t)
    url = banner.split("listening on ")[1].split()[0]
    token = banner.split("facilitator token: ")[1].split()[0]
    for role, name in (("ic", "Dana"), ("ml", "Max")):
        panes.tmux("split-window", "-t", "drill:0", "-v",
                   panes.command("join", url, "--code", CODE, "--role", role, "--name", name, "--headless"))
    await asyncio.to_thread(panes.wait_for_pane, 2, lambda t: "joined as ml" in t)
    fac = await RemoteSession.open(url, name="Lee", facilitator_token=token)
    ml_partner = await RemoteSession.open(url, name="Kai", role="ml", code=CODE)
    ic_partner = await RemoteSession.open(url, name="Robin", role="ic", code=CODE)
    try:
        await fac.start()
        await fac.fire_inject("confidence-drop")
        await asyncio.to_thread(panes.wait_for_pane, 2,
                                lambda t: "confidence-drop" in t or "[dashboard]" in t)
        await ml_partner.submit(Command(role="ml", action="take-offline"))
        ic_pane = await asyncio.to_thread(panes.wait_for_pane, 1, lambda t: "asks ic to approve" in t)
        request = int(ic_pane.split("approval_requested")[1].split("#")[1].split()[0].rstrip(":"))
        await ic_partner.submit(Command(role="ic", action="approve", params={"request": request}))
        for pane in (1, 2):
            await asyncio.to_thread(panes.wait_for_pane, pane, lambda t: "approval_granted" in t)
        subject = next(line for line in panes.text(2).splitlines() if "inject" in line and "→ ml" in line)
        assert subject.split(": ", 1)[1] not in panes.text(1), "the ml inject stays out of the ic pane"
    finally:
        for session in (fac, ml_partner, ic_partner):
            await session.close()
