"""Where the window's master secrets live.

The master key (wrapping the data keys) and the window's signing key are kept in the OS
keyring (Windows Credential Manager, macOS Keychain, Secret Service on Linux desktops).
A headless or CI machine has no usable keyring; there an *explicitly configured* file-backed
store is used with a warning. There is never a silent plaintext fallback: with keyring's
``fail``, ``null`` or plaintext backends (or a chainer with nothing usable behind it) and no
explicit configuration, opening the key store refuses.

Configuration: ``COUNTER_APP_KEYSTORE`` = ``keyring`` (default) or ``file`` or ``file:/path``.

Thread contract: a key store is read at start-up and written only at key creation and
rotation; callers serialise writes (the vault holds its lock while rotating).
"""
from __future__ import annotations

import base64
import hashlib
import logging
import os
import secrets
import stat
from pathlib import Path
from typing import Protocol

from counter_app.errors import UserError

log = logging.getLogger(__name__)

SERVICE = "counter-app"


class KeyStoreError(UserError):
    """The message is Chinese and says what to do (see ``counter_app.errors``)."""


class KeyStore(Protocol):
    kind: str

    def get(self, name: str) -> bytes | None: ...

    def set(self, name: str, value: bytes) -> None: ...

    def delete(self, name: str) -> None: ...


def _backend_name(backend: object) -> str:
    return type(backend).__module__ + "." + type(backend).__name__


def insecure_backend_reason(backend: object) -> str | None:
    """Why a keyring backend must not hold our keys, or None when it is acceptable.

    ``fail`` stores nothing, ``null`` silently drops secrets, plaintext backends (keyrings.alt)
    write them unencrypted; a chainer is only as good as the backends behind it.
    """
    from keyring.backends import chainer, fail, null

    lowered = _backend_name(backend).lower()
    if isinstance(backend, fail.Keyring):
        return "fail"
    if isinstance(backend, null.Keyring) or ".null" in lowered:
        return "null"
    if "plaintext" in lowered or "uncrypted" in lowered:
        return "plaintext"
    if isinstance(backend, chainer.ChainerBackend):
        # A chainer writes to the first child that accepts: every child must be acceptable.
        children = list(getattr(backend, "backends", []) or [])
        if not children:
            return "chainer-empty"
        for child in children:
            reason = insecure_backend_reason(child)
            if reason is not None:
                return "chainer-" + reason
    return None


class KeyringKeyStore:
    kind = "keyring"

    def __init__(self, namespace: str):
        import keyring

        from counter_app.security.os_keyring import system_keyring

        backend = system_keyring()  # keyring's choice, without its scan where that is certain
        reason = insecure_backend_reason(backend)
        if reason is not None:
            raise KeyStoreError(
                "本机没有可用的系统密钥库（keyring 后端：" + _backend_name(backend) + "）。为保护个人信息，程序拒绝以明文保存密钥。"
                "请联系技术人员：在有桌面环境的电脑上启用系统密钥库，或在配置中明确指定文件密钥库"
                "（环境变量 COUNTER_APP_KEYSTORE=file）。")
        self._keyring = keyring
        self._ns = namespace
        self.backend_name = _backend_name(backend)

    def _user(self, name: str) -> str:
        return f"{self._ns}:{name}"

    def get(self, name: str) -> bytes | None:
        value = self._keyring.get_password(SERVICE, self._user(name))
        return base64.b64decode(value) if value else None

    def set(self, name: str, value: bytes) -> None:
        self._keyring.set_password(SERVICE, self._user(name), base64.b64encode(value).decode())
        # A backend that accepts a secret and then cannot return it would lose the master key.
        if self.get(name) != value:
            raise KeyStoreError("系统密钥库没有正确保存密钥，请联系技术人员检查密钥库。")

    def delete(self, name: str) -> None:
        from keyring.errors import PasswordDeleteError

        try:
            self._keyring.delete_password(SERVICE, self._user(name))
        except PasswordDeleteError:
            pass


class FileKeyStore:
    """Secrets in a file readable only by the owner. Only when explicitly configured.

    The file is created with mode 0600 in a 0700 directory; on POSIX a file that other
    users could read is refused, because its keys must then be presumed copied.
    """

    kind = "file"

    def __init__(self, path: Path):
        self.path = Path(path)
        log.warning("使用文件密钥库 %s：仅适用于无桌面的测试或演示机器，生产窗口请使用系统密钥库。", self.path)
        self._check_permissions()
        self._remove_stale_temporaries()

    def _remove_stale_temporaries(self) -> None:
        """A write killed between creating its temporary file and renaming it leaves a full key
        set (old masters, the seal key) under ``keystore.txt.tmpPID``. The renamed file is always
        complete, so a temporary of a process that no longer runs is overwritten and removed."""
        if not self.path.parent.is_dir():
            return
        for tmp in self.path.parent.glob(self.path.name + ".tmp*"):
            suffix = tmp.name[len(self.path.name) + 4:]
            if suffix.isdigit() and int(suffix) != os.getpid() and _process_alive(int(suffix)):
                continue
            _shred(tmp)

    def _check_permissions(self) -> None:
        if os.name != "posix" or not self.path.exists():
            return
        mode = stat.S_IMODE(self.path.stat().st_mode)
        if mode & 0o077:
            raise KeyStoreError(
                f"密钥文件 {self.path} 的权限过宽（{mode:o}），其他用户可能已读取密钥。"
                "请联系技术人员：确认密钥未泄露后执行 chmod 600，并轮换主密钥（counter-app keys rotate）。")

    def _load(self) -> dict[str, str]:
        if not self.path.exists():
            return {}
        out = {}
        try:
            text = self.path.read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as exc:
            raise KeyStoreError(f"无法读取密钥文件 {self.path}：{exc}。请联系技术人员。") from None
        for line in text.splitlines():
            if "=" in line:
                k, v = line.split("=", 1)
                out[k.strip()] = v.strip()
        return out

    def get(self, name: str) -> bytes | None:
        value = self._load().get(name)
        return base64.b64decode(value) if value else None

    def _write(self, data: dict[str, str]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.path.with_name(self.path.name + f".tmp{os.getpid()}")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="ascii") as fh:
                fh.write("".join(f"{k}={v}\n" for k, v in sorted(data.items())))
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except OSError as exc:
            _shred(tmp)
            raise KeyStoreError(f"无法写入密钥文件 {self.path}：{exc.strerror}。密钥未改动；"
                                "请联系技术人员检查磁盘空间和权限。") from None
        _fsync_dir(self.path.parent)

    def set(self, name: str, value: bytes) -> None:
        data = self._load()
        data[name] = base64.b64encode(value).decode()
        self._write(data)

    def delete(self, name: str) -> None:
        data = self._load()
        if data.pop(name, None) is not None:
            self._write(data)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _shred(path: Path) -> None:
    """Overwrite, then remove: key material should not linger in freed blocks of a plain unlink."""
    try:
        size = path.stat().st_size
        with open(path, "r+b") as fh:
            fh.write(b"\0" * size)
            fh.flush()
            os.fsync(fh.fileno())
    except OSError:
        pass
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def _fsync_dir(path: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def keystore_namespace(home: Path) -> str:
    """One keyring entry set per data directory, so two installs on one PC never share keys."""
    return "w-" + hashlib.sha256(str(Path(home).resolve()).encode()).hexdigest()[:16]


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
