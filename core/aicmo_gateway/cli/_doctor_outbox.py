"""``doctor``'s rows for the outbox: reachable, schema version, rows waiting or given up.

Read before the gateway is built (building one migrates the schema), with the backend
alone: no provider is built and nothing is replayed.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from aicmo_gateway.cli._doctor import Finding

if TYPE_CHECKING:
    from aicmo_gateway.config.load import GatewayConfig

__all__ = ["outbox_findings"]


def _age(seconds: float) -> str:
    seconds = max(seconds, 0.0)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.0f} s"


def outbox_findings(config: GatewayConfig, now: float | None = None) -> list[Finding]:
    """The outbox's rows (none when ``[gateway] outbox`` is not set)."""
    settings = config.outbox
    if settings is None:
        return []
    from aicmo_gateway.state.outbox import RowState, open_backend
    from aicmo_gateway.state.outbox.backend import redact_url
    from aicmo_gateway.state.outbox.migrations import LATEST

    where = config.outbox_shown or redact_url(settings.url)
    now = time.time() if now is None else now
    try:
        backend = open_backend(settings.url, config.base_dir)
    except Exception as exc:
        return [_unreachable(where, exc)]
    try:
        version = backend.version()
        if version > LATEST:
            return [
                Finding(
                    "outbox",
                    where,
                    False,
                    f"schema version {version} is newer than this aicmo-gateway's ({LATEST})",
                    "upgrade aicmo-gateway on this host to the version the other hosts run",
                )
            ]
        found = [
            Finding(
                "outbox",
                where,
                True,
                f"reachable, schema version {LATEST}"
                if version == LATEST
                else f"reachable, schema version {version}: migrated to {LATEST} by the "
                "first gateway that opens it (this check's included)",
            )
        ]
        if version == 0:  # a new outbox: no table yet, nothing stored
            return found
        counts = backend.counts()
        oldest = backend.rows(RowState.PENDING, 1)
    except Exception as exc:
        return [_unreachable(where, exc)]
    finally:
        backend.close()
    waiting = (
        f"{counts['pending']} pending, {counts['in_flight']} in flight, {counts['held']} held, "
        f"{counts['dead']} dead, {counts['done']} done"
    )
    if oldest:
        row = oldest[0]
        waiting += f"; oldest pending: row {row.id}, stored {_age(now - row.created_at)} ago"
        late = now - row.next_attempt_at
        # due for longer than a replayer's pass could explain: nobody is replaying
        if late > settings.lease + settings.backoff_max:
            found.append(
                Finding(
                    "outbox",
                    "replay",
                    False,
                    f"{waiting}; row {row.id} has been due for {_age(late)}",
                    "run `aicmo-gateway outbox replay --loop` (or call "
                    "gateway.outbox.replay() on a schedule)",
                )
            )
            waiting = ""
    if waiting:
        found.append(Finding("outbox", "rows", True, waiting))
    if counts["held"]:
        found.append(
            Finding(
                "outbox",
                "held",
                False,
                f"{counts['held']} write(s) may have been performed and wait for a decision",
                "check each with `aicmo-gateway outbox list --state held` and `outbox show ID`, "
                "then `outbox retry ID` for those not performed",
            )
        )
    if counts["dead"]:
        found.append(
            Finding(
                "outbox",
                "dead",
                False,
                f"{counts['dead']} write(s) were given up (outbox_max_attempts, or rejected)",
                "read why with `aicmo-gateway outbox list --state dead`; `outbox retry ID` to "
                "send one again, `outbox purge --dead` to drop them",
            )
        )
    return found


def _unreachable(where: str, exc: BaseException) -> Finding:
    from aicmo_gateway.state.outbox.backend import redact_url

    return Finding(
        "outbox",
        where,
        False,
        f"cannot open it: {type(exc).__name__}: {redact_url(str(exc))[:300]}",
        "check that the folder exists and is writable, or that the database server is "
        "running and the URL is right",
    )
