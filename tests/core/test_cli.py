"""The command line: readable Chinese for people, --json for machines, no tracebacks."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from counter_app.application import application_to_dict
from app.cli import main
from tests.core.builders import valid_application


@pytest.fixture
def app_file(tmp_path):
    f = tmp_path / "case.json"
    f.write_text(json.dumps(application_to_dict(valid_application()), ensure_ascii=False), encoding="utf-8")
    return f


def run(capsys, *args):
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


STAFF_PASSWORD = "Window-pass-2026"


@pytest.fixture
def staff(monkeypatch):
    """Accounts for the commands that change data (they authenticate an operator)."""
    from counter_app.cases import Actor
    from counter_app.security import access
    from counter_app.security.operators import INSTALLER
    from counter_app.services import open_window

    w = open_window()
    d = access.directory(w)
    d.add(INSTALLER, "it01", "it_admin", "王管理", STAFF_PASSWORD)
    for user, role in (("clerk01", "clerk"), ("supervisor01", "supervisor")):
        d.add(Actor("it01", "it_admin"), user, role, user, STAFF_PASSWORD)
    w.close()
    monkeypatch.setenv("COUNTER_APP_OPERATOR_PASSWORD", STAFF_PASSWORD)


@pytest.fixture
def demo_store():
    from counter_app.config import load_settings
    from counter_app.paths import data_home

    settings = load_settings(data_home() / "config.toml")
    settings.set("demo_mode", True)
    settings.save()


def test_rules_check_lists_materials_with_reasons(capsys, app_file):
    code, out, _ = run(capsys, "rules", "check", "--json", str(app_file), "--output-json")
    data = json.loads(out)
    assert code == 0 and data["ok"]
    assert {m["number"] for m in data["required_materials"]} == {1, 2, 3, 4, 5, 7, 8, 12}


def test_rules_check_exits_non_zero_with_problems(capsys, tmp_path):
    f = tmp_path / "bad.json"
    f.write_text(json.dumps({"items": [2], "retirement_type": "monthly_pension"}), encoding="utf-8")
    code, out, _ = run(capsys, "rules", "check", "--json", str(f))
    assert code == 1 and "仅适用于自主就业退役士兵" in out


def test_case_create_show_list(capsys, app_file, staff):
    code, out, _ = run(capsys, "case", "create", "--json", str(app_file), "--output-json", "--user", "clerk01")
    assert code == 0
    case_no = json.loads(out)["case_no"]
    code, out, _ = run(capsys, "case", "show", case_no, "--json")
    shown = json.loads(out)
    assert shown["masked"] and shown["application"]["applicant"]["name"] == "刘*军"
    assert "13803731234" not in out
    code, out, _ = run(capsys, "case", "list", "--json")
    assert json.loads(out)[0]["case_no"] == case_no
    code, out, _ = run(capsys, "case", "show", case_no)
    assert "办件编号" in out and "刘*军" in out


def test_duplicate_case_refused_with_existing_number(capsys, app_file, staff):
    run(capsys, "case", "create", "--json", str(app_file), "--user", "clerk01")
    code, _, err = run(capsys, "case", "create", "--json", str(app_file), "--user", "clerk01")
    assert code == 2 and "已有未办结的办件" in err


@pytest.mark.parametrize("content,fragment", [
    ("{not json", "不是有效的JSON"),
    ('{"applicant": {"id_number": "123"}}', "18位"),
    ("[1,2]", "格式不正确"),
])
def test_bad_case_files_give_a_message_and_write_nothing(capsys, tmp_path, content, fragment, staff):
    from counter_app.services import open_window

    f = tmp_path / "x.json"
    f.write_text(content, encoding="utf-8")
    code, _, err = run(capsys, "case", "create", "--json", str(f), "--user", "clerk01")
    assert code == 2 and fragment in err and "Traceback" not in err
    w = open_window()
    assert w.cases.count() == 0
    w.close()


def test_missing_file(capsys, tmp_path):
    code, _, err = run(capsys, "rules", "check", "--json", str(tmp_path / "nope.json"))
    assert code == 2 and "找不到文件" in err


def test_sla_due_text_and_json(capsys):
    code, out, _ = run(capsys, "sla", "due", "--accepted", "2026-11-02", "--items", "1,4,8", "--json")
    data = json.loads(out)
    due = {d["item"]: d["due"] for d in data["deadlines"] if d["kind"] != "card_making"}
    # the whole case ends with its last timed item (item 8 here), within the scheme's 18 working days
    assert due[1] == "2026-11-03" and due[None] == due[8] == "2026-11-19"
    code, out, _ = run(capsys, "sla", "due", "--accepted", "2026-12-28", "--items", "4")
    assert "仅供参考" in out  # 2027 has no published schedule in the package
    # Card making: its own line, 7 working days after item 8's application (not counted in the 18)
    code, out, _ = run(capsys, "sla", "due", "--accepted", "2026-11-02", "--items", "4,8", "--json")
    rows = json.loads(out)["deadlines"]
    card = next(d for d in rows if d["kind"] == "card_making")
    item8 = next(d for d in rows if d["item"] == 8 and d["kind"] == "item")
    assert card["starts"] == item8["due"] and card["due"] > item8["due"]


@pytest.mark.parametrize("args,fragment", [
    (["sla", "due", "--accepted", "2026-13-01", "--items", "1"], "格式不正确"),
    (["sla", "due", "--accepted", "2026-11-02", "--items", "1,12"], "未知的事项编号"),
    (["sla", "due", "--accepted", "2026-11-02", "--items", "a"], "格式不正确"),
    (["case", "show", "410702-01-20261130-0001-0"], "校验位"),
    (["case", "list", "--date", "yesterday"], "格式不正确"),
])
def test_bad_arguments(capsys, args, fragment):
    code, _, err = run(capsys, *args)
    assert code == 2 and fragment in err


def test_demo_seed_creates_valid_finalized_cases(capsys, demo_store):
    code, out, _ = run(capsys, "demo", "seed", "--count", "3", "--finalized", "--json")
    assert code == 0 and json.loads(out)["created"] == 3
    code, out, _ = run(capsys, "case", "list", "--json")
    rows = json.loads(out)
    assert len(rows) == 3 and all(r["state"] == "queued" for r in rows)


def test_db_upgrade_is_idempotent(capsys):
    assert run(capsys, "db", "upgrade")[0] == 0
    code, out, _ = run(capsys, "db", "upgrade")
    assert code == 0 and "已是最新" in out


def test_installed_console_script_never_shows_a_traceback(tmp_path):
    env = dict(os.environ, COUNTER_APP_HOME=str(tmp_path / "h"), COUNTER_APP_KEYSTORE="file")
    exe = os.path.join(os.path.dirname(sys.executable), "counter-app")
    r = subprocess.run([exe, "case", "create", "--json", str(tmp_path / "missing.json")], env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "找不到文件" in r.stderr and "Traceback" not in r.stderr


def test_command_table_matches_the_registrations():
    """Each top-level command is found in the modules COMMAND_MODULES names for it."""
    import argparse
    import importlib

    from app.cli import COMMAND_MODULES, EXTENSION_MODULES

    owners: dict[str, set[str]] = {}
    for name in EXTENSION_MODULES:
        parser = argparse.ArgumentParser()
        sub = parser.add_subparsers()
        importlib.import_module(name).register(sub)
        for command in sub.choices:
            owners.setdefault(command, set()).add(name)
    assert set(owners) == set(COMMAND_MODULES)
    for command, modules in owners.items():
        assert modules <= set(COMMAND_MODULES[command]), command


def test_version_does_not_load_every_extension(tmp_path):
    env = dict(os.environ, COUNTER_APP_HOME=str(tmp_path / "h"), COUNTER_APP_KEYSTORE="file")
    code = "import sys; from app.cli import main; main(['sla', 'due', '--accepted', '2026-11-02', '--items', '1']); " \
           "print(sorted(m for m in ('fastapi', 'cv2', 'PySide6', 'serial') if m in sys.modules))"
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.strip().endswith("[]"), r.stdout + r.stderr


def test_daily_report_lists_the_days_cases_masked(capsys, tmp_path, staff, demo_store):
    import datetime as dt

    import re

    import pdfplumber

    from counter_app.cases import CHINA_TZ

    run(capsys, "demo", "seed", "--count", "3", "--finalized")
    rows = json.loads(run(capsys, "case", "list", "--json")[1])
    day = dt.datetime.now(CHINA_TZ).date().isoformat()
    out = tmp_path / "report.pdf"
    code, text_out, _ = run(capsys, "report", "daily", "--date", day, "-o", str(out), "--user", "supervisor01")
    assert code == 0 and out.exists()
    with pdfplumber.open(out) as pdf:
        text = "".join(page.extract_text() or "" for page in pdf.pages)
        pages = len(pdf.pages)
    for r in rows:
        assert r["case_no"] in text and r["name"] in text  # masked name, e.g. 张*军
    assert re.search(rf"第\s*1\s*页\s*共\s*{pages}\s*页", text)
    assert "supervisor01" in text


def test_demo_start_prepares_accounts_cases_and_a_live_platform(tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, COUNTER_APP_KEYSTORE="file", QT_QPA_PLATFORM="offscreen")
    env.pop("COUNTER_APP_HOME", None)
    home = tmp_path / "demo"
    exe = os.path.join(os.path.dirname(sys.executable), "counter-app")
    r = subprocess.run([exe, "demo", "start", "--home", str(home), "--port", str(port), "--no-gui"], env=env,
                       capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "HTTP 200" in r.stdout
    env["COUNTER_APP_HOME"] = str(home)
    users = subprocess.run([exe, "operators", "list", "--json"], env=env, capture_output=True, text=True, timeout=60)
    assert {u["username"] for u in json.loads(users.stdout)} >= {"clerk01", "supervisor01", "it01"}
    cases = subprocess.run([exe, "case", "list", "--json"], env=env, capture_output=True, text=True, timeout=60)
    assert len(json.loads(cases.stdout)) == 8
    with socket.socket() as s:  # the platform was stopped with the command
        assert s.connect_ex(("127.0.0.1", port)) != 0
