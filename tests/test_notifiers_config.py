"""The notifier file: built from YAML, checked against ``schemas/notifiers.schema.json`` and
by the notifiers' constructors, with every mistake named by file, path and reason.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from newsmon.connectors.email_notifier import SMTP_SECURITY
from newsmon.connectors.notifier_config import NOTIFIER_TYPES, load_config, parse_config
from newsmon.connectors.webhook_notifier import WEBHOOK_FORMATS
from newsmon.errors import ConfigError
from newsmon.schemas import load_schema
from newsmon.settings import Secret
from tests.support.notifiers import ENV, PASSWORD, SECRET, SLACK_TOKEN


def hook(**extra) -> dict:
    return {"type": "webhook", "url": "https://hooks.example.org/x"} | extra


def mail(**extra) -> dict:
    return {"type": "email", "host": "smtp.example.org", "sender": "alerts@example.org",
            "recipients": ["desk@example.org"]} | extra


def one_list(*notifiers, **options) -> dict:
    return {"lists": {"belarus-watch": {"notifiers": list(notifiers), **options}}}


def test_configuration_is_built_from_yaml(tmp_path):
    path = tmp_path / "notifiers.yaml"
    path.write_text(
        "lists:\n"
        "  belarus-watch:\n"
        "    digest_minutes: 15\n"
        "    notifiers:\n"
        "      - {type: webhook, name: analysts, url: 'https://hooks.example.org/a/b?token=t',\n"
        "         secret_env: NEWSMON_WEBHOOK_SECRET, format: slack, timeout: 5, attempts: 2}\n"
        "      - {type: email, host: smtp.example.org, security: ssl, username: newsmon,\n"
        "         password_env: NEWSMON_SMTP_PASSWORD, sender: alerts@example.org,\n"
        "         recipients: [a@example.org]}\n"
        "  '*':\n"
        "    notifiers: [{type: webhook, url: 'http://127.0.0.1:9/all'}]\n", encoding="utf-8")
    config = load_config(path, env=ENV)
    belarus = config.lists["belarus-watch"]
    assert belarus.digest_minutes == 15 and belarus.digest_seconds == 900
    hook_, mail_ = belarus.notifiers
    assert (hook_.format, hook_.timeout, hook_.attempts, hook_.secret) == ("slack", 5, 2, Secret(SECRET))
    assert hook_.description == "belarus-watch#1 analysts (webhook https://hooks.example.org)"
    assert (mail_.port, mail_.security, mail_.password) == (465, "ssl", Secret(PASSWORD))
    assert mail_.description == "belarus-watch#2 email smtp.example.org:465"
    assert [route.name for route in config.routes("belarus-watch")] == ["belarus-watch", "*"]
    assert [route.name for route in config.routes("elsewhere")] == ["*"]


def test_the_example_file_loads():
    config = load_config(Path(__file__).parents[1] / "seeds" / "notifiers.example.yaml", env=ENV)
    assert {"belarus-watch", "heads-of-state", "*"} <= set(config.lists)


LIST = "lists/belarus-watch"
N0 = f"{LIST}/notifiers/0"  # the path of the list's first notifier


@pytest.mark.parametrize(("data", "message"), [
    # the shape of the file: schemas/notifiers.schema.json
    ([], "(root): [] is not of type 'object'"),
    (None, "(root): None is not of type 'object'"),  # an empty file
    ({"lists": {"belarus-watch": {"notifiers": [hook()]}}, "extra": 1},
     "(root): Additional properties are not allowed ('extra' was unexpected)"),
    ({"lists": {}}, "lists: {} should be non-empty"),
    ({"lists": {7: {"notifiers": [hook()]}}}, "lists: 7 is not of type 'string'"),
    ({"lists": {"belarus-watch": {"notifiers": [hook()], "digest": 5}}},
     "lists/belarus-watch: Additional properties are not allowed ('digest' was unexpected)"),
    (one_list(hook(), digest_minutes=-1), f"{LIST}/digest_minutes: -1 is less than the minimum of 0"),
    (one_list(hook(), digest_minutes=True), f"{LIST}/digest_minutes: True is not of type 'number'"),
    (one_list(), f"{LIST}/notifiers: [] should be non-empty"),
    ({"lists": {"belarus-watch": {"notifiers": hook()}}}, f"{LIST}/notifiers: {{'type': 'webhook'"),
    (one_list("webhook"), f"{N0}: 'webhook' is not of type 'object'"),
    (one_list({"url": "https://hooks.example.org/x"}), f"{N0}: 'type' is a required property"),
    (one_list({"type": "pager"}), f"{N0}/type: 'pager' is not one of ['webhook', 'email']"),
    (one_list(hook(), {"type": "webhook"}), "lists/belarus-watch/notifiers/1: 'url' is a required property"),
    (one_list(hook(method="PUT")), f"{N0}: Additional properties are not allowed ('method' was unexpected)"),
    (one_list(hook(host="smtp.example.org")), f"{N0}: Additional properties are not allowed ('host' was"),
    (one_list(hook(format="teams")), f"{N0}/format: 'teams' is not one of ['json', 'slack']"),
    (one_list(hook(timeout=0)), f"{N0}/timeout: 0 is less than or equal to the minimum of 0"),
    (one_list(hook(attempts="3")), f"{N0}/attempts: '3' is not of type 'integer'"),
    (one_list(hook(name=" ")), f"{N0}/name: ' ' does not match"),
    (one_list(mail(security="tls")), f"{N0}/security: 'tls' is not one of ['starttls', 'ssl', 'none']"),
    (one_list(mail(host=None)), f"{N0}/host: None is not of type 'string'"),
    (one_list(mail(recipients="desk@example.org")),
     f"{N0}/recipients: 'desk@example.org' is not of type 'array'"),
    (one_list(mail(port=70000)), f"{N0}/port: 70000 is greater than the maximum of 65535"),
    (one_list(mail(port=25, ca_file=None)), f"{N0}/ca_file: None is not of type 'string'"),
    # every problem the schema finds, together
    (one_list(hook(format="teams", attempts=0)),
     f"{N0}/attempts: 0 is less than the minimum of 1; {N0}/format: 'teams' is not one of"),
    # what a schema cannot say: the notifiers' constructors and the secrets
    (one_list(hook(url="ftp://example.org/x")), f"{N0} (webhook): url must be an http(s) URL"),
    (one_list(hook(secret_env="NEWSMON_UNSET_VARIABLE")),
     f"{N0} (webhook): secret_env: environment variable NEWSMON_UNSET_VARIABLE is not set"),
    (one_list(hook(name="ops", ca_file="/nonexistent/ca.pem")), f"{N0} (webhook 'ops'): ca_file"),
    (one_list(mail(host="smtp example")), f"{N0} (email): host must be a host name"),
    (one_list(mail(recipients=["not an address"])), f"{N0} (email): recipient 'not an address' is not"),
    (one_list(mail(sender="nobody")), f"{N0} (email): sender must be an e-mail address"),
    (one_list(mail(username="newsmon")), f"{N0} (email): username and password_env go together"),
    (one_list(mail(username="newsmon", password_env="NEWSMON_SMTP_PASSWORD", security="none")),
     "security none would send the password in clear text to smtp.example.org"),
])
def test_configuration_errors_name_the_path_and_the_reason(data, message):
    with pytest.raises(ConfigError) as caught:
        parse_config(data, source="notifiers.yaml", env=ENV)
    assert message in str(caught.value)
    assert str(caught.value).startswith("notifiers.yaml: ")


def test_a_file_error_names_the_file(tmp_path):
    path = tmp_path / "notifiers.yaml"
    path.write_text("lists:\n"
                    "  desk:\n"
                    "    notifiers:\n"
                    "      - {type: webhook, url: 'https://h.example.org/x'}\n"
                    "      - {type: email, host: smtp.example.org, sender: a@example.org}\n",
                    encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path, env=ENV)
    assert str(caught.value) == f"{path}: lists/desk/notifiers/1: 'recipients' is a required property"


def test_the_schema_offers_what_the_notifiers_take():
    schema = load_schema("notifiers")["$defs"]
    assert schema["notifier"]["properties"]["type"]["enum"] == list(NOTIFIER_TYPES)
    assert schema["webhook"]["properties"]["format"]["enum"] == list(WEBHOOK_FORMATS)
    assert schema["email"]["properties"]["security"]["enum"] == list(SMTP_SECURITY)


def test_a_ca_file_that_is_not_a_certificate(tmp_path):
    bogus = tmp_path / "ca.pem"
    bogus.write_text("not a certificate", encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"{N0} \(webhook\): ca_file .* holds no usable CA"):
        parse_config(one_list(hook(ca_file=str(bogus))), env=ENV)


def test_a_webhook_url_path_is_not_shown_in_errors():
    slack = f"https://hooks.slack.com/services/{SLACK_TOKEN}"
    long_name = {"type": "webhook", "name": "x" * 223, "url": slack}  # the message is cut inside the URL
    for data in ({"lists": {"belarus-watch": {"notifiers": hook(url=slack)}}},
                 {"lists": {"belarus-watch": {"notifiers": long_name}}},
                 {"lists": {"belarus-watch": [hook(url=slack)]}}):
        with pytest.raises(ConfigError) as caught:
            parse_config(data, source="notifiers.yaml", env=ENV)
        assert "https://hooks.slack.com/…" in str(caught.value)
        assert "/services" not in str(caught.value) and SLACK_TOKEN[:6] not in str(caught.value)


def test_a_secret_written_in_place_of_a_variable_name_is_not_echoed():
    with pytest.raises(ConfigError, match="not the secret itself") as caught:
        parse_config(one_list(hook(secret_env="s3cr3t-value!")), env=ENV)
    assert "s3cr3t-value!" not in str(caught.value)


def test_missing_or_broken_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read the notifier configuration"):
        load_config(tmp_path / "absent.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("lists: [unclosed", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(broken)
