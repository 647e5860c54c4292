"""TagTopics: the topic rules of ``seeds/topic_rules.yaml`` applied to each analysed article."""

from __future__ import annotations

from pathlib import Path

import apache_beam as beam
from apache_beam.metrics import Metrics

from newsmon.analysis.analyse import with_topics
from newsmon.analysis.messages import AnalysedArticle
from newsmon.analysis.topics import TopicRules
from newsmon.pipelines.dead_letters import DEAD_LETTER, dead_letter

STAGE = "topics"


class _Tag(beam.DoFn):
    def __init__(self, rules: Path | None) -> None:
        self._rules_file = rules
        self._tagged = Metrics.counter("TagTopics", "topics")

    def setup(self) -> None:
        self._rules = TopicRules.load(self._rules_file)

    def process(self, item: AnalysedArticle):
        try:
            tagged = with_topics(item, self._rules)
        except Exception as exc:  # noqa: BLE001 - one article's failure is its own dead letter
            yield dead_letter(item, STAGE, exc)
            return
        self._tagged.inc(len(tagged.topics))
        yield tagged


class TagTopics(beam.PTransform):
    """Returns outputs ``articles`` (AnalysedArticle with their topics) and ``deadletter``;
    ``rules`` is a topic-rules file (default: the packaged ``seeds/topic_rules.yaml``).
    """

    def __init__(self, rules: Path | None = None) -> None:
        super().__init__()
        self._rules = rules

    def expand(self, articles):
        return articles | "Tag" >> beam.ParDo(_Tag(self._rules)).with_outputs(DEAD_LETTER, main="articles")
