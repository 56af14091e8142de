"""`counter-app idcard ...` and `counter-app devices ...` through the real entry point; the
simulator runs as a separate process, as `make run` starts it."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

from app.cli import main
from devices.idcard.card_data import sample_card

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def simulator_process():
    processes = []

    def start(*args: str):
        env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
        proc = subprocess.Popen([sys.executable, "-m", "app", "idcard", "simulate", *args],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, encoding="utf-8", cwd=ROOT, env=env)
        processes.append(proc)
        port = proc.stdout.readline().strip()
        assert port.startswith("/dev/"), proc.stderr.read()
        return proc, port

    yield start
    for proc in processes:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            stream.close()


def _command(proc, line: str) -> None:
    """Send a line to the simulator and wait for its acknowledgement on stderr."""
    proc.stdin.write(line + "\n")
    proc.stdin.flush()
    while True:
        reply = proc.stderr.readline()
        assert reply, f"simulator exited while running {line!r}"
        if "已执行" in reply or "错误" in reply:
            return


def test_simulate_then_read_json(simulator_process, capsys):
    proc, port = simulator_process("--card", "foreign_2017")
    assert main(["idcard", "read", "--port", port, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data == sample_card("foreign_2017").to_dict()

    _command(proc, "remove")
    assert main(["idcard", "read", "--port", port]) == 2
    assert "未检测到证件" in capsys.readouterr().err

    _command(proc, "place resident_longterm")
    assert main(["idcard", "read", "--port", port]) == 0
    out = capsys.readouterr().out
    assert "姓名：孙秀兰" in out and "有效期截止：长期" in out and "民族：回族" in out

    proc.stdin.close()  # closing stdin stops the simulator
    assert proc.wait(timeout=10) == 0


def test_simulated_card_from_a_file_and_fault_flags(simulator_process, tmp_path, capsys):
    card = sample_card("hmt_residence")
    path = tmp_path / "card.json"
    path.write_text(json.dumps(card.to_dict(), ensure_ascii=False), encoding="utf-8")
    proc, port = simulator_process("--card", str(path), "--fault", "stray-bytes", "--fault", "slow")
    assert main(["idcard", "read", "--port", port, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["pass_number"] == card.pass_number

    _command(proc, "fault read-failure")
    _command(proc, f"place {path}")  # lift and put down again: the read card was halted
    assert main(["idcard", "read", "--port", port]) == 2
    assert "读取身份证失败" in capsys.readouterr().err
    proc.stdin.write("quit\n")
    proc.stdin.flush()
    assert proc.wait(timeout=10) == 0


def test_read_photo_without_decoder_says_so(simulator_process, tmp_path, capsys):
    _, port = simulator_process()
    target = tmp_path / "photo.bmp"
    assert main(["idcard", "read", "--port", port, "--photo", str(target)]) == 0
    assert "照片未保存" in capsys.readouterr().err and not target.exists()


def test_simulate_rejects_unknown_fault_and_card(capsys):
    assert main(["idcard", "simulate", "--fault", "bogus"]) == 2
    assert "未知的故障类型" in capsys.readouterr().err
    assert main(["idcard", "simulate", "--card", "/nonexistent/card.json"]) == 2
    assert "无法读取证件数据文件" in capsys.readouterr().err


def test_read_from_a_missing_port_is_one_line_without_traceback(tmp_path, capsys):
    assert main(["idcard", "read", "--port", str(tmp_path / "ttyUSB0")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("错误：找不到串口") and "Traceback" not in err and err.count("\n") == 1


def test_devices_list_and_selftest(simulator_process, capsys, monkeypatch):
    no_camera = types.ModuleType("devices.camera")
    no_camera.list_cameras = lambda: []  # the test machine has no camera to rely on
    monkeypatch.setitem(sys.modules, "devices.camera", no_camera)
    _, port = simulator_process()
    assert main(["devices", "list", "--json", "--port", port, "--probe-port", port]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["kind"], r["state"], r["port_or_index"]) for r in rows] == [("idcard", "ready", port), ("camera", "not_connected", "")]

    assert main(["devices", "list", "--port", port, "--probe-port", port]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["设备", "状态", "端口/编号", "最近错误"]
    assert table[1].split()[:3] == ["二代身份证读卡器", "就绪", port]

    # selftest fails (exit 1) while any device is not ready — here the camera
    assert main(["devices", "selftest", "--json", "--port", port, "--probe-port", port]) == 1
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["state"] == "ready" and rows[0]["details"]["card_found"] is True
