"""Config loading: the TOML shape, ${ENV} references, and errors that say what to fix."""

from __future__ import annotations

import textwrap

import pytest

from aicmo_gateway import ConfigError, Gateway, Secret
from aicmo_gateway.config.load import load_config, parse_duration
from aicmo_gateway.plugins.registry import Registry

GOOD = """
[gateway]
store = "memory"

[capabilities.email_sending]
providers = ["primary", "backup"]
deadline = "30s"
attempt_timeout = "500ms"

[providers.primary]
type = "maildir"
path = "${MAILDIR:-/tmp/aicmo-test-maildir}"

[providers.backup]
type = "noop"
"""


@pytest.fixture(scope="module")
def registry():
    # only the core's built-ins, whatever plugins are installed alongside
    return Registry.discover(env={"AICMO_GATEWAY_LOAD_PLUGINS": ""})


def write(tmp_path, text):
    path = tmp_path / "aicmo-gateway.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems_of(tmp_path, registry, text, env=None):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path, env=env or {}, registry=registry)
    return info.value, path


def test_a_valid_file_loads_with_order_durations_and_defaults(tmp_path, registry):
    config = load_config(write(tmp_path, GOOD), env={}, registry=registry)
    cap = config.capabilities["email_sending"]
    assert cap.providers == ("primary", "backup")
    assert (cap.deadline, cap.attempt_timeout, cap.strategy) == (30.0, 0.5, "failover")
    assert config.providers["primary"].settings["path"] == "/tmp/aicmo-test-maildir"


def test_the_same_shape_is_accepted_as_a_mapping(registry):
    config = load_config(
        {
            "capabilities": {"crm_sync": {"providers": ["crm"]}},
            "providers": {"crm": {"type": "sqlite", "path": "x.db"}},
        },
        env={},
        registry=registry,
    )
    assert config.source == "<mapping>"
    assert config.providers["crm"].type == "sqlite"


def test_env_references_are_resolved_and_dollar_dollar_is_literal(registry):
    config = load_config(
        {
            "capabilities": {"crm_sync": {"providers": ["crm"]}},
            "providers": {"crm": {"type": "sqlite", "path": "/data/${TEAM}/$$crm.db"}},
        },
        env={"TEAM": "sales"},
        registry=registry,
    )
    assert config.providers["crm"].settings["path"] == "/data/sales/$crm.db"
    assert config.providers["crm"].from_env == {"path"}


def test_env_references_in_a_table_are_resolved_and_its_values_masked():
    # e.g. a webhook's headers = { X-Api-Key = "${HOOK_KEY}" }: the value, never the key
    config = load_config(
        {
            "capabilities": {"webhook_dispatch": {"providers": ["hook"]}},
            "providers": {
                "hook": {
                    "type": "webhook",
                    "headers": {"X-Api-Key": "${HOOK_KEY}", "X-Team": "sales", "${K}": "v"},
                }
            },
        },
        env={"HOOK_KEY": "k3y-fr0m-the-env", "K": "never"},
    )
    hook = config.providers["hook"]
    assert hook.settings["headers"] == {
        "X-Api-Key": "k3y-fr0m-the-env",
        "X-Team": "sales",
        "${K}": "v",
    }
    assert hook.from_env == {"headers"}
    assert "k3y-fr0m-the-env" not in repr(hook.display_settings())


def test_a_missing_variable_in_a_table_names_the_key_inside_it():
    with pytest.raises(ConfigError) as caught:
        load_config(
            {
                "capabilities": {"webhook_dispatch": {"providers": ["hook"]}},
                "providers": {"hook": {"type": "webhook", "headers": {"X-Api-Key": "${NOPE}"}}},
            },
            env={},
        )
    assert "providers.hook.headers.X-Api-Key" in str(caught.value)
    assert "environment variable NOPE is not set" in str(caught.value)


def test_an_unused_provider_table_is_a_warning_not_an_error(registry):
    config = load_config(
        {
            "capabilities": {"crm_sync": {"providers": ["crm"]}},
            "providers": {"crm": {"type": "sqlite", "path": "x.db"}, "spare": {"type": "noop"}},
        },
        env={},
        registry=registry,
    )
    assert any("providers.spare" in w and "no capability uses it" in w for w in config.warnings)


def test_an_empty_config_is_valid_and_leaves_every_capability_unconfigured(registry):
    config = load_config({}, env={}, registry=registry)
    assert config.capabilities == {}


@pytest.mark.parametrize(
    ("text", "key", "says", "fix"),
    [
        pytest.param(
            '[capabilites.email_sending]\nproviders=["a"]\n',
            "capabilites",
            "is not a known table",
            "did you mean [capabilities]",
            id="misspelt-top-level-table",
        ),
        pytest.param(
            '[gateway]\nstorage = "memory"\n',
            "gateway.storage",
            "is not a gateway setting",
            "did you mean 'store'",
            id="unknown-gateway-key",
        ),
        pytest.param(
            '[gateway]\nstore = "mongodb://127.0.0.1"\n',
            "gateway.store",
            "is not an available store",
            'store = "memory"',
            id="unavailable-store",
        ),
        pytest.param(
            '[gateway]\ndry_run = "yes"\n',
            "gateway.dry_run",
            "expected true or false",
            "dry_run = true",
            id="dry-run-not-bool",
        ),
        pytest.param(
            '[capabilities.email_send]\nproviders = ["a"]\n[providers.a]\ntype="noop"\n',
            "capabilities.email_send",
            "is not a capability",
            "did you mean 'email_sending'",
            id="unknown-capability",
        ),
        pytest.param(
            '[capabilities.email_sending]\nstrategy = "failover"\n',
            "capabilities.email_sending.providers",
            "is missing",
            "list the provider instances",
            id="missing-providers",
        ),
        pytest.param(
            "[capabilities.email_sending]\nproviders = []\n",
            "capabilities.email_sending.providers",
            "is empty",
            "list the provider instances",
            id="empty-providers",
        ),
        pytest.param(
            '[capabilities.email_sending]\nproviders = "a"\n[providers.a]\ntype="noop"\n',
            "capabilities.email_sending.providers",
            "must be a list of names",
            'providers = ["first", "second"]',
            id="providers-not-a-list",
        ),
        pytest.param(
            '[capabilities.email_sending]\nproviders = ["primry"]\n'
            '[providers.primary]\ntype="noop"\n',
            "capabilities.email_sending.providers[0]",
            "'primry' is not defined",
            "did you mean 'primary'",
            id="undefined-provider-instance",
        ),
        pytest.param(
            '[capabilities.email_sending]\nproviders = ["a", "a"]\n[providers.a]\ntype="noop"\n',
            "capabilities.email_sending.providers[1]",
            "is listed twice",
            "list each provider instance once",
            id="duplicate-in-chain",
        ),
        pytest.param(
            '[capabilities.email_sending]\nproviders = ["a"]\nstrategy = "roundrobin"\n'
            '[providers.a]\ntype="noop"\n',
            "capabilities.email_sending.strategy",
            "is not a valid strategy",
            "use one of: failover, waterfall, fanout, hedge",
            id="unknown-strategy",
        ),
        pytest.param(
            '[capabilities.email_sending]\nproviders = ["a"]\ndeadline = "30 parsecs"\n'
            '[providers.a]\ntype="noop"\n',
            "capabilities.email_sending.deadline",
            "is not a duration",
            '"30s"',
            id="bad-duration",
        ),
        pytest.param(
            '[capabilities.email_sending]\nproviders = ["a"]\nretry = 3\n'
            '[providers.a]\ntype="noop"\n',
            "capabilities.email_sending.retry",
            "is not a capability setting",
            "did you mean 'retries'",
            id="unknown-capability-key",
        ),
        pytest.param(
            '[capabilities.email_sending]\nproviders = ["a"]\n[providers.a]\npath="x"\n',
            "providers.a.type",
            "is missing",
            'add type = "<provider type>"',
            id="missing-type",
        ),
        pytest.param(
            '[capabilities.email_sending]\nproviders = ["a"]\n[providers.a]\ntype="smtp"\n',
            "providers.a.type",
            "installed email_sending types",
            "set type to one of the installed",
            id="unknown-type",
        ),
        pytest.param(
            '[capabilities.email_sending]\nproviders = ["a"]\n'
            '[providers.a]\ntype="sqlite"\npath="x.db"\n',
            "providers.a.type",
            "'sqlite' is a crm_sync type",
            "set type to one of the installed",
            id="type-of-another-port",
        ),
        pytest.param(
            '[capabilities.email_sending]\nproviders = ["a"]\n[providers.a]\ntype="maildir"\n',
            "providers.a.path",
            "is required but missing",
            "add 'path = ...'",
            id="missing-required-setting",
        ),
        pytest.param(
            '[capabilities.email_sending]\nproviders = ["a"]\n'
            '[providers.a]\ntype="maildir"\npath="x"\ndomian="example.com"\n',
            "providers.a.domian",
            "is not a setting of this provider type",
            "did you mean 'domain'",
            id="unknown-setting",
        ),
        pytest.param(
            '[capabilities.crm_sync]\nproviders = ["a"]\n'
            '[providers.a]\ntype="sqlite"\npath="x.db"\ntimeout="soon"\n',
            "providers.a.timeout",
            "expected a number, got the string 'soon'",
            "write timeout as a number",
            id="wrong-setting-type",
        ),
        pytest.param(
            '[capabilities.crm_sync]\nproviders = ["a"]\n'
            '[providers.a]\ntype="sqlite"\npath="${CRM_DB}"\n',
            "providers.a.path",
            "environment variable CRM_DB is not set",
            "export CRM_DB=",
            id="missing-env-var",
        ),
        pytest.param(
            '[capabilities.crm_sync]\nproviders = ["a"]\n'
            '[providers.a]\ntype="sqlite"\npath="${crm db}"\n',
            "providers.a.path",
            "malformed environment reference",
            "write ${NAME}",
            id="malformed-env-reference",
        ),
        pytest.param(
            '[providers."bad name"]\ntype="noop"\n',
            "providers.'bad name'",
            "is not a valid provider instance name",
            "use letters, digits",
            id="bad-instance-name",
        ),
        pytest.param(
            'providers = "noop"\n',
            "providers",
            "must be a table",
            "write it as [providers]",
            id="table-not-a-table",
        ),
    ],
)
def test_a_malformed_config_names_the_file_key_and_fix(tmp_path, registry, text, key, says, fix):
    error, path = problems_of(tmp_path, registry, text)
    matching = [p for p in error.problems if p.key == key]
    assert matching, f"no problem for {key}: {error}"
    problem = matching[0]
    assert problem.source == str(path)
    assert says in problem.message
    assert fix in problem.fix
    rendered = str(error)
    assert str(path) in rendered and key in rendered and fix in rendered


def test_invalid_toml_reports_the_line(tmp_path, registry):
    error, _ = problems_of(tmp_path, registry, "[gateway\nstore = memory\n")
    assert "is not valid TOML" in str(error) and "line 1" in str(error)


def test_a_missing_file_says_how_to_provide_one(tmp_path, registry):
    with pytest.raises(ConfigError, match="does not exist") as info:
        load_config(tmp_path / "nope.toml", registry=registry)
    assert "AICMO_GATEWAY_CONFIG" in info.value.problems[0].fix


def test_every_problem_is_reported_at_once(tmp_path, registry):
    error, _ = problems_of(
        tmp_path,
        registry,
        """
        [gateway]
        storage = 1
        [capabilities.email_sending]
        providers = ["a", "b"]
        deadline = "soon"
        [providers.a]
        type = "smtp"
        [providers.b]
        type = "maildir"
    """,
    )
    keys = {p.key for p in error.problems}
    assert {
        "gateway.storage",
        "capabilities.email_sending.deadline",
        "providers.a.type",
        "providers.b.path",
    } <= keys
    assert str(error).startswith(f"{len(error.problems)} configuration problems")


def test_a_secret_from_the_environment_never_appears_in_errors(tmp_path, registry):
    error, _ = problems_of(
        tmp_path,
        registry,
        """
        [capabilities.crm_sync]
        providers = ["a"]
        [providers.a]
        type = "sqlite"
        path = "x.db"
        timeout = "${CRM_TIMEOUT}"
    """,
        env={"CRM_TIMEOUT": "hunter2-very-secret"},
    )
    assert "hunter2-very-secret" not in str(error)
    assert "'${CRM_TIMEOUT}' is not a number" in str(error)
    assert "set CRM_TIMEOUT to" in str(error)


def test_secret_looking_settings_are_masked_when_displayed(registry):
    config = load_config(
        {
            "capabilities": {"crm_sync": {"providers": ["crm"]}},
            "providers": {"crm": {"type": "sqlite", "path": "x.db"}},
        },
        env={},
        registry=registry,
    )
    crm = config.providers["crm"]
    assert "x.db" not in repr(crm)
    shown = (
        load_config({"providers": {"p": {"type": "noop", "api_token": "tok-123"}}}, env={})
        .providers["p"]
        .display_settings()
    )
    assert shown == {"api_token": "********"}


def test_a_factory_type_error_becomes_a_config_error_naming_provider_and_key(site, make_dist):
    make_dist(
        "plainfactory",
        """
from aicmo_gateway import ProviderType, hookimpl

def make(*, host, api_key):
    class P:
        def send(self, message): ...
    return P()

@hookimpl
def aicmo_email_senders():
    return ProviderType(name="plain", factory=make)
""",
    )
    registry = Registry.discover(path=[str(site)], env={})
    with pytest.raises(ConfigError) as info:
        Gateway.from_config(
            {
                "capabilities": {"email_sending": {"providers": ["p"]}},
                "providers": {"p": {"type": "plain", "host": "h", "api_key": "k", "port": 1}},
            },
            registry=registry,
            env={},
        )
    problem = info.value.problems[0]
    assert problem.key == "providers.p.port"
    assert "is not a setting of type 'plain'" in problem.message


def test_secret_typed_settings_reach_the_factory_as_secret(site, make_dist):
    module = make_dist(
        "secretive",
        """
import attrs
from aicmo_gateway import ProviderType, Secret, hookimpl

BUILT = []

@attrs.define
class P:
    password: Secret
    def __attrs_post_init__(self):
        BUILT.append(self)
    def send(self, message): ...

@hookimpl
def aicmo_email_senders():
    return ProviderType(name="secretive", factory=P)
""",
    )
    registry = Registry.discover(path=[str(site)], env={})
    Gateway.from_config(
        {
            "capabilities": {"email_sending": {"providers": ["p"]}},
            "providers": {"p": {"type": "secretive", "password": "${PW}"}},
        },
        registry=registry,
        env={"PW": "s3cr3t-value"},
    )
    import sys

    built = sys.modules[module].BUILT[-1]
    assert isinstance(built.password, Secret)
    assert built.password.reveal() == "s3cr3t-value"
    assert "s3cr3t-value" not in repr(built)


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [
        (5, 5.0),
        (0.25, 0.25),
        ("30s", 30.0),
        ("500ms", 0.5),
        ("2m", 120.0),
        ("1h", 3600.0),
        ("1.5", 1.5),
    ],
)
def test_durations_parse_to_seconds(raw, seconds):
    assert parse_duration(raw) == seconds


@pytest.mark.parametrize("raw", ["", "soon", "-1", -1, True, "5 days"])
def test_bad_durations_are_refused(raw):
    with pytest.raises(ValueError):
        parse_duration(raw)


def test_numbers_from_the_environment_are_converted_for_numeric_settings(registry):
    gateway = Gateway.from_config(
        {
            "capabilities": {"crm_sync": {"providers": ["crm"]}},
            "providers": {"crm": {"type": "sqlite", "path": "x.db", "timeout": "${T}"}},
        },
        registry=registry,
        env={"T": "12.5"},
    )
    assert gateway.chains["crm_sync"].slots[0].provider.timeout == 12.5
