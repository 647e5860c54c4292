"""TagTopics: the topic rules of ``seeds/topic_rules.yaml`` applied to each analysed article."""

from __future__ import annotations

import dataclasses

import apache_beam as beam
from apache_beam.metrics import Metrics

from newsmon.analysis.messages import AnalysedArticle
from newsmon.analysis.topics import TopicRules, tag_topics


class _Tag(beam.DoFn):
    def __init__(self) -> None:
        self._tagged = Metrics.counter("TagTopics", "topics")

    def setup(self) -> None:
        self._rules = TopicRules.load()

    def process(self, item: AnalysedArticle):
        tags = tag_topics(item.sentences, self._rules)
        self._tagged.inc(len(tags))
        topics = tuple({"name": t.name, "score": t.score, "evidence": list(t.evidence)} for t in tags)
        yield dataclasses.replace(item, topics=topics,
                                  provenance=item.provenance | {"topic_rules": self._rules.version})


class TagTopics(beam.PTransform):
    def expand(self, articles):
        return articles | "Tag" >> beam.ParDo(_Tag())
