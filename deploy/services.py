"""``newsmon services up|down|status``: the local Kafka broker, Elasticsearch node and Prism."""

from __future__ import annotations

from newsmon.connectors.kafka import ensure_topics, pipeline_topics
from newsmon.deploy.elasticsearch_service import ElasticsearchService
from newsmon.deploy.kafka_service import KafkaService
from newsmon.deploy.local_service import LocalService, Progress, ServiceStatus
from newsmon.deploy.prism import ensure_prism
from newsmon.settings import Settings

SERVICE_NAMES = ("kafka", "elasticsearch")


def local_services(settings: Settings, progress: Progress = lambda _msg: None,
                   only: tuple[str, ...] = SERVICE_NAMES) -> list[LocalService]:
    services = [KafkaService(settings, progress), ElasticsearchService(settings, progress)]
    return [service for service in services if service.name in only]


def up(settings: Settings, progress: Progress, only: tuple[str, ...] = SERVICE_NAMES) -> list[str]:
    """Start what is not running, wait for health, create topics, make Prism available."""
    settings.home.mkdir(parents=True, exist_ok=True)
    settings.cache.mkdir(parents=True, exist_ok=True)
    lines = [service.up() for service in local_services(settings, progress, only)]
    if "kafka" in only:
        created = ensure_topics(settings, pipeline_topics(settings))
        topics = ", ".join(pipeline_topics(settings))
        lines.append(f"topics: {topics}" + (f" (created {', '.join(created)})" if created else ""))
    lines.append(f"prism: {ensure_prism(settings, progress)}")
    return lines


def down(settings: Settings, only: tuple[str, ...] = SERVICE_NAMES) -> list[str]:
    # Elasticsearch first: nothing depends on it, and stopping it frees the most memory.
    return [service.down() for service in reversed(local_services(settings, only=only))]


def status(settings: Settings) -> list[ServiceStatus]:
    return [service.status() for service in local_services(settings)]
