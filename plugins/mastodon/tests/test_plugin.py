"""Discovery and the plugin contract: the type it registers, its traits, cheap import, settings."""

from __future__ import annotations

import subprocess
import sys

import pytest
from aicmo_gateway_mastodon.plugin import mastodon_poster
from aicmo_gateway_mastodon.poster import MastodonPoster

from aicmo_gateway import Idempotency, RateLimit
from aicmo_gateway.plugins.registry import PluginStatus, Registry

TOKEN = "mstdn_plugin_T0ken_abcdef"
URL = "https://mastodon.example"


def test_discovery_finds_an_active_mastodon_type_for_social_posting():
    registry = Registry.discover(env={})
    mastodon = registry.get("social_posting", "mastodon")
    assert mastodon.distribution == "aicmo-gateway-mastodon"
    (info,) = [p for p in registry.plugins if p.distribution == "aicmo-gateway-mastodon"]
    assert info.status is PluginStatus.ACTIVE


def test_the_type_declares_the_idempotency_key_header_and_a_live_check():
    mastodon = Registry.discover(env={}).get("social_posting", "mastodon")
    assert mastodon.idempotency is Idempotency.KEY_HEADER
    assert mastodon.has_check is True
    # api/rate-limits: 300 requests per 5 minutes per account
    assert mastodon.rate_limit == RateLimit(per_second=1.0, burst=300)


def test_importing_every_module_of_the_plugin_does_not_import_httpx():
    code = (
        "import sys, importlib, pkgutil, aicmo_gateway_mastodon as package; "
        "[importlib.import_module(m.name) for m in pkgutil.walk_packages("
        "package.__path__, 'aicmo_gateway_mastodon.')]; "
        "print(len(list(pkgutil.iter_modules(package.__path__))), 'httpx' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    count, imported = out.stdout.split()
    assert int(count) >= 7 and imported == "False"


def test_importing_the_plugin_and_calling_its_hook_does_not_import_httpx():
    code = (
        "import sys, aicmo_gateway_mastodon.plugin as p; p.aicmo_social_posters(); "
        "print('httpx' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"access_token": TOKEN}, "instance_url"),
        ({"instance_url": URL, "access_token": " "}, "access_token: is empty"),
        ({"instance_url": "ftp://mastodon.example", "access_token": TOKEN}, "instance_url"),
        ({"instance_url": "https://u:p@mastodon.example", "access_token": TOKEN}, "credentials"),
        ({"instance_url": URL, "access_token": TOKEN, "visibility": "friends"}, "visibility"),
        ({"instance_url": URL, "access_token": TOKEN, "language": "English"}, "language"),
        ({"instance_url": URL, "access_token": TOKEN, "timeout": 0}, "timeout"),
    ],
)
def test_bad_settings_name_the_key_and_the_fix(settings, message):
    with pytest.raises((ValueError, TypeError), match=message):
        mastodon_poster(**settings)


def test_the_access_token_never_shows_in_reprs():
    poster = mastodon_poster(instance_url=URL, access_token=TOKEN)
    assert isinstance(poster, MastodonPoster)
    for text in (repr(poster), repr(poster.settings), str(poster.settings), repr(poster.http)):
        assert TOKEN not in text
