"""The in-memory ledger's ring: the bound, re-recorded and expired writes, a bound changed
on a live ledger, each against a plain model of the rules (an ordered dict)."""

from __future__ import annotations

import random
from collections import OrderedDict
from typing import Any

import attrs
import pytest

from aicmo_gateway.engine.ledger import MemoryLedger
from aicmo_gateway.outcome import Outcome, Status


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _outcome(key: str, **fields: Any) -> Outcome:
    base = Outcome(
        Status.OK,
        value=f"value of {key}",
        provider="p",
        attempts=(),
        call_id=f"call {key}",
        capability="email_sending",
        operation="send",
        idempotency_key=key,
    )
    return attrs.evolve(base, **fields)


def _kept(ledger: MemoryLedger, keys: Any) -> list[str]:
    return [k for k in keys if ledger.get("email_sending", "send", k) is not None]


def test_a_full_ledger_forgets_its_oldest_write_first_and_keeps_the_newest():
    ledger = MemoryLedger(max_entries=3)
    keys = [f"k{i}" for i in range(10)]
    for i, key in enumerate(keys):
        ledger.record(_outcome(key))
        assert len(ledger) == min(i + 1, 3)
        assert _kept(ledger, keys[: i + 1]) == keys[max(0, i - 2) : i + 1]
    assert len(ledger._order) == 3  # the ring wrapped around in place


def test_the_ring_grows_to_the_bound_and_no_further():
    ledger = MemoryLedger(max_entries=1000)
    for i in range(2500):
        ledger.record(_outcome(f"k{i}"))
    assert len(ledger) == 1000
    assert len(ledger._order) == 1000  # every place holds a write: none spare
    assert _kept(ledger, [f"k{i}" for i in range(2500)]) == [f"k{i}" for i in range(1500, 2500)]


def test_a_write_recorded_again_is_the_newest_and_its_old_place_evicts_nothing():
    ledger = MemoryLedger(max_entries=3)
    for key in ("a", "b", "c"):
        ledger.record(_outcome(key))
    ledger.record(_outcome("b", value="again"))  # "b" is now the newest: a, c, b
    ledger.record(_outcome("d"))  # forgets "a"
    assert _kept(ledger, "abcd") == ["b", "c", "d"]
    ledger.record(_outcome("e"))  # forgets "c", not "b" (whose old place comes first)
    assert _kept(ledger, "abcde") == ["b", "d", "e"]
    assert ledger.get("email_sending", "send", "b").value == "again"
    ledger.record(_outcome("f"))  # and now "b", the oldest
    assert _kept(ledger, "abcdef") == ["d", "e", "f"]
    assert len(ledger) == 3


def test_an_expired_write_counts_for_nothing_once_looked_up():
    clock = Clock()
    ledger = MemoryLedger(max_entries=3, ttl=60, clock=clock)
    ledger.record(_outcome("a"))
    ledger.record(_outcome("b"))
    clock.now += 30
    ledger.record(_outcome("c"))
    clock.now += 31  # "a" and "b" expired; only "b" is looked up, and forgotten
    assert ledger.get("email_sending", "send", "b") is None
    assert len(ledger) == 2
    ledger.record(_outcome("d"))  # three writes: nothing forgotten
    assert len(ledger) == 3
    ledger.record(_outcome("e"))  # forgets "a", the oldest (expired, still counted)
    assert len(ledger) == 3
    assert _kept(ledger, "abcde") == ["c", "d", "e"]
    clock.now += 30  # "c" expires
    assert _kept(ledger, "cde") == ["d", "e"]


def test_lowering_the_bound_on_a_live_ledger_forgets_the_oldest_writes_at_once():
    ledger = MemoryLedger(max_entries=10)
    keys = [f"k{i}" for i in range(25)]
    for key in keys[:15]:
        ledger.record(_outcome(key))
    ledger.max_entries = 4
    assert ledger.max_entries == 4
    assert len(ledger) == 4
    assert _kept(ledger, keys) == keys[11:15]
    assert len(ledger._order) <= 2 * 4 + 1  # the ring shrank too
    for i, key in enumerate(keys[15:20], 15):
        ledger.record(_outcome(key))
        assert _kept(ledger, keys) == keys[i - 3 : i + 1]
    ledger.max_entries = 6  # raised: the ledger fills up to it again
    for key in keys[20:]:
        ledger.record(_outcome(key))
    assert _kept(ledger, keys) == keys[19:]
    for wrong in (0, -3, 2.5, True, "10"):
        with pytest.raises(ValueError, match="whole number of writes, at least 1"):
            ledger.max_entries = wrong  # type: ignore[assignment]
        with pytest.raises(ValueError, match="whole number of writes, at least 1"):
            MemoryLedger(max_entries=wrong)  # type: ignore[arg-type]
    assert ledger.max_entries == 6  # a refused bound changes nothing


@pytest.mark.parametrize(
    "fields",
    [
        {"value": None, "provider": None, "reason": None},
        {"value": {"id": 7}, "provider": "smtp", "reason": "replayed"},
        {"value": 0, "provider": "", "reason": ""},
    ],
)
def test_a_recorded_answer_provider_and_reason_come_back_as_they_were(fields):
    ledger = MemoryLedger(max_entries=2)
    for key in ("old", "older"):  # the ring wraps: the write takes a place used before
        ledger.record(_outcome(key, value="x", provider="y", reason="z"))
    ledger.record(_outcome("k", **fields))
    found = ledger.get("email_sending", "send", "k")
    assert found is not None
    assert (found.value, found.provider, found.reason) == (
        fields["value"],
        fields["provider"],
        fields["reason"],
    )
    assert (found.call_id, found.idempotency_key, found.attempts) == ("call k", "k", ())


class _Model:
    """The rules, plainly: writes in order of recording, the oldest forgotten first."""

    def __init__(self, max_entries: int, ttl: float, clock: Clock) -> None:
        self.max_entries, self.ttl, self.clock = max_entries, ttl, clock
        self.done: OrderedDict[str, tuple[float, Any]] = OrderedDict()

    def record(self, key: str, value: Any) -> None:
        self.done.pop(key, None)
        self.done[key] = (self.clock(), value)
        self.trim()

    def trim(self) -> None:
        while len(self.done) > self.max_entries:
            self.done.popitem(last=False)

    def get(self, key: str) -> Any:
        found = self.done.get(key)
        if found is None:
            return None
        if self.clock() - found[0] > self.ttl:
            del self.done[key]
            return None
        return found[1]


@pytest.mark.parametrize("seed", range(6))
def test_the_ring_follows_the_plain_rules_through_any_mix_of_calls(seed):
    rng = random.Random(seed)
    clock = Clock()
    ledger = MemoryLedger(max_entries=8, ttl=50, clock=clock)
    model = _Model(8, 50, clock)
    keys = [f"k{i}" for i in range(30)]
    for step in range(3000):
        roll = rng.random()
        key = rng.choice(keys)
        if roll < 0.5:
            ledger.record(_outcome(key, value=step))
            model.record(key, step)
        elif roll < 0.9:
            found = ledger.get("email_sending", "send", key)
            assert (found.value if found else None) == model.get(key)
        elif roll < 0.98:
            clock.now += rng.choice((1, 5, 20))
        else:
            ledger.max_entries = model.max_entries = rng.choice((1, 3, 8, 12))
            model.trim()
        assert len(ledger) == len(model.done)
        assert len(ledger._order) <= 2 * ledger.max_entries + 1
