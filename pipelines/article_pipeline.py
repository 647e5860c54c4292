"""The newsmon pipeline: Kafka articles → parse → entities → topics → Elasticsearch.

    ReadArticles → ParseArticles → ExtractEntities → TagTopics → ClusterStories (news-stories)
                 → MatchWatchlist → WriteAlerts (news-alerts, news.alerts) → IndexArticles (news-articles)
    any step's failure on an article ─► WriteDeadLetters (news.deadletter, step and reason)
    indexed or dead-lettered ─► CommitOffsets

Streaming on DirectRunner (which hands it to Prism) by default; every Beam option
passes through, so the same code runs on Flink or Dataflow (``--runner``,
``--flink_master``, ``--project``...). Workers import it from the installed ``newsmon``
package (on a cluster: ``--extra_package`` with newsmon's sdist, or a container image).
"""

from __future__ import annotations

import argparse
import os

import apache_beam as beam
from apache_beam.options.pipeline_options import (
    PipelineOptions,
    PortableOptions,
    PrismRunnerOptions,
    StandardOptions,
)

from newsmon.connectors.kafka_group_lock import GroupLock
from newsmon.errors import ConfigError
from newsmon.lifeline import reap_descendants_on_exit
from newsmon.pipelines.cluster_stories import ClusterStories
from newsmon.pipelines.commit_offsets import CommitOffsets
from newsmon.pipelines.dead_letters import WriteDeadLetters
from newsmon.pipelines.extract_entities import ExtractEntities
from newsmon.pipelines.index_articles import IndexArticles
from newsmon.pipelines.kafka_read import ReadKafkaRecords, parse_position
from newsmon.pipelines.match_watchlist import REFRESH_SECONDS, ElasticsearchWatchlist, MatchWatchlist
from newsmon.pipelines.parse_articles import ParseArticles
from newsmon.pipelines.running import RunningPipeline
from newsmon.pipelines.tag_topics import TagTopics
from newsmon.pipelines.write_alerts import WriteAlerts
from newsmon.settings import Settings

DEFAULT_CONSUMER_GROUP = "newsmon-pipeline"
# Beam's portable runner (DirectRunner hands jobs to Prism through it) opens the job's state
# and message streams with a deadline of --job_server_timeout (300 s by default): when it
# passes, wait_until_finish fails with DEADLINE_EXCEEDED and the job is gone. A streaming
# job (or a long backfill) must outlive it, so unless given, the timeout is ten years.
JOB_SERVER_TIMEOUT = 10 * 365 * 86_400


class ArticlePipelineOptions(PipelineOptions):
    @classmethod
    def _add_argparse_args(cls, parser) -> None:
        parser.add_argument(
            "--start", default="committed", type=_checked("--start"),
            help="where to start reading news.articles: committed (the consumer group's offsets, "
                 "earliest where none), earliest, latest (only new messages), a time (2h or 7d ago, "
                 "or ISO such as 2026-11-20T08:00Z: the first message at or after it), or "
                 "PARTITION=OFFSET pairs such as 0=120,1=80")
        parser.add_argument(
            "--stop", default=None, type=_checked("--stop"),
            help="makes the run a backfill that ends by itself: end (what is on the topic when it "
                 "starts), a time (messages before it) or PARTITION=OFFSET pairs (exclusive); "
                 "a backfill leaves the consumer group's offsets alone. Default: stream until stopped")
        parser.add_argument(
            "--consumer_group", default=DEFAULT_CONSUMER_GROUP,
            help="Kafka consumer group whose offsets record what the pipeline has finished")
        parser.add_argument(
            "--watchlist_refresh", type=float, default=REFRESH_SECONDS,
            help="seconds between two reads of the watch list by each worker (default 30): an "
                 "entry added while the pipeline runs is matched from the next read on")
        parser.add_argument(
            "--nlp_processes", type=int, default=None,
            help="spaCy processes per worker, each using a core and about 400 MiB, and as many "
                 "topic-tagging processes (about 220 MiB each with the topic encoder). Default: one "
                 "per core on DirectRunner/PrismRunner (one machine), 1 on other runners (Flink and "
                 "Dataflow already run one SDK worker per core)")


def _checked(option: str):
    """An argparse type that rejects a bad position at once but keeps the text (options must serialise)."""
    def check(text: str) -> str:
        try:
            parse_position(text, option)
        except ConfigError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from exc
        return text
    return check


def build(pipeline: beam.Pipeline, settings: Settings, options: ArticlePipelineOptions):
    """Add the steps to ``pipeline``; returns the PCollection of indexed articles."""
    stop = None if options.stop is None else parse_position(options.stop, "--stop")
    records = pipeline | "ReadArticles" >> ReadKafkaRecords(
        settings, [settings.topic_articles], start=parse_position(options.start, "--start"), stop=stop,
        group=options.consumer_group)
    parsed = records | "ParseArticles" >> ParseArticles()
    processes = nlp_processes(pipeline.options)
    entities = parsed.articles | "ExtractEntities" >> ExtractEntities(processes=processes,
                                                                     gazetteer=settings.gazetteer)
    topics = entities.articles | "TagTopics" >> TagTopics(settings.topic_rules, settings.topic_model,
                                                            settings.topic_encoder, processes=processes)
    stories = topics.articles | "ClusterStories" >> ClusterStories(settings)
    matched = stories.articles | "MatchWatchlist" >> MatchWatchlist(ElasticsearchWatchlist(settings),
                                                                  refresh_seconds=options.watchlist_refresh)
    alerted = matched.articles | "WriteAlerts" >> WriteAlerts(settings)
    indexed = alerted.articles | "IndexArticles" >> IndexArticles(settings)
    dead = ((parsed.deadletter, entities.deadletter, topics.deadletter, stories.deadletter,
             matched.deadletter, alerted.deadletter, indexed.deadletter)
            | "AllDeadLetters" >> beam.Flatten()
            | "WriteDeadLetters" >> WriteDeadLetters(settings))
    if stop is None:  # a backfill leaves the consumer group's offsets alone
        _ = ((indexed.indexed | "IndexedPositions" >> beam.Map(_position), dead)
             | "AllFinished" >> beam.Flatten()
             | "CommitOffsets" >> CommitOffsets(settings, options.consumer_group))
    return indexed.indexed


def nlp_processes(options: PipelineOptions) -> int:
    """How many spaCy (and topic-tagging) processes per worker: as asked, else one per core when
    the runner is local.
    """
    asked = options.view_as(ArticlePipelineOptions).nlp_processes
    if asked is not None:
        return asked
    return (os.cpu_count() or 1) if local_runner(options) else 1


def local_runner(options: PipelineOptions) -> bool:
    return options.view_as(StandardOptions).runner in (None, "DirectRunner", "PrismRunner")


def _position(item) -> tuple[str, int, int]:
    return item.record.topic, item.record.partition, item.record.offset


def pipeline_options(argv: list[str]) -> PipelineOptions:
    """Beam options from ``argv``; DirectRunner and streaming unless told otherwise."""
    options = PipelineOptions(flags=argv)
    if not any(arg.startswith("--prism_log_level") for arg in argv):
        options.view_as(PrismRunnerOptions).prism_log_level = "warn"  # its INFO chatter is not news
    standard = options.view_as(StandardOptions)
    if standard.runner is None:
        standard.runner = "DirectRunner"
    if options.view_as(ArticlePipelineOptions).stop is None:
        standard.streaming = True
    if not any(flag.split("=")[0] in ("--job_server_timeout", "--job-server-timeout") for flag in argv):
        options.view_as(PortableOptions).job_server_timeout = JOB_SERVER_TIMEOUT
    return options


def run(settings: Settings, argv: list[str]) -> RunningPipeline:
    """Start the pipeline and return at once (``wait``, ``counters`` or ``cancel`` on the result).

    A streaming run holds its consumer group (:class:`GroupLock`) for as long as it runs: a
    second one in the same group refuses to start instead of reading every record twice.
    """
    options = pipeline_options(argv)
    ours = options.view_as(ArticlePipelineOptions)
    lock = None
    if ours.stop is None:
        lock = GroupLock(settings, ours.consumer_group, settings.topic_articles)
        lock.acquire()
    if local_runner(options):
        reap_descendants_on_exit()  # Prism and spaCy's processes go when a killed run goes
    try:
        pipeline = beam.Pipeline(options=options)
        build(pipeline, settings, ours)
        result = pipeline.run()
    except BaseException:
        if lock is not None:
            lock.release()
        raise
    return RunningPipeline(result, runner=options.view_as(StandardOptions).runner,
                           on_end=lock.release if lock is not None else lambda: None)
