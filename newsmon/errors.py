"""Errors shared by every newsmon package."""


class NewsmonError(Exception):
    """Base of every error newsmon raises on purpose; its message is shown to the user."""


class ConfigError(NewsmonError):
    """A setting is missing or has a value that cannot work."""


class ServiceUnavailableError(NewsmonError):
    """Kafka or Elasticsearch could not be reached at the configured address."""
