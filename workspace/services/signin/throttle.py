"""Growing delays between failed sign-in attempts, counted in Redis, that slow attackers without locking owners out.

Each attempt is charged, before the password (or code) is checked, to a few
counters; after a counter's free failures, every further failure doubles the
wait before the next attempt it covers (1 s, 2 s, 4 s, … up to a cap), so no
one is ever locked out for long and guessing gets slower and slower. A right
answer refunds its charge, so only failures count. Which counters an attempt
is charged to (see `password_counters` and `code_counters`):

- the (email, address) pair: a few free failures, then growing delays. An
  attacker elsewhere has other pairs, so they never slow the owner's.
- the email from any browser not known to it: loose (OWASP ASVS 2.2.1 asks
  for no more than 100 failures an hour on one account; the delays keep it
  far below). This is what an attacker on many addresses meets.
- the address, any email: loose, against credential stuffing from one place.
- a browser that signed in as this email before carries a signed "known
  device" cookie (devices.py); its attempts for that email are charged only to
  (email, device), as OWASP's device cookies propose: whatever an attacker
  does elsewhere, the owner's own browser only ever waits for its own typos.

Why hand-written and not the `limits` library: its strategies count hits in
fixed or moving windows; a delay that doubles with each consecutive failure,
a refund for the right password, and one atomic check-and-charge across three
counters are none of them, so a 40-line Lua script does all three in one round trip.
"""

import hashlib
import ipaddress
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import current_app
from redis import Redis

from workspace.errors import SwitchboardError
from workspace.infra.broker import redis_client

# Every counter's key starts with this (tests clear them between runs).
PREFIX = "login:"

# KEYS: the counters. ARGV: now (ms), memory (s), first delay (ms), cap (ms), then each counter's free failures.
# Refuses (returning the wait in ms) when any counter is still waiting; otherwise charges every counter one
# failure, starts its delay if it is past its free failures, and returns 0 then each counter's (previous wait
# end, new wait end), so a right answer can refund exactly its own charge.
_CHARGE = """
local now, memory, first, cap = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local wait = 0
for _, key in ipairs(KEYS) do
  local ends = tonumber(redis.call('HGET', key, 'until') or '0')
  if ends - now > wait then wait = ends - now end
end
if wait > 0 then return {wait} end
local result = {0}
for i, key in ipairs(KEYS) do
  local previous = redis.call('HGET', key, 'until') or '0'
  local failures = redis.call('HINCRBY', key, 'n', 1)
  local ends = previous
  local over = failures - tonumber(ARGV[4 + i])
  if over > 0 then
    ends = string.format('%d', now + math.min(first * 2 ^ (over - 1), cap))
    redis.call('HSET', key, 'until', ends)
  end
  redis.call('EXPIRE', key, memory)
  result[#result + 1] = previous
  result[#result + 1] = ends
end
return result
"""

# KEYS: counters to refund one failure. ARGV: per counter, the wait end its charge set and the one before it;
# the wait is restored unless another attempt has moved it since.
_REFUND = """
for i, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 then
    redis.call('HINCRBY', key, 'n', -1)
    if redis.call('HGET', key, 'until') == ARGV[2 * i - 1] then redis.call('HSET', key, 'until', ARGV[2 * i]) end
  end
end
return 0
"""


class Throttled(SwitchboardError):
    """Too many failed attempts: the caller must wait `retry_after` seconds (429, with Retry-After)."""

    status = 429
    code = "too_many_attempts"

    def __init__(self, retry_after: int):
        unit = "second" if retry_after == 1 else "seconds"
        super().__init__(f"too many failed attempts; try again in {retry_after} {unit}")
        self.retry_after = retry_after
        # The app's SwitchboardError handler (workspace/errors.py) sends these with the 429.
        self.headers = {"Retry-After": str(retry_after)}


@dataclass
class Attempt:
    """One charged attempt: its counters (key -> free failures) and what the charge set on each."""

    counters: dict[str, int]
    # Counters a success clears outright (the attempt's own pair or device), not just refunds.
    forget_on_success: tuple[str, ...]
    ends: list[tuple[str, str]] = field(default_factory=list)


class Throttle:
    """Growing delays on counters in Redis.

    Args:
        redis: the client.
        first_delay: seconds the first failure past a counter's free ones makes the next attempt wait.
        max_delay: the longest wait (delays double up to it).
        memory: a counter is forgotten after this many seconds without an attempt.
        clock: seconds since the epoch (tests move it instead of sleeping).
    """

    def __init__(self, redis: Redis, *, first_delay: float, max_delay: float, memory: int,
                 clock: Callable[[], float] = time.time):
        self.redis, self.clock, self.memory = redis, clock, memory
        self.first_ms, self.max_ms = int(first_delay * 1000), int(max_delay * 1000)
        self._charge = redis.register_script(_CHARGE)
        self._refund = redis.register_script(_REFUND)

    def charge(self, counters: dict[str, int], forget_on_success: tuple[str, ...] = ()) -> Attempt:
        """Charge one attempt to every counter, or refuse it while any of them is still waiting.

        Args:
            counters: Redis key -> failures it allows before delays start.
            forget_on_success: keys a success deletes (the attempt's own pair or device).

        Returns:
            The attempt, to pass to `succeeded` when the answer was right.

        Raises:
            Throttled: with the seconds left to wait; nothing is charged.
        """
        keys = list(counters)
        reply = self._charge(keys=keys, args=[int(self.clock() * 1000), self.memory, self.first_ms, self.max_ms,
                                              *counters.values()])
        if int(reply[0]) > 0:
            raise Throttled(max(1, math.ceil(int(reply[0]) / 1000)))
        values = [value.decode() if isinstance(value, bytes) else str(value) for value in reply[1:]]
        return Attempt(counters, forget_on_success, list(zip(values[0::2], values[1::2], strict=True)))

    def succeeded(self, attempt: Attempt) -> None:
        """Refund a right answer's charge: its own pair or device starts afresh, the shared counters lose one."""
        shared = [key for key in attempt.counters if key not in attempt.forget_on_success]
        args = [end for key, (previous, new) in zip(attempt.counters, attempt.ends, strict=True)
                if key in shared for end in (new, previous)]
        with self.redis.pipeline() as pipe:
            if attempt.forget_on_success:
                pipe.delete(*attempt.forget_on_success)
            if shared:
                self._refund(keys=shared, args=args, client=pipe)
            pipe.execute()


def throttle() -> Throttle:
    """The current app's throttle, configured from LOGIN_* settings."""
    config = current_app.config
    return Throttle(redis_client(), first_delay=config["LOGIN_FIRST_DELAY_SECONDS"],
                    max_delay=config["LOGIN_MAX_DELAY_SECONDS"], memory=config["LOGIN_MEMORY_SECONDS"])


def network(address: str) -> str:
    """The unit one client controls: an IPv4 address, or an IPv6 /64 (anyone holding one holds all of it)."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return "unknown"
    if parsed.version == 4:
        return str(parsed)
    if parsed.ipv4_mapped is not None:
        return str(parsed.ipv4_mapped)
    return str(ipaddress.ip_network(f"{parsed}/64", strict=False))


def digest(subject: str) -> str:
    """A short fixed-length stand-in for an email or id in a key (keys stay small whatever is typed)."""
    return hashlib.sha256(subject.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def password_counters(email: str, address: str, device: str | None) -> tuple[dict[str, int], tuple[str, ...]]:
    """The counters a password attempt is charged to, and the ones its success clears.

    Args:
        email: normalised (stripped, lower case).
        address: the client's address.
        device: the known-device id this browser holds for this email, if any.
    """
    config, subject = current_app.config, digest(email)
    if device:
        own = f"{PREFIX}password:device:{subject}:{digest(device)}"
        return {own: config["LOGIN_FREE_FAILURES_PER_PAIR"]}, (own,)
    place = network(address)
    own = f"{PREFIX}password:pair:{subject}:{place}"
    return {own: config["LOGIN_FREE_FAILURES_PER_PAIR"],
            f"{PREFIX}password:email:{subject}": config["LOGIN_FREE_FAILURES_PER_EMAIL"],
            f"{PREFIX}password:address:{place}": config["LOGIN_FREE_FAILURES_PER_ADDRESS"]}, (own,)


def code_counters(agent_id: int, address: str, device: str | None) -> tuple[dict[str, int], tuple[str, ...]]:
    """The counters a second-factor code attempt is charged to (as for passwords, per agent; no address-wide one,
    since only someone who knew the password gets this far)."""
    config, subject = current_app.config, digest(str(agent_id))
    if device:
        own = f"{PREFIX}code:device:{subject}:{digest(device)}"
        return {own: config["LOGIN_FREE_FAILURES_PER_PAIR"]}, (own,)
    own = f"{PREFIX}code:pair:{subject}:{network(address)}"
    return {own: config["LOGIN_FREE_FAILURES_PER_PAIR"],
            f"{PREFIX}code:agent:{subject}": config["LOGIN_FREE_FAILURES_PER_EMAIL"]}, (own,)
