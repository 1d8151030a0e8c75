"""Spike detection on synthetic traffic: a known spike is found; quiet nights and daily rhythm raise nothing."""

import math
import random

from routing.spikes import BUCKETS_PER_DAY, SpikeSettings, detect, detect_many, history_buckets, matches_phrase, phrases


def daily_traffic(days: int, peak: float, seed: int) -> list[int]:
    """Poisson counts per 5 minutes following a day's rhythm: near zero at night, `peak` mid-afternoon."""
    rng = random.Random(seed)
    counts = []
    for bucket in range(days * BUCKETS_PER_DAY):
        hour = (bucket % BUCKETS_PER_DAY) / 12
        rate = 0.2 + peak * max(0.0, math.sin(math.pi * (hour - 6) / 16)) ** 2  # 06:00-22:00 hump
        counts.append(_poisson(rng, rate))
    return counts


def _poisson(rng: random.Random, rate: float) -> int:
    """A Poisson draw (Knuth's method; rates here are small)."""
    limit, count, product = math.exp(-rate), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def alarms(counts: list[int], start: int) -> list[int]:
    """The buckets from `start` on at which the detector, run on the history so far, raises a spike."""
    return [end for end in range(start, len(counts) + 1) if detect(counts[:end])]


def test_a_known_spike_is_found_within_its_first_window():
    """An outage adding 15 posts per 5 minutes on a queue that gets about 4 is caught in its first 15 minutes."""
    counts = daily_traffic(days=2, peak=4, seed=1)
    start = BUCKETS_PER_DAY + 14 * 12  # 14:00 on day two
    for bucket in range(start, start + 6):
        counts[bucket] += 15
    found = alarms(counts[:start + 6], start + 1)
    assert found and found[0] <= start + 3
    spike = detect(counts[:start + 3], key="billing")
    assert spike.key == "billing" and spike.observed >= 45 and spike.ratio >= 3 and spike.z >= 4


def test_normal_daily_variation_raises_no_alarm():
    """Days of morning rises and evening falls, with noise, quiet to busy queues: not a single alarm."""
    for seed in range(12):
        for peak in (4, 12, 30):
            counts = daily_traffic(days=3, peak=peak, seed=seed)
            assert alarms(counts, history_buckets()) == [], (seed, peak)


def test_a_quiet_period_raises_no_alarm():
    """Overnight silence with a few stray posts, then a handful at once, is below the minimum count."""
    counts = [0] * 60 + [1, 0, 0, 2, 0, 0] * 10 + [0, 4, 5]
    assert alarms(counts, 6) == []


def test_too_little_history_is_not_judged():
    """A brand-new tag has no baseline yet: nothing is said about it."""
    assert detect([0, 0, 40, 40, 40]) is None


def test_a_big_queues_noise_is_not_a_spike_but_a_big_jump_is():
    """50 posts per bucket with ordinary noise stays quiet; tripling it is a spike."""
    rng = random.Random(3)
    counts = [_poisson(rng, 50) for _ in range(100)]
    assert alarms(counts, 12) == []
    assert detect(counts + [150, 160, 155]) is not None


def test_detect_many_returns_only_the_spiking_series_strongest_first():
    """Several series at once: the quiet ones are left out; the largest z comes first."""
    base = [3, 2, 4, 3, 3, 2, 4, 3, 3, 2]
    spikes = detect_many({"billing": base + [20, 25, 30], "tech": base + [3, 2, 4], "login error": base + [40, 40, 40]})
    assert [spike.key for spike in spikes] == ["login error", "billing"]


def test_settings_change_the_thresholds():
    """A stricter minimum count silences a small spike."""
    counts = [1] * 20 + [8, 8, 8]
    assert detect(counts) is not None
    assert detect(counts, SpikeSettings(min_count=30)) is None


def test_phrases_are_word_pairs_without_stop_words():
    """Folded, stop words and links dropped, so differently written posts share their phrase."""
    assert phrases("The app can't log in since the update https://x.example/a") == {"app log", "log update"}
    assert "login error" in phrases("LOGIN ERROR again!!") & phrases("I get a login error on the site")
    assert matches_phrase("Login error when paying", "login error")
    assert matches_phrase("The app can't log in", "app log")
    assert matches_phrase("I can't log in since Monday", "Can't log in")
    assert not matches_phrase("error login", "login error")
    assert not matches_phrase("catalog income", "log in")
    assert not matches_phrase("anything", "  ")
    assert phrases("") == set()
