"""One typed settings object, fed by ``NEWSMON_*`` environment variables and CLI flags.

Every setting is declared once, in :class:`Settings`; its environment variable, CLI
flag (:mod:`newsmon.arguments`) and help text are derived from that declaration, so the
three never drift apart. Flags win over environment variables, which win over defaults.
Secrets are wrapped in :class:`Secret`, and the password of a URL is masked
(:func:`masked_url`): neither appears in ``repr``, logs, errors or ``newsmon settings``.
"""

from __future__ import annotations

import argparse
import dataclasses
import ipaddress
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from newsmon.errors import ConfigError

ENV_PREFIX = "NEWSMON_"
KAFKA_SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
KAFKA_SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
MASK = "********"
MAX_SECONDS = 86_400.0  # a day: longer waits and timeouts are typos (or .inf) rather than intent
REALERT_RULES = ("new-topic", "never")  # newsmon.analysis.alert_updates applies them


class Secret:
    """A string that refuses to be printed; call :meth:`reveal` where the value is needed."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret('{MASK}')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def _root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _default_home() -> Path:
    # Elasticsearch refuses to run as root, so as root it runs as an unprivileged user
    # that cannot enter /root: root's defaults live under /var instead.
    return Path("/var/lib/newsmon") if _root() else Path.home() / ".newsmon"


def _default_cache() -> Path:
    if _root():
        return Path("/var/cache/newsmon")
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "newsmon"


def masked_url(url: str) -> str:
    """``url`` with the password of its user info replaced by ``********``, for showing it."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:  # not a URL urlsplit can read: show no more of it than its scheme
        return url.partition("://")[0] + "://" + MASK if "@" in url else url
    if password is None:
        return url
    user, _, host = parts.netloc.rpartition("@")
    netloc = f"{user.partition(':')[0]}:{MASK}@{host}"
    return urlunsplit(parts._replace(netloc=netloc))


def _servers(text: str) -> tuple[str, ...]:
    servers = tuple(part.strip() for part in text.split(",") if part.strip())
    for server in servers:
        if "@" in server:  # user:password@host:port would be printed with every error
            msg = (f"Kafka bootstrap servers take no credentials (host:port only, here "
                   f"{server.rpartition('@')[2]!r}); set NEWSMON_KAFKA_SASL_USERNAME and "
                   "NEWSMON_KAFKA_SASL_PASSWORD instead")
            raise ConfigError(msg)
        host, _, port = server.rpartition(":")
        if not host or not port.isdigit():
            msg = f"Kafka bootstrap server must look like host:port, got {server!r}"
            raise ConfigError(msg)
    return servers


def _flag_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    msg = f"expected a boolean (true/false), got {text!r}"
    raise ConfigError(msg)


def _networks(text: str) -> tuple[str, ...]:
    networks = tuple(part.strip() for part in text.split(",") if part.strip())
    for network in networks:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError as exc:
            msg = f"expected CIDR networks such as 10.1.0.0/16, got {network!r}"
            raise ConfigError(msg) from exc
    return networks


def bounded(parse: type[int] | type[float], low: float, high: float) -> Callable[[str], Any]:
    """A parser of whole (``int``) or decimal (``float``) numbers from ``low`` to ``high``:
    ``inf``, ``nan``, ``1e999`` and ``1.5`` where a whole number is meant are refused.
    """
    kind = "a whole number" if parse is int else "a number"

    def convert(text: str) -> Any:
        try:
            value = parse(text)
        except (ValueError, OverflowError):
            value = None
        if value is None or not low <= value <= high:  # False for NaN too
            msg = f"expected {kind} from {low:g} to {high:g}, got {text!r}"
            raise ConfigError(msg)
        return value

    convert.__name__ = parse.__name__
    return convert


def _realert_rule(text: str) -> str:
    rule = text.strip().lower()
    if rule not in REALERT_RULES:
        msg = f"expected one of {', '.join(REALERT_RULES)}, got {text!r}"
        raise ConfigError(msg)
    return rule


def _heap(text: str) -> str:
    if not re.fullmatch(r"\d+[mMgG]", text.strip()):
        msg = f"a JVM heap size looks like 512m or 1g, got {text!r}"
        raise ConfigError(msg)
    return text.strip().lower()


def _setting(default: Any, help: str, parse: Callable[[str], Any] = str, *,  # noqa: A002
             default_factory: Callable[[], Any] | None = None) -> Any:
    meta = {"help": help, "parse": parse}
    if default_factory is not None:
        return field(default_factory=default_factory, metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class Settings:
    """Where newsmon's data lives and how it reaches Kafka and Elasticsearch."""

    home: Path = _setting(None, "directory for data, logs and state", Path,
                          default_factory=_default_home)
    cache: Path = _setting(None, "directory for downloaded Kafka, Elasticsearch and Prism",
                           Path, default_factory=_default_cache)
    kafka_bootstrap_servers: tuple[str, ...] = _setting(
        ("127.0.0.1:9092",), "comma-separated Kafka host:port list", _servers)
    kafka_security_protocol: str = _setting(
        "PLAINTEXT", "one of " + ", ".join(KAFKA_SECURITY_PROTOCOLS), str.upper)
    kafka_sasl_mechanism: str | None = _setting(
        None, "SASL mechanism: " + ", ".join(KAFKA_SASL_MECHANISMS), str.upper)
    kafka_sasl_username: str | None = _setting(None, "SASL user name")
    kafka_sasl_password: Secret | None = _setting(None, "SASL password", Secret)
    kafka_ssl_cafile: Path | None = _setting(None, "CA bundle that signed the brokers' certificates", Path)
    kafka_ssl_certfile: Path | None = _setting(None, "client certificate (mutual TLS)", Path)
    kafka_ssl_keyfile: Path | None = _setting(None, "client private key (mutual TLS)", Path)
    kafka_partitions: int = _setting(3, "partitions for topics newsmon creates", int)
    topic_articles: str = _setting("news.articles", "Kafka topic of incoming articles")
    topic_alerts: str = _setting("news.alerts", "Kafka topic of watch-list alerts")
    topic_deadletter: str = _setting("news.deadletter", "Kafka topic of rejected messages")
    topic_spikes: str = _setting("news.spikes", "Kafka topic of spikes (topics, people and stories "
                                 "far above their baseline)")
    es_url: str = _setting("http://127.0.0.1:9200", "Elasticsearch URL")
    es_index_articles: str = _setting("news-articles", "Elasticsearch alias of the enriched articles")
    es_index_alerts: str = _setting("news-alerts", "Elasticsearch alias of the alerts")
    es_index_watchlist: str = _setting("news-watchlist", "Elasticsearch alias of the watch entries")
    es_index_stories: str = _setting("news-stories", "Elasticsearch alias of the stories (articles grouped "
                                     "by event)")
    es_index_spikes: str = _setting("news-spikes", "Elasticsearch alias of the spikes")
    es_api_key: Secret | None = _setting(None, "Elasticsearch API key (encoded form)", Secret)
    es_username: str | None = _setting(None, "Elasticsearch user for basic auth")
    es_password: Secret | None = _setting(None, "Elasticsearch password for basic auth", Secret)
    es_ca_certs: Path | None = _setting(None, "CA bundle that signed Elasticsearch's certificate", Path)
    es_verify_certs: bool = _setting(True, "verify Elasticsearch's TLS certificate", _flag_bool)
    realert_on: str = _setting(
        "new-topic", "when a later article of an alert's story sends the alert again: new-topic (it brings "
        "a topic the watch entry follows that the alert did not have) or never", _realert_rule)
    kafka_delivery_timeout: float = _setting(
        120.0, "seconds the producer retries a message before giving up (the poller then "
        "sends it again on the feed's next poll)", bounded(float, 1, MAX_SECONDS))
    feed_concurrency: int = _setting(16, "feeds fetched at the same time", bounded(int, 1, 1024))
    feed_parse_processes: int = _setting(
        None, "processes that parse feeds beside the poller (0: parse in the poller's threads)",
        bounded(int, 0, 256), default_factory=lambda: min(os.cpu_count() or 1, 4))
    fetch_timeout: float = _setting(20.0, "seconds one feed or page download may take in all",
                                    bounded(float, 0.1, MAX_SECONDS))
    fetch_max_bytes: int = _setting(10 * 1024 * 1024, "largest feed or page accepted, in bytes "
                                    "after decompression", bounded(int, 1, 2**40))
    fetch_max_redirects: int = _setting(5, "redirects followed per download", bounded(int, 0, 100))
    full_text_all_feeds: bool = _setting(
        False, "fetch every new article's page and extract its text (for one feed: "
        "`newsmon feeds add --full-text`)", _flag_bool)
    full_text_timeout: float = _setting(
        10.0, "seconds the extraction of one article page's text may take (it runs in a process "
        "capped at 2 GiB of address space; over either, the article is sent without full text)",
        bounded(float, 0.1, MAX_SECONDS))
    fetch_allowed_networks: tuple[str, ...] = _setting(
        (), "comma-separated CIDR networks feeds and article pages may come from although not "
        "public (loopback, private and link-local addresses are refused otherwise)", _networks)
    topic_rules: Path | None = _setting(
        None, "topic rules YAML file (default: the packaged seeds/topic_rules.yaml)", Path)
    topic_model: Path | None = _setting(
        None, "learned topic model (default: the packaged seeds/topic_model.json.gz; "
        "`newsmon topics train` writes one)", Path)
    topic_encoder: str | None = _setting(
        None, "the fine-tuned topic encoder's adapter file (default: the packaged "
        "seeds/topic_encoder.npz; `newsmon topics train-encoder` writes one), or `off` to tag with "
        "the learned model alone: faster on a feed dense with these topics, less precise", str)
    gazetteer: Path | None = _setting(
        None, "gazetteer YAML file (default: the packaged seeds/gazetteer.yaml)", Path)
    web_token: Secret | None = _setting(
        None, "token `newsmon web` requires (bearer token, or basic auth with any user name and this "
        "as password); required when it binds an address other than loopback", Secret)
    kafka_heap: str = _setting("512m", "JVM heap of the local Kafka broker", _heap)
    es_heap: str = _setting("1g", "JVM heap of the local Elasticsearch node", _heap)

    def __post_init__(self) -> None:
        if not self.kafka_bootstrap_servers:
            msg = "kafka_bootstrap_servers is empty: give at least one host:port"
            raise ConfigError(msg)
        if isinstance(self.kafka_bootstrap_servers, str):
            msg = f"kafka_bootstrap_servers must be a list, got a string {self.kafka_bootstrap_servers!r}"
            raise ConfigError(msg)
        if self.kafka_security_protocol not in KAFKA_SECURITY_PROTOCOLS:
            msg = (f"kafka_security_protocol must be one of {', '.join(KAFKA_SECURITY_PROTOCOLS)}, "
                   f"got {self.kafka_security_protocol!r}")
            raise ConfigError(msg)
        if self.kafka_security_protocol.startswith("SASL_"):
            if self.kafka_sasl_mechanism not in KAFKA_SASL_MECHANISMS:
                msg = (f"{self.kafka_security_protocol} needs kafka_sasl_mechanism, one of "
                       f"{', '.join(KAFKA_SASL_MECHANISMS)}; got {self.kafka_sasl_mechanism!r}")
                raise ConfigError(msg)
            if not (self.kafka_sasl_username and self.kafka_sasl_password):
                msg = f"{self.kafka_security_protocol} needs kafka_sasl_username and kafka_sasl_password"
                raise ConfigError(msg)
        if self.realert_on not in REALERT_RULES:
            msg = f"realert_on must be one of {', '.join(REALERT_RULES)}, got {self.realert_on!r}"
            raise ConfigError(msg)
        if self.kafka_partitions < 1:
            msg = f"kafka_partitions must be at least 1, got {self.kafka_partitions}"
            raise ConfigError(msg)
        try:
            url = urlsplit(self.es_url)
            url.port  # noqa: B018 -- raises ValueError on a port out of range
        except ValueError:
            url = urlsplit("")
        if url.scheme not in ("http", "https") or not url.hostname:
            msg = (f"es_url must be an http(s) URL such as http://127.0.0.1:9200, "
                   f"got {masked_url(self.es_url)!r}")
            raise ConfigError(msg)
        if bool(self.es_username) != bool(self.es_password):
            msg = "es_username and es_password go together: give both or neither"
            raise ConfigError(msg)
        if self.es_api_key and self.es_username:
            msg = "give either es_api_key or es_username/es_password, not both"
            raise ConfigError(msg)

    @classmethod
    def load(cls, env: Mapping[str, str] | None = None, **flags: Any) -> Settings:
        """Build settings from ``NEWSMON_*`` variables in ``env`` overridden by ``flags``.

        ``flags`` holds values already parsed (by :func:`newsmon.arguments.add_settings_flags`);
        ``None`` means "not given".
        """
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for spec in dataclasses.fields(cls):
            raw = env.get(env_name(spec.name))
            if raw not in (None, ""):
                try:
                    values[spec.name] = spec.metadata["parse"](raw)
                except (ValueError, OverflowError, ConfigError) as exc:
                    msg = f"{env_name(spec.name)}: {exc}"
                    raise ConfigError(msg) from exc
            if flags.get(spec.name) is not None:
                values[spec.name] = flags[spec.name]
        return cls(**values)

    def describe(self) -> dict[str, str]:
        """Every setting as printable text; secrets and URL passwords show as ``********``."""
        shown = {}
        for spec in dataclasses.fields(self):
            value = getattr(self, spec.name)
            if isinstance(value, tuple):
                value = ",".join(value)
            shown[spec.name] = "" if value is None else masked_url(str(value))
        return shown

    def __repr__(self) -> str:
        return f"Settings({', '.join(f'{name}={value!r}' for name, value in self.describe().items())})"

    @property
    def es_port(self) -> int:
        url = urlsplit(self.es_url)
        return url.port or (443 if url.scheme == "https" else 80)

    @property
    def es_is_local(self) -> bool:
        return urlsplit(self.es_url).hostname in LOOPBACK_HOSTS

    @property
    def kafka_port(self) -> int:
        return int(self.kafka_bootstrap_servers[0].rpartition(":")[2])

    @property
    def kafka_is_local(self) -> bool:
        host = self.kafka_bootstrap_servers[0].rpartition(":")[0].strip("[]")
        return len(self.kafka_bootstrap_servers) == 1 and host in LOOPBACK_HOSTS


def env_name(setting: str) -> str:
    return ENV_PREFIX + setting.upper()


def from_args(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> Settings:
    flags = {spec.name: getattr(args, spec.name, None) for spec in dataclasses.fields(Settings)}
    return Settings.load(env, **flags)
