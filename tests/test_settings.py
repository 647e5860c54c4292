"""Settings: environment, flags, validation, and secrets that never print."""

from pathlib import Path

import pytest

from newsmon.analysis.gazetteer import Gazetteer
from newsmon.analysis.topics import TopicRules
from newsmon.cli import build_parser
from newsmon.connectors.kafka import client_config
from newsmon.errors import ConfigError
from newsmon.settings import Secret, Settings, from_args


def test_environment_variables_fill_the_settings():
    settings = Settings.load({
        "NEWSMON_KAFKA_BOOTSTRAP_SERVERS": "k1:9092, k2:9093",
        "NEWSMON_ES_URL": "https://es.example:9243",
        "NEWSMON_KAFKA_PARTITIONS": "6",
        "NEWSMON_ES_VERIFY_CERTS": "false",
    })
    assert settings.kafka_bootstrap_servers == ("k1:9092", "k2:9093")
    assert settings.es_url == "https://es.example:9243"
    assert settings.kafka_partitions == 6
    assert settings.es_verify_certs is False
    assert not settings.kafka_is_local
    assert not settings.es_is_local


def test_flags_win_over_environment():
    args = build_parser().parse_args(["settings", "--es-url", "http://127.0.0.1:9201"])
    settings = from_args(args, {"NEWSMON_ES_URL": "http://127.0.0.1:9999"})
    assert settings.es_url == "http://127.0.0.1:9201"
    assert settings.es_port == 9201


def test_secrets_are_masked_everywhere_they_could_print():
    settings = Settings.load({"NEWSMON_ES_USERNAME": "elastic", "NEWSMON_ES_PASSWORD": "hunter2"})
    assert "hunter2" not in repr(settings)
    assert "hunter2" not in str(settings.describe())
    assert settings.es_password.reveal() == "hunter2"
    assert repr(Secret("x")) == "Secret('********')"


@pytest.mark.parametrize(("env", "message"), [
    ({"NEWSMON_KAFKA_BOOTSTRAP_SERVERS": "no-port"}, "host:port"),
    ({"NEWSMON_KAFKA_SECURITY_PROTOCOL": "SASL_SSL"}, "kafka_sasl_mechanism"),
    ({"NEWSMON_KAFKA_SECURITY_PROTOCOL": "TLS"}, "kafka_security_protocol must be one of"),
    ({"NEWSMON_ES_URL": "127.0.0.1:9200"}, r"es_url must be an http\(s\) URL"),
    ({"NEWSMON_ES_USERNAME": "elastic"}, "give both or neither"),
    ({"NEWSMON_KAFKA_PARTITIONS": "0"}, "at least 1"),
    ({"NEWSMON_ES_HEAP": "lots"}, "NEWSMON_ES_HEAP"),
    ({"NEWSMON_FETCH_TIMEOUT": "inf"}, "NEWSMON_FETCH_TIMEOUT: expected a number from 0.1 to 86400, got"),
    ({"NEWSMON_FETCH_TIMEOUT": "NaN"}, "NEWSMON_FETCH_TIMEOUT: expected a number"),
    ({"NEWSMON_KAFKA_DELIVERY_TIMEOUT": "1e999"}, "NEWSMON_KAFKA_DELIVERY_TIMEOUT: expected a number"),
    ({"NEWSMON_KAFKA_DELIVERY_TIMEOUT": "1e12"}, "NEWSMON_KAFKA_DELIVERY_TIMEOUT: expected a number"),
    ({"NEWSMON_FEED_CONCURRENCY": "1.5"}, "NEWSMON_FEED_CONCURRENCY: expected a whole number from 1 to"),
    ({"NEWSMON_FEED_PARSE_PROCESSES": "-1"}, "NEWSMON_FEED_PARSE_PROCESSES: expected a whole number"),
    ({"NEWSMON_FETCH_MAX_REDIRECTS": "-1"}, "NEWSMON_FETCH_MAX_REDIRECTS: expected a whole number"),
    ({"NEWSMON_FETCH_MAX_BYTES": "9" * 400}, "NEWSMON_FETCH_MAX_BYTES: expected a whole number"),
])
def test_bad_settings_are_refused_with_a_message_naming_them(env, message):
    with pytest.raises(ConfigError, match=message):
        Settings.load(env)


def test_a_string_is_not_accepted_where_a_list_is_meant():
    with pytest.raises(ConfigError, match="must be a list"):
        Settings(kafka_bootstrap_servers="127.0.0.1:9092")


def test_kafka_security_settings_pass_through_to_the_client():
    settings = Settings.load({
        "NEWSMON_KAFKA_SECURITY_PROTOCOL": "sasl_ssl",
        "NEWSMON_KAFKA_SASL_MECHANISM": "scram-sha-512",
        "NEWSMON_KAFKA_SASL_USERNAME": "newsmon",
        "NEWSMON_KAFKA_SASL_PASSWORD": "s3cret",
        "NEWSMON_KAFKA_SSL_CAFILE": "/etc/ssl/kafka-ca.pem",
    })
    config = client_config(settings)
    assert config["security_protocol"] == "SASL_SSL"
    assert config["sasl_mechanism"] == "SCRAM-SHA-512"
    assert config["sasl_plain_username"] == "newsmon"
    assert config["sasl_plain_password"] == "s3cret"
    assert config["ssl_cafile"] == "/etc/ssl/kafka-ca.pem"


def test_rule_and_gazetteer_files_default_to_the_packaged_ones(tmp_path):
    defaults = Settings.load({})
    assert defaults.topic_rules is None and defaults.gazetteer is None
    assert TopicRules.load(defaults.topic_rules) == TopicRules.load()
    assert Gazetteer.load(defaults.gazetteer) == Gazetteer.load()
    settings = Settings.load({"NEWSMON_TOPIC_RULES": "/etc/newsmon/rules.yaml"})
    assert settings.topic_rules == Path("/etc/newsmon/rules.yaml")
    args = build_parser().parse_args(["settings", "--gazetteer", str(tmp_path / "g.yaml")])
    assert from_args(args, {}).gazetteer == tmp_path / "g.yaml"


def test_a_password_in_the_elasticsearch_url_is_masked_wherever_settings_show():
    settings = Settings.load({"NEWSMON_ES_URL": "https://elastic:hunter2@es.example:9243"})
    assert settings.describe()["es_url"] == "https://elastic:********@es.example:9243"
    assert "hunter2" not in repr(settings) and "hunter2" not in str(settings)
    assert settings.es_url == "https://elastic:hunter2@es.example:9243"  # the client still gets it
    assert settings.es_port == 9243


@pytest.mark.parametrize("env", [
    {"NEWSMON_ES_URL": "ftp://elastic:hunter2@es.example"},
    {"NEWSMON_ES_URL": "http://elastic:hunter2@[::1"},
    {"NEWSMON_ES_URL": "http://elastic:hunter2@es.example:99999"},
    {"NEWSMON_KAFKA_BOOTSTRAP_SERVERS": "k1:9092,newsmon:hunter2@k2:9093"},
])
def test_a_refused_url_is_named_without_its_password(env):
    with pytest.raises(ConfigError) as refused:
        Settings.load(env)
    assert "hunter2" not in str(refused.value)
    assert any(words in str(refused.value) for words in ("es_url must be an http(s) URL", "no credentials"))
