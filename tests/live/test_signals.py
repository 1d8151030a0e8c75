"""Every signal a service sends after its commit has its receiver once the app is built, and only once."""

from blinker import Signal

from tests.factories import make_config
from workspace import create_app
from workspace.live import signals

SIGNALS = {name: value for name, value in vars(signals).items() if isinstance(value, Signal)}


def test_every_signal_has_exactly_one_receiver_however_many_apps_are_built(redis_url, tmp_path):
    """A signal with no receiver would drop a delivery, ticket or bulk run without a word; a second
    app (tests, the CLI) must not connect a receiver twice, or each ask would enqueue twice. Routed
    conversations have three: the routing latency instruments, the notifications and the suggestions;
    queued replies two: their delivery and the outbound events; opened incidents three: the notifications,
    engineering's alert and the outbound events."""
    counts = []
    for name in ("one", "two"):
        create_app(make_config(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/{name}.db", REDIS_URL=redis_url))
        counts.append({name: len(signal.receivers) for name, signal in SIGNALS.items()})
    assert SIGNALS, "live.signals defines no signals"
    assert counts[0] == counts[1] == {**dict.fromkeys(SIGNALS, 1), "conversations_routed": 3,
                                                  "replies_queued": 2, "incidents_opened": 3}
