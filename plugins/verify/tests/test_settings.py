"""The ``dns`` type's config keys: defaults, accepted forms, and errors naming the key and fix."""

from __future__ import annotations

from typing import Any

import pytest
from aicmo_gateway_verify import VerifySettings
from aicmo_gateway_verify.settings import DEFAULT_TIMEOUT, Nameserver

from aicmo_gateway import ConfigError, Gateway


def build(**settings: Any) -> Gateway:
    return Gateway.from_config(
        {
            "capabilities": {"email_verification": {"providers": ["dns"]}},
            "providers": {"dns": {"type": "dns", **settings}},
        },
        env={},
    )


def test_the_defaults_use_the_system_resolver_and_look_up_mx():
    settings = VerifySettings()
    assert settings.nameservers is None and settings.servers is None
    assert settings.timeout == DEFAULT_TIMEOUT
    assert settings.check_mx is True


@pytest.mark.parametrize(
    ("entry", "server"),
    [
        ("192.0.2.53:53", Nameserver("192.0.2.53", 53)),
        (" 192.0.2.53:5353 ", Nameserver("192.0.2.53", 5353)),
        ("192.0.2.53", Nameserver("192.0.2.53", 53)),
        ("[2001:db8::53]:5300", Nameserver("2001:db8::53", 5300)),
        ("[2001:db8::53]", Nameserver("2001:db8::53", 53)),
        ("2001:db8::53", Nameserver("2001:db8::53", 53)),
    ],
)
def test_nameserver_entries_are_read_as_address_and_port(entry, server):
    settings = VerifySettings(nameservers=[entry])
    assert settings.servers == (server,)
    assert settings.nameservers == (str(server),)


@pytest.mark.parametrize(
    ("entries", "key", "words"),
    [
        (["dns.google:53"], "nameservers[0]", "does not start with an IP address"),
        (["192.0.2.53:53", "resolver"], "nameservers[1]", "does not start with an IP address"),
        (["192.0.2.53:0"], "nameservers[0]", "use a whole number from 1 to 65535"),
        (["192.0.2.53:65536"], "nameservers[0]", "use a whole number from 1 to 65535"),
        (["192.0.2.53:dns"], "nameservers[0]", "has no valid port"),
        (["[2001:db8::53"], "nameservers[0]", '"[IPv6 address]:port"'),
        (["[2001:db8::53]53"], "nameservers[0]", '"[IPv6 address]:port"'),
        ([53], "nameservers[0]", "expected a string"),
        ([], "nameservers", "is empty"),
    ],
)
def test_a_bad_nameserver_entry_names_the_entry_and_the_fix(entries, key, words):
    with pytest.raises(ValueError) as info:
        VerifySettings(nameservers=entries)
    message = str(info.value)
    assert message.startswith(f"{key}: ")
    assert words in message
    if key != "nameservers":
        assert '"192.0.2.53:53"' in message or "1 to 65535" in message


@pytest.mark.parametrize("timeout", [0, -1, float("nan"), float("inf"), True, "soon"])
def test_a_bad_timeout_names_the_key(timeout):
    with pytest.raises(ValueError, match=r"^timeout: .*(seconds|number)"):
        VerifySettings(timeout=timeout)


def test_check_mx_must_be_true_or_false():
    with pytest.raises(ValueError, match=r"^check_mx: expected true or false"):
        VerifySettings(check_mx="sometimes")  # type: ignore[arg-type]


def test_a_host_name_as_nameserver_is_a_config_error_naming_the_key_and_the_fix():
    with pytest.raises(ConfigError) as info:
        build(nameservers=["192.0.2.53:53", "dns.google:53"])
    message = str(info.value)
    assert "providers.dns" in message and "nameservers[1]: 'dns.google:53'" in message
    assert 'write "192.0.2.53:53"' in message


def test_a_single_string_for_nameservers_is_a_config_error_asking_for_an_array():
    with pytest.raises(ConfigError) as info:
        build(nameservers="192.0.2.53:53")
    assert "providers.dns.nameservers" in str(info.value)
    assert "write nameservers as an array" in str(info.value)


@pytest.mark.parametrize(
    ("timeout", "words"),
    [(0, "timeout: 0.0 must be a number of seconds above 0"), ("soon", "expected a number")],
)
def test_a_bad_timeout_is_a_config_error_naming_the_key(timeout, words):
    with pytest.raises(ConfigError) as info:
        build(timeout=timeout)
    assert "providers.dns" in str(info.value) and words in str(info.value)


def test_a_misspelt_key_is_a_config_error_suggesting_the_right_one():
    with pytest.raises(ConfigError, match=r"(?s)providers\.dns\.name_servers.*'nameservers'"):
        build(name_servers=["192.0.2.53:53"])


def test_a_timeout_from_the_environment_is_read_as_seconds(dns_server):
    gateway = Gateway.from_config(
        {
            "capabilities": {"email_verification": {"providers": ["dns"]}},
            "providers": {
                "dns": {"type": "dns", "nameservers": [dns_server.address], "timeout": "${T}"}
            },
        },
        env={"T": "1.5"},
    )
    assert gateway.chains["email_verification"].slots[0].provider.settings.timeout == 1.5
