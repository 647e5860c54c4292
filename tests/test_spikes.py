"""The statistic of what is breaking: windows on step boundaries, the baseline's expected
count with its floor, the factor and minimum count, and stable spike ids.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from newsmon.analysis.spikes import Spike, SpikeConfig, Window, find_spikes, spike_id
from newsmon.errors import ConfigError

CONFIG = SpikeConfig()  # one-hour window, 10-minute steps, 24 h baseline, factor 3, at least 5, floor 1
NOW = datetime(2026, 12, 1, 14, 37, 12, tzinfo=UTC)


def test_the_window_ends_on_the_last_step_boundary_and_the_baseline_precedes_it():
    window = Window.ending(NOW, CONFIG)
    assert window.end == datetime(2026, 12, 1, 14, 30, tzinfo=UTC)
    assert window.start == datetime(2026, 12, 1, 13, 30, tzinfo=UTC)
    assert window.baseline_start == datetime(2026, 11, 30, 13, 30, tzinfo=UTC)
    assert Window.ending(window.end, CONFIG) == window  # a boundary ends its own window
    assert Window.ending(window.end - timedelta(microseconds=1), CONFIG).end == window.end - CONFIG.step
    with pytest.raises(ValueError, match="aware"):
        Window.ending(NOW.replace(tzinfo=None), CONFIG)


def test_expected_is_the_baselines_hourly_mean_with_a_floor():
    assert CONFIG.expected(48) == 2.0  # 48 articles in 24 h: 2 an hour
    assert CONFIG.expected(12) == 1.0  # half an article an hour: the floor
    assert CONFIG.expected(0) == 1.0
    half_hour = SpikeConfig(window=timedelta(minutes=30), floor=0.25)
    assert half_hour.expected(48) == 1.0 and half_hour.expected(0) == 0.25


def test_a_spike_needs_the_factor_over_the_baseline_and_the_minimum_count():
    window = Window.ending(NOW, CONFIG)
    counts = {"prisoner_release": 9, "sanctions_relief": 6, "diplomatic_move": 4, "elections": 12}
    baseline = {"prisoner_release": 24, "sanctions_relief": 72, "elections": 96}
    spikes = find_spikes("topic", counts, baseline, window, CONFIG)
    # prisoner_release: 9 >= 3 x max(1, 24/24); sanctions_relief: 6 < 3 x 3; diplomatic_move: 4 < 5;
    # elections: 12 >= 3 x 4, exactly the factor
    assert [(s.key, s.count, s.baseline_count, s.expected, s.ratio) for s in spikes] == [
        ("prisoner_release", 9, 24, 1.0, 9.0), ("elections", 12, 96, 4.0, 3.0)]
    assert find_spikes("topic", {"new_topic": 5}, {}, window, CONFIG)[0].ratio == 5.0  # the floor
    assert find_spikes("topic", {"new_topic": 5}, {}, window, SpikeConfig(min_count=6)) == []
    assert find_spikes("topic", {"elections": 12}, baseline, window, SpikeConfig(factor=3.5)) == []


def test_ties_are_ordered_by_count_then_key():
    window = Window.ending(NOW, CONFIG)
    spikes = find_spikes("person", {"B": 6, "A": 6, "C": 10, "D": 12}, {"C": 96, "D": 48}, window, CONFIG)
    assert [(s.key, s.ratio) for s in spikes] == [("D", 6.0), ("A", 6.0), ("B", 6.0)]  # C: 10 < 3 x 4


def test_spike_ids_are_stable_and_differ_by_kind_key_and_window():
    window = Window.ending(NOW, CONFIG)
    [spike] = find_spikes("story", {"ab" * 16: 7}, {}, window, CONFIG)
    assert spike.spike_id == spike_id("story", "ab" * 16, window.end)
    later = Window.ending(NOW + CONFIG.step, CONFIG)
    assert len({spike_id("story", "x", window.end), spike_id("topic", "x", window.end),
                spike_id("story", "y", window.end), spike_id("story", "x", later.end)}) == 4
    # the same instant in another zone is the same window
    assert spike_id("topic", "x", window.end) == spike_id(
        "topic", "x", window.end.astimezone(datetime.now().astimezone().tzinfo))


def test_a_spike_round_trips_through_its_message():
    window = Window.ending(NOW, CONFIG)
    [spike] = find_spikes("topic", {"prisoner_release": 8}, {"prisoner_release": 30}, window, CONFIG)
    message = json.loads(json.dumps(spike.to_message()))
    assert message["window_end"] == "2026-12-01T14:30:00Z" and message["spike_id"] == spike.spike_id
    assert Spike.from_message(message) == spike


@pytest.mark.parametrize(("option", "value", "says"), [
    ("factor", 0.5, "factor must be at least 1"), ("factor", float("nan"), "factor"),
    ("min_count", 0, "minimum count"), ("floor", 0.0, "floor must be above zero"),
    ("window", timedelta(0), "window must be longer than zero"), ("step", -CONFIG.step, "step")])
def test_a_bad_setting_is_refused_by_name(option, value, says):
    with pytest.raises(ConfigError, match=says):
        SpikeConfig(**{option: value})


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="kind"):
        find_spikes("place", {"Minsk": 9}, {}, Window.ending(NOW, CONFIG), CONFIG)
