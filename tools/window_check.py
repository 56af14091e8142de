"""A real-window check of the clerk's day: a real X server, a window manager, keys typed by xdotool.

    python tools/window_check.py [OUT_DIR] [--keep]

Starts Xvfb at the counter PCs' 1366×768, openbox as the window manager, then
``counter-app demo start`` in a fresh demo directory, and drives it as a clerk would: Enter at
the login, the worklist, F2 and a card on the simulated reader, a switch to the registration form,
Esc → 是, an online application, a walk-in to its form (the veteran's file from the demo platform,
a digit in a list, a phone number that moves on by itself), Ctrl+Q. After every move it saves a
screenshot (ImageMagick's ``import``) and at the end
prints what it checked; exit 1 when a check failed. Look at the screenshots: the script only
checks what a program can (the process still runs, a window with that title exists).

Debian packages: xvfb openbox xdotool imagemagick (tests/system-packages.d/issue-13.txt), and Qt's
xcb libraries (``python -m app.desktop_libs`` names the missing ones).
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZE = "1366x768x24"


class Check:
    def __init__(self, out: Path, display: str, env: dict[str, str]):
        self.out, self.display, self.env = out, display, env
        self.results: list[tuple[bool, str]] = []
        self.shots = 0

    def x(self, *args: str, check: bool = False) -> subprocess.CompletedProcess:
        return subprocess.run(args, env=self.env, capture_output=True, text=True, check=check, timeout=30)

    def shot(self, name: str) -> Path:
        self.shots += 1
        path = self.out / f"{self.shots:02d}-{name}.png"
        self.x("import", "-window", "root", str(path))
        return path

    def keys(self, *keys: str, pause: float = 0.6) -> None:
        for key in keys:
            self.x("xdotool", "key", "--clearmodifiers", key)
            time.sleep(0.15)
        time.sleep(pause)

    def type(self, text: str) -> None:
        self.x("xdotool", "type", "--delay", "40", text)
        time.sleep(0.3)

    def window(self, name: str, timeout: float = 60) -> str | None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            found = self.x("xdotool", "search", "--onlyvisible", "--name", name).stdout.split()
            if found:
                return found[-1]
            time.sleep(0.5)
        return None

    def focus(self, window_id: str) -> None:
        self.x("xdotool", "windowactivate", "--sync", window_id)
        time.sleep(0.4)

    def expect(self, ok: bool, what: str) -> bool:
        self.results.append((ok, what))
        print(("通过  " if ok else "失败  ") + what, flush=True)
        return ok


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(args, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, cwd=ROOT)


def free_display() -> str:
    for n in range(91, 140):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            return f":{n}"
    raise SystemExit("没有空闲的 X 显示编号")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default="window-check")
    parser.add_argument("--keep", action="store_true", help="keep the demo data directory")
    opts = parser.parse_args()
    missing = [p for p in ("Xvfb", "openbox", "xdotool", "import") if shutil.which(p) is None]
    if missing:
        print("缺少：" + "、".join(missing) + "。请运行：sudo apt-get install -y xvfb openbox xdotool imagemagick")
        return 2
    out = Path(opts.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.png"):
        old.unlink()
    home = Path(tempfile.mkdtemp(prefix="window-check-"))
    display = free_display()
    env = {**os.environ, "DISPLAY": display, "COUNTER_APP_KEYSTORE": "file", "LANG": "zh_CN.UTF-8"}
    env.pop("QT_QPA_PLATFORM", None)
    env.pop("WAYLAND_DISPLAY", None)
    procs: list[subprocess.Popen] = []
    try:
        procs.append(start(["Xvfb", display, "-screen", "0", SIZE, "-nolisten", "tcp"], env, out / "xvfb.log"))
        time.sleep(1.5)
        procs.append(start(["openbox"], env, out / "openbox.log"))
        time.sleep(1.0)
        counter = Path(sys.executable).parent / "counter-app"
        app = start([str(counter), "demo", "start", "--home", str(home), "--port", "8893"], env, out / "app.log")
        procs.append(app)
        c = Check(out, display, env)
        return run(c, app, out)
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
        if not opts.keep:
            shutil.rmtree(home, ignore_errors=True)


def run(c: Check, app: subprocess.Popen, out: Path) -> int:
    login = c.window("登录", timeout=120)
    c.shot("start")
    if not c.expect(login is not None, "登录对话框出现"):
        return finish(c, out)
    c.focus(login)
    c.shot("login")
    c.type("henan-window-demo")  # app.demo.seed.DEMO_PASSWORD
    c.keys("Return", pause=4)            # Enter at the login: logs in, never quits
    c.expect(app.poll() is None, "在登录框按 Enter 后程序仍在运行（没有误按“退出”）")
    c.shot("worklist")
    main = c.window("综合受理窗口 —", timeout=20)
    if main:
        c.focus(main)
    c.keys("F11", pause=2)                # the previous applicant's card is left on the reader
    c.keys("F2", pause=4)                 # new walk-in acceptance
    c.shot("new-acceptance-with-card-left-on-reader")
    c.keys("F7", pause=2)                 # the clerk reads that card on purpose
    c.shot("identity-read-by-F7")
    c.keys("shift+F11", pause=2)          # the card is taken away before the clerk goes on
    c.shot("identity-after-card-removed")
    c.keys("F11", pause=3)
    c.shot("identity-card-placed-again")
    c.keys("Escape", pause=1.5)           # cancel: the box asks
    c.shot("cancel-box")
    c.keys("Tab", pause=0.2)
    c.keys("alt+y", pause=3)              # 是
    c.expect(app.poll() is None, "取消受理（Esc → 是）后程序仍在运行")
    c.shot("after-cancel")
    c.expect(c.window("程序出错", timeout=1) is None, "没有弹出“程序出错”")
    if main:
        c.focus(main)
    c.keys("F4", pause=2)
    c.keys("Home", "Return", pause=4)     # the first worklist row: an online application
    c.shot("online-application-opened")
    c.keys("F11", pause=3)                # the demo card is another person's: refused, both shown
    c.shot("online-application-other-card-refused")
    c.keys("Escape", pause=1.5)
    c.keys("alt+y", pause=3)
    c.expect(app.poll() is None, "网上申请取消受理后程序仍在运行")
    c.shot("worklist-after-online-cancel")
    if main:
        c.focus(main)
    c.keys("F2", pause=4)                 # a walk-in: the card, F9; the veteran's file names the type
    c.keys("F11", pause=3)
    c.keys("F9", pause=4)
    c.shot("walk-in-items-type-from-file")   # every applicable item ticked, the usual choices chosen
    c.keys("F9", pause=4)
    c.shot("walk-in-form-from-file")      # what the file knows is filled, tinted and named
    c.keys("1", pause=1)                  # 婚姻状况 by its digit (1 未婚), on to the next field
    c.type("13837301234")                 # a whole mobile number moves on by itself
    c.keys("Return", pause=1)             # the habitual Enter after it does not skip a field
    c.shot("walk-in-form-keys")
    c.keys("Escape", pause=1.5)
    c.keys("alt+y", pause=3)
    c.expect(app.poll() is None, "现场受理在第2步取消后程序仍在运行")
    c.keys("ctrl+q", pause=1.5)
    c.shot("quit-confirm-or-gone")
    try:
        app.wait(20)
    except subprocess.TimeoutExpired:
        c.keys("Return", pause=2)         # a confirmation (an acceptance still open) is answered
        try:
            app.wait(15)
        except subprocess.TimeoutExpired:
            pass
    c.expect(app.poll() is not None, "Ctrl+Q 结束整个程序（申请人屏一起关闭）")
    c.shot("after-quit")
    return finish(c, out)


def finish(c: Check, out: Path) -> int:
    failed = [what for ok, what in c.results if not ok]
    print(f"截图 {c.shots} 张在 {out}；{len(c.results) - len(failed)} 项通过，{len(failed)} 项失败")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
