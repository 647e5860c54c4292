"""Fixtures for tests against the real services started by ``newsmon services up``.

Tests that need Kafka or Elasticsearch use the ``kafka`` / ``es`` fixtures (or one built on
them) and are marked ``services``. Where the services are not running they are skipped,
and reported as skipped, when run by hand; under CI (``CI`` or
``NEWSMON_REQUIRE_SERVICES`` set) they fail instead.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import socket
import uuid

import pytest

from newsmon.connectors.elasticsearch import check_elasticsearch, drop_index, make_client
from newsmon.connectors.kafka import check_kafka, ensure_topics, make_admin
from newsmon.errors import ServiceUnavailableError
from newsmon.settings import Settings

pytest_plugins = ["tests.support.notifiers"]  # webhook receiver, SMTP server, TLS files

REQUIRE_SERVICES = bool(os.environ.get("CI") or os.environ.get("NEWSMON_REQUIRE_SERVICES"))
SUMMARY = pytest.StashKey[list]()  # lines a test wants shown at the end of the run (where screenshots are)
SERVICE_FIXTURES = frozenset({"kafka", "es", "topic", "index_name", "aliases", "isolated"})


def pytest_collection_modifyitems(items) -> None:
    """Mark the tests that need the real services: ``pytest -m "not services"`` runs the rest."""
    for item in items:
        if SERVICE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.services)


def pytest_terminal_summary(terminalreporter, config) -> None:
    for line in config.stash.get(SUMMARY, []):
        terminalreporter.write_line(line)


def _unavailable(reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (services are required under CI)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings.load()


@pytest.fixture(scope="session")
def kafka(settings: Settings) -> Settings:
    try:
        check_kafka(settings)
    except ServiceUnavailableError as exc:
        _unavailable(str(exc))
    return settings


@pytest.fixture(scope="session")
def es(settings: Settings):
    try:
        check_elasticsearch(settings)
    except ServiceUnavailableError as exc:
        _unavailable(str(exc))
    client = make_client(settings)
    yield client
    client.close()


@pytest.fixture
def topic(kafka: Settings):
    """A fresh single-partition topic, deleted afterwards."""
    name = f"test.{uuid.uuid4().hex}"
    ensure_topics(kafka, [name], partitions=1)
    yield name
    admin = make_admin(kafka)
    admin.delete_topics([name])
    admin.close()


@pytest.fixture
def index_name(es):
    name = f"test-{uuid.uuid4().hex}"
    yield name
    es.indices.delete(index=name, ignore_unavailable=True)


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def feed_server():
    from tests.support.feed_server import FeedServer

    server = FeedServer()
    yield server
    server.close()


@pytest.fixture
def feed_settings(settings: Settings, tmp_path) -> Settings:
    """Settings for a poller with its own state directory and short limits. Feeds are
    parsed in the poller's threads, saving a process start per test; the end-to-end tests
    that run ``newsmon feeds run`` parse in processes as configured by default. The test
    feed server's loopback address is allowed (fetches refuse non-public addresses).
    """
    return dataclasses.replace(settings, home=tmp_path, fetch_timeout=5.0, kafka_delivery_timeout=10.0,
                               feed_parse_processes=0, fetch_allowed_networks=("127.0.0.1/32",))


@pytest.fixture(scope="session")
def seed_analysed():
    """The seed article as the pipeline's steps leave it before WriteAlerts."""
    from tests.support.pipeline import analysed

    return analysed()


@pytest.fixture
def aliases(es):
    """Elasticsearch aliases of this test only (articles, alerts, watchlist, stories, spikes), removed
    afterwards with the indices and templates behind them.
    """
    suffix = uuid.uuid4().hex[:10]
    kinds = ("articles", "alerts", "watchlist", "stories", "spikes")
    names = {kind: f"test-{kind}-{suffix}" for kind in kinds}
    yield names
    for alias in names.values():
        drop_index(es, alias)


@pytest.fixture(scope="session")
def nlp():
    """The spaCy model as the pipeline loads it, once for the whole session."""
    from newsmon.analysis.nlp import load_model

    return load_model()


@pytest.fixture(scope="session")
def gazetteer():
    from newsmon.analysis.gazetteer import Gazetteer

    return Gazetteer.load()


@pytest.fixture(scope="session")
def analyse(nlp, gazetteer):
    """text → (text, sentences, entities) through the real model, each text read once."""
    from newsmon.analysis.entities import extract_entities
    from newsmon.analysis.text import sentences_of

    @functools.cache
    def run(text: str):
        doc = nlp(text)
        return text, sentences_of(doc), extract_entities(doc, gazetteer)

    return run


@pytest.fixture
def isolated(kafka, es):
    """Settings whose topics, index alias and consumer group belong to this test only."""
    suffix = uuid.uuid4().hex[:10]
    settings = dataclasses.replace(kafka, topic_articles=f"test.articles.{suffix}",
                                   topic_deadletter=f"test.deadletter.{suffix}",
                                   topic_alerts=f"test.alerts.{suffix}",
                                   es_index_articles=f"test-articles-{suffix}",
                                   es_index_alerts=f"test-alerts-{suffix}",
                                   es_index_watchlist=f"test-watchlist-{suffix}",
                                   es_index_stories=f"test-stories-{suffix}",
                                   topic_spikes=f"test.spikes.{suffix}",
                                   es_index_spikes=f"test-spikes-{suffix}")
    topics = [settings.topic_articles, settings.topic_deadletter, settings.topic_alerts,
              settings.topic_spikes]
    ensure_topics(settings, topics, partitions=1)
    yield settings
    for alias in (settings.es_index_articles, settings.es_index_alerts, settings.es_index_watchlist,
                  settings.es_index_stories, settings.es_index_spikes):
        drop_index(es, alias)
    admin = make_admin(settings)
    admin.delete_topics(topics)
    admin.close()
