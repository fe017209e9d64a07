"""aicmo-gateway-verify: the ``dns`` email verifier, which needs no account.

It checks an address's syntax, flags disposable domains and role accounts, and
asks DNS where the domain's mail goes (MX, null MX, implicit MX). Importing this
package is cheap: its settings are imported when ``VerifySettings`` is first used,
and dnspython and email-validator only when a provider is built
(``aicmo_gateway_verify.verifier``). The provider type is registered through the
``aicmo_gateway`` entry point (``aicmo_gateway_verify.plugin``).

Logging goes through loguru and is off by default:
``logger.enable("aicmo_gateway_verify")`` turns it on.
"""

from aicmo_gateway.plugin_kit import attach, silence

TYPE_CHECKING = False  # as typing's, without importing typing
if TYPE_CHECKING:
    from aicmo_gateway_verify.settings import VerifySettings

silence("aicmo_gateway_verify")

__getattr__, __dir__ = attach(
    __name__,
    {"aicmo_gateway_verify.settings": ("VerifySettings",)},
    distribution="aicmo-gateway-verify",
)

__all__ = ["VerifySettings", "__version__"]
