"""`make bench`: runs every bench/bench_*.py and prints one table.

Each module exposes ``run(report)``; ``report(name, samples, target="", ratio_to=None)``
records samples in seconds (or, with ``unit=``, other quantities). Ratios are against a row
measured in the same run, because these machines are noisy.
Select modules with ``python bench/run.py core printing``.
"""
from __future__ import annotations

import importlib.util
import statistics
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

ROWS: list[dict] = []


def percentile(samples: list[float], q: float) -> float:
    s = sorted(samples)
    if not s:
        return float("nan")
    k = (len(s) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def report(name: str, samples, target: str = "", ratio_to: str | None = None, unit: str = "s") -> None:
    samples = list(samples) if isinstance(samples, (list, tuple)) else [samples]
    row = {"name": name, "n": len(samples), "median": statistics.median(samples),
           "p99": percentile(samples, 0.99), "unit": unit, "target": target, "ratio": None, "ratio_to": ratio_to}
    if ratio_to:
        base = next((r for r in ROWS if r["name"] == ratio_to), None)
        if base and base["median"]:
            row["ratio"] = row["median"] / base["median"]
    ROWS.append(row)
    print(f"  {fmt_row(row)}", flush=True)


def fmt_value(v: float, unit: str) -> str:
    if unit == "s":
        if v < 1e-3:
            return f"{v * 1e6:.0f} µs"
        if v < 1:
            return f"{v * 1e3:.2f} ms"
        return f"{v:.2f} s"
    return f"{v:,.2f} {unit}"


def fmt_row(r: dict) -> str:
    ratio = f"{r['ratio']:.2f}× {r['ratio_to']}" if r["ratio"] is not None else ""
    return (f"{r['name']:<58} n={r['n']:<5} median={fmt_value(r['median'], r['unit']):>12} "
            f"p99={fmt_value(r['p99'], r['unit']):>12} {ratio:<30} {r['target']}")


def main(argv: list[str]) -> int:
    wanted = set(argv)
    modules = sorted(HERE.glob("bench_*.py"))
    failed = []
    for path in modules:
        short = path.stem.removeprefix("bench_")
        if wanted and short not in wanted and not any(short.startswith(w) for w in wanted):
            continue
        print(f"== {path.name}", flush=True)
        spec = importlib.util.spec_from_file_location(path.stem, path)
        mod = importlib.util.module_from_spec(spec)
        t0 = time.perf_counter()
        try:
            spec.loader.exec_module(mod)
            mod.run(report)
        except Exception:  # one broken benchmark must not hide the others' figures
            traceback.print_exc()
            failed.append(path.name)
        print(f"   ({time.perf_counter() - t0:.1f} s)", flush=True)
    print("\n==== summary ====")
    for r in ROWS:
        print(fmt_row(r))
    if failed:
        print("failed:", ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
