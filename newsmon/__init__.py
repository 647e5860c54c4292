"""newsmon: a streaming news-monitoring pipeline (feeds → Kafka → Beam → Elasticsearch)."""

__version__ = "0.1.0"
