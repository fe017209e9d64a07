"""``status`` shows provider health as of now, not as it was when ``health.json`` was written."""

from __future__ import annotations

import json
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from aicmo_gateway import Gateway
from aicmo_gateway.cli import cli
from aicmo_gateway.ports import EmailMessage
from aicmo_gateway.state.files import StateFiles, health_as_of

WRITTEN = datetime(2026, 11, 25, 19, 10, 48, tzinfo=UTC)


def row(**changes) -> dict:
    base = {
        "capability": "email_sending",
        "provider": "relay",
        "type": "maildir",
        "health": "unhealthy",
        "state": "open",
        "reason": "open after 5 consecutive failures until +2.0s",
        "open_until": (WRITTEN + timedelta(seconds=2)).isoformat(),
        "cooldown_until": None,
        "calls": 5,
        "failure_rate": 1.0,
        "slow_rate": 0.0,
        "consecutive_failures": 5,
        "ewma_latency": 0.001,
        "trips": 1,
    }
    return {**base, **changes}


def recorded(tmp_path: Path, *rows: dict) -> Path:
    """A config with a state_dir and a health.json written at WRITTEN."""
    state = tmp_path / "state"
    state.mkdir()
    payload = {"written_at": WRITTEN.isoformat(), "pid": 4242, "providers": list(rows)}
    (state / "health.json").write_text(json.dumps(payload), encoding="utf-8")
    config = tmp_path / "aicmo-gateway.toml"
    config.write_text(
        textwrap.dedent(
            """
            [gateway]
            state_dir = "state"
            [capabilities.email_sending]
            providers = ["relay"]
            [providers.relay]
            type = "maildir"
            path = "Maildir"
            """
        ),
        encoding="utf-8",
    )
    return config


def status(*args: str) -> str:
    result = CliRunner().invoke(cli, ["status", *args], env={"AICMO_GATEWAY_CONFIG": None})
    assert result.exit_code == 0, result.output
    return result.output


def test_an_open_breaker_whose_open_period_ended_reads_as_half_open_ready_for_a_probe(tmp_path):
    recorded(tmp_path, row())
    data = StateFiles(tmp_path / "state").read_health(now=WRITTEN + timedelta(seconds=3))
    (shown,) = data["providers"]
    assert shown["state"] == "half_open"
    assert shown["health"] == "degraded"
    assert shown["open_until"] is None
    assert shown["reason"] == ("open period ended at 2026-11-25T19:10:50+00:00: ready for a probe")
    assert data["as_of"] == "2026-11-25T19:10:51+00:00"


def test_a_breaker_still_inside_its_open_period_stays_open(tmp_path):
    recorded(tmp_path, row())
    (shown,) = StateFiles(tmp_path / "state").read_health(now=WRITTEN + timedelta(seconds=1))[
        "providers"
    ]
    assert shown == row()


def test_an_ended_cooldown_is_gone(tmp_path):
    cooling = row(
        state="closed",
        open_until=None,
        reason="cooling down after RateLimited for 30.0s",
        cooldown_until=(WRITTEN + timedelta(seconds=30)).isoformat(),
    )
    recorded(tmp_path, cooling)
    (shown,) = StateFiles(tmp_path / "state").read_health(now=WRITTEN + timedelta(minutes=5))[
        "providers"
    ]
    assert shown["cooldown_until"] is None
    assert shown["health"] == "degraded"
    assert shown["reason"] == "cooldown ended at 2026-11-25T19:11:18+00:00"


def test_a_cooldown_that_outlasts_the_open_period_keeps_the_provider_unhealthy(tmp_path):
    both = row(cooldown_until=(WRITTEN + timedelta(seconds=30)).isoformat())
    recorded(tmp_path, both)
    (shown,) = StateFiles(tmp_path / "state").read_health(now=WRITTEN + timedelta(seconds=10))[
        "providers"
    ]
    assert shown["state"] == "half_open"
    assert shown["health"] == "unhealthy"
    assert "ready for a probe" in shown["reason"]
    assert "cooling down until 2026-11-25T19:11:18+00:00" in shown["reason"]


def test_the_status_command_shows_a_health_file_written_earlier_as_of_now(tmp_path):
    config = recorded(
        tmp_path,
        row(),
        row(
            provider="outbox",
            state="closed",
            health="healthy",
            reason=None,
            open_until=None,
            calls=6,
            failure_rate=0.0,
        ),
    )
    text = status("--config", str(config))
    relay = next(
        line for line in text.splitlines() if line.split()[:2] == ["email_sending", "relay"]
    )
    assert relay.split()[3:6] == ["degraded", "half_open", "-"]
    assert "ready for a probe" in relay
    assert "shown as of 20" in text
    document = json.loads(status("--config", str(config), "--json"))
    assert document["providers"][0]["state"] == "half_open"
    assert document["providers"][1]["state"] == "closed"
    assert document["written_at"] == WRITTEN.isoformat()


def test_the_python_api_status_is_live_an_ended_open_period_is_half_open(tmp_path):
    gateway = Gateway.from_config(
        {
            "capabilities": {"email_sending": {"providers": ["broken", "box"]}},
            "providers": {
                "broken": {
                    "type": "maildir",
                    "path": "/dev/null/unreachable",
                    "health": {"consecutive_failures": 1, "open_seconds": 2},
                },
                "box": {"type": "maildir", "path": str(tmp_path / "Maildir")},
            },
        },
        env={},
    )
    with gateway.sync() as g:
        g.email_sending.send(EmailMessage(to="ada@example.com", subject="Hi", text="Hello"))
        before = {r["provider"]: r for r in gateway.status()}["broken"]
        time.sleep(2.5)  # the open period (2 s) has ended
        after = {r["provider"]: r for r in gateway.status()}["broken"]
    assert before["state"] == "open"
    assert after["state"] == "half_open" and after["open_until"] is None


def test_the_cli_page_shows_a_recorded_open_breaker_as_status_shows_it_later():
    page = (Path(__file__).resolve().parent.parent / "docs" / "cli.md").read_text()
    written = "2026-11-25T19:10:50.236729+00:00"  # the open_until of the page's example
    later = datetime.fromisoformat(written) + timedelta(seconds=5)
    shown = health_as_of(row(open_until=written), later)
    assert f"{shown['health']}  {shown['state']}  -" in page
    assert shown["reason"] in page


def test_doctor_and_a_gateway_without_calls_leave_the_recorded_health_alone(tmp_path):
    """``doctor`` builds a gateway and closes it without a call: its fresh ``unknown`` rows
    must not replace what the workers recorded."""
    config = recorded(tmp_path, row())
    health = tmp_path / "state" / "health.json"
    before = health.read_text(encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["doctor", "--config", str(config)], env={"AICMO_GATEWAY_CONFIG": None}
    )
    assert result.exit_code in (0, 1), result.output
    assert health.read_text(encoding="utf-8") == before
    with Gateway.from_config(config, env={}).sync():
        pass
    assert health.read_text(encoding="utf-8") == before


def test_a_gateway_that_made_a_call_writes_its_health_on_close(tmp_path):
    config = recorded(tmp_path, row())
    with Gateway.from_config(config, env={}).sync() as g:
        g.email_sending.send(EmailMessage(to="ada@example.com", subject="Hi", text="Hello"))
    written = json.loads((tmp_path / "state" / "health.json").read_text(encoding="utf-8"))
    (relay,) = written["providers"]
    assert relay["calls"] == 1 and relay["state"] == "closed"


def test_status_and_explain_name_a_state_dir_from_the_environment_by_its_reference(tmp_path):
    config = recorded(tmp_path, row())
    hidden = tmp_path / "state"
    config.write_text(
        config.read_text(encoding="utf-8").replace('"state"', '"${HIDDEN_STATE}"'),
        encoding="utf-8",
    )
    env = {"AICMO_GATEWAY_CONFIG": None, "HIDDEN_STATE": str(hidden)}
    shown = CliRunner().invoke(cli, ["status", "--config", str(config)], env=env)
    assert shown.exit_code == 0, shown.output
    assert "in ${HIDDEN_STATE};" in shown.output
    assert str(hidden) not in shown.output
    missing = CliRunner().invoke(cli, ["explain", "nope", "--config", str(config)], env=env)
    assert missing.exit_code == 1
    assert "${HIDDEN_STATE}/audit.jsonl" in missing.output
    assert str(hidden) not in missing.output
