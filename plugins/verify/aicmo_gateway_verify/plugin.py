"""The plugin module behind the ``verify`` entry point: one hook, the ``dns`` provider type.

Importing it, and calling the hook at discovery, loads neither dnspython nor
email-validator: the factory imports :mod:`aicmo_gateway_verify.verifier` when a
provider is built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aicmo_gateway import ProviderType, hookimpl

if TYPE_CHECKING:
    from aicmo_gateway_verify.verifier import DnsEmailVerifier

__all__ = ["aicmo_email_verifiers", "create"]


def create(**settings: Any) -> DnsEmailVerifier:
    """The ``dns`` type's factory: settings as keyword arguments, see ``VerifySettings``."""
    from aicmo_gateway_verify.verifier import DnsEmailVerifier  # dnspython loads here

    return DnsEmailVerifier.from_settings(**settings)


@hookimpl
def aicmo_email_verifiers() -> list[ProviderType]:
    return [
        ProviderType(
            "dns",
            create,
            "checks syntax, disposable domains, role accounts and the domain's MX in DNS; "
            "no account needed",
            settings="aicmo_gateway_verify.settings:VerifySettings",
            has_check=True,
        )
    ]
