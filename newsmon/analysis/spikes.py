"""What is breaking: the articles per topic, person and story in the last window against
their trailing baseline, as Europe Media Monitor flags breaking stories.

For a window ending at ``end`` (a multiple of ``step`` since the Unix epoch, UTC):

- ``count``: the articles published in ``[end - window, end)`` with that topic, person or story;
- ``baseline_count``: those published in the ``baseline`` period before the window,
  ``[end - window - baseline, end - window)``;
- ``expected = max(floor, baseline_count * window / baseline)``: the count the window would
  hold at the baseline's mean rate (per hour, with the defaults), never below ``floor``;
- a **spike** when ``count >= min_count`` and ``count >= factor * expected``;
  ``ratio = count / expected``.

The floor keeps a key never seen before from spiking on its first article or two (with
the defaults it needs ``min_count`` = 5 articles in the hour); the minimum count keeps a
rare key from spiking on noise. Pure: the counts come from elsewhere
(:mod:`newsmon.connectors.spike_store` asks Elasticsearch for them).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from newsmon.errors import ConfigError

KINDS = ("topic", "person", "story")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class SpikeConfig:
    window: timedelta = timedelta(hours=1)
    step: timedelta = timedelta(minutes=10)  # windows end on these boundaries
    baseline: timedelta = timedelta(hours=24)  # the trailing period before the window
    factor: float = 3.0
    min_count: int = 5
    floor: float = 1.0  # the least expected count of a window

    def __post_init__(self) -> None:
        for name in ("window", "step", "baseline"):
            if getattr(self, name) <= timedelta(0):
                msg = f"spike {name} must be longer than zero, got {getattr(self, name)}"
                raise ConfigError(msg)
        if not self.factor >= 1:  # NaN too
            msg = f"spike factor must be at least 1, got {self.factor}"
            raise ConfigError(msg)
        if self.min_count < 1:
            msg = f"spike minimum count must be at least 1, got {self.min_count}"
            raise ConfigError(msg)
        if not self.floor > 0:
            msg = f"spike floor must be above zero, got {self.floor}"
            raise ConfigError(msg)

    def expected(self, baseline_count: int) -> float:
        """The count a window would hold at the baseline's mean rate, at least ``floor``."""
        return max(self.floor, baseline_count * self.window.total_seconds() / self.baseline.total_seconds())


@dataclass(frozen=True)
class Window:
    baseline_start: datetime
    start: datetime
    end: datetime

    @classmethod
    def ending(cls, moment: datetime, config: SpikeConfig) -> Window:
        """The last window that ended at or before ``moment`` (aware)."""
        if moment.tzinfo is None:
            msg = f"a window needs an aware moment, got {moment!r}"
            raise ValueError(msg)
        end = EPOCH + ((moment - EPOCH) // config.step) * config.step
        start = end - config.window
        return cls(baseline_start=start - config.baseline, start=start, end=end)


def spike_id(kind: str, key: str, window_end: datetime) -> str:
    """Stable across re-runs: the same key in the same window is the same spike."""
    text = f"{kind}\n{key}\n{window_end.astimezone(UTC).isoformat()}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Spike:
    kind: str  # one of KINDS
    key: str  # topic name, canonical person name, story_id
    count: int
    baseline_count: int
    expected: float
    ratio: float
    window: Window
    label: str | None = None  # for a story, its headline

    @property
    def spike_id(self) -> str:
        return spike_id(self.kind, self.key, self.window.end)

    def to_message(self) -> dict[str, Any]:
        """The message of ``schemas/spike.schema.json`` (Kafka ``news.spikes``, ES ``news-spikes``)."""
        return {"schema_version": 1, "spike_id": self.spike_id, "kind": self.kind, "key": self.key,
                "label": self.label, "count": self.count, "baseline_count": self.baseline_count,
                "expected": round(self.expected, 4), "ratio": round(self.ratio, 4),
                "window_start": _utc(self.window.start), "window_end": _utc(self.window.end),
                "baseline_start": _utc(self.window.baseline_start)}

    @classmethod
    def from_message(cls, message: Mapping[str, Any]) -> Spike:
        window = Window(*(datetime.fromisoformat(message[name])
                          for name in ("baseline_start", "window_start", "window_end")))
        return cls(kind=message["kind"], key=message["key"], count=message["count"],
                   baseline_count=message["baseline_count"], expected=message["expected"],
                   ratio=message["ratio"], window=window, label=message.get("label"))


def find_spikes(kind: str, counts: Mapping[str, int], baseline_counts: Mapping[str, int], window: Window,
                config: SpikeConfig) -> list[Spike]:
    """The keys of ``counts`` (this window) that spike against ``baseline_counts`` (the
    baseline period; a key absent there had none), highest ratio first.
    """
    if kind not in KINDS:
        msg = f"spike kind must be one of {', '.join(KINDS)}, got {kind!r}"
        raise ValueError(msg)
    spikes = []
    for key, count in counts.items():
        before = baseline_counts.get(key, 0)
        expected = config.expected(before)
        if count >= config.min_count and count >= config.factor * expected:
            spikes.append(Spike(kind, key, count, before, expected, count / expected, window))
    return sorted(spikes, key=lambda spike: (-spike.ratio, -spike.count, spike.key))
