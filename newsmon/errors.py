"""Errors shared by every newsmon package."""

from pathlib import Path


class NewsmonError(Exception):
    """Base of every error newsmon raises on purpose; its message is shown to the user."""


class ConfigError(NewsmonError):
    """A setting is missing or has a value that cannot work."""


class ServiceUnavailableError(NewsmonError):
    """Kafka or Elasticsearch could not be reached at the configured address."""


class DocumentRefusedError(NewsmonError):
    """Elasticsearch refused a document for good (a mapping error, too large): retrying cannot help."""


def not_utf8(path: Path | str, exc: UnicodeDecodeError) -> ConfigError:
    """The error for a file given to newsmon that is not UTF-8 text, saying where it breaks."""
    return ConfigError(f"{path}: not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start}); "
                       "save it as UTF-8")
