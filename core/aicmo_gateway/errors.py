"""The error taxonomy: what adapters raise and what the chain reacts to.

Adapters raise the subclasses of :class:`ProviderError` so that the chain can
tell a message that was definitely not sent (safe to try the next provider)
from one that may have been sent (falling back could duplicate it) and from
input that no provider would accept. Anything else an adapter raises counts as
a provider failure.

This module imports nothing from the rest of the package.
"""

from __future__ import annotations

from datetime import datetime

__all__ = [
    "Ambiguous",
    "AuthError",
    "ConfigError",
    "ConfigProblem",
    "GatewayClosed",
    "GatewayError",
    "InvalidInput",
    "NotConfigured",
    "PluginError",
    "ProviderError",
    "QuotaExhausted",
    "RateLimited",
    "Unavailable",
    "UnknownProviderType",
]


class GatewayError(Exception):
    """Base class of every error raised by aicmo-gateway."""


# -- errors adapters raise -------------------------------------------------


class ProviderError(GatewayError):
    """A provider could not perform an operation.

    ``performed`` says whether the side effect may have happened:
    ``False`` (definitely not), ``None`` (unknown). Subclasses fix it.
    """

    performed: bool | None = False

    def __init__(self, message: str = "", *, provider: str | None = None) -> None:
        super().__init__(message or self.__class__.__doc__ or self.__class__.__name__)
        self.provider = provider


class Unavailable(ProviderError):
    """The provider is unreachable or refused the work; nothing was performed."""


class RateLimited(Unavailable):
    """The provider asked to slow down (HTTP 429, SMTP 421/451); nothing was performed."""

    def __init__(
        self,
        message: str = "",
        *,
        retry_after: float | None = None,
        provider: str | None = None,
    ) -> None:
        super().__init__(message, provider=provider)
        #: seconds the provider asked to wait, when it said so
        self.retry_after = retry_after


class QuotaExhausted(Unavailable):
    """The account's quota for the period is spent; nothing was performed."""

    def __init__(
        self,
        message: str = "",
        *,
        reset_at: datetime | None = None,
        provider: str | None = None,
    ) -> None:
        super().__init__(message, provider=provider)
        #: when the quota renews, when the provider said so
        self.reset_at = reset_at


class AuthError(Unavailable):
    """Credentials or provider configuration were refused; nothing was performed.

    Retrying the same provider will not help until its configuration changes.
    """


class Ambiguous(ProviderError):
    """The operation may have been performed (e.g. a timeout after the request was sent)."""

    performed = None


class InvalidInput(ProviderError, ValueError):
    """The input is wrong; no provider would accept it.

    Raised by record constructors (``field`` names the bad field) and by
    adapters whose service rejected the payload itself.
    """

    def __init__(
        self, message: str = "", *, field: str | None = None, provider: str | None = None
    ) -> None:
        super().__init__(message, provider=provider)
        self.field = field


# -- errors the gateway raises to users ------------------------------------


def _one_line(text: str, limit: int) -> str:
    """``text`` fit for a terminal: control characters escaped, at most ``limit`` characters."""
    text = str(text)
    if not text.isprintable():
        text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return text if len(text) <= limit else f"{text[: limit - 20]}... ({len(text)} characters)"


class ConfigProblem:
    """One problem in a configuration: where, what and how to fix it.

    Each part is kept to one printable line (control characters escaped, long text cut), so a
    value from a hostile file cannot reshape the terminal or flood it.
    """

    __slots__ = ("fix", "key", "message", "source")

    def __init__(self, source: str, key: str, message: str, fix: str = "") -> None:
        self.source = _one_line(source, 300)  # file name or "<mapping>"
        self.key = _one_line(key, 300)  # dotted path, e.g. "providers.gmail.port"
        self.message = _one_line(message, 2000)
        self.fix = _one_line(fix, 2000)

    def __str__(self) -> str:
        where = f"{self.source}: {self.key}" if self.key else self.source
        text = f"{where}: {self.message}"
        return f"{text}\n    fix: {self.fix}" if self.fix else text

    def __repr__(self) -> str:
        return f"ConfigProblem({self.source!r}, {self.key!r}, {self.message!r})"


class ConfigError(GatewayError, ValueError):
    """A configuration is invalid; ``problems`` lists every problem found."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        head = "1 configuration problem" if count == 1 else f"{count} configuration problems"
        super().__init__(head + ":\n" + "\n".join(f"  - {p}" for p in self.problems))


class NotConfigured(GatewayError):
    """A capability was called but no provider is configured for it."""


class GatewayClosed(GatewayError, RuntimeError):
    """A gateway was used after ``aclose()`` (or its synchronous facade after ``close()``)."""


class UnknownProviderType(GatewayError, LookupError):
    """No installed plugin provides the requested provider type."""


class PluginError(GatewayError):
    """A plugin could not be loaded (raised only in strict mode)."""
