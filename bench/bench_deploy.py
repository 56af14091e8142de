"""Deployment benchmarks: the bundle's size on disk, and how fast the bundled program starts
compared with running from the venv, measured in the same run.

* ``bundle size`` — every file of the one-folder bundle (what the .deb and the Inno Setup
  installer put on the disk), and its file count;
* ``start → main window`` — ``counter-app ui smoke --ms 0``: a new process that starts Qt, loads
  the fonts and style sheet, opens (creates and migrates) a store in a temp dir, shows the main
  window offscreen and exits. Bundled executable vs ``python -m counter_app`` from the venv,
  alternated run by run so both see the same machine load. "Cold" means a new process each time;
  the OS file cache is warm (dropping it needs root and would disturb everyone on this machine);
* ``start → --version`` — the smallest start: interpreter/bootloader, imports, CLI parse.

The bundle comes from ``packaging/bundle.py`` (built once per source state, cached in the temp dir).

Standalone: ``.venv/bin/python bench/bench_deploy.py``.
"""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = 5


def _bundle_module():
    spec = importlib.util.spec_from_file_location("counter_app_packaging_bundle", ROOT / "packaging" / "bundle.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _env(home: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COUNTER_APP_", "QT_"))}
    env.update(COUNTER_APP_HOME=home, COUNTER_APP_KEYSTORE="file", QT_QPA_PLATFORM="offscreen")
    return env


def _time(cmd: list[str], home: str) -> float:
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=_env(home), cwd=ROOT, timeout=300)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:3])}… exit {proc.returncode}: {proc.stderr[-800:]}")
    return elapsed


def _size(folder: Path) -> tuple[int, int]:
    total = count = 0
    for p in folder.rglob("*"):
        if p.is_file() and not p.is_symlink():
            total += p.stat().st_size
            count += 1
    return total, count


def run(report) -> None:
    bundle = _bundle_module().ensure_bundle()
    built = "built in this run" if not bundle.cached else "reused from the cache"
    report(f"PyInstaller build of build.spec ({built})", [bundle.build_seconds], target="< 4 min on 2 cores")
    size, files = _size(bundle.folder)
    report("bundle size on disk", [size / 1e6], unit="MB", target="one-folder, Qt/OpenCV trimmed")
    report("bundle file count", [float(files)], unit="files")

    venv = [sys.executable, "-m", "counter_app"]
    exe = [str(bundle.executable)]
    with tempfile.TemporaryDirectory(prefix="bench-deploy-") as tmp:
        has_smoke = "smoke" in subprocess.run(exe + ["ui", "--help"], capture_output=True, text=True,
                                              env=_env(tmp)).stdout
        window = ["ui", "smoke", "--ms", "0"] if has_smoke else ["selftest"]
        label = "start → main window (ui smoke --ms 0)" if has_smoke else "start → selftest (no ui smoke)"
        for name, args in ((label, window), ("start → --version", ["--version"])):
            venv_samples, bundle_samples = [], []
            for i in range(RUNS):
                home = str(Path(tmp) / f"{args[0]}-{i}")
                venv_samples.append(_time(venv + args, home + "-venv"))
                bundle_samples.append(_time(exe + args, home + "-bundle"))
            report(f"{name}, venv", venv_samples)
            report(f"{name}, bundled", bundle_samples, ratio_to=f"{name}, venv")


if __name__ == "__main__":
    def _print(name, samples, target="", ratio_to=None, unit="s"):
        import statistics

        med = statistics.median(samples)
        print(f"{name:<52} n={len(samples):<3} median={med:10.2f} {unit:<5} {target}", flush=True)

    run(_print)
