"""aicmo-gateway-verify: the ``dns`` email verifier, which needs no account.

It checks an address's syntax, flags disposable domains and role accounts, and
asks DNS where the domain's mail goes (MX, null MX, implicit MX). Importing this
package is cheap: dnspython and email-validator are imported only when a
provider is built (``aicmo_gateway_verify.verifier``). The provider type is
registered through the ``aicmo_gateway`` entry point (``aicmo_gateway_verify.plugin``).

Logging goes through loguru and is off by default:
``logger.enable("aicmo_gateway_verify")`` turns it on.
"""

from aicmo_gateway.lazy import version_getattr
from aicmo_gateway.logs import silence
from aicmo_gateway_verify.settings import VerifySettings

silence("aicmo_gateway_verify")

__getattr__ = version_getattr(__name__, "aicmo-gateway-verify")

__all__ = ["VerifySettings", "__version__"]
