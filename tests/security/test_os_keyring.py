"""The OS keyring backend is chosen without keyring's scan only where keyring's own choice is the
same: checked against a real Secret Service (a private session bus and GNOME Keyring), against
keyring's own detection, and where keyring must decide (configured, already chosen, no keyring)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import keyring
import keyring.core
import pytest
from keyring.backends import fail

from counter_app.security import os_keyring
from counter_app.security.keystore import KeyStoreError, open_keystore

ROOT = Path(__file__).resolve().parents[2]

CHILD = r"""
import sys
import keyring.core
from counter_app.security.keystore import open_keystore
from counter_app.security.os_keyring import direct_backend, system_keyring

direct = direct_backend()
print("direct", type(direct).__module__ + "." + type(direct).__name__)
print("macOS-probed", "keyring.backends.macOS" in sys.modules)  # keyring's scan imports it; ours must not
store = open_keystore(None, "w-test")
store.set("master", b"\x00secret-key\xff")
detected = keyring.core._detect_backend()  # keyring's own choice, made afresh
print("keyring", type(detected).__module__ + "." + type(detected).__name__)
print("read-back", detected.get_password("counter-app", "w-test:master") is not None, store.get("master") == b"\x00secret-key\xff")
"""


@pytest.fixture
def secret_service():
    """A session bus and an unlocked GNOME Keyring in a throw-away home; the environment to use."""
    home = Path(tempfile.mkdtemp(prefix="keyring-home-"))
    runtime = home / "run"
    runtime.mkdir(mode=0o700)
    env = dict(os.environ, HOME=str(home), XDG_RUNTIME_DIR=str(runtime), XDG_CONFIG_HOME=str(home / ".config"),
               XDG_DATA_HOME=str(home / ".local" / "share"))
    env.pop("PYTHON_KEYRING_BACKEND", None)
    bus = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1", "--nopidfile"],
                           stdout=subprocess.PIPE, text=True, env=env)
    try:
        env["DBUS_SESSION_BUS_ADDRESS"] = bus.stdout.readline().strip()
        subprocess.run(["gnome-keyring-daemon", "--unlock", "--components=secrets"], input="test-password",
                       text=True, env=env, check=True, capture_output=True, timeout=30)
        yield env
    finally:
        bus.terminate()  # GNOME Keyring leaves with its session bus
        bus.wait(timeout=10)
        shutil.rmtree(home, ignore_errors=True)


def _child(env: dict) -> dict[str, str]:
    env = dict(env, COUNTER_APP_KEYSTORE="keyring", PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    return dict(line.split(" ", 1) for line in out.stdout.splitlines())


def test_a_desktop_secret_service_is_chosen_directly_as_keyring_would(secret_service):
    seen = _child(secret_service)
    assert seen["direct"] == "keyring.backends.SecretService.Keyring"
    assert seen["keyring"] == seen["direct"]  # keyring's own detection agrees
    assert seen["macOS-probed"] == "False"  # the scan (ldconfig, every backend) was not run
    assert seen["read-back"] == "True True"  # what our store wrote, keyring's choice reads


def test_without_a_keyring_the_window_is_refused_as_before(secret_service):
    env = dict(secret_service)
    env.pop("DBUS_SESSION_BUS_ADDRESS")
    env = dict(env, COUNTER_APP_KEYSTORE="keyring", PYTHONPATH=str(ROOT))
    code = ("from counter_app.security.keystore import open_keystore\n"
            "try:\n    open_keystore(None, 'w-test')\nexcept Exception as e:\n    print(type(e).__name__, e.message)\n")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert out.stdout.startswith("KeyStoreError 本机没有可用的系统密钥库（keyring 后端：keyring.backends.fail.Keyring"), out


@pytest.fixture
def undecided(monkeypatch):
    """keyring with no backend chosen yet in this process (restored afterwards)."""
    monkeypatch.setattr(keyring.core, "_keyring_backend", None)
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)


def test_keyring_decides_when_a_backend_is_configured_or_chosen(undecided, monkeypatch, tmp_path):
    monkeypatch.setattr(os_keyring, "platform_backend_name", lambda platform=None: "SecretService")
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    assert os_keyring.direct_backend() is None
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND")
    config = tmp_path / "keyringrc.cfg"
    config.write_text("[backend]\ndefault-keyring=keyring.backends.null.Keyring\n", encoding="utf-8")
    monkeypatch.setattr(os_keyring, "_config_file", lambda: str(config))
    assert os_keyring.direct_backend() is None
    keyring.set_keyring(fail.Keyring())
    assert os_keyring.direct_backend() is None
    assert isinstance(os_keyring.system_keyring(), fail.Keyring)  # the chosen one stays


def test_another_possible_backend_leaves_the_choice_to_keyring(undecided, monkeypatch):
    real_find_spec = os_keyring.find_spec
    monkeypatch.setattr(os_keyring, "platform_backend_name", lambda platform=None: "SecretService")
    monkeypatch.setattr(os_keyring, "find_spec", lambda name: object() if name == "dbus" else real_find_spec(name))
    assert os_keyring.direct_backend() is None  # KWallet could work too: keyring ranks or chains them


def test_a_third_party_backend_leaves_the_choice_to_keyring(undecided, monkeypatch):
    monkeypatch.setattr(os_keyring, "platform_backend_name", lambda platform=None: "SecretService")
    monkeypatch.setattr(os_keyring, "_only_own_backends", lambda: False)
    assert os_keyring.direct_backend() is None


def test_only_keyrings_own_backends_are_installed_here():
    assert os_keyring._only_own_backends()  # what the direct choice relies on in this environment


def test_platforms():
    assert os_keyring.platform_backend_name("win32") == "Windows"
    assert os_keyring.platform_backend_name("linux") == "SecretService"
    assert os_keyring.platform_backend_name("darwin") is None  # keyring decides
