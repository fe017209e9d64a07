"""``[gateway] outbox`` and its companion keys: off by default, checked, passwords never shown."""

from __future__ import annotations

import pytest

from aicmo_gateway import Gateway, Status
from aicmo_gateway.config.load import load_config
from aicmo_gateway.errors import ConfigError
from aicmo_gateway.ports import EmailMessage
from aicmo_gateway.testing.fake_plugin import fake_config, fake_registry
from aicmo_gateway.testing.fakes import FakeProvider
from aicmo_gateway.testing.profiles import fast_failure


def config(**gateway):
    data = fake_config("email_sending", "primary")
    data["gateway"] = gateway
    return data


def problems(**gateway) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(config(**gateway), registry=fake_registry(primary=FakeProvider()))
    return str(info.value)


async def test_without_an_outbox_a_failed_write_stays_failed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    fake = FakeProvider(fast_failure(), name="primary")
    gw = Gateway.from_config(config(), registry=fake_registry(primary=fake), env={})
    assert gw.outbox is None
    outcome = await gw.email_sending.send(EmailMessage(to=["a@example.com"], subject="s", text="t"))
    assert outcome.status is Status.FAILED and outcome.outbox_id is None
    assert list(tmp_path.iterdir()) == []  # no file appears anywhere


def test_a_relative_sqlite_path_is_next_to_the_config_file(tmp_path):
    folder = tmp_path / "conf"
    folder.mkdir()
    path = folder / "aicmo-gateway.toml"
    path.write_text(
        '[gateway]\noutbox = "sqlite:///box.db"\n'
        '[capabilities.email_sending]\nproviders = ["n"]\n[providers.n]\ntype = "noop"\n',
        encoding="utf-8",
    )
    gw = Gateway.from_config(path, env={})
    assert (folder / "box.db").exists()
    gw.outbox.close()


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("outbox", "mysql://x", "is not an outbox URL"),
        ("outbox", "sqlite:///", "names no file"),
        ("outbox", 3, "is not an outbox URL"),
        ("outbox_max_attempts", 0, "out of range"),
        ("outbox_max_attempts", 2.5, "is not a whole number"),
        ("outbox_backoff", "soon", "is not a duration"),
        ("outbox_lease", "0s", "out of range"),
        ("outbox_batch", 100_001, "out of range"),
    ],
)
def test_bad_values_are_refused_with_the_key_and_a_fix(key, value, message):
    gateway = {"outbox": "sqlite:///x.db", key: value}
    text = problems(**gateway)
    assert f"gateway.{key}" in text and message in text and "fix:" in text


def test_backoff_max_below_backoff_is_refused():
    text = problems(outbox="sqlite:///x.db", outbox_backoff="1h", outbox_backoff_max="1m")
    assert "gateway.outbox_backoff_max" in text


def test_a_password_in_the_url_is_never_shown():
    url = "postgresql://gateway:Hunter2-secret@127.0.0.1:1/nowhere"
    loaded = load_config(config(outbox=url), registry=fake_registry(primary=FakeProvider()))
    assert "Hunter2" not in repr(loaded)
    assert "gateway:********@" in repr(loaded)
    with pytest.raises(ConfigError) as info:
        Gateway.from_config(
            config(outbox=url), registry=fake_registry(primary=FakeProvider()), env={}
        )
    assert "cannot open the outbox" in str(info.value)
    assert "Hunter2" not in str(info.value)
    bad = problems(outbox="mysql://root:Hunter2-secret@db/x")
    assert "Hunter2" not in bad
