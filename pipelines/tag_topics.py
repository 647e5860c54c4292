"""TagTopics: the topic tagger (learned model and rules, :mod:`newsmon.analysis.topic_tagger`)
applied to each analysed article.
"""

from __future__ import annotations

from pathlib import Path

import apache_beam as beam
from apache_beam.metrics import Metrics

from newsmon.analysis.analyse import with_topics
from newsmon.analysis.messages import AnalysedArticle
from newsmon.analysis.topic_tagger import TopicTagger
from newsmon.pipelines.dead_letters import DEAD_LETTER, dead_letter

STAGE = "topics"


class _Tag(beam.DoFn):
    def __init__(self, rules: Path | None, model: Path | None, encoder: str | Path | None) -> None:
        self._files = rules, model, encoder
        self._tagged = Metrics.counter("TagTopics", "topics")

    def setup(self) -> None:
        self._tagger = TopicTagger.load(*self._files)

    def process(self, item: AnalysedArticle):
        try:
            tagged = with_topics(item, self._tagger)
        except Exception as exc:  # noqa: BLE001 - one article's failure is its own dead letter
            yield dead_letter(item, STAGE, exc)
            return
        self._tagged.inc(len(tagged.topics))
        yield tagged


class TagTopics(beam.PTransform):
    """Returns outputs ``articles`` (AnalysedArticle with their topics) and ``deadletter``;
    ``rules`` is a topic-rules file, ``model`` a learned model and ``encoder`` the fine-tuned
    encoder's adapters or ``"off"`` (default: the packaged ``seeds/topic_rules.yaml``,
    ``seeds/topic_model.json.gz`` and ``seeds/topic_encoder.npz``).
    """

    def __init__(self, rules: Path | None = None, model: Path | None = None,
                 encoder: str | Path | None = None) -> None:
        super().__init__()
        self._files = rules, model, encoder
        if any(file is not None for file in self._files):
            # Read once here so that a file given that cannot be read is a ConfigError when the
            # pipeline is built, not a failing setup on every worker.
            TopicTagger.load(*self._files)

    def expand(self, articles):
        return articles | "Tag" >> beam.ParDo(_Tag(*self._files)).with_outputs(DEAD_LETTER, main="articles")
