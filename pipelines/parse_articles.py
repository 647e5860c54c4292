"""ParseArticles: Kafka records → articles checked against the article schema.

A record that is not UTF-8 JSON or breaks the schema is not dropped: it leaves on the
``deadletter`` output with its bytes, its position and the reason.
"""

from __future__ import annotations

import json

import apache_beam as beam
from apache_beam.metrics import Metrics

from newsmon.analysis.messages import AnalysedArticle, Article, DeadLetter, KafkaRecord
from newsmon.pipelines.dead_letters import DEAD_LETTER
from newsmon.schemas import problems

STAGE = "parse"


def parse_record(record: KafkaRecord) -> AnalysedArticle | DeadLetter:
    """The article in ``record``, or the dead letter saying why there is none."""
    try:
        message = json.loads(record.value.decode("utf-8"))
    except UnicodeDecodeError as exc:
        return DeadLetter(record, stage=STAGE, reason=f"not UTF-8 text: {exc}")
    except json.JSONDecodeError as exc:
        return DeadLetter(record, stage=STAGE, reason=f"not JSON: {exc}")
    found = problems("article", message)
    if found:
        article_id = message.get("article_id") if isinstance(message, dict) else None
        return DeadLetter(record, stage=STAGE, article_id=article_id if isinstance(article_id, str) else None,
                          reason="does not match schemas/article.schema.json: " + "; ".join(found[:10]))
    return AnalysedArticle(record=record, article=Article.from_message(message))


class _Parse(beam.DoFn):
    def __init__(self) -> None:
        self._parsed = Metrics.counter("ParseArticles", "parsed")
        self._rejected = Metrics.counter("ParseArticles", "dead_lettered")

    def process(self, record: KafkaRecord):
        result = parse_record(record)
        if isinstance(result, AnalysedArticle):
            self._parsed.inc()
            yield result
        else:
            self._rejected.inc()
            yield beam.pvalue.TaggedOutput(DEAD_LETTER, result)


class ParseArticles(beam.PTransform):
    """Returns outputs ``articles`` (AnalysedArticle) and ``deadletter`` (DeadLetter)."""

    def expand(self, records):
        return records | "Parse" >> beam.ParDo(_Parse()).with_outputs(DEAD_LETTER, main="articles")
