"""What one player, one address or one connection may cost a drill server: rates, caps, lock-outs.

Limits are per player (their token, across all their connections) and per address, not per
connection, so opening more connections buys nothing. Connections that arrive through an SSH
tunnel or a NAT share one address, so the per-address caps apply to connections that have not
joined yet (and to wrong join codes); once joined, a connection counts against its player.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Limits:
    """Every protection a drill server applies, with its default."""

    rate: float = 20.0
    """Frames per second one connection may send on average (checked before a frame is parsed)."""
    burst: float = 40.0
    """Frames one connection may send at once."""
    command_rate: float = 5.0
    """Frames per second one player (token) may send, over all their connections together."""
    command_burst: float = 20.0
    """Frames one player may send at once."""
    flood_close: int = 200
    """Frames dropped in one flood (no pause long enough to earn a frame) before the connection is closed."""
    backlog: int = 256
    """Queued outbound events before tick/harm updates are coalesced for that client."""
    outbox_bytes: int = 4 * 1024 * 1024
    """Queued outbound bytes beyond which a client that does not read is dropped (it reconnects)."""
    address_rate: float | None = None
    """Frames per second from one address, over all its connections and players together; ``None``:
    one per player the drill admits (:attr:`max_players`), at least 40. A classroom behind one NAT
    stays far under it; one attacker holding many tokens does not get many players' rates."""
    address_burst: float | None = None
    """Frames one address may send at once; ``None``: twice its rate."""
    connect_rate: float | None = None
    """New connections per second from one address (refused before the websocket opens); ``None``:
    a quarter of :attr:`max_players`, at least 10."""
    connect_burst: float | None = None
    """New connections one address may open at once; ``None``: :attr:`max_players`, at least 40, so
    the whole team reconnecting after a ``--resume`` gets straight back in."""
    pending_per_address: int = 16
    """Connections from one address that have not joined yet; a further one pushes out the oldest."""
    pending_total: int = 64
    """Connections that have not joined yet, from all addresses together."""
    join_timeout: float = 10.0
    """Seconds a connection may stay open without joining."""
    pending_frames: int = 4
    """Frames a connection may send before it has joined (a client sends one); one more closes it."""
    connections_per_player: int = 4
    """Open connections of one player; a further one (a reconnect) replaces their oldest."""
    max_players: int = 40
    """Players in the lobby (the facilitator's seats not counted); ``ttx host --max-players``."""
    max_evaluators: int = 4
    """Evaluator seats in the lobby (beside :attr:`max_players`): observers, so a few suffice."""
    max_per_role: int | None = None
    """Players holding one role; ``None``: half of :attr:`max_players` (rounded up), so no role can
    fill the drill while another is in play."""
    offline_drop: float = 300.0
    """Seconds a player who has no connection stays in the lobby (their token still works after)."""
    free_failures: int = 5
    """Wrong join codes (or unknown tokens) from one address before lock-outs begin."""
    lockout_max: float = 300.0
    """Longest lock-out, seconds; lock-outs double from 2 s after :attr:`free_failures`."""
    forget_after: float = 900.0
    """Seconds without a failure after which an address's failures are forgotten."""

    def address_frames(self) -> tuple[float, float]:
        """Frames per second and burst one address may send (see :attr:`address_rate`)."""
        rate = self.address_rate if self.address_rate is not None else max(40.0, float(self.max_players))
        return rate, self.address_burst if self.address_burst is not None else 2 * rate

    def address_connects(self) -> tuple[float, float]:
        """New connections per second and burst one address may open (see :attr:`connect_rate`)."""
        rate = self.connect_rate if self.connect_rate is not None else max(10.0, self.max_players / 4)
        burst = self.connect_burst if self.connect_burst is not None else max(40.0, float(self.max_players))
        return rate, burst

    def role_cap(self, roles_in_play: int) -> int:
        """How many players may hold one role."""
        if self.max_per_role is not None:
            return self.max_per_role
        return self.max_players if roles_in_play <= 1 else max(1, math.ceil(self.max_players / 2))


class Bucket:
    """A token bucket: ``rate`` frames per second, at most ``burst`` at once."""

    def __init__(self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst, self._clock = rate, burst, clock
        self._level, self._at = burst, clock()

    def take(self) -> bool:
        """Spend one frame's worth; ``False`` when over the rate."""
        now = self._clock()
        self._level = min(self.burst, self._level + (now - self._at) * self.rate)
        self._at = now
        if self._level < 1.0:
            return False
        self._level -= 1.0
        return True

    def idle(self, now: float) -> bool:
        """Whether the bucket has refilled completely by ``now`` (forgetting it changes nothing)."""
        return self._level + (now - self._at) * self.rate >= self.burst


class AddressBuckets:
    """One :class:`Bucket` per address, made on first use; idle ones (full again) are forgotten
    when many addresses have been seen, so a scan over many addresses cannot grow it without bound."""

    MAX_ADDRESSES = 4096

    def __init__(self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst, self._clock = rate, burst, clock
        self._buckets: dict[str, Bucket] = {}

    def take(self, address: str) -> bool:
        """Spend one from ``address``'s bucket; ``False`` when that address is over its rate."""
        bucket = self._buckets.get(address)
        if bucket is None:
            if len(self._buckets) >= self.MAX_ADDRESSES:
                self._forget_idle()
            bucket = self._buckets[address] = Bucket(self.rate, self.burst, self._clock)
        return bucket.take()

    def _forget_idle(self) -> None:
        now = self._clock()
        for address, bucket in list(self._buckets.items()):
            if bucket.idle(now):
                del self._buckets[address]
        if len(self._buckets) >= self.MAX_ADDRESSES:  # all busy: forget the oldest half
            for address in list(self._buckets)[: self.MAX_ADDRESSES // 2]:
                del self._buckets[address]


def is_loopback(remote: object) -> bool:
    """Whether a socket's peer address is this machine (127.0.0.0/8 or ::1)."""
    host = remote[0] if isinstance(remote, tuple) and remote else None
    if not isinstance(host, str):
        return False
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
    return (mapped or ip).is_loopback


def address_key(remote: object) -> str:
    """Whose connection this is, for per-address limits: the IPv4 address, or the IPv6 /64 (one
    subscriber's network), from a socket's peer address (``None`` for a pipe: ``local``)."""
    host = remote[0] if isinstance(remote, tuple) and remote else None
    if not isinstance(host, str):
        return "local"
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return host[:64]
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    if isinstance(ip, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


@dataclass
class _Failures:
    count: int = 0
    last: float = 0.0
    locked_until: float = 0.0


@dataclass
class Lockouts:
    """Wrong join codes and unknown tokens per address, with lock-outs that double."""

    limits: Limits
    clock: Callable[[], float] = time.monotonic
    _by_address: dict[str, _Failures] = field(default_factory=dict)

    MAX_ADDRESSES = 4096
    """Addresses remembered at once; beyond it the oldest that are not locked out are forgotten."""

    def locked_for(self, address: str) -> float:
        """Seconds this address must still wait before its next code is checked (0: none)."""
        record = self._by_address.get(address)
        return max(0.0, record.locked_until - self.clock()) if record else 0.0

    def failed(self, address: str) -> float:
        """Count a failure; returns the lock-out it starts, in seconds (0 while still free)."""
        now = self.clock()
        record = self._by_address.get(address)
        if record is None or now - record.last > self.limits.forget_after:
            record = self._by_address[address] = _Failures()
            self._forget_some(now)
        record.count += 1
        record.last = now
        over = record.count - self.limits.free_failures
        if over <= 0:
            return 0.0
        seconds = min(self.limits.lockout_max, 2.0 ** over)
        record.locked_until = now + seconds
        return seconds

    def succeeded(self, address: str) -> None:
        """The address gave a right code: its failures are forgotten."""
        self._by_address.pop(address, None)

    def failures(self, address: str) -> int:
        """Failures counted for this address."""
        record = self._by_address.get(address)
        return record.count if record else 0

    def _forget_some(self, now: float) -> None:
        if len(self._by_address) <= self.MAX_ADDRESSES:
            return
        for address, record in list(self._by_address.items()):
            if record.locked_until <= now:
                del self._by_address[address]
            if len(self._by_address) <= self.MAX_ADDRESSES // 2:
                return
