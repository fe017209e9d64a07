"""What a plugin package's ``__init__`` uses to stay cheap to import.

Every installed plugin is imported by every ``aicmo-gateway`` command and every
``Gateway.from_config``, so a plugin's ``__init__`` should import next to nothing:

* :func:`silence`: loguru's ``logger.disable(package)`` without importing loguru (done at
  once if loguru is loaded, otherwise right after its import), so the plugin is silent
  until the application calls ``logger.enable(package)``, whatever the order;
* :func:`version_getattr`: a module ``__getattr__`` whose ``__version__`` is read from the
  installed metadata when first asked for;
* :func:`attach`: a module ``__getattr__`` and ``__dir__`` that import the package's public
  names from their modules on first use (PEP 562), and optionally serve ``__version__``.

::

    from aicmo_gateway.plugin_kit import silence, version_getattr

    silence("aicmo_gateway_acme")
    __getattr__ = version_getattr(__name__, "aicmo-gateway-acme")

This module imports only ``aicmo_gateway.lazy`` and ``aicmo_gateway.logs``, two small
modules of the standard library's weight. See the plugin authoring guide.
"""

from __future__ import annotations

from aicmo_gateway.lazy import attach, version_getattr
from aicmo_gateway.logs import silence

__all__ = ["attach", "silence", "version_getattr"]
