"""Worker of tests/gpu/test_emulation.py::test_every_barrier_is_needed, run in a subprocess:
a kernel missing a barrier may read garbage indices and crash the process, which counts as
caught (a GPU would report an illegal address).

    python3 tests/gpu/barrier_sweep.py FIRST   # sites FIRST.. of barrier_sites(), one line each
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gpu.test_emulation import _emulated_setup, _wrong  # noqa: E402

from hqsim.backends.cuda_source import barrier_sites  # noqa: E402


def main(first: int) -> int:
    backends, launcher, fixtures = _emulated_setup()
    for k, (line, header, hline, _) in enumerate(barrier_sites()):
        if k < first:
            continue
        print(f"start {k}", flush=True)
        verdict = "uncaught"
        for order in ("forward", "reverse"):
            launcher.configure(skip_line=line, order=order)
            wrong = _wrong(backends, fixtures)
            if wrong is not None:
                verdict = f"caught {order} {wrong[0]} fixture {wrong[1]} {wrong[2][:80]}"
                break
        print(f"site {k} {header}:{hline} {verdict}", flush=True)
    launcher.configure()
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1])))
