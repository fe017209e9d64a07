"""``doctor``'s outbox rows, and ``gateway.sync().outbox``: the outbox without ``await``."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from aicmo_gateway import Gateway, Status
from aicmo_gateway.cli import cli
from aicmo_gateway.ports import EmailMessage
from aicmo_gateway.state.outbox import RowState, open_backend
from aicmo_gateway.state.outbox.migrations import LATEST
from aicmo_gateway.testing.fake_plugin import fake_config, fake_registry
from aicmo_gateway.testing.fakes import FakeProvider
from aicmo_gateway.testing.profiles import fast_failure, healthy

MESSAGE = EmailMessage(to="lead@example.com", subject="Hi", text="x", sender="me@example.com")
ENV = {"AICMO_GATEWAY_LOAD_PLUGINS": ""}


# -- the synchronous facade --------------------------------------------------------------


def test_the_sync_facade_replays_and_reads_the_outbox(tmp_path: Path):
    fake = FakeProvider(fast_failure(), name="primary")
    config = fake_config("email_sending", "primary")
    config["gateway"] = {"outbox": f"sqlite:///{tmp_path / 'outbox.db'}"}
    gateway = Gateway.from_config(config, registry=fake_registry(primary=fake), env={})
    with gateway.sync() as sync:
        assert sync.outbox is not None
        outcome = sync.email_sending.send(MESSAGE, idempotency_key="k")
        assert outcome.status is Status.DEFERRED
        assert sync.outbox.counts()["pending"] == 1
        [row] = sync.outbox.rows(RowState.PENDING)
        fake.profile = healthy()
        report = sync.outbox.replay()
        assert (report.claimed, report.done) == (1, 1)
        done = sync.outbox.get(row.id)
        assert done is not None and done.state is RowState.DONE
        assert sync.outbox.retry(row.id) is not None  # a done row is left alone
        assert sync.outbox.purge() == 1
        assert sync.outbox.get(row.id) is None
    assert len(fake.performed) == 1


def test_the_sync_facade_has_no_outbox_without_one():
    gateway = Gateway.from_config(
        fake_config("email_sending", "primary"),
        registry=fake_registry(primary=FakeProvider()),
        env={},
    )
    with gateway.sync() as sync:
        assert sync.outbox is None


# -- doctor ------------------------------------------------------------------------------


def write_config(tmp_path: Path, outbox: str = "sqlite:///outbox.db") -> Path:
    path = tmp_path / "aicmo-gateway.toml"
    path.write_text(
        f'[gateway]\noutbox = "{outbox}"\n'
        '[capabilities.email_sending]\nproviders = ["box"]\n'
        f'[providers.box]\ntype = "maildir"\npath = "{tmp_path / "mail"}"\n',
        encoding="utf-8",
    )
    return path


def doctor(path: Path) -> tuple[int, list[dict[str, Any]]]:
    result = CliRunner().invoke(cli, ["doctor", "--config", str(path), "--json"], env=ENV)
    return result.exit_code, [f for f in json.loads(result.stdout) if f["area"] == "outbox"]


def store(path: Path, key: str, state: RowState, now: float) -> None:
    backend = open_backend(f"sqlite:///{path}")
    try:
        backend.migrate()
        backend.enqueue("email_sending", "send", key, "{}", state, "why", None, now)
    finally:
        backend.close()


def test_doctor_shows_a_healthy_outbox(tmp_path: Path):
    path = write_config(tmp_path)
    store(tmp_path / "outbox.db", "k1", RowState.PENDING, time.time())
    code, found = doctor(path)
    assert code == 0, found
    reach, rows = found
    assert reach["ok"] and f"schema version {LATEST}" in reach["detail"]
    assert rows["ok"] and rows["detail"].startswith("1 pending, 0 in flight, 0 held, 0 dead")
    assert "oldest pending: row 1, stored" in rows["detail"]


def test_doctor_flags_held_and_dead_rows_and_a_queue_nobody_replays(tmp_path: Path):
    path = write_config(tmp_path)
    now = time.time()
    store(tmp_path / "outbox.db", "old", RowState.PENDING, now - 3 * 86400)
    store(tmp_path / "outbox.db", "maybe", RowState.HELD, now)
    store(tmp_path / "outbox.db", "gone", RowState.DEAD, now)
    code, found = doctor(path)
    assert code == 1
    by_item = {f["item"]: f for f in found}
    assert not by_item["replay"]["ok"] and "has been due for 3.0 d" in by_item["replay"]["detail"]
    assert "outbox replay --loop" in by_item["replay"]["fix"]
    assert not by_item["held"]["ok"] and "outbox retry ID" in by_item["held"]["fix"]
    assert not by_item["dead"]["ok"] and "outbox purge --dead" in by_item["dead"]["fix"]


def test_doctor_reads_the_schema_version_before_a_gateway_migrates_it(tmp_path: Path):
    path = write_config(tmp_path)
    backend = open_backend(f"sqlite:///{tmp_path / 'outbox.db'}")
    backend.migrate(target=1)
    backend.close()
    code, found = doctor(path)
    assert code == 0
    assert f"schema version 1: migrated to {LATEST}" in found[0]["detail"]
    backend = open_backend(f"sqlite:///{tmp_path / 'outbox.db'}")
    try:
        assert backend.version() == LATEST  # building the gateway migrated it
    finally:
        backend.close()


def test_doctor_says_when_the_outbox_cannot_be_reached(tmp_path: Path):
    path = write_config(tmp_path, "sqlite:///no-such-folder/outbox.db")
    code, found = doctor(path)
    assert code == 1
    assert not found[0]["ok"] and "cannot open it" in found[0]["detail"]
    assert "writable" in found[0]["fix"]
