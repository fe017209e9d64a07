"""The command line: plugins, providers, config check, doctor, status, explain, --version.

The demo has its own tests: tests/test_demo.py and tests/test_demo_commands.py.
"""

from __future__ import annotations

import json
import textwrap

import pytest
from click.testing import CliRunner

from aicmo_gateway.cli import cli
from aicmo_gateway.ports import PORTS

BROKEN = "import no_such_dependency\n"


def run(*args, env=None):
    return CliRunner().invoke(
        cli, list(args), env={"AICMO_GATEWAY_CONFIG": None, **(env or {})}, catch_exceptions=False
    )


def write_config(tmp_path, text, name="aicmo-gateway.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return str(path)


def test_plugins_json_lists_the_core_builtins_for_all_seven_ports():
    result = run("plugins", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    builtin = next(p for p in data["plugins"] if p["builtin"])
    assert builtin["status"] == "active"
    assert builtin["distribution"] == "aicmo-gateway"
    assert set(builtin["provider_types"]) == set(PORTS)
    assert all("noop" in names for names in builtin["provider_types"].values())


def test_plugins_shows_a_quarantined_plugin_with_its_reason_and_exits_1(make_dist):
    make_dist("aicmo-gateway-broken", BROKEN, version="0.2", entry_name="broken")
    result = run("plugins")
    assert result.exit_code == 1
    assert "quarantined" in result.output
    assert "aicmo-gateway-broken" in result.output and "no_such_dependency" in result.output


def test_plugins_json_reports_disabled_plugins(make_dist):
    make_dist("aicmo-gateway-broken", BROKEN, entry_name="broken")
    result = run("plugins", "--json", env={"AICMO_GATEWAY_DISABLE_PLUGINS": "broken"})
    assert result.exit_code == 0
    broken = next(p for p in json.loads(result.output)["plugins"] if p["name"] == "broken")
    assert broken["status"] == "disabled"


def test_providers_shows_each_type_with_its_port_and_traits():
    result = run("providers", "--json")
    assert result.exit_code == 0
    rows = json.loads(result.output)
    maildir = next(r for r in rows if r["port"] == "email_sending" and r["name"] == "maildir")
    assert maildir["traits"]["idempotency"] == "message_id"
    assert maildir["distribution"] == "aicmo-gateway"
    table = run("providers").output
    assert "email_sending" in table and "maildir" in table and "idempotency" in table


def test_config_check_accepts_a_valid_file(tmp_path):
    path = write_config(
        tmp_path,
        """
        [capabilities.email_sending]
        providers = ["box"]
        [providers.box]
        type = "maildir"
        path = "mail"
    """,
    )
    result = run("config", "check", "--config", path)
    assert result.exit_code == 0, result.output
    assert "ok (1 capabilities, 1 provider instances)" in result.output


def test_config_check_prints_every_problem_and_exits_1(tmp_path):
    path = write_config(
        tmp_path,
        """
        [capabilities.email_sending]
        providers = ["relay", "box"]
        [providers.relay]
        type = "smtp"
        [providers.box]
        type = "maildir"
        password = "${BOX_PASSWORD}"
    """,
    )
    result = run("config", "check", "--config", path, env={"AICMO_GATEWAY_LOAD_PLUGINS": ""})
    assert result.exit_code == 1
    assert "pip install ./plugins/smtp" in result.output
    assert "environment variable BOX_PASSWORD is not set" in result.output
    assert "providers.box.path" in result.output
    assert result.output.count("fix:") >= 3


def test_config_check_without_a_file_exits_1(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("config", "check")
    assert result.exit_code == 1
    assert "no configuration file" in result.output


def test_doctor_live_runs_every_check_and_names_the_failing_one(tmp_path):
    path = write_config(
        tmp_path,
        f"""
        [capabilities.email_sending]
        providers = ["good", "bad"]
        [providers.good]
        type = "maildir"
        path = "{tmp_path / "mail"}"
        [providers.bad]
        type = "maildir"
        path = "/dev/null/mail"
    """,
    )
    result = run("doctor", "--live", "--config", path, "--json")
    assert result.exit_code == 1
    findings = {f["item"]: f for f in json.loads(result.output) if f["area"] == "live"}
    assert findings["email_sending/good (maildir)"]["ok"] is True
    bad = findings["email_sending/bad (maildir)"]
    assert bad["ok"] is False and "/dev/null/mail" in bad["detail"] and bad["fix"]


def test_doctor_suggests_the_fix_for_a_missing_environment_variable(tmp_path):
    path = write_config(
        tmp_path,
        """
        [capabilities.crm_sync]
        providers = ["crm"]
        [providers.crm]
        type = "sqlite"
        path = "${CRM_PATH}"
    """,
    )
    result = run("doctor", "--config", path)
    assert result.exit_code == 1
    assert "CRM_PATH" in result.output and "export CRM_PATH=" in result.output


def test_doctor_reports_a_quarantined_plugin_with_a_fix(make_dist):
    make_dist("aicmo-gateway-broken", BROKEN, entry_name="broken")
    result = run("doctor")
    assert result.exit_code == 1
    assert "AICMO_GATEWAY_DISABLE_PLUGINS=aicmo-gateway-broken" in result.output


def test_a_secret_never_appears_in_cli_output(tmp_path):
    path = write_config(
        tmp_path,
        """
        [capabilities.crm_sync]
        providers = ["crm"]
        [providers.crm]
        type = "sqlite"
        path = "x.db"
        timeout = "${CRM_TIMEOUT}"
    """,
    )
    result = run("config", "check", "--config", path, env={"CRM_TIMEOUT": "hunter2-secret"})
    assert result.exit_code == 1
    assert "hunter2-secret" not in result.output


def test_version_lists_the_core_and_plugins(make_dist):
    make_dist("aicmo-gateway-extra", "", version="4.5.6", entry_name="extra")
    result = run("--version")
    assert result.exit_code == 0
    assert result.output.startswith("aicmo-gateway ")
    assert "aicmo-gateway-extra 4.5.6" in result.output


def test_a_usage_error_exits_2():
    assert run("plugins", "--no-such-flag").exit_code == 2
    assert run("no-such-command").exit_code == 2


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["plugins"],
        ["providers"],
        ["config", "check"],
        ["doctor"],
        ["demo"],
        ["status"],
        ["explain"],
    ],
)
def test_every_command_has_help(command):
    result = run(*command, "--help")
    assert result.exit_code == 0
    assert "Usage:" in result.output and len(result.output.splitlines()) > 4


def test_status_without_a_state_dir_says_how_to_enable_it(tmp_path):
    config = write_config(
        tmp_path,
        '[capabilities.crm_sync]\nproviders = ["c"]\n'
        '[providers.c]\ntype = "sqlite"\npath = "c.db"\n',
    )
    result = run("status", "--config", config)
    assert result.exit_code == 1
    assert "state_dir" in result.output


def test_explain_an_unknown_call_exits_1(tmp_path):
    config = write_config(
        tmp_path,
        '[gateway]\nstate_dir = "state"\n[capabilities.crm_sync]\nproviders = ["c"]\n'
        '[providers.c]\ntype = "sqlite"\npath = "c.db"\n',
    )
    (tmp_path / "state").mkdir()
    result = run("explain", "no-such-call", "--config", config)
    assert result.exit_code == 1
    assert "is not in" in result.output


def test_plugins_exits_1_when_a_plugin_has_a_warning(make_dist):
    make_dist(
        "typo",
        "from aicmo_gateway import hookimpl\n@hookimpl\ndef aicmo_email_sender():\n    return []\n",
    )
    result = run("plugins")
    assert result.exit_code == 1
    assert "did you mean 'aicmo_email_senders'" in result.output


def test_strict_mode_prints_the_plugin_error_without_a_traceback(make_dist, monkeypatch, capsys):
    from aicmo_gateway.cli import main

    make_dist("aicmo-gateway-broken", BROKEN, entry_name="broken")
    monkeypatch.setenv("AICMO_GATEWAY_STRICT_PLUGINS", "1")
    monkeypatch.setattr("sys.argv", ["aicmo-gateway", "plugins"])
    with pytest.raises(SystemExit) as info:
        main()
    assert info.value.code == 1
    err = capsys.readouterr().err
    assert "no_such_dependency" in err and "Traceback" not in err
    assert "unset AICMO_GATEWAY_STRICT_PLUGINS" in err


@pytest.mark.parametrize("args", [["plugins"], ["plugins", "--json"]])
def test_main_prints_the_plain_listing_without_click_exactly_as_the_command_does(
    args, make_dist, monkeypatch, capsys
):
    from aicmo_gateway.cli import main

    make_dist("aicmo-gateway-broken", BROKEN, version="0.2", entry_name="broken")
    through_click = run(*args)
    monkeypatch.setattr("sys.argv", ["aicmo-gateway", *args])
    with pytest.raises(SystemExit) as info:
        main()
    assert info.value.code == through_click.exit_code == 1
    assert capsys.readouterr().out == through_click.stdout
    assert "no_such_dependency" in through_click.stdout


def test_main_sends_any_other_plugins_arguments_through_click(monkeypatch, capsys):
    from aicmo_gateway.cli import main

    monkeypatch.setattr("sys.argv", ["aicmo-gateway", "plugins", "--help"])
    with pytest.raises(SystemExit) as info:
        main()
    assert info.value.code == 0
    assert "Usage: aicmo-gateway plugins" in capsys.readouterr().out
