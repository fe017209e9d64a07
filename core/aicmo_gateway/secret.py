"""``Secret``: a string that never shows itself in reprs, logs or errors."""

from __future__ import annotations

from typing import Any, NoReturn

__all__ = ["Secret"]

_MASK = "********"


class Secret:
    """Holds a credential; ``reveal()`` is the only way to read it.

    ``repr()``, ``str()`` and formatting all print a mask, so a settings object
    holding a ``Secret`` can be logged or shown in an error safely. A ``Secret``
    is immutable; copying returns the same object and pickling is refused.
    """

    __slots__ = ("_value",)
    _value: str

    def __init__(self, value: str | Secret) -> None:
        raw: object = value.reveal() if isinstance(value, Secret) else value
        if not isinstance(raw, str):
            raise TypeError(f"Secret expects a str, got {type(raw).__name__}")
        object.__setattr__(self, "_value", raw)

    def reveal(self) -> str:
        """Return the secret value, for handing to the service that needs it."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret({_MASK!r})"

    def __str__(self) -> str:
        return _MASK

    def __format__(self, spec: str) -> str:
        return _MASK

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        # constant time, so a comparison does not leak how much of a guess was right
        import hmac  # with hashlib and OpenSSL behind it: loaded when secrets are compared

        return hmac.compare_digest(self._value.encode("utf-8"), other._value.encode("utf-8"))

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __bool__(self) -> bool:
        return bool(self._value)

    def __setattr__(self, name: str, value: Any) -> NoReturn:
        raise AttributeError("a Secret is immutable; create a new one")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError("a Secret is immutable; create a new one")

    def __copy__(self) -> Secret:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Secret:
        return self

    def __reduce__(self) -> Any:
        raise TypeError("a Secret cannot be pickled; pass the reference instead")
