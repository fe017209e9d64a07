"""The state folder seen from outside: a ``${VAR}`` folder is named by its reference, damaged
files get one clear line, and a gateway never writes health it did not learn."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner
from loguru import logger

from aicmo_gateway import Gateway
from aicmo_gateway.cli import cli
from aicmo_gateway.ports import Contact, EmailMessage

SECRET_FOLDER = "private-folder-3f9a1c"
MESSAGE = EmailMessage(to="ada@example.com", subject="Hi", text="Hello")


def _config(tmp_path: Path, state_dir: str = "${STATE_DIR}") -> Path:
    config = tmp_path / "aicmo-gateway.toml"
    config.write_text(
        textwrap.dedent(
            f"""
            [gateway]
            state_dir = "{state_dir}"
            [capabilities.email_sending]
            providers = ["relay"]
            [capabilities.crm_sync]
            providers = ["crm"]
            [providers.relay]
            type = "maildir"
            path = "Maildir"
            [providers.crm]
            type = "sqlite"
            path = "crm.db"
            """
        ),
        encoding="utf-8",
    )
    return config


@pytest.fixture
def env_folder(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    """A config whose state_dir is ``${STATE_DIR}``, and the folder it names."""
    folder = tmp_path / SECRET_FOLDER / "state"
    return _config(tmp_path), folder, {"STATE_DIR": str(folder)}


def _run(config: Path, env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli, [*args, "--config", str(config)], env={"AICMO_GATEWAY_CONFIG": None, **env}
    )
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def _one_call(config: Path, env: dict[str, str]) -> str:
    with Gateway.from_config(config, env=env).sync() as gateway:
        return gateway.email_sending.send(MESSAGE).call_id


# -- a folder given as ${VAR} ----------------------------------------------------------------


def test_status_and_explain_name_a_folder_from_the_environment_by_its_reference(env_folder):
    config, _, env = env_folder
    for args in (["status"], ["explain", "0123"]):  # nothing recorded yet
        code, output = _run(config, env, *args)
        assert code == 1 and "${STATE_DIR}" in output and SECRET_FOLDER not in output
    call_id = _one_call(config, env)
    for args in (
        ["status"],
        ["status", "--json"],
        ["explain", call_id],
        ["explain", call_id, "--json"],
    ):
        code, output = _run(config, env, *args)
        assert code == 0, output
        assert SECRET_FOLDER not in output, args
    assert "in ${STATE_DIR}; shown as of" in _run(config, env, "status")[1]


def test_a_folder_written_in_the_file_is_shown_as_its_path(tmp_path):
    config = _config(tmp_path, state_dir="state")
    code, output = _run(config, {}, "status")
    assert code == 1 and str(tmp_path / "state") in output.replace("\n", "")


def test_a_folder_that_cannot_be_written_is_logged_by_its_reference(env_folder):
    config, folder, env = env_folder
    folder.parent.mkdir(parents=True)
    folder.write_text("a file where the folder should be", encoding="utf-8")
    lines: list[str] = []
    logger.enable("aicmo_gateway")
    sink = logger.add(lines.append, level="WARNING", format="{message}")
    try:
        _one_call(config, env)
    finally:
        logger.remove(sink)
        logger.disable("aicmo_gateway")
    assert lines and all("could not write state to ${STATE_DIR}" in line for line in lines)
    assert not any(SECRET_FOLDER in line for line in lines)


# -- damaged files ---------------------------------------------------------------------------

DAMAGED = {
    "not JSON": "{bad",
    "not UTF-8": b"\xff\xfe{",
    "not a document": "[1, 2]",
    "no written_at": json.dumps({"pid": 1, "providers": []}),
    "an entry without its keys": json.dumps({"written_at": "x", "pid": 1, "providers": [{}]}),
    "an entry of the wrong types": json.dumps(
        {
            "written_at": "x",
            "pid": 1,
            "providers": [
                {
                    "capability": "c",
                    "provider": "p",
                    "type": "t",
                    "health": "unknown",
                    "state": "closed",
                    "reason": None,
                    "open_until": None,
                    "cooldown_until": None,
                    "calls": "many",
                    "failure_rate": 0.0,
                    "ewma_latency": None,
                }
            ],
        }
    ),
    "a folder": None,
}


@pytest.mark.parametrize("damage", DAMAGED)
def test_status_on_a_damaged_health_file_says_so_in_one_line(env_folder, damage):
    config, folder, env = env_folder
    folder.mkdir(parents=True)
    content = DAMAGED[damage]
    path = folder / "health.json"
    if content is None:
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    code, output = _run(config, env, "status")
    assert code == 1
    assert output.startswith("Error: cannot read ${STATE_DIR}/health.json: ")
    assert "delete the file if it is damaged" in output
    assert SECRET_FOLDER not in output


def test_explain_finds_a_call_past_a_line_cut_short_by_a_crash(env_folder):
    config, folder, env = env_folder
    call_id = _one_call(config, env)
    audit = folder / "audit.jsonl"
    whole = audit.read_text(encoding="utf-8")
    audit.write_text(whole + whole[: len(whole) // 2], encoding="utf-8")  # a torn last line
    code, output = _run(config, env, "explain", call_id)
    assert code == 0 and f"call {call_id}" in output


def test_explain_on_an_unreadable_audit_file_says_so_in_one_line(env_folder):
    config, folder, env = env_folder
    (folder / "audit.jsonl").mkdir(parents=True)
    code, output = _run(config, env, "explain", "0123")
    assert code == 1
    assert output.startswith("Error: cannot read ${STATE_DIR}/audit.jsonl: ")


# -- health a gateway did not learn ----------------------------------------------------------


def _learnt_rows(tmp_path: Path) -> list[dict]:
    """What workers recorded: the relay's breaker open, the CRM slow."""
    base = {
        "reason": None,
        "open_until": None,
        "cooldown_until": None,
        "failure_rate": 0.0,
        "slow_rate": 0.0,
        "consecutive_failures": 0,
        "trips": 0,
        "demoted": False,
    }
    return [
        {
            **base,
            "capability": "email_sending",
            "provider": "relay",
            "type": "maildir",
            "health": "unhealthy",
            "state": "open",
            "reason": "open after 5 consecutive failures",
            "open_until": "2099-01-01T00:00:00+00:00",
            "calls": 5,
            "failure_rate": 1.0,
            "consecutive_failures": 5,
            "ewma_latency": 0.2,
            "trips": 1,
        },
        {
            **base,
            "capability": "crm_sync",
            "provider": "crm",
            "type": "sqlite",
            "health": "degraded",
            "state": "closed",
            "calls": 40,
            "slow_rate": 0.5,
            "ewma_latency": 3.5,
        },
    ]


def _record(folder: Path, rows: list[dict]) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"written_at": "2026-11-30T12:00:00+00:00", "pid": 4242, "providers": rows})
    (folder / "health.json").write_text(text, encoding="utf-8")
    return text


@pytest.mark.parametrize("args", [["doctor"], ["doctor", "--live"], ["config", "check"]])
def test_learnt_health_survives_doctor_and_config_check(tmp_path, args):
    config = _config(tmp_path, state_dir="state")
    before = _record(tmp_path / "state", _learnt_rows(tmp_path))
    code, output = _run(config, {}, *args)
    assert code in (0, 1), output
    assert (tmp_path / "state" / "health.json").read_text(encoding="utf-8") == before


async def test_a_gateway_keeps_the_recorded_health_of_providers_it_did_not_use(tmp_path):
    config = _config(tmp_path, state_dir="state")
    _record(tmp_path / "state", _learnt_rows(tmp_path))
    gateway = Gateway.from_config(config, env={})
    await gateway.crm_sync.upsert_contact(Contact(email="ada@example.com"))
    await gateway.aclose()
    written = json.loads((tmp_path / "state" / "health.json").read_text(encoding="utf-8"))
    rows = {row["provider"]: row for row in written["providers"]}
    assert rows["crm"]["calls"] == 1  # learnt here: this gateway's row
    assert rows["relay"]["calls"] == 5 and rows["relay"]["state"] == "open"  # kept as recorded
