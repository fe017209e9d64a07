"""The ``on_error`` table of a capability or a provider: error names to reactions, checked.

Read by :mod:`aicmo_gateway.engine.policy` and :mod:`aicmo_gateway.engine.provider_policy`;
problems are ``(key, message, fix)`` tuples, so the config loader can report them all.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aicmo_gateway.config_values import key_part, shown
from aicmo_gateway.engine.classify import ERROR_NAMES, REACTIONS
from aicmo_gateway.outcome import Action

__all__ = ["Problem", "read_on_error"]

Problem = tuple[str, str, str]  # (key suffix, message, fix)


def read_on_error(raw: Any, problems: list[Problem]) -> dict[str, Action]:
    """``on_error = { ErrorName = "reaction" }`` as a map; each wrong entry a problem."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        problems.append(
            (
                "on_error",
                f"must be a table of error name = reaction, got {shown(raw)}",
                'write on_error = { Unavailable = "retry" }',
            )
        )
        return {}
    result: dict[str, Action] = {}
    for name, reaction in raw.items():
        if name not in ERROR_NAMES:
            problems.append(
                (
                    f"on_error.{key_part(name)}",
                    "is not an error the chain reacts to",
                    f"use one of: {', '.join(ERROR_NAMES)}",
                )
            )
            continue
        try:
            action = Action(reaction)
            if action not in REACTIONS:
                raise ValueError(reaction)
            result[name] = action
        except (ValueError, TypeError):
            problems.append(
                (
                    f"on_error.{name}",
                    f"{shown(reaction)} is not a reaction",
                    "use one of: " + ", ".join(r.value for r in REACTIONS),
                )
            )
    return result
