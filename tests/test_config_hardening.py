"""Config values from the environment are shown as written; numbers have declared ranges;
strings are refused for numbers in the file but converted from ``${VAR}``; deep nesting, NUL
characters and keys of another strategy get one clear problem."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from aicmo_gateway import ConfigError, Gateway
from aicmo_gateway.cli import cli
from aicmo_gateway.config.load import load_config
from aicmo_gateway.config_values import EnvText, hide_env_values, shown
from aicmo_gateway.plugins.registry import Registry
from aicmo_gateway.testing import FakeProvider
from aicmo_gateway.testing.fake_plugin import fake_registry

SECRET = "SECRET-hunter2"


@pytest.fixture(scope="module")
def registry():
    return Registry.discover(env={"AICMO_GATEWAY_LOAD_PLUGINS": ""})


def maildir(extra=None, capability=None):
    return {
        "capabilities": {"email_sending": {"providers": ["box"], **(capability or {})}},
        "providers": {"box": {"type": "maildir", "path": "mail", **(extra or {})}},
    }


def problems(data, registry, env=None):
    with pytest.raises(ConfigError) as info:
        Gateway.from_config(data, registry=registry, env=env or {})
    return info.value


# -- finding 3: values from ${VAR} are shown as written --------------------------------------


@pytest.mark.parametrize(
    ("data", "key", "reference"),
    [
        ({"gateway": {"store": "${REDIS_URL}"}}, "gateway.store", "'${REDIS_URL}'"),
        (
            {"gateway": {"store": "mongodb://${RUSER:-sales}:${REDIS_URL}@host"}},
            "gateway.store",
            "'mongodb://${RUSER:-sales}:${REDIS_URL}@host'",
        ),
        (maildir({"rate_limit": "${REDIS_URL}"}), "providers.box.rate_limit", "'${REDIS_URL}'"),
        (maildir({"daily_quota": "${REDIS_URL}"}), "providers.box.daily_quota", "'${REDIS_URL}'"),
        (
            maildir({"wait_for_limits": "${REDIS_URL}"}),
            "providers.box.wait_for_limits",
            "'${REDIS_URL}'",
        ),
        (maildir({"create": "${REDIS_URL}"}), "providers.box.create", "'${REDIS_URL}'"),
        (maildir({"path": "${REDIS_URL}\x00"}), "providers.box.path", "'${REDIS_URL}"),
    ],
)
def test_a_value_from_the_environment_is_shown_as_its_reference(registry, data, key, reference):
    # not a store URL (a redis:// one would be a valid store)
    error = problems(data, registry, {"REDIS_URL": f"mongodb://:{SECRET}@localhost:6379/0"})
    assert SECRET not in str(error)
    assert any(p.key == key and reference in p.message for p in error.problems), str(error)


def test_a_factory_refusal_shows_the_reference_not_the_value():
    registry = fake_registry(primary=FakeProvider("primary"))
    data = {
        "capabilities": {"email_sending": {"providers": ["a"]}},
        "providers": {"a": {"type": "fake", "name": "${FAKE_NAME}"}},
    }
    error = problems(data, registry, {"FAKE_NAME": SECRET})
    assert SECRET not in str(error)
    assert "no fake named '${FAKE_NAME}'" in str(error)


def test_config_records_show_references_in_their_repr(registry, tmp_path):
    config = load_config(
        {
            "gateway": {"state_dir": "${STATE}"},
            "capabilities": {"email_sending": {"providers": ["box"]}},
            "providers": {"box": {"type": "maildir", "path": "m", "rate_limit": "${RATE}"}},
        },
        env={"STATE": str(tmp_path / SECRET), "RATE": "987/s"},
        registry=registry,
    )
    assert config.state_dir == tmp_path / SECRET  # the value is used as it is
    assert SECRET not in repr(config) and "'${STATE}'" in repr(config)
    assert "987/s" not in repr(config.providers["box"])
    assert "'${RATE}'" in repr(config.providers["box"])


def test_env_text_is_the_value_for_use_and_the_reference_for_display():
    text = EnvText(f"redis://:{SECRET}@h", "redis://:${PW}@h")
    assert str(text) == f"redis://:{SECRET}@h" and type(str(text)) is str
    assert SECRET not in f"{text} {text!r} {[text]} {shown(text)} {shown({'k': [text]})}"
    assert text.variables == ["PW"]


def test_config_check_and_doctor_show_the_reference(tmp_path):
    path = tmp_path / "aicmo-gateway.toml"
    path.write_text('[gateway]\nstore = "${REDIS_URL}"\n', encoding="utf-8")
    env = {"REDIS_URL": f"mongodb://:{SECRET}@localhost/0", "AICMO_GATEWAY_LOAD_PLUGINS": ""}
    for command in (["config", "check"], ["doctor"], ["doctor", "--json"]):
        result = CliRunner().invoke(cli, [*command, "--config", str(path)], env=env)
        assert result.exit_code == 1
        assert SECRET not in result.output and "${REDIS_URL}" in result.output


# -- finding 4: declared ranges, NUL, nesting, keys of another strategy ----------------------


@pytest.mark.parametrize(
    ("capability", "key", "allowed"),
    [
        ({"attempt_timeout": 0}, "attempt_timeout", 'above 0 and at most 604800 seconds, or "off"'),
        ({"attempt_timeout": float("nan")}, "attempt_timeout", "above 0"),
        ({"deadline": float("inf")}, "deadline", "above 0"),
        ({"retries": 1e308}, "retries", "from 0 to 100"),
        ({"max_attempts": 1e308}, "max_attempts", "from 1 to 1000"),
        ({"retry_backoff": 1e308}, "retry_backoff", "from 0 to 604800 seconds"),
        ({"stall_calls": 1e308}, "stall_calls", "from 1 to 1000000"),
        ({"stall_factor": float("nan")}, "stall_factor", "from 1 to 1000"),
        ({"retry_budget": {"ratio": float("inf")}}, "retry_budget.ratio", "from 0 to 100"),
    ],
)
def test_a_capability_number_out_of_its_range_is_refused(registry, capability, key, allowed):
    error = problems(maildir(capability=capability), registry)
    [problem] = error.problems
    assert problem.key == f"capabilities.email_sending.{key}"
    assert allowed in problem.message and problem.fix.startswith(f"write {key.split('.')[-1]} =")


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"gateway": {"audit_size": 1e308}}, "gateway.audit_size"),
        (maildir({"daily_quota": float("inf")}), "providers.box.daily_quota"),
        (maildir({"health": {"open_seconds": 1e308}}), "providers.box.health.open_seconds"),
        (
            maildir({"health": {"open_max_seconds": float("nan")}}),
            "providers.box.health.open_max_seconds",
        ),
        (
            maildir({"rate_limit": {"per_second": float("nan")}}),
            "providers.box.rate_limit.per_second",
        ),
    ],
)
def test_other_numbers_out_of_range_are_refused(registry, data, key):
    error = problems(data, registry)
    assert [p.key for p in error.problems] == [key]


def test_zero_stays_valid_where_it_has_a_meaning(registry):
    config = load_config(
        maildir(
            {"daily_quota": 0, "health": {"open_seconds": 0, "consecutive_failures": 0}},
            {"retries": 0, "retry_backoff": 0},
        )
        | {"gateway": {"audit_size": 0}},
        env={},
        registry=registry,
    )
    assert config.audit_size == 0
    assert config.capabilities["email_sending"].policy.retry_backoff == 0.0


def test_a_nul_character_in_a_path_is_refused(registry):
    error = problems(maildir({"path": "mail\x00box"}), registry)
    assert [p.key for p in error.problems] == ["providers.box.path"]
    assert "NUL" in error.problems[0].message


def test_hedge_delay_under_failover_is_an_error_not_ignored(registry):
    error = problems(maildir(capability={"hedge_delay": "200ms"}), registry)
    [problem] = error.problems
    assert problem.key == "capabilities.email_sending.hedge_delay"
    assert problem.fix == 'remove it, or set strategy = "hedge"'


@pytest.mark.parametrize("opening", ["[", "{ a = "])
def test_config_check_reports_deep_nesting_without_a_traceback(tmp_path, opening):
    closing = "]" if opening == "[" else " }"
    inner = "" if opening == "[" else "1"
    path = tmp_path / "aicmo-gateway.toml"
    path.write_text(f"[gateway]\nstore = {opening * 500}{inner}{closing * 500}\n", encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["config", "check", "--config", str(path)], env={"AICMO_GATEWAY_LOAD_PLUGINS": ""}
    )
    assert result.exit_code == 1
    assert "Traceback" not in result.output and "RecursionError" not in result.output
    assert "line 2 (gateway.store): nests arrays or inline tables more than 32" in result.output


def test_a_deeply_nested_mapping_is_refused(registry):
    deep: list = []
    for _ in range(500):
        deep = [deep]
    error = problems(maildir({"deep": deep}), registry)
    assert error.problems[0].key.startswith("providers.box.deep[0]")


# -- finding 10: strings for numbers and booleans --------------------------------------------


def test_a_string_for_a_number_or_boolean_in_the_file_is_refused(registry):
    error = problems(
        {
            "capabilities": {
                "crm_sync": {"providers": ["crm"]},
                "email_sending": {"providers": ["box"]},
            },
            "providers": {
                "crm": {"type": "sqlite", "path": "x.db", "timeout": "30"},
                "box": {"type": "maildir", "path": "m", "create": "yes"},
            },
        },
        registry,
    )
    fixes = {p.key: p.fix for p in error.problems}
    assert fixes == {
        "providers.crm.timeout": "write timeout = 30 without quotes",
        "providers.box.create": "write create = true without quotes",
    }


def test_numbers_and_booleans_from_the_environment_are_converted(registry, tmp_path):
    gateway = Gateway.from_config(
        {
            "capabilities": {"email_sending": {"providers": ["box"]}},
            "providers": {
                "box": {"type": "maildir", "path": str(tmp_path), "create": "${CREATE}"},
            },
        },
        registry=registry,
        env={"CREATE": "yes"},
    )
    assert gateway.chains["email_sending"].slots  # built: "yes" from the environment is true


def test_dry_run_is_never_substituted(registry):
    error = problems({"gateway": {"dry_run": "${DRY}"}}, registry, {"DRY": "true"})
    assert [p.key for p in error.problems] == ["gateway.dry_run"]


def test_a_file_starting_with_a_byte_order_mark_is_read(registry, tmp_path):
    path = tmp_path / "aicmo-gateway.toml"
    path.write_bytes(b'\xef\xbb\xbf[gateway]\nstore = "memory"\n')
    assert load_config(path, env={}, registry=registry).store == "memory"


@pytest.mark.parametrize(
    ("text", "given", "written", "expected"),
    [
        ("preset: 'gmial' is not known", "gmial", "gmial", "preset: '${P}' is not known"),
        ("timeout: 0.0 must be above 0", 0.0, "0", "timeout: '${P}' must be above 0"),
        ("port: 70000 is not a TCP port", 70000, "70000", "port: '${P}' is not a TCP port"),
        (
            "at /srv/SECRET-x/ca.pem: no file",
            "/srv/SECRET-x/ca.pem",
            "/srv/SECRET-x/ca.pem",
            "at '${P}': no file",
        ),
    ],
)
def test_a_provider_message_gets_references_in_place_of_values(text, given, written, expected):
    assert hide_env_values(text, [(given, EnvText(written, "${P}"))]) == expected


def test_providers_are_handed_plain_strings_not_references(registry, tmp_path):
    gateway = Gateway.from_config(
        {
            "capabilities": {"email_sending": {"providers": ["box"]}},
            "providers": {"box": {"type": "maildir", "path": "${BOX}", "domain": "${DOMAIN}"}},
        },
        registry=registry,
        env={"BOX": str(tmp_path / "box"), "DOMAIN": "example.com"},
    )
    provider = gateway.chains["email_sending"].slots[0].provider
    assert type(provider.domain) is str and provider.domain == "example.com"
