"""The sign-in throttle on a real Redis: free failures, then waits that double up to a cap, refunds for successes."""

import uuid

import pytest

from workspace.services.signin.throttle import Throttle, Throttled, network


class Clock:
    """A clock the test moves, so waits pass without sleeping."""

    def __init__(self):
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def throttle(redis, clock):
    """A throttle whose first wait is 1 s and whose longest is 60 s."""
    return Throttle(redis, first_delay=1, max_delay=60, memory=3600, clock=clock)


@pytest.fixture
def key(redis):
    """A counter key of this test's own, removed afterwards."""
    name = f"login:test:{uuid.uuid4().hex}"
    yield name
    redis.delete(name)


def fail(throttle, counters) -> None:
    """One wrong attempt: charged and never refunded."""
    throttle.charge(counters)


def wait_asked(throttle, counters) -> int:
    """The seconds the throttle asks to wait before the next attempt."""
    with pytest.raises(Throttled) as refused:
        throttle.charge(counters)
    assert refused.value.status == 429 and refused.value.code == "too_many_attempts"
    return refused.value.retry_after


def test_free_failures_then_waits_that_double_up_to_the_cap(throttle, clock, key):
    """Three failures are free; after each further one the wait doubles: 1, 2, 4, … and never past 60 s."""
    counters = {key: 3}
    for _ in range(3):
        fail(throttle, counters)
    waits = []
    for _ in range(8):
        fail(throttle, counters)
        waits.append(wait_asked(throttle, counters))
        clock.now += waits[-1]
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60]


def test_an_attempt_during_a_wait_is_refused_without_being_counted(throttle, clock, key):
    """Hammering during a wait does not make the wait longer: refused attempts are not charged."""
    counters = {key: 0}
    fail(throttle, counters)
    for _ in range(20):
        assert wait_asked(throttle, counters) == 1
    clock.now += 1
    fail(throttle, counters)
    assert wait_asked(throttle, counters) == 2


def test_a_right_answer_refunds_its_charge(throttle, clock, redis, key):
    """Successes do not count: a shared counter (an office behind one address) only counts failures."""
    counters = {key: 2}
    for _ in range(10):
        attempt = throttle.charge(counters)
        throttle.succeeded(attempt)
    assert int(redis.hget(key, "n")) == 0
    fail(throttle, counters)
    fail(throttle, counters)
    attempt = throttle.charge(counters)  # past the free failures: this one starts a wait …
    throttle.succeeded(attempt)  # … which its success takes back
    throttle.succeeded(throttle.charge(counters))


def test_a_success_forgets_its_own_pair(throttle, redis, key):
    """The attempt's own (email, address) pair starts afresh after the right password."""
    counters = {key: 1}
    fail(throttle, counters)
    fail(throttle, counters)
    assert wait_asked(throttle, counters) == 1
    throttle.clock.now += 1
    throttle.succeeded(throttle.charge(counters, forget_on_success=(key,)))
    assert not redis.exists(key)


def test_one_waiting_counter_is_enough_to_refuse(throttle, key, redis):
    """An attempt counts against every counter; any one still waiting refuses it."""
    other = key + ":other"
    try:
        for _ in range(3):
            fail(throttle, {key: 10, other: 2})
        assert wait_asked(throttle, {key: 10, other: 2}) == 1
        assert wait_asked(throttle, {other: 2}) == 1
        throttle.charge({key: 10})  # the loose counter alone still lets attempts through
    finally:
        redis.delete(other)


@pytest.mark.parametrize("address,unit", [
    ("203.0.113.9", "203.0.113.9"),
    ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
    ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"),
    ("::ffff:203.0.113.9", "203.0.113.9"),
    ("not an address", "unknown"),
])
def test_an_ipv6_client_is_counted_by_its_64(address, unit):
    """Whoever holds one IPv6 address holds its whole /64, so that is what is counted."""
    assert network(address) == unit
