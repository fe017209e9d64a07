"""The rendered plugin package: ``__init__``, the entry point, the settings and the provider."""

from __future__ import annotations

__all__ = ["INIT", "PLUGIN", "PROVIDER", "SETTINGS"]

INIT = """\
\"\"\"<<summary>> for aicmo-gateway.

The ``<<type>>`` provider type of the ``<<port>>`` port.

Importing this package is cheap: every ``aicmo-gateway`` command imports it.
\"\"\"

from aicmo_gateway.plugin_kit import silence, version_getattr

# a library's log stays silent until the application enables it (loguru is not imported here)
silence("<<pkg>>")

# __version__, read from the installed metadata when asked for
__getattr__ = version_getattr(__name__, "<<dist>>")

__all__ = ["__version__"]
"""

PLUGIN = """\
\"\"\"The entry point, offering the ``<<type>>`` provider type.

Importing it, and calling its hook, stays cheap: the hook names the settings class without
importing it, the provider module loads when a provider is built, and httpx when it sends its
first request.
\"\"\"

from __future__ import annotations

from typing import Any

from aicmo_gateway import <<plugin_names>>


def create(**settings: Any) -> Any:
    \"\"\"Build a provider from its config keys (see ``Settings``).\"\"\"
    from <<pkg>>.provider import <<cls>>
    from <<pkg>>.settings import Settings

    return <<cls>>(Settings(**settings))


@hookimpl
def <<hook>>() -> list[ProviderType]:
    return [
        ProviderType(
            "<<type>>",
            create,
            "<<summary>>",
            settings="<<pkg>>.settings:Settings",
            has_check=True,<<traits>>
        )
    ]
"""

SETTINGS = """\
\"\"\"The settings of a ``<<type>>`` provider.

They are the keys of its ``[providers.NAME]`` table.
\"\"\"

from __future__ import annotations

import attrs
from aicmo_gateway import Secret


def _secret(value: str | Secret) -> Secret:
    return value if isinstance(value, Secret) else Secret(value)


@attrs.frozen
class Settings:
    api_key: Secret = attrs.field(converter=_secret)
    base_url: str
    timeout: float = 10.0<<settings_extra>>
"""

PROVIDER = """\
\"\"\"The ``<<type>>`` provider.

<<summary>>.

It speaks a made-up JSON API, ``POST {base_url}/<operation>``, authenticated with a bearer
key; replace the requests with your service's. ``aicmo_gateway.http`` maps the statuses to the
error taxonomy (see docs/plugins/errors.md); ``_call`` refines what only this service says.
\"\"\"

from __future__ import annotations

<<provider_imports>>
from typing import Any

import attrs
from aicmo_gateway import <<provider_names>>
from aicmo_gateway.http import HttpClient, HttpResponse
<<port_imports>>

from <<pkg>>.settings import Settings
<<provider_helpers>>

@attrs.define
class <<cls>>:
    \"\"\"<<summary>> (one provider instance).\"\"\"

    settings: Settings
    _http: HttpClient = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        key = self.settings.api_key.reveal()
        self._http = HttpClient(
            self.settings.base_url,
            timeout=self.settings.timeout,
            headers={"Authorization": Secret(f"Bearer {key}")},
            provider="<<type>>",
        )

    async def _call(self, operation: str, payload: Any, *, write: bool) -> HttpResponse:
        response = await self._http.request(
            "POST", f"/{operation}", json=payload, write=write, raise_for_status=False
        )
        if response.status == 402:  # this service's way of saying the credits are spent
            raise QuotaExhausted(
                f"HTTP 402: the account's credits are spent ({response.detail()}); "
                "buy credits or wait for the renewal",
                provider="<<type>>",
            )
        self._http.raise_for(response)
        return response
<<provider_methods>>
    async def check(self) -> None:
        \"\"\"Raise when the service refuses the key; performs nothing.\"\"\"
        await self._http.request("GET", "/check", write=False)

    async def aclose(self) -> None:
        await self._http.aclose()
"""
