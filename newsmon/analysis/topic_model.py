"""The learned topic tagger's model: one logistic-regression head per topic over
:mod:`~newsmon.analysis.topic_features`.

Stored as JSON (``seeds/topic_model.json.gz``: weights by feature name, an intercept and the
threshold chosen in training per topic), so scoring needs neither scikit-learn nor
unpickling code: a sentence's probability is the logistic of the intercept plus the
weights of its features. ``newsmon topics train`` writes the file; its ``version`` and
``trained_on`` go into each article's provenance.
"""

from __future__ import annotations

import gzip
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from newsmon.analysis.config_files import SEEDS_PACKAGE
from newsmon.errors import ConfigError

MODEL_FILE = "topic_model.json.gz"
FORMAT = "newsmon-topic-model/1"


@dataclass(frozen=True)
class TopicHead:
    """One topic's linear model; ``threshold`` is the probability from which it tags.

    ``trusted_patterns`` are rule patterns (``seeds/topic_rules.yaml`` ids) that proved
    precise on the labelled real reporting: a sentence one of them matches unhedged counts
    as certain, whatever the model says.
    """

    intercept: float
    threshold: float
    weights: Mapping[str, float]
    trusted_patterns: tuple[str, ...] = ()

    def probability(self, features: Mapping[str, float]) -> float:
        z = self.intercept + sum(self.weights.get(name, 0.0) * value for name, value in features.items())
        return 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0


@dataclass(frozen=True)
class TopicModel:
    version: str
    trained_on: str  # the labelled data and its split, for provenance
    heads: Mapping[str, TopicHead]

    @classmethod
    def load(cls, path: str | Path | None = None) -> TopicModel:
        """The packaged model, or the one at ``path``; :class:`ConfigError` when unreadable."""
        source = path or f"{SEEDS_PACKAGE}/{MODEL_FILE}"
        file = Path(path) if path is not None else resources.files(SEEDS_PACKAGE) / MODEL_FILE
        try:
            data = json.loads(gzip.decompress(file.read_bytes()))
            if data.get("format") != FORMAT:
                msg = f"format {data.get('format')!r}, expected {FORMAT!r}"
                raise ValueError(msg)
            return cls(version=data["version"], trained_on=data["trained_on"],
                       heads={name: TopicHead(intercept=float(head["intercept"]),
                                              threshold=float(head["threshold"]),
                                              weights=head["weights"],
                                              trusted_patterns=tuple(head.get("trusted_patterns", ())))
                              for name, head in data["heads"].items()})
        except (OSError, ValueError, KeyError, TypeError) as exc:
            msg = f"cannot read the topic model {source}: {exc}"
            raise ConfigError(msg) from exc

    def save(self, path: Path) -> None:
        data: dict[str, Any] = {
            "format": FORMAT, "version": self.version, "trained_on": self.trained_on,
            "heads": {name: {"intercept": round(head.intercept, 6), "threshold": round(head.threshold, 4),
                             "trusted_patterns": list(head.trusted_patterns),
                             "weights": {k: round(v, 5) for k, v in sorted(head.weights.items())}}
                      for name, head in sorted(self.heads.items())}}
        path.write_bytes(gzip.compress(json.dumps(data, ensure_ascii=False, indent=0).encode("utf-8"),
                                       mtime=0))
