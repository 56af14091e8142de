"""The OS keyring backend, chosen as ``keyring.get_keyring()`` would choose it, without its scan.

keyring's own detection imports and asks every backend it knows whether it works here: its
macOS backend alone runs ``ldconfig`` (``ctypes.util.find_library``) on Linux, and the others may
each open a D-Bus connection. On a clerk's desktop that is 0.4–0.65 s of every start, before the
stored worklist can be decrypted.

:func:`system_keyring` goes straight to the platform's backend — Windows Credential Locker on
Windows, the Secret Service on Linux — but only where keyring's answer cannot be another one:

- nothing chosen already (``keyring.set_keyring``), no ``PYTHON_KEYRING_BACKEND``, no
  ``keyringrc.cfg``: those are keyring's to apply;
- the installed backends are keyring's own (no third-party entry point: keyrings.alt and the like
  take part in keyring's choice);
- no other backend can work here: KWallet needs the ``dbus`` module, libsecret needs ``gi``, the
  Secret Service needs ``secretstorage`` — none of them importable besides the platform's own;
- the platform's backend says it works (its own check, the one keyring makes).

Otherwise, and whenever the platform's backend does not work, keyring decides exactly as before
(a machine without a usable keyring is then refused with the same message). The backend chosen
here is set as keyring's current one, so every later ``keyring`` call uses the same.
"""
from __future__ import annotations

import os
import sys
from importlib.util import find_spec

# keyring's own backends (its entry points): any other entry point takes part in keyring's choice
OWN_BACKENDS = {
    "KWallet": "keyring.backends.kwallet", "SecretService": "keyring.backends.SecretService",
    "Windows": "keyring.backends.Windows", "chainer": "keyring.backends.chainer",
    "libsecret": "keyring.backends.libsecret", "macOS": "keyring.backends.macOS",
}
# the module each of keyring's optional backends needs before it can work at all
_ENABLING_MODULES = {"secretstorage": "SecretService", "dbus": "KWallet", "gi": "libsecret", "win32cred": "Windows"}


def platform_backend_name(platform: str = sys.platform) -> str | None:
    """The entry-point name of the backend this platform's desktop provides (None: not handled here)."""
    if platform == "win32":
        return "Windows"
    if platform.startswith("linux"):
        return "SecretService"
    return None


def _config_file() -> str:
    from keyring.util import platform_ as keyring_platform

    return os.path.join(keyring_platform.config_root(), "keyringrc.cfg")


def _only_own_backends() -> bool:
    from importlib.metadata import entry_points

    found = {(ep.name, ep.value) for ep in entry_points(group="keyring.backends")}
    # none found (metadata not shipped): keyring would find none either and decide otherwise
    return bool(found) and found <= set(OWN_BACKENDS.items())


def direct_backend():
    """The platform's backend when keyring's choice is certain to be it, else None."""
    import keyring.core

    name = platform_backend_name()
    if name is None or keyring.core._keyring_backend is not None:  # noqa: SLF001 - chosen already: keyring's
        return None
    if os.environ.get("PYTHON_KEYRING_BACKEND") or os.path.exists(_config_file()):
        return None
    for module, backend in _ENABLING_MODULES.items():
        if backend != name and find_spec(module) is not None:
            return None  # another backend might work here too: keyring chains or ranks them
    if not _only_own_backends():
        return None
    if name == "Windows":
        from keyring.backends.Windows import WinVaultKeyring as backend_class
    else:
        from keyring.backends.SecretService import Keyring as backend_class
    try:
        if backend_class.priority <= 0:  # the backend's own check (keyring asks the same)
            return None
    except Exception:  # noqa: BLE001 - "does not work here", in the backend's words: keyring decides
        return None
    return backend_class()


def system_keyring():
    """The keyring backend to keep the window's keys in (see the module's rules)."""
    import keyring

    backend = direct_backend()
    if backend is None:
        return keyring.get_keyring()
    keyring.set_keyring(backend)
    return backend
