"""Volume spikes: when posts about one queue, tag or phrase rise well above their own baseline.

A library like the rest of routing/: plain per-bucket counts in, `Spike`s out.

The method, per series (one queue, tag or phrase), on counts per 5-minute bucket:

1. **Window**: the newest `window` buckets (15 minutes) are the observation.
2. **Recent level**: an exponentially weighted mean and variance (EWMA, `alpha`)
   over the buckets before the window, so the baseline follows slow drifts
   but is not dragged up by the spike it is judging; and the plain mean of
   the hour before the window, since a few quiet buckets pull a noisy EWMA
   down (the larger of the two is used: false alarms cost more than a
   spike caught five minutes later).
3. **Daily level**: the same time of day one day earlier (a few buckets either
   side, averaged), when the history reaches that far; the morning rush was
   there yesterday too, so it is expected, not alarming.
4. **Expected** = the larger of the two levels, times the window length.
   **Variance** = the larger of the EWMA variance and the expected count
   (a Poisson floor: counts are at least that noisy), at least 1.
5. A spike needs all three: observed ≥ `min_count` (a few posts after a quiet
   night are no outage), z = (observed − expected) / √variance ≥ `z_threshold`,
   and observed ≥ `min_ratio` × expected (a busy queue's normal noise is
   large in absolute terms).

The daily level needs a day of history: the caller passes at least
`history_buckets(settings)` counts (zeros where nothing came), so a phrase
nobody used yesterday has a baseline of zero rather than none. On a fresh
install, before a day has passed, a steep morning rise can read as a spike.

Defaults: 15-minute window, alpha 0.3, ±3 buckets a day earlier, at least
20 posts, z ≥ 4, at least 3× the expected count.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from routing.text import fold

BUCKET_MINUTES = 5
BUCKETS_PER_DAY = 24 * 60 // BUCKET_MINUTES


@dataclass(frozen=True)
class SpikeSettings:
    """Thresholds of the detector (see the module docstring for the method)."""

    window: int = 3                 # buckets observed (3 x 5 min = 15 min)
    alpha: float = 0.3              # EWMA weight of the newest baseline bucket
    min_history: int = 6            # baseline buckets needed before judging (30 min)
    hour: int = 12                  # buckets in the plain mean that backs up the EWMA (1 hour)
    daily_spread: int = 3           # buckets either side of the same time a day earlier
    min_count: int = 20             # posts in the window, at least
    z_threshold: float = 4.0        # standard deviations above expected, at least
    min_ratio: float = 3.0          # times the expected count, at least


@dataclass(frozen=True)
class Spike:
    """A series whose newest window is well above its baseline."""

    key: str
    observed: int
    expected: float
    z: float

    @property
    def ratio(self) -> float:
        """Observed over expected (expected counts below one post count as one)."""
        return self.observed / max(self.expected, 1.0)


def detect(counts: Sequence[int], settings: SpikeSettings = SpikeSettings(), key: str = "") -> Spike | None:
    """Judge whether the newest window of a series is a spike.

    Args:
        counts: posts per bucket, oldest first, ending with the newest bucket.
        settings: thresholds.
        key: what the series counts (copied into the Spike).

    Returns:
        The Spike, or None when the window is within normal variation or the history is too short.
    """
    window = settings.window
    history = counts[:-window]
    if len(history) < settings.min_history:
        return None
    observed = int(sum(counts[-window:]))
    if observed < settings.min_count:
        return None
    level, variance = _ewma(history, settings.alpha)
    hourly = sum(history[-settings.hour:]) / len(history[-settings.hour:])
    expected = window * max(level, hourly, _daily_level(counts, settings))
    spread = max(window * variance, expected, 1.0)
    z = (observed - expected) / math.sqrt(spread)
    if z < settings.z_threshold or observed < settings.min_ratio * max(expected, 1.0):
        return None
    return Spike(key=key, observed=observed, expected=round(expected, 2), z=round(z, 2))


def detect_many(series: Mapping[str, Sequence[int]], settings: SpikeSettings = SpikeSettings()) -> list[Spike]:
    """Judge every series; the spikes come back strongest first.

    Args:
        series: counts per bucket (oldest first) by key.
        settings: thresholds.

    Returns:
        The spikes found, by descending z.
    """
    spikes = [spike for key, counts in series.items() if (spike := detect(counts, settings, key))]
    return sorted(spikes, key=lambda spike: (-spike.z, spike.key))


def history_buckets(settings: SpikeSettings = SpikeSettings()) -> int:
    """How many buckets of counts `detect` should get for its daily comparison to work.

    Args:
        settings: thresholds.

    Returns:
        One day plus the window and the spread around the same time a day earlier.
    """
    return BUCKETS_PER_DAY + settings.window + settings.daily_spread


def _ewma(values: Sequence[int], alpha: float) -> tuple[float, float]:
    """Exponentially weighted mean and variance (West's incremental form)."""
    mean, variance = float(values[0]), 0.0
    for value in values[1:]:
        diff = value - mean
        step = alpha * diff
        mean += step
        variance = (1 - alpha) * (variance + diff * step)
    return mean, variance


def _daily_level(counts: Sequence[int], settings: SpikeSettings) -> float:
    """Mean posts per bucket around the same time one day before the window, or 0 without that history."""
    centre = len(counts) - settings.window - BUCKETS_PER_DAY
    start, end = centre - settings.daily_spread, centre + settings.window + settings.daily_spread
    if start < 0:
        return 0.0
    around = counts[start:end]
    return sum(around) / len(around)


# Words that say nothing about what a post is about; phrases are built from the rest.
STOP_WORDS = frozenset("""
a about above after again all also am an and any are as at be because been before being below between both
but by can cant could did didnt do does doesnt doing dont down during each few for from further get got had
has have having he her here hers him his how i if im in into is isnt it its ive just me more most my no nor
not now of off on once only or other our out over own please same she should so some still such than thank
since thanks that the their them then there these they this those through to too under until up very was wasnt we
were what when where which while who why will with wont would you your yours hi hello hey any anyone help
""".split())
_TOKEN = re.compile(r"[a-z0-9][a-z0-9']*")
# Phrases kept per post: a long post should not count more than a short one.
MAX_PHRASES_PER_POST = 12


def phrases(text: str) -> set[str]:
    """The word pairs a post is about, for spotting a phrase many posts repeat.

    Stop words, URLs, numbers and one-letter words are dropped first, so
    "The app can't log in since the update" gives {"app log", "log update"}.

    Args:
        text: the post's text.

    Returns:
        At most MAX_PHRASES_PER_POST distinct two-word phrases, in folded form.
    """
    text = re.sub(r"https?://\S+", " ", fold(text[:2_000]))
    words = [w.replace("'", "") for w in _TOKEN.findall(text)]
    words = [w for w in words if len(w) > 1 and not w.isdigit() and w not in STOP_WORDS]
    found: list[str] = []
    for first, second in zip(words, words[1:], strict=False):
        phrase = f"{first} {second}"
        if first != second and phrase not in found:
            found.append(phrase)
            if len(found) == MAX_PHRASES_PER_POST:
                break
    return set(found)


def matches_phrase(text: str, phrase: str) -> bool:
    """Tell whether a post is about a phrase: one of its word pairs, or the phrase's words in its text.

    Args:
        text: the post's text.
        phrase: a phrase as `phrases` returns them, or any words a supervisor typed.

    Returns:
        True if the post yields that word pair or contains those words in that order, whole.
    """
    wanted = " ".join(_TOKEN.findall(fold(phrase)))
    if not wanted:
        return False
    folded = " ".join(_TOKEN.findall(fold(text)))
    return wanted in phrases(text) or re.search(rf"(?<![a-z0-9']){re.escape(wanted)}(?![a-z0-9'])", folded) is not None
