"""Where the window's master secrets live.

The master key (wrapping the data keys) and the window's signing key are kept in the OS
keyring (Windows Credential Manager, macOS Keychain, Secret Service on Linux desktops).
A headless or CI machine has no usable keyring; there an *explicitly configured* file-backed
store is used with a warning. There is never a silent plaintext fallback: with keyring's
``fail`` or plaintext backends and no explicit configuration, opening the key store refuses.

Configuration: ``COUNTER_APP_KEYSTORE`` = ``keyring`` (default) or ``file`` or ``file:/path``.
"""
from __future__ import annotations

import base64
import logging
import os
import secrets
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)

SERVICE = "counter-app"


class KeyStoreError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class KeyStore(Protocol):
    kind: str

    def get(self, name: str) -> bytes | None: ...

    def set(self, name: str, value: bytes) -> None: ...


class KeyringKeyStore:
    kind = "keyring"

    def __init__(self, namespace: str):
        import keyring
        from keyring.backends import fail

        backend = keyring.get_keyring()
        name = type(backend).__module__ + "." + type(backend).__name__
        insecure = isinstance(backend, fail.Keyring) or "plaintext" in name.lower() or "null" in name.lower()
        if insecure:
            raise KeyStoreError(
                "本机没有可用的系统密钥库（keyring 后端：" + name + "）。为保护个人信息，程序拒绝以明文保存密钥。"
                "请联系技术人员：在有桌面环境的电脑上启用系统密钥库，或在配置中明确指定文件密钥库"
                "（环境变量 COUNTER_APP_KEYSTORE=file）。")
        self._keyring = keyring
        self._ns = namespace

    def get(self, name: str) -> bytes | None:
        value = self._keyring.get_password(SERVICE, f"{self._ns}:{name}")
        return base64.b64decode(value) if value else None

    def set(self, name: str, value: bytes) -> None:
        self._keyring.set_password(SERVICE, f"{self._ns}:{name}", base64.b64encode(value).decode())


class FileKeyStore:
    """Secrets in a file readable only by the owner. Only when explicitly configured."""

    kind = "file"

    def __init__(self, path: Path):
        self.path = path
        log.warning("使用文件密钥库 %s：仅适用于无桌面的测试或演示机器，生产窗口请使用系统密钥库。", path)

    def _load(self) -> dict[str, str]:
        if not self.path.exists():
            return {}
        out = {}
        for line in self.path.read_text(encoding="ascii").splitlines():
            if "=" in line:
                k, v = line.split("=", 1)
                out[k.strip()] = v.strip()
        return out

    def get(self, name: str) -> bytes | None:
        value = self._load().get(name)
        return base64.b64decode(value) if value else None

    def set(self, name: str, value: bytes) -> None:
        data = self._load()
        data[name] = base64.b64encode(value).decode()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write("".join(f"{k}={v}\n" for k, v in sorted(data.items())))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)


def open_keystore(data_dir: Path, namespace: str, setting: str | None = None) -> KeyStore:
    setting = setting or os.environ.get("COUNTER_APP_KEYSTORE", "keyring")
    if setting == "keyring":
        return KeyringKeyStore(namespace)
    if setting == "file":
        return FileKeyStore(data_dir / "keys" / "keystore.txt")
    if setting.startswith("file:"):
        return FileKeyStore(Path(setting[5:]))
    raise KeyStoreError(f"未知的密钥库配置：{setting!r}（应为 keyring 或 file）。")


def new_key(size: int = 32) -> bytes:
    return secrets.token_bytes(size)
