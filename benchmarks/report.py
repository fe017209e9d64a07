"""The issue's table from a results dict: ours, the peers, the ratio and the verdict."""

from __future__ import annotations

from typing import Any

from benchmarks.scenarios import DOWN_FOR

OURS, COMP, LITE = "aicmo-gateway", "tenacity+aiobreaker+timeout", "litellm Router"


def f(x: Any, digits: int = 3) -> str:
    """A number for the table: integers as they are, others to ``digits`` significant digits."""
    if x is None:
        return "never"
    if isinstance(x, int):
        return str(x)
    if isinstance(x, float):
        if x == 0:
            return "0"
        if abs(x) >= 10 ** (digits - 1):
            return f"{x:.0f}"
        return f"{x:.{digits}g}"
    return str(x)


def ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b == 0:
        return "-"
    return f"{a / b:.2f}x"


def _worst(runs: dict[str, dict[str, Any]], key: str) -> Any:
    values = [r[key] for r in runs.values()]
    return None if any(v is None for v in values) else max(values)


def _per_d(runs: dict[str, dict[str, Any]], key: str) -> str:
    return "/".join(f(r[key]) for r in runs.values())


def _dups(r: dict[str, Any]) -> int:
    return int(r["duplicate_side_effects"])


def _brown(b: dict[str, Any]) -> str:
    never = b["closed"]["demoted_after_s"] is None and b["open"]["demoted_after_s"] is None
    text = f"{b['open']['slow_before_demotion']} · {b['closed']['slow_before_demotion']}"
    return text + (" (never demoted)" if never else "")


#: peak memory of 1,000 concurrent calls before the hot-path rework (benchmarks/README.md,
#: 2026-11-25): the throughput target allows no more
PEAK_MIB_BEFORE = {"email_verification": 5.97, "email_sending": 7.01}


def rows(res: dict[str, Any]) -> list[list[str]]:
    """Scenario, measure, target, ours, composition, LiteLLM, ours/composition, verdict."""
    o, c = res[OURS], res[COMP]
    lite = res.get("litellm") or {}
    ov, tp = res["overhead"]["overhead"], res["overhead"]["throughput"]
    out: list[list[str]] = []

    def row(*cells: Any) -> None:
        out.append([str(x) for x in cells])

    r_o, w_o = (
        ov["email_verification"][OURS]["overhead_us"],
        ov["email_sending"][OURS]["overhead_us"],
    )
    r_c, w_c = (
        ov["email_verification"][COMP]["overhead_us"],
        ov["email_sending"][COMP]["overhead_us"],
    )
    lo = lite.get("overhead", {}).get(LITE, {}).get("overhead_us")
    keyed = ov["email_sending"].get("aicmo-gateway, idempotency_key given", {}).get("overhead_us")
    ok = max(r_o, w_o) <= 10 and r_o <= r_c / 3 and w_o <= w_c / 3 and (keyed is None or keyed <= 8)
    row(
        "per-call overhead, one provider, in-memory",
        "µs over a direct call, median of 5 (read / write)",
        "≤ 10 µs and ≤ ⅓ composition (≤ 8 µs with the key given)",
        f"{f(r_o)} / {f(w_o)}" + (f" ({f(keyed)} with the key given)" if keyed else ""),
        f"{f(r_c)} / {f(w_c)}",
        f(lo) + " (over litellm.acompletion mock)" if lo else "-",
        f"{ratio(r_o, r_c)} / {ratio(w_o, w_c)}",
        "met" if ok else "MISSED",
    )

    hd, hc = o["hard_down"], c["hard_down"]
    hl = next(iter(lite.get("hard_down", {}).values()), None)
    ds = "/".join(f"{d:g}" for d in DOWN_FOR)
    row(
        "hard-down primary, 50 calls/s",
        "user-visible failures",
        "0",
        sum(r["failures"] for r in hd.values()),
        sum(r["failures"] for r in hc.values()),
        f(hl["failures"]) if hl else "-",
        "-",
        "met" if all(r["failures"] == 0 for r in hd.values()) else "MISSED",
    )
    row(
        "",
        "attempts on the primary before it is skipped",
        "≤ 5",
        _worst(hd, "wasted_before_skip"),
        _worst(hc, "wasted_before_skip"),
        f(hl["wasted_before_skip"]) if hl else "-",
        "-",
        "met" if _worst(hd, "wasted_before_skip") <= 5 else "MISSED",
    )
    rec = _worst(hd, "recovery_s")
    row(
        "",
        f"s until the recovered primary serves ≥ 90% (outage {ds} s)",
        "≤ 5 s",
        f"{_per_d(hd, 'recovery_s')}",
        f"{_per_d(hc, 'recovery_s')}",
        f"{f(hl['recovery_s'])} (outage 22.5 s, real clock)" if hl else "-",
        ratio(rec, _worst(hc, "recovery_s")),
        "met" if rec is not None and rec <= 5 else "MISSED",
    )
    row(
        "",
        "probes per open interval (max)",
        "≤ 1",
        _worst(hd, "max_probes_per_open_interval"),
        _worst(hc, "max_probes_per_open_interval"),
        f(hl["max_probes_per_open_interval"]) if hl else "-",
        "-",
        "met" if _worst(hd, "max_probes_per_open_interval") <= 1 else "MISSED",
    )
    t5 = o["hard_down_open_max_5s"]
    row(
        "",
        "… ours with `health.open_max_seconds = 5`: recovery s / probes per interval",
        "≤ 5 s / ≤ 1",
        f"{_per_d(t5, 'recovery_s')} / {_worst(t5, 'max_probes_per_open_interval')}",
        "",
        "",
        "",
        "met" if (_worst(t5, "recovery_s") or 99) <= 5 else "MISSED",
    )

    bo, bc, bh = o["black_hole"], c["black_hole"], o["black_hole_hedge"]
    a_o, a_c = bo["open"]["affected_before_isolation"], bc["open"]["affected_before_isolation"]
    row(
        "black-holed primary (reads)",
        "calls affected before isolation (50/s · one caller)",
        "≤ 5",
        f"{a_o} · {bo['closed']['affected_before_isolation']}",
        f"{a_c} · {bc['closed']['affected_before_isolation']}",
        "n/a",
        ratio(a_o, a_c),
        "met"
        if a_o <= 5
        else f"MISSED at 50/s (met by one caller: {bo['closed']['affected_before_isolation']})",
    )

    def lat(b: dict[str, Any]) -> str:
        o_, c_ = b["open"]["added_latency_s"], b["closed"]["added_latency_s"]
        return f"{f(o_['mean'])}, {f(o_['max'])} · {f(c_['max'])}"

    worst = max(bo["open"]["added_latency_s"]["max"], bo["closed"]["added_latency_s"]["max"])
    row(
        "",
        "added latency per affected call, s (50/s mean, max · one caller max)",
        "≤ attempt timeout (10 s)",
        lat(bo),
        lat(bc),
        "n/a",
        "-",
        "met" if worst <= 10.0 + 1e-6 else "MISSED",
    )
    row(
        "",
        '… ours with `strategy = "hedge"`: affected before isolation (50/s · one caller), '
        "in all / added s",
        "≤ 5 / ≤ hedge delay",
        f"{bh['open']['affected_before_isolation']} · {bh['closed']['affected_before_isolation']}"
        f", {bh['open']['affected']} in all / {f(bh['open']['added_latency_s']['max'])}",
        "",
        "",
        "",
        "met"
        if max(bh["open"]["affected_before_isolation"], bh["closed"]["affected_before_isolation"])
        <= 5
        else "MISSED",
    )

    for name, label in (
        ("brownout", "defaults"),
        ("brownout[health_order]", '`order = "health"`'),
        ("brownout[slow_call_seconds]", "`slow_call_seconds = 0.25`"),
        ("brownout[health_order+slow_call_seconds]", "both"),
    ):
        b = o[name]
        first = name == "brownout"
        closed = b["closed"]["slow_before_demotion"]
        never = b["closed"]["demoted_after_s"] is None
        row(
            "brownout: primary x10 latency" if first else "",
            f"slow calls before demotion, 50/s · one caller — ours: {label}",
            "≤ 10",
            _brown(b),
            _brown(c["brownout"]) if first else "",
            "n/a" if first else "",
            "-",
            "MISSED (never demoted)"
            if never
            else (
                "met"
                if b["open"]["slow_before_demotion"] <= 10
                else f"met by one caller only ({closed})"
            ),
        )

    ad, ac = o["all_down"], c["all_down"]
    row(
        "all down, 3 providers x 3 attempts",
        "provider attempts per call once breakers are open",
        "≤ 0.01",
        f(ad["attempts_per_call_once_open"]),
        f(ac["attempts_per_call_once_open"]),
        "n/a",
        ratio(ad["attempts_per_call_once_open"], ac["attempts_per_call_once_open"]),
        "met" if (ad["attempts_per_call_once_open"] or 0) <= 0.01 else "MISSED",
    )
    row(
        "",
        "attempts per call in the first second",
        "≤ 3.3",
        f(ad["attempts_per_call_first_second"]),
        f(ac["attempts_per_call_first_second"]),
        "n/a",
        "-",
        "met" if ad["attempts_per_call_first_second"] <= 3.3 else "MISSED",
    )
    tf, tc = ad["time_to_fail_once_open_s"], ac["time_to_fail_once_open_s"]
    row(
        "",
        "time to fail once open, s (median, mean, max)",
        "(no target)",
        f"{f(tf['median'])}, {f(tf['mean'])}, {f(tf['max'])}",
        f"{f(tc['median'])}, {f(tc['mean'])}, {f(tc['max'])}",
        "n/a",
        "-",
        "info",
    )

    lh = lite.get("half_open")
    row(
        "50 callers reach a half-open provider",
        "calls let through",
        "= probe count (1)",
        o["half_open"]["let_through"],
        c["half_open"]["let_through"],
        f(lh["let_through"]) if lh else "-",
        "-",
        "met" if o["half_open"]["let_through"] == 1 else "MISSED",
    )

    ra, rc, rl = o["retry_after"], c["retry_after"], lite.get("retry_after")
    row(
        "429 with retry-after 20 s",
        "calls sent to it inside the window (after the 429)",
        "0",
        ra["sent_inside_window"],
        rc["sent_inside_window"],
        f(rl["sent_inside_window"]) if rl else "-",
        "-",
        "met" if ra["sent_inside_window"] == 0 else "MISSED",
    )
    row(
        "",
        "s after the window until it serves again",
        "(no target)",
        f(ra["back_on_primary_after_window_s"]),
        f(rc["back_on_primary_after_window_s"]),
        f(rl["back_on_primary_after_window_s"]) if rl else "-",
        "-",
        "info",
    )

    aw, acw, ai = o["ambiguous_write"], c["ambiguous_write"], o["ambiguous_write[idempotent]"]
    row(
        "accept-then-time-out write, 500 calls",
        "duplicate side effects (error after 1 s · no answer)",
        "0",
        f"{aw['error']['duplicate_side_effects']} · {aw['hang']['duplicate_side_effects']}",
        f"{acw['error']['duplicate_side_effects']} · {acw['hang']['duplicate_side_effects']}",
        "n/a",
        "-",
        "met"
        if aw["error"]["duplicate_side_effects"] + aw["hang"]["duplicate_side_effects"] == 0
        else "MISSED",
    )
    row(
        "",
        "… ours, both providers honour keys, `retries = 1` on Ambiguous: duplicates "
        "(times out once · always)",
        "0",
        f"{_dups(ai['times_out_once'])} · {_dups(ai['always_times_out'])}",
        "",
        "",
        "",
        "met" if ai["always_times_out"]["duplicate_side_effects"] == 0 else "MISSED (engine bug)",
    )

    lt = lite.get("throughput")
    for cap, label in (("email_verification", "read"), ("email_sending", "write")):
        t_o, t_c = tp[cap][OURS], tp[cap][COMP]
        before = PEAK_MIB_BEFORE[cap]
        met = t_o["calls_per_s"] >= 1.5 * t_c["calls_per_s"] and t_o["peak_mib"] <= before
        row(
            "1,000 concurrent calls, healthy chain" if cap == "email_verification" else "",
            f"calls/s on one core; peak MiB ({label})",
            f"≥ 1.5x composition; ≤ {before:g} MiB",
            f"{f(t_o['calls_per_s'])}; {f(t_o['peak_mib'])}",
            f"{f(t_c['calls_per_s'])}; {f(t_c['peak_mib'])}",
            f"{f(lt['calls_per_s'])}; {f(lt['peak_mib'])}"
            if lt and cap == "email_verification"
            else "",
            ratio(t_o["calls_per_s"], t_c["calls_per_s"])
            + "; "
            + ratio(t_o["peak_mib"], t_c["peak_mib"]),
            "met" if met else "MISSED",
        )
    return out


HEADER = ["scenario", "measure", "target (ours)", OURS, COMP, LITE, "ours ÷ composition", "ours"]


def table(res: dict[str, Any]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(r) + " |" for r in rows(res)]
    return "\n".join(lines)
