"""The malformed configs of ``test_malformed_configs``: each with the key and fix it must name.

Every value put in the environment holds ``SECRET``, and no output may contain that word: a
value from ``${VAR}`` is shown as the reference written in the file, never expanded.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs


@attrs.frozen
class Case:
    id: str
    #: the config: TOML text (bytes for undecodable files) or a mapping
    source: str | bytes | Mapping[str, Any]
    #: the key the problem names (a substring of the dotted key)
    key: str
    #: a part of the fix
    fix: str
    env: Mapping[str, str] = attrs.field(factory=dict)


def cap(lines: str, capability: str = "email_sending") -> str:
    """A capability table with ``lines`` added, served by a valid maildir provider."""
    return (
        f'[capabilities.{capability}]\nproviders = ["box"]\n{lines}\n'
        '[providers.box]\ntype = "maildir"\npath = "mail"\n'
    )


def provider(lines: str, ptype: str = "maildir", capability: str = "email_sending") -> str:
    """A valid capability whose one provider table has ``lines``."""
    path = 'path = "mail"\n' if ptype == "maildir" else ""
    return (
        f'[capabilities.{capability}]\nproviders = ["box"]\n'
        f'[providers.box]\ntype = "{ptype}"\n{path}{lines}\n'
    )


def crm(lines: str) -> str:
    return provider(f'path = "crm.db"\n{lines}', "sqlite", "crm_sync")


def smtp(lines: str) -> str:
    return provider(lines, "smtp")


def imap(lines: str) -> str:
    return provider(lines, "imap", "reply_fetching")


def health(lines: str) -> str:
    return provider(f"health = {{ {lines} }}")


RANGE = "out of range"
DEEP = 500

GATEWAY = [
    Case(
        "store-url-from-env",
        '[gateway]\nstore = "${REDIS_URL}"\n',
        "gateway.store",
        'store = "memory"',
        {"REDIS_URL": "memcached://:SECRET-pw@localhost:11211/0"},  # a store there is not
    ),
    Case(
        "store-url-with-two-references",
        '[gateway]\nstore = "mongodb://${RUSER}:${RPASS}@host:27017/0"\n',
        "gateway.store",
        'store = "memory"',
        {"RUSER": "SECRET-user", "RPASS": "SECRET-pass"},
    ),
    Case("dry-run-string", '[gateway]\ndry_run = "yes"\n', "gateway.dry_run", "without quotes"),
    Case("dry-run-number", "[gateway]\ndry_run = 1\n", "gateway.dry_run", "dry_run = true"),
    Case("audit-size-negative", "[gateway]\naudit_size = -1\n", "gateway.audit_size", "1000"),
    Case("audit-size-huge", "[gateway]\naudit_size = 1e308\n", "gateway.audit_size", "1000"),
    Case("audit-size-nan", "[gateway]\naudit_size = nan\n", "gateway.audit_size", "1000"),
    Case("audit-size-inf", "[gateway]\naudit_size = inf\n", "gateway.audit_size", "1000"),
    Case("audit-size-string", '[gateway]\naudit_size = "1000"\n', "gateway.audit_size", "quotes"),
    Case("audit-size-too-many", "[gateway]\naudit_size = 10000001\n", "gateway.audit_size", "1000"),
    Case("state-dir-nul", '[gateway]\nstate_dir = "st\\u0000ate"\n', "gateway.state_dir", "remove"),
    Case(
        "state-dir-nul-from-env",
        '[gateway]\nstate_dir = "${STATE}"\n',
        "gateway.state_dir",
        "remove",
        {"STATE": "/tmp/SECRET\x00x"},
    ),
    Case("state-dir-number", "[gateway]\nstate_dir = 3\n", "gateway.state_dir", "state_dir = "),
    Case("state-dir-empty", '[gateway]\nstate_dir = ""\n', "gateway.state_dir", "state_dir = "),
    Case("gateway-unknown-key", "[gateway]\ndryrun = true\n", "gateway.dryrun", "dry_run"),
    Case("unknown-table", "[gatway]\nstore = 1\n", "gatway", "did you mean [gateway]"),
    Case("gateway-not-a-table", "gateway = 3\n", "gateway", "[gateway]"),
]

CAPABILITIES = [
    Case("attempt-timeout-zero", cap("attempt_timeout = 0"), ".attempt_timeout", '"off"'),
    Case("attempt-timeout-nan", cap("attempt_timeout = nan"), ".attempt_timeout", "10s"),
    Case("attempt-timeout-inf", cap("attempt_timeout = inf"), ".attempt_timeout", "10s"),
    Case("attempt-timeout-huge", cap("attempt_timeout = 1e308"), ".attempt_timeout", "10s"),
    Case("attempt-timeout-negative", cap("attempt_timeout = -1"), ".attempt_timeout", "10s"),
    Case("attempt-timeout-zero-text", cap('attempt_timeout = "0s"'), ".attempt_timeout", "10s"),
    Case("deadline-zero", cap("deadline = 0"), ".deadline", "30s"),
    Case("deadline-word", cap('deadline = "soon"'), ".deadline", "30s"),
    Case("deadline-boolean", cap("deadline = true"), ".deadline", "30s"),
    Case("deadline-days", cap('deadline = "5 days"'), ".deadline", "30s"),
    Case("retries-huge", cap("retries = 1e308"), ".retries", "retries = 2"),
    Case("retries-negative", cap("retries = -1"), ".retries", "retries = 2"),
    Case("retries-nan", cap("retries = nan"), ".retries", "retries = 2"),
    Case("retries-fraction", cap("retries = 2.5"), ".retries", "retries = 2"),
    Case("retries-string", cap('retries = "2"'), ".retries", "without quotes"),
    Case("retries-too-many", cap("retries = 101"), ".retries", "retries = 2"),
    Case("retries-string-out-of-range", cap('retries = "1e308"'), ".retries", "retries = 2"),
    Case("max-attempts-zero", cap("max_attempts = 0"), ".max_attempts", "max_attempts = 3"),
    Case("max-attempts-inf", cap("max_attempts = inf"), ".max_attempts", "max_attempts = 3"),
    Case("max-attempts-huge", cap("max_attempts = 1e308"), ".max_attempts", "max_attempts = 3"),
    Case("backoff-inf", cap("retry_backoff = inf"), ".retry_backoff", "100ms"),
    Case("backoff-huge", cap("retry_backoff = 1e308"), ".retry_backoff", "100ms"),
    Case("backoff-off", cap('retry_backoff = "off"'), ".retry_backoff", "100ms"),
    Case("backoff-negative", cap("retry_backoff = -0.5"), ".retry_backoff", "100ms"),
    Case("stall-calls-huge", cap("stall_calls = 1e308"), ".stall_calls", "stall_calls = 5"),
    Case("stall-calls-zero", cap("stall_calls = 0"), ".stall_calls", "stall_calls = 5"),
    Case("stall-calls-nan", cap("stall_calls = nan"), ".stall_calls", "stall_calls = 5"),
    Case("stall-factor-low", cap("stall_factor = 0.5"), ".stall_factor", "stall_factor = 4"),
    Case("stall-factor-inf", cap("stall_factor = inf"), ".stall_factor", "stall_factor = 4"),
    Case("stall-factor-nan", cap("stall_factor = nan"), ".stall_factor", "stall_factor = 4"),
    Case(
        "hedge-delay-under-failover",
        cap('hedge_delay = "200ms"'),
        ".hedge_delay",
        'strategy = "hedge"',
    ),
    Case(
        "hedge-delay-under-waterfall",
        cap('strategy = "waterfall"\nhedge_delay = "1s"', "reply_fetching"),
        ".hedge_delay",
        'strategy = "hedge"',
    ),
    Case(
        "hedge-delay-nan",
        cap('strategy = "hedge"\nhedge_delay = nan', "reply_fetching"),
        ".hedge_delay",
        "200ms",
    ),
    Case("budget-ratio-nan", cap("retry_budget = { ratio = nan }"), ".retry_budget.ratio", "0.2"),
    Case(
        "budget-ratio-huge", cap("retry_budget = { ratio = 1e308 }"), ".retry_budget.ratio", "0.2"
    ),
    Case(
        "budget-floor-negative",
        cap("retry_budget = { min_per_second = -1 }"),
        ".retry_budget.min_per_second",
        "min_per_second = 1",
    ),
    Case("budget-unknown-key", cap("retry_budget = { rate = 1 }"), ".retry_budget.rate", "ratio"),
    Case("budget-not-a-table", cap("retry_budget = 5"), ".retry_budget", "ratio = 0.2"),
    Case("strategy-unknown", cap('strategy = "roundrobin"'), ".strategy", "failover"),
    Case("strategy-number", cap("strategy = 3"), ".strategy", "failover"),
    Case("strategy-for-reads", cap('strategy = "waterfall"'), ".strategy", '"fanout"'),
    Case("order-list", cap('order = ["config"]'), ".order", "config, health"),
    Case("when-all-down-unknown", cap('when_all_down = "panic"'), ".when_all_down", "closest"),
    Case(
        "when-all-down-defer-without-outbox",
        cap('when_all_down = "defer"'),
        "email_sending.when_all_down",
        'outbox = "sqlite:///outbox.db"',
    ),
    Case(
        "when-all-down-defer-a-read",
        '[gateway]\noutbox = "sqlite:///outbox.db"\n[capabilities.email_verification]\n'
        'providers = ["box"]\nwhen_all_down = "defer"\n[providers.box]\ntype = "noop"\n',
        "email_verification.when_all_down",
        '"fail", "wait" or "closest"',
    ),
    Case(
        "after-ambiguous-boolean",
        cap("fallback_after_ambiguous = true"),
        ".fallback_after_ambiguous",
        "idempotent",
    ),
    Case(
        "on-error-bad-reaction",
        cap('on_error = { Unavailable = "again" }'),
        ".on_error.Unavailable",
        "fallback",
    ),
    Case("on-error-bad-name", cap('on_error = { Bogus = "retry" }'), ".on_error.Bogus", "use"),
    Case("on-error-not-a-table", cap('on_error = "retry"'), ".on_error", "Unavailable"),
    Case("capability-unknown-key", cap("retry = 2"), ".retry", "retries"),
    Case(
        "capability-unknown",
        '[capabilities.emails]\nproviders = ["a"]\n',
        "capabilities.emails",
        "email_sending",
    ),
    Case(
        "providers-empty",
        "[capabilities.email_sending]\nproviders = []\n",
        ".providers",
        "providers =",
    ),
    Case(
        "providers-string",
        '[capabilities.email_sending]\nproviders = "box"\n',
        ".providers",
        "providers =",
    ),
    Case(
        "providers-twice",
        cap("").replace('["box"]', '["box", "box"]'),
        ".providers[1]",
        "once",
    ),
    Case(
        "providers-undefined",
        '[capabilities.email_sending]\nproviders = ["ghost"]\n',
        ".providers[0]",
        "[providers.ghost]",
    ),
    Case(
        "providers-numbers",
        "[capabilities.email_sending]\nproviders = [1, 2]\n",
        ".providers",
        "providers =",
    ),
]

PROVIDER_POLICIES = [
    Case("daily-quota-negative", provider("daily_quota = -5"), ".daily_quota", "500"),
    Case("daily-quota-huge", provider("daily_quota = 1e308"), ".daily_quota", "500"),
    Case("daily-quota-nan", provider("daily_quota = nan"), ".daily_quota", "500"),
    Case("daily-quota-string", provider('daily_quota = "500"'), ".daily_quota", "quotes"),
    Case(
        "daily-quota-from-env",
        provider('daily_quota = "${QUOTA}"'),
        ".daily_quota",
        "set QUOTA",
        {"QUOTA": "SECRET-many"},
    ),
    Case("quota-period", provider("quotas = { fortnight = 3 }"), ".quotas.fortnight", "day"),
    Case("quota-inf", provider("quotas = { day = inf }"), ".quotas.day", "500"),
    Case("quotas-not-a-table", provider("quotas = 5"), ".quotas", "day = 500"),
    Case("rate-word", provider('rate_limit = "fast"'), ".rate_limit", '"10/s"'),
    Case(
        "rate-from-env",
        provider('rate_limit = "${RATE}"'),
        ".rate_limit",
        '"10/s"',
        {"RATE": "SECRET-rate"},
    ),
    Case(
        "rate-nan",
        provider("rate_limit = { per_second = nan }"),
        ".rate_limit.per_second",
        "per_second = 10",
    ),
    Case(
        "rate-zero",
        provider("rate_limit = { per_second = 0 }"),
        ".rate_limit.per_second",
        "per_second = 10",
    ),
    Case(
        "rate-burst-huge",
        provider("rate_limit = { per_second = 10, burst = 1e308 }"),
        ".rate_limit.burst",
        "burst = 20",
    ),
    Case(
        "rate-huge-count",
        provider('rate_limit = "99999999999999999999/s"'),
        ".rate_limit",
        '"10/s"',
    ),
    Case(
        "rate-without-per-second",
        provider("rate_limit = { burst = 3 }"),
        ".rate_limit.per_second",
        "per_second = 10",
    ),
    Case("wait-string", provider('wait_for_limits = "yes"'), ".wait_for_limits", "quotes"),
    Case(
        "wait-from-env",
        provider('wait_for_limits = "${WAIT}"'),
        ".wait_for_limits",
        "set WAIT",
        {"WAIT": "SECRET-maybe"},
    ),
    Case(
        "provider-on-error",
        provider("on_error = { Unavailable = 3 }"),
        ".on_error.Unavailable",
        "retry",
    ),
    Case("health-window-size", health("window_size = -1"), ".health.window_size", "20"),
    Case("health-window-seconds", health("window_seconds = inf"), ".health.window_seconds", "off"),
    Case("health-min-calls", health("min_calls = 1e308"), ".health.min_calls", "10"),
    Case(
        "health-failure-rate",
        health("failure_rate_threshold = 1.5"),
        ".health.failure_rate_threshold",
        "0.5",
    ),
    Case(
        "health-degraded", health("degraded_threshold = nan"), ".health.degraded_threshold", "0.1"
    ),
    Case(
        "health-consecutive",
        health("consecutive_failures = 2.5"),
        ".health.consecutive_failures",
        "5",
    ),
    Case("health-slow-call", health("slow_call_seconds = -1"), ".health.slow_call_seconds", "off"),
    Case("health-open-seconds", health("open_seconds = 1e308"), ".health.open_seconds", "2"),
    Case("health-open-multiplier", health("open_multiplier = 0.5"), ".health.open_multiplier", "2"),
    Case("health-open-max", health("open_max_seconds = nan"), ".health.open_max_seconds", "5"),
    Case("health-recovery", health("recovery_successes = -3"), ".health.recovery_successes", "10"),
    Case("health-probes-off", health('half_open_probes = "off"'), ".health.half_open_probes", "1"),
    Case("health-ewma", health("ewma_alpha = 2"), ".health.ewma_alpha", "0.2"),
    Case("health-unknown-key", health("open_second = 3"), ".health.open_second", "open_seconds"),
    Case("health-not-a-table", provider("health = 5"), ".health", "consecutive_failures"),
]

SETTINGS = [
    Case(
        "path-nul",
        provider('path = "mail\\u0000box"').replace('path = "mail"\n', ""),
        ".path",
        "remove",
    ),
    Case(
        "path-nul-from-env",
        provider('path = "${BOX}"').replace('path = "mail"\n', ""),
        ".path",
        "remove",
        {"BOX": "/tmp/SECRET\x00box"},
    ),
    Case("bool-string", provider('create = "yes"'), ".create", "create = true without quotes"),
    Case("bool-number", provider("create = 1"), ".create", "create"),
    Case("float-nan", crm("timeout = nan"), ".timeout", "timeout"),
    Case("float-string", crm('timeout = "30"'), ".timeout", "timeout = 30 without quotes"),
    Case(
        "float-from-env",
        crm('timeout = "${CRM_TIMEOUT}"'),
        ".timeout",
        "set CRM_TIMEOUT",
        {"CRM_TIMEOUT": "SECRET-slow"},
    ),
    Case(
        "unset-variable-default-not-a-number",
        crm('timeout = "${NOPE:-soon}"'),
        ".timeout",
        "set NOPE",
    ),
    Case("setting-unknown", provider('pathh = "x"'), ".pathh", "did you mean 'path'"),
    Case(
        "setting-missing",
        '[capabilities.email_sending]\nproviders = ["box"]\n[providers.box]\ntype = "maildir"\n',
        ".path",
        "path = ...",
    ),
    Case(
        "type-missing",
        '[capabilities.email_sending]\nproviders = ["box"]\n[providers.box]\npath = "x"\n',
        "providers.box.type",
        'type = "',
    ),
    Case(
        "type-number",
        '[capabilities.email_sending]\nproviders = ["box"]\n[providers.box]\ntype = 3\n',
        "providers.box.type",
        'type = "',
    ),
    Case(
        "type-unknown",
        '[capabilities.email_sending]\nproviders = ["box"]\n[providers.box]\ntype = "sendgrid"\n',
        "providers.box.type",
        "install the plugin",
    ),
    Case(
        "instance-name",
        '[providers."bad name"]\ntype = "noop"\n',
        "providers.'bad name'",
        "letters, digits",
    ),
    Case("instance-not-a-table", "[providers]\nbox = 3\n", "providers.box", "[providers.box]"),
    Case(
        "huge-string",
        '[gateway]\nstore = "' + "x" * 1_000_000 + '"\n',
        "gateway.store",
        'store = "memory"',
    ),
    Case(
        "huge-key",
        '[gateway]\n"' + "k" * 100_000 + '" = 1\n',
        "gateway.'kkkk",
        "the [gateway] keys are",
    ),
    Case(
        "control-characters-in-key",
        '[gateway]\n"\\u001b[31mred" = 1\n',
        "gateway.'\\x1b[31mred'",
        "the [gateway] keys are",
    ),
]

PLUGINS = [
    Case(
        "smtp-preset-from-env",
        smtp('preset = "${PRESET}"\nusername = "a@example.com"\npassword = "${PW}"'),
        ".preset",
        "preset",
        {"PRESET": "SECRET-gmial", "PW": "SECRET-password"},
    ),
    Case(
        "smtp-security-from-env",
        smtp('host = "h"\nsecurity = "${SEC}"'),
        ".security",
        "security",
        {"SEC": "SECRET-tlz"},
    ),
    Case(
        "smtp-ca-file-from-env",
        smtp('host = "h"\nca_file = "${CA}"'),
        ".ca_file",
        "ca_file",
        {"CA": "/nonexistent/SECRET-ca.pem"},
    ),
    Case(
        "smtp-username-from-env",
        smtp('host = "h"\nusername = "${SMTP_USER}"'),
        ".password",
        "password",
        {"SMTP_USER": "SECRET-user"},
    ),
    Case(
        "smtp-sender-from-env",
        smtp('host = "h"\ndefault_sender = "${SENDER}"'),
        ".default_sender",
        "default_sender",
        {"SENDER": "SECRET-nobody"},
    ),
    Case(
        "smtp-hostname-from-env",
        smtp('host = "h"\nlocal_hostname = "${LOCAL}"'),
        ".local_hostname",
        "local_hostname",
        {"LOCAL": "SECRET host"},
    ),
    Case("smtp-port-string", smtp('host = "h"\nport = "587"'), ".port", "port = 587 without"),
    Case(
        "smtp-port-from-env",
        smtp('host = "h"\nport = "${PORT}"'),
        ".port",
        "set PORT",
        {"PORT": "SECRET"},
    ),
    Case("smtp-port-range", smtp('host = "h"\nport = 70000'), ".port", "port"),
    Case("smtp-timeout-nan", smtp('host = "h"\ntimeout = nan'), ".timeout", "timeout"),
    Case("smtp-timeout-zero", smtp('host = "h"\ntimeout = 0'), ".timeout", "timeout"),
    Case(
        "smtp-password-number",
        smtp('host = "h"\nusername = "u"\npassword = 12345'),
        ".password",
        "password",
    ),
    Case(
        "imap-preset-from-env",
        imap('username = "u"\npassword = "${PW}"\npreset = "${PRESET}"'),
        ".preset",
        "preset",
        {"PRESET": "SECRET-gmial", "PW": "SECRET-password"},
    ),
    Case(
        "imap-security-from-env",
        imap('username = "u"\npassword = "p"\nhost = "h"\nsecurity = "${SEC}"'),
        ".security",
        "security",
        {"SEC": "SECRET-tlz"},
    ),
    Case(
        "imap-ca-file-from-env",
        imap('username = "u"\npassword = "p"\nhost = "h"\nca_file = "${CA}"'),
        ".ca_file",
        "ca_file",
        {"CA": "/nonexistent/SECRET-ca.pem"},
    ),
    Case(
        "imap-batch-size-zero",
        imap('username = "u"\npassword = "p"\nhost = "h"\nbatch_size = 0'),
        ".batch_size",
        "batch_size",
    ),
    Case(
        "imap-idle-string",
        imap('username = "u"\npassword = "p"\nhost = "h"\nidle = "yes"'),
        ".idle",
        "idle = true without quotes",
    ),
]

TOML = [
    Case(
        "array-500-deep",
        provider("deep = " + "[" * DEEP + "]" * DEEP),
        "providers.box.deep",
        "levels",
    ),
    Case(
        "inline-table-500-deep",
        provider("deep = " + "{ a = " * DEEP + "1" + " }" * DEEP),
        "providers.box.deep",
        "levels",
    ),
    Case(
        "dotted-table-500-deep",
        provider("") + "[providers.box.x" + ".x" * DEEP + "]\ny = 1\n",
        "providers.box.x.x",
        "levels",
    ),
    Case(
        "array-40-deep", provider("deep = " + "[" * 40 + "]" * 40), "providers.box.deep", "levels"
    ),
    Case(
        "duplicate-key", "[gateway]\nstore = 'memory'\nstore = 'memory'\n", "store", "each key once"
    ),
    Case("duplicate-table", "[gateway]\n[gateway]\n", "gateway", "each key once"),
    Case("not-utf-8", b'[gateway]\nstore = "caf\xe9"\n', "line 2", "UTF-8"),
    Case("syntax", "[gateway]\nstore = memory\n", "gateway.store", "strings need quotes"),
    Case("raw-nul", "[gateway]\nstore = 'a\x00b'\n", "gateway.store", "syntax"),
    Case("unterminated-reference", '[gateway]\nstore = "${REDIS"\n', "gateway.store", "${NAME}"),
    Case("empty-reference", '[gateway]\nstore = "${}"\n', "gateway.store", "${NAME}"),
    Case("nested-reference", '[gateway]\nstore = "${A${B}}"\n', "gateway.store", "${NAME}"),
    Case("digit-reference", '[gateway]\nstore = "${1A}"\n', "gateway.store", "${NAME}"),
    Case(
        "unset-reference", '[gateway]\nstore = "${NOT_SET_ANYWHERE}"\n', "gateway.store", "export"
    ),
    Case(
        "integer-5000-digits",
        cap("retries = " + "9" * 5000),
        "line 3 (capabilities.email_sending.retries)",
        "at most 19 digits",
    ),
    Case("integer-400-digits", cap("retries = " + "9" * 400), ".retries", "retries = 2"),
    Case(
        "escaped-dollar",
        '[gateway]\nstore = "$${NOT_A_REFERENCE}"\n',
        "gateway.store",
        'store = "memory"',
    ),
    Case(
        "missing-smtp-password",
        smtp('host = "h"\nusername = "u"\npassword = "${SMTP_PASSWORD}"'),
        ".password",
        "export SMTP_PASSWORD=",
    ),
    Case(
        "missing-imap-password",
        imap('host = "h"\nusername = "u"\npassword = "${IMAP_PASSWORD}"'),
        ".password",
        "export IMAP_PASSWORD=",
    ),
    Case(
        "reference-to-a-reference",
        '[gateway]\nstore = "${INDIRECT}"\n',
        "gateway.store",
        'store = "memory"',
        {"INDIRECT": "${SECRET_OTHER}"},
    ),
]


def _deep_list(depth: int) -> Any:
    value: Any = []
    for _ in range(depth):
        value = [value]
    return value


def _deep_table(depth: int) -> Any:
    value: Any = {}
    for _ in range(depth):
        value = {"a": value}
    return value


def _cyclic() -> Any:
    value: list[Any] = []
    value.append(value)
    return value


def _mapping(settings: Mapping[str, Any], capability: Mapping[str, Any] | None = None) -> Any:
    return {
        "capabilities": {"email_sending": {"providers": ["box"], **(capability or {})}},
        "providers": {"box": {"type": "maildir", "path": "mail", **settings}},
    }


MAPPINGS = [
    Case("key-not-a-string", {1: {}}, "<top>", "text keys"),
    Case(
        "instance-key-not-a-string", {"providers": {1: {"type": "noop"}}}, "providers", "text keys"
    ),
    Case("cyclic-list", _mapping({"loop": _cyclic()}), "providers.box.loop", "levels"),
    Case("list-500-deep", _mapping({"deep": _deep_list(DEEP)}), "providers.box.deep", "levels"),
    Case("table-500-deep", _mapping({"deep": _deep_table(DEEP)}), "providers.box.deep", "levels"),
    Case("python-object", {"gateway": {"store": object()}}, "gateway.store", 'store = "memory"'),
    Case("integer-10-to-5000", _mapping({}, {"retries": 10**5000}), ".retries", "retries = 2"),
    Case("none-count", _mapping({}, {"retries": None}), ".retries", "retries = 2"),
    Case("bytes-path", _mapping({"path": b"/tmp/x"}), ".path", "path as"),
    Case(
        "set-of-providers",
        {"capabilities": {"crm_sync": {"providers": {"a"}}}},
        ".providers",
        "providers =",
    ),
]

ALL = GATEWAY + CAPABILITIES + PROVIDER_POLICIES + SETTINGS + PLUGINS + TOML + MAPPINGS
