"""Before/after tables of QIN, QCT and wall time for a pass pipeline (text or JSON)."""
from __future__ import annotations

from dataclasses import dataclass

from .metrics import Metrics, StepBudget, compute_metrics, reduction
from .pipeline import PipelineResult


@dataclass(frozen=True)
class Row:
    stage: str
    metrics: Metrics
    pass_seconds: float | None


@dataclass(frozen=True)
class Report:
    program: str
    passes: tuple[str, ...]
    cost_model: str
    rows: tuple[Row, ...]
    compile_seconds: float

    @property
    def before(self) -> Metrics:
        return self.rows[0].metrics

    @property
    def after(self) -> Metrics:
        return self.rows[-1].metrics


def build_report(name: str, program, result: PipelineResult, passes, *, inputs=None,
                 cost_model: str = "unit", shots: int = 8, seed: int = 0,
                 measure_time: bool = True, progress=None) -> Report:
    """Metrics of the input, after every pass application that changed the program, and of
    the output (all with the same inputs, shots and seed, and one metrics.StepBudget whose
    ``progress(what, steps)`` hears about long runs)."""
    budget = StepBudget(progress=progress)

    def metrics(p, label="input"):
        return compute_metrics(p, inputs, cost_model=cost_model, shots=shots, seed=seed,
                               measure_time=measure_time, budget=budget, label=label)

    rows = [Row("input", metrics(program), None)]
    seen: dict = {}
    for rec in result.records:
        if not rec.changed:
            continue
        seen[rec.name] = seen.get(rec.name, 0) + 1
        label = rec.name if seen[rec.name] == 1 else f"{rec.name}#{seen[rec.name]}"
        rows.append(Row(label, metrics(rec.program, label), rec.seconds))
    rows.append(Row("output", metrics(result.program, "output") if len(rows) > 1 else rows[0].metrics,
                    None))
    return Report(name, tuple(passes), cost_model, tuple(rows), result.seconds)


def _fmt(v, digits: int = 4) -> str:
    if v is None:
        return "-"
    if isinstance(v, float) and not v.is_integer():
        return f"{v:.{digits}g}"
    return str(int(v)) if isinstance(v, float) else str(v)


def format_text(report: Report) -> str:
    head = (f"program {report.program}   passes: {','.join(report.passes) or '(none)'}   "
            f"cost model: {report.cost_model}   shots: {report.before.shots}")
    cols = ["stage", "QIN", "QCT", "wall", "static QIN", "static QCT", "static wall", "instrs",
            "measured ms", "pass ms"]
    lines = [head, "  ".join(f"{c:>11}" if i else f"{c:<10}" for i, c in enumerate(cols))]
    for r in report.rows:
        m = r.metrics
        vals = [_fmt(m.qin), _fmt(m.qct), _fmt(m.wall), str(m.static_qin), _fmt(m.static_qct),
                _fmt(m.static_wall), str(m.static_size),
                "-" if m.measured_seconds is None else f"{1e3 * m.measured_seconds:.3f}",
                "-" if r.pass_seconds is None else f"{1e3 * r.pass_seconds:.2f}"]
        lines.append(f"{r.stage:<10}  " + "  ".join(f"{v:>11}" for v in vals))
    b, a = report.before, report.after
    if b.qin is None or a.qin is None:
        kind, pairs = "reduction (static)", [(b.static_qin, a.static_qin), (b.static_qct, a.static_qct),
                                             (b.static_wall, a.static_wall)]
    else:
        kind, pairs = "reduction  ", [(b.qin, a.qin), (b.qct, a.qct), (b.wall, a.wall)]
    qin, qct, wall = (reduction(x, y) for x, y in pairs)
    lines.append(f"{kind} QIN {qin:.1f}%   QCT {qct:.1f}%   wall {wall:.1f}%   "
                 f"compile time {1e3 * report.compile_seconds:.2f} ms")
    lines += [f"note: {n}" for n in dict.fromkeys(r.metrics.note for r in report.rows if r.metrics.note)]
    return "\n".join(lines) + "\n"


def to_json(report: Report) -> dict:
    b, a = report.before, report.after
    return {
        "program": report.program,
        "passes": list(report.passes),
        "cost_model": report.cost_model,
        "rows": [{"stage": r.stage, **r.metrics.as_dict(), "pass_seconds": r.pass_seconds}
                 for r in report.rows],
        "reduction_percent": {"qin": reduction(b.qin, a.qin), "qct": reduction(b.qct, a.qct),
                              "wall": reduction(b.wall, a.wall)},
        "static_reduction_percent": {"qin": reduction(b.static_qin, a.static_qin),
                                     "qct": reduction(b.static_qct, a.static_qct),
                                     "wall": reduction(b.static_wall, a.static_wall)},
        "compile_seconds": report.compile_seconds,
    }
