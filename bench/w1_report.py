"""Markdown for bench/w1_cpu.py's results: contestants, hqsim against the strongest peer (the
issue-18 targets), and hqsim's roofline (bench/roofline.py's model and measured ceilings)."""
from __future__ import annotations

from bench.roofline import IN_MEMORY_BYTES, efficiency, working_set_bytes

HQSIM = "hqsim-numba"
TARGET_FWD, TARGET_FWDBWD = 8.0, 15.0          # x the strongest peer
TARGET_FMA_PCT, TARGET_BW_PCT = 35.0, 60.0      # % of the bounding ceiling


def rate(res, key):
    """Samples/s from a row's median (key) or best (key with _best) seconds; None if absent."""
    return res["batch_timed"] / res[key] if res.get(key) else None


def _fmt(v, digits=0):
    return "-" if v is None else f"{v:,.{digits}f}"


def row_text(res):
    head = f"{res['threads']}t Q={res['q']:2d} B={res['b']:4d} {res['name']:27s}"
    if "error" in res:
        return f"{head} ERROR {res['error']}"
    errs = " ".join(f"{k} {v:.1e}" for k, v in res.get("errors", {}).items())
    return (f"{head} fwd {_fmt(rate(res, 'fwd_s')):>9}/s  fwd+bwd {_fmt(rate(res, 'fwdbwd_s')):>9}/s  "
            f"compile {res.get('compile_fwd_s', 0):.1f}/{res.get('compile_fwdbwd_s', 0):.1f} s  err {errs}  load {res['load']}")


def _mib(nbytes):
    return f"{nbytes / 2 ** 20:g} MiB" if nbytes >= 2 ** 20 else f"{nbytes / 2 ** 10:g} KiB"


def _contestant_table(rows):
    lines = ["| threads | Q | B | contestant | precision | fwd samples/s | fwd+bwd samples/s | bwd/fwd time | "
             "compile fwd / fwd+bwd (s) | rel. err out / dx / dθ | load |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        cap = f" (timed on {r['batch_timed']})" if r.get("batch_timed", r["b"]) != r["b"] else ""
        head = f"| {r['threads']} | {r['q']} | {r['b']} | {r['name']}{cap} |"
        if "error" in r:
            lines.append(f"{head} | **{r['error']}** | | | | | {r['load']} |")
            continue
        f, fb = rate(r, "fwd_s"), rate(r, "fwdbwd_s")
        ratio = f"{(r['fwdbwd_s'] - r['fwd_s']) / r['fwd_s']:.2f}" if fb else "-"
        comp = f"{r['compile_fwd_s']:.1f} / {r['compile_fwdbwd_s']:.1f}" if fb else f"{r['compile_fwd_s']:.1f} / -"
        errs = " / ".join(f"{r['errors'][k]:.0e}" for k in ("out", "dx", "dtheta") if k in r["errors"])
        lines.append(f"{head} {r['precision']} | {_fmt(f)} | {_fmt(fb)} | {ratio} | {comp} | {errs} | {r['load']} |")
    return lines


def _by_point(rows):
    points = {}
    for r in rows:
        points.setdefault((r["threads"], r["q"], r["b"]), []).append(r)
    return points


def strongest(rows, key):
    """(name, samples/s) of the fastest peer (not hqsim) that passed the check, or (None, None)."""
    best = max(((r["name"], rate(r, key)) for r in rows if r["name"] != HQSIM and "error" not in r and rate(r, key)),
               key=lambda t: t[1], default=(None, None))
    return best


def _ratio_table(rows):
    lines = [f"| threads | Q | B | hqsim fwd/s | strongest peer fwd | hqsim ÷ peer (target ≥ {TARGET_FWD:g}×) | "
             f"hqsim fwd+bwd/s | strongest peer fwd+bwd | hqsim ÷ peer (target ≥ {TARGET_FWDBWD:g}×) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for (threads, q, b), rs in _by_point(rows).items():
        hq = next((r for r in rs if r["name"] == HQSIM and "error" not in r), None)
        cells = []
        for key, target in (("fwd_s", TARGET_FWD), ("fwdbwd_s", TARGET_FWDBWD)):
            mine = rate(hq, key) if hq else None
            name, peer = strongest(rs, key)
            if mine and peer:
                x = mine / peer
                cells += [_fmt(mine), f"{name} {_fmt(peer)}", f"{x:.1f}× ({'met' if x >= target else 'not met'})"]
            else:
                cells += [_fmt(mine), "-" if not name else f"{name} {_fmt(peer)}", "-"]
        lines.append(f"| {threads} | {q} | {b} | " + " | ".join(cells) + " |")
    return lines


def _roofline_table(meta, rows):
    lines = ["| threads | Q | B | step | bytes/sample | flops/sample | flops/byte | working set per thread | "
             "achieved GB/s (stream ceiling there) | achieved GFLOP/s (FMA ceiling) | bound | % of the bounding ceiling |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if r["name"] != HQSIM or "error" in r:
            continue
        cost, ceil = meta["costs"][str(r["q"])], meta["ceilings"].get(str(r["threads"]), {})
        if "fma_gflops" not in ceil:
            continue
        for step, key, bwd in (("fwd", "fwd", False), ("fwd+bwd", "fwdbwd", True)):
            if not r.get(f"{key}_best_s"):
                continue
            ws = working_set_bytes(r["q"], bwd)
            bw = ceil["stream_gbs"][str(ws)]
            per_call = r["batch_timed"]
            e = efficiency(cost[f"{key}_flops"] * per_call, cost[f"{key}_bytes"] * per_call,
                           r[f"{key}_best_s"], ceil["fma_gflops"], bw)
            target = TARGET_FMA_PCT if e["bound"] == "FMA" else TARGET_BW_PCT
            lines.append(
                f"| {r['threads']} | {r['q']} | {r['b']} | {step} | {cost[f'{key}_bytes'] / 2 ** 20:.2f} MiB | "
                f"{cost[f'{key}_flops'] / 1e6:.1f} M | {cost[f'{key}_flops'] / cost[f'{key}_bytes']:.2f} | {_mib(ws)} | "
                f"{e['gbs']:.1f} ({bw:.0f}) | {e['gflops']:.1f} ({ceil['fma_gflops']:.0f}) | {e['bound']} | "
                f"**{e['pct_of_bound']:.0f} %** ({'met' if e['pct_of_bound'] >= target else 'not met'}: target "
                f"{target:g} %; {e['pct_fma']:.0f} % of FMA, {e['pct_bw']:.0f} % of stream) |")
    return lines


def _ceiling_lines(meta):
    lines = []
    for threads, c in meta["ceilings"].items():
        if "fma_gflops" not in c:
            lines.append(f"- {threads} thread(s): ceilings not measured ({c.get('error', '?')})")
            continue
        bws = ", ".join(f"{_mib(int(k))} {v:.0f}" for k, v in sorted(c["stream_gbs"].items(), key=lambda t: int(t[0]))
                        if int(k) != IN_MEMORY_BYTES)
        lines.append(f"- {threads} thread(s): FMA {c['fma_gflops']:.1f} GFLOP/s; stream (read+write GB/s) {bws}; "
                     f"in memory ({_mib(IN_MEMORY_BYTES)} per thread) {c['stream_gbs'][str(IN_MEMORY_BYTES)]:.1f}")
    return lines


def render_markdown(meta, rows):
    lines = [f"W1 CPU (R=4, L=2, complex64) — {meta['date_utc']} UTC, {meta['machine']}, revision {meta['revision']}"
             f"{' — QUICK run (smoke, not a record)' if meta.get('quick') else ''}",
             f"command: `{meta['command']}`; load average (1/5/15 min) before {meta['load_before']}, "
             f"after {meta['load_after']}", "", "Measured ceilings (bench/roofline.py):"] + _ceiling_lines(meta)
    lines += ["", "Contestants (median timings; a contestant that failed the oracle check is not timed):", ""]
    lines += _contestant_table(rows)
    lines += ["", "hqsim against the strongest peer at each point (medians):", ""] + _ratio_table(rows)
    lines += ["", "hqsim's roofline (best timing; bytes and flops from bench/roofline.py's model):", ""]
    lines += _roofline_table(meta, rows)
    return "\n".join(lines)
