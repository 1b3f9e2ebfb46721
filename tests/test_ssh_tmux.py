"""An SSH seat in a real terminal: OpenSSH's ``ssh`` in a tmux pane logs in to ``ttx host --ssh`` and
shows the dashboard, in colour, at the pane's size, following a resize; the host key it checks
strictly is the one the banner printed."""

from __future__ import annotations

import asyncio
import os
import shlex
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import asyncssh
import pytest

from simulator.team.ssh import HOST_KEY_FILE
from tests.tmux import TmuxServer

pytestmark = [pytest.mark.tmux,
              pytest.mark.skipif(shutil.which("tmux") is None or shutil.which("ssh") is None,
                                 reason="needs tmux and the OpenSSH client")]

CODE = "K7Q2MD"


@pytest.fixture
def terminals(tmp_path: Path) -> Iterator[TmuxServer]:
    made = TmuxServer(f"g-remote-ssh-{os.getpid()}", target="g-ssh:1")
    try:
        yield made
    finally:
        made.kill()


async def test_openssh_in_a_terminal_logs_in_and_shows_the_dashboard_in_colour_at_its_size(
        terminals: TmuxServer, tmp_path: Path) -> None:
    t = terminals
    host = " ".join(shlex.quote(a) for a in (sys.executable, "-m", "simulator.cli", "host", "jailbreak-wave",
                                             "--port", "0", "--ssh", "0", "--code", CODE,
                                             "--journal", "drill.jsonl", "--linger", "1"))
    t.tmux("new-session", "-d", "-s", "g-ssh", "-x", "160", "-y", "40", "-c", str(tmp_path), host, check=True)
    banner = await asyncio.to_thread(t.wait_for, "facilitator token:", "g-ssh:0", 30.0)
    ssh_line = next(line for line in banner.splitlines() if line.startswith("SSH seats:"))
    port = ssh_line.split("port ")[1].split(",")[0]
    key = asyncssh.read_private_key(tmp_path / HOST_KEY_FILE)
    assert f"host key {key.get_fingerprint('sha256')}" in ssh_line
    known = tmp_path / "known_hosts"
    algorithm, public = key.export_public_key().decode().split()[:2]
    known.write_text(f"[127.0.0.1]:{port} {algorithm} {public}\n")
    ssh = ["ssh", "-F", "/dev/null", "-p", port, "-o", "StrictHostKeyChecking=yes",
           "-o", f"UserKnownHostsFile={known}", "-o", "PubkeyAuthentication=no", "ic@127.0.0.1"]
    t.tmux("new-window", "-d", "-t", "g-ssh:1", f"stty cols 100 rows 30; exec {shlex.join(ssh)}", check=True)
    t.tmux("resize-window", "-t", "g-ssh:1", "-x", "100", "-y", "30")
    await asyncio.to_thread(t.wait_for, "Join code:")
    t.tmux("send-keys", "-t", "g-ssh:1", "-l", CODE)
    t.keys("Enter")
    await asyncio.to_thread(t.wait_for, "Your name:")
    t.tmux("send-keys", "-t", "g-ssh:1", "-l", "Dana")
    t.keys("Enter")
    shown = await asyncio.to_thread(t.wait_for, "Dana ● ← you", None, 30.0)
    assert shown.splitlines()[0].rstrip() == "╭" + "─" * 98 + "╮", "the dashboard fills the 100 columns"
    coloured = t.tmux("capture-pane", "-p", "-e", "-t", "g-ssh:1")
    assert "\x1b[38;" in coloured or "\x1b[48;" in coloured, "the dashboard is in colour"
    t.tmux("resize-window", "-t", "g-ssh:1", "-x", "80", "-y", "24")
    await asyncio.to_thread(t.wait_for, lambda text: text.splitlines()[0].rstrip() == "╭" + "─" * 78 + "╮")
