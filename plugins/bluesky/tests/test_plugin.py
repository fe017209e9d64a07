"""Discovery and the plugin contract: the type it registers, its traits, cheap import, settings."""

from __future__ import annotations

import subprocess
import sys

import pytest
from aicmo_gateway_bluesky.plugin import bluesky_poster
from aicmo_gateway_bluesky.poster import BlueskyPoster

from aicmo_gateway import Idempotency
from aicmo_gateway.plugins.registry import PluginStatus, Registry

PASSWORD = "abcd-efgh-ijkl-mnop"


def test_discovery_finds_an_active_bluesky_type_for_social_posting():
    registry = Registry.discover(env={})
    bluesky = registry.get("social_posting", "bluesky")
    assert bluesky.distribution == "aicmo-gateway-bluesky"
    (info,) = [p for p in registry.plugins if p.distribution == "aicmo-gateway-bluesky"]
    assert info.status is PluginStatus.ACTIVE


def test_the_type_declares_idempotent_creates_and_a_live_check():
    bluesky = Registry.discover(env={}).get("social_posting", "bluesky")
    assert bluesky.idempotency is Idempotency.KEY_HEADER
    assert bluesky.has_check is True


def test_importing_every_module_of_the_plugin_does_not_import_httpx():
    code = (
        "import sys, importlib, pkgutil, aicmo_gateway_bluesky as package; "
        "[importlib.import_module(m.name) for m in pkgutil.walk_packages("
        "package.__path__, 'aicmo_gateway_bluesky.')]; "
        "print(len(list(pkgutil.iter_modules(package.__path__))), 'httpx' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    count, imported = out.stdout.split()
    assert int(count) >= 7 and imported == "False"


def test_importing_the_plugin_and_calling_its_hook_does_not_import_httpx():
    code = (
        "import sys, aicmo_gateway_bluesky.plugin as p; p.aicmo_social_posters(); "
        "print('httpx' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_public_service_is_the_default():
    poster = bluesky_poster(identifier="@sales.bsky.social", app_password=PASSWORD)
    assert poster.http.base_url == "https://bsky.social"
    assert poster.settings.identifier == "sales.bsky.social"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"app_password": PASSWORD}, "identifier"),
        ({"identifier": "sales team", "app_password": PASSWORD}, "identifier: 'sales team'"),
        ({"identifier": "sales.bsky.social", "app_password": " "}, "app_password: is empty"),
        (
            {"identifier": "a.bsky.social", "app_password": PASSWORD, "service": "bsky.social"},
            "service",
        ),
        ({"identifier": "a.bsky.social", "app_password": PASSWORD, "timeout": -1}, "timeout"),
    ],
)
def test_bad_settings_name_the_key_and_the_fix(settings, message):
    with pytest.raises((ValueError, TypeError), match=message):
        bluesky_poster(**settings)


def test_the_app_password_never_shows_in_reprs():
    poster = bluesky_poster(identifier="sales.bsky.social", app_password=PASSWORD)
    assert isinstance(poster, BlueskyPoster)
    for text in (repr(poster), repr(poster.settings), str(poster.settings), repr(poster.http)):
        assert PASSWORD not in text
