"""Webhook rate limits: token buckets held in each web process, so counting costs no Redis round-trip.

Two kinds of bucket:
- per channel, taken by every correctly signed delivery: the channel's `rate_limit` setting (deliveries a
  second, or SWITCHBOARD_WEBHOOK_RATE_LIMIT) split evenly over SWITCHBOARD_WEB_PROCESSES, with a burst of
  BURST_SECONDS' worth. Only signed deliveries count, so nobody without the secret can use up a channel's
  allowance and lock its real sender out.
- per channel and client address, taken by every delivery whose signature is wrong: once empty, that address
  gets 429 before its body is read or any signature computed, so a bad-signature flood is cut off for the cost
  of a dictionary look-up.

Each process counts alone: with N processes behind a balancer the limit holds to within the balancer's
unevenness, which is the price of no shared counter on the hot path.
"""

import math
import time

from flask import Flask, current_app

from workspace.errors import SwitchboardError

# A bucket holds this many seconds' worth of its rate, so a sender catching up may burst.
BURST_SECONDS = 2.0
# Past this many address buckets, refilled ones are forgotten (a flood from many addresses cannot grow memory).
MAX_ADDRESS_BUCKETS = 10_000


class RateLimited(SwitchboardError):
    """Over a rate limit: 429, with how many seconds to wait in Retry-After."""

    status = 429
    code = "rate_limited"

    def __init__(self, message: str, retry_after: float):
        super().__init__(message)
        self.headers = {"Retry-After": str(max(1, math.ceil(retry_after)))}


class TokenBucket:
    """A bucket of `burst` tokens refilled at `rate` a second; each event takes one."""

    __slots__ = ("rate", "burst", "tokens", "updated")

    def __init__(self, rate: float, burst: float, now: float):
        self.rate, self.burst, self.tokens, self.updated = rate, burst, burst, now

    def _refill(self, now: float) -> None:
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def wait(self, now: float) -> float:
        """Seconds until a token is there (0: one is there now); takes nothing."""
        self._refill(now)
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self, now: float) -> float:
        """Take a token if there is one and return 0; else take nothing and return the seconds to wait."""
        waiting = self.wait(now)
        if not waiting:
            self.tokens -= 1
        return waiting

    def full(self, now: float) -> bool:
        """Tell whether the bucket has refilled completely (it remembers nothing worth keeping)."""
        self._refill(now)
        return self.tokens >= self.burst


class WebhookLimits:
    """The buckets of one web process (greenlets and threads share them; a lost update only miscounts by one)."""

    def __init__(self, default_rate: float, bad_signatures_per_minute: float, processes: int):
        self.default_rate = default_rate
        self.processes = max(1, processes)
        self.bad_rate = bad_signatures_per_minute / 60 / self.processes
        self.channels: dict[int, TokenBucket] = {}
        self.addresses: dict[tuple[int, str], TokenBucket] = {}

    def refuse_known_forger(self, channel, address: str) -> None:
        """Raise 429 when this address has used up its allowance of bad signatures on the channel."""
        bucket = self.addresses.get((channel.id, address))
        waiting = bucket.wait(time.monotonic()) if bucket is not None else 0.0
        if waiting:
            raise RateLimited(f"too many badly signed deliveries to {channel.slug!r} from your address",
                              waiting)

    def count_bad_signature(self, channel, address: str) -> None:
        """Count a delivery whose signature was wrong against its address."""
        now = time.monotonic()
        key = (channel.id, address)
        bucket = self.addresses.get(key)
        if bucket is None:
            if len(self.addresses) >= MAX_ADDRESS_BUCKETS:
                self._forget_refilled(now)
            bucket = self.addresses[key] = TokenBucket(self.bad_rate, self.bad_rate * 60, now)
        bucket.take(now)

    def take_delivery(self, channel) -> None:
        """Count a signed delivery against its channel; raise 429 (with Retry-After) when it is over its rate."""
        rate = (channel.settings or {}).get("rate_limit") or self.default_rate
        rate = rate / self.processes
        now = time.monotonic()
        bucket = self.channels.get(channel.id)
        if bucket is None or bucket.rate != rate:  # new, or the setting changed
            bucket = self.channels[channel.id] = TokenBucket(rate, max(1.0, rate * BURST_SECONDS), now)
        waiting = bucket.take(now)
        if waiting:
            raise RateLimited(f"channel {channel.slug!r} takes at most {rate * self.processes:g} deliveries "
                              "a second", waiting)

    def _forget_refilled(self, now: float) -> None:
        for key in [key for key, bucket in self.addresses.items() if bucket.full(now)]:
            del self.addresses[key]
        if len(self.addresses) >= MAX_ADDRESS_BUCKETS:  # all still draining: start over rather than grow
            self.addresses.clear()


def webhook_limits() -> WebhookLimits:
    """This process's webhook buckets for the current app."""
    return current_app.extensions["webhook_limits"]


def init_app(app: Flask) -> None:
    """Give the app its own buckets, sized from its config."""
    app.extensions["webhook_limits"] = WebhookLimits(
        app.config["WEBHOOK_RATE_LIMIT"], app.config["WEBHOOK_BAD_SIGNATURES_PER_MINUTE"],
        app.config["WEB_PROCESSES"])
