"""Render the per-row lines that bench/w1_cpu.py prints (Q=.. B=.. name fwd ../s fwd+bwd ../s
err ..) as the RESULTS table, for a run stopped before it wrote its JSON."""
from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.w1_cpu import _hqsim_flops  # noqa: E402

ROW = re.compile(r"Q=\s*(\d+) B=\s*(\d+) (\S+)\s+(?:fwd\s+(\d+)/s\s+fwd\+bwd\s+(\S+)/s\s+err (\S+)|ERROR (.*))")


def main(log, threads, peak):
    rows = [m.groups() for m in map(ROW.match, Path(log).read_text().splitlines()) if m]
    out = ["| Q | B | contestant | fwd samples/s | fwd+bwd samples/s | bwd/fwd time | hqsim fwd+bwd speed-up | max rel err | hqsim GFLOP/s per core (% of peak) |",
           "|---|---|---|---|---|---|---|---|---|"]
    by_point = {}
    for r in rows:
        by_point.setdefault((int(r[0]), int(r[1])), []).append(r)
    for (q, b), rs in by_point.items():
        hq = next((r for r in rs if r[2] == "hqsim-numba" and r[3]), None)
        hq_fb = float(hq[4]) if hq and hq[4] != "-" else None
        for _, _, name, f, fb, err, error in rs:
            if error:
                out.append(f"| {q} | {b} | {name} | {error} | | | | | |")
                continue
            f = float(f)
            fbv = None if fb == "-" else float(fb)
            ratio = f"{(1 / fbv - 1 / f) / (1 / f):.2f}" if fbv and fbv < f else ("n/a" if fbv else "-")
            speed = "-" if not fbv or name == "hqsim-numba" or not hq_fb else f"{hq_fb / fbv:.0f}x"
            gf = "-"
            if name == "hqsim-numba" and fbv:
                _, flops = _hqsim_flops(q, 1)
                g = flops * fbv / 1e9 / threads
                gf = f"{g:.1f} ({100 * g / peak:.0f} %)"
            out.append(f"| {q} | {b} | {name} | {f:.0f} | {fb if fbv is None else f'{fbv:.0f}'} | {ratio} | {speed} | {err} | {gf} |")
    print("\n".join(out))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]))
