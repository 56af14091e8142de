"""Key store and vault: AEAD with bound associated data, unique nonces, SM4-GCM, wrapped data
keys, master rotation (also interrupted), and refusal of insecure keyring backends."""
from __future__ import annotations

import os
import struct

import keyring
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from keyring.backend import KeyringBackend
from keyring.backends import chainer, fail, null

from counter_app.security.keystore import FileKeyStore, KeyringKeyStore, KeyStoreError, open_keystore
from counter_app.security.vault import ALG_SM4_GCM, DecryptionError, Vault


class MemoryKeyring(KeyringBackend):
    """Stands in for the OS credential store (same keyring API the real backends implement)."""

    priority = 1

    def __init__(self):
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.items.get((service, username))

    def set_password(self, service, username, password):
        self.items[(service, username)] = password

    def delete_password(self, service, username):
        from keyring.errors import PasswordDeleteError

        if self.items.pop((service, username), None) is None:
            raise PasswordDeleteError(username)


class PlaintextKeyring(MemoryKeyring):
    """Named like keyrings.alt's PlaintextKeyring, which writes secrets unencrypted."""


class EmptyChainer(chainer.ChainerBackend):
    backends = []


class MixedChainer(chainer.ChainerBackend):
    backends = [PlaintextKeyring(), MemoryKeyring()]


@pytest.fixture
def backend():
    old = keyring.get_keyring()
    yield lambda b: keyring.set_keyring(b)
    keyring.set_keyring(old)


@pytest.fixture
def store(tmp_path):
    return FileKeyStore(tmp_path / "keys" / "keystore.txt")


# ---- the key store --------------------------------------------------------------------------

@pytest.mark.parametrize("make", [fail.Keyring, null.Keyring, PlaintextKeyring, EmptyChainer, MixedChainer],
                         ids=["fail", "null", "plaintext", "empty-chainer", "chainer-with-plaintext"])
def test_insecure_keyring_backends_are_refused(backend, tmp_path, make):
    backend(make())
    with pytest.raises(KeyStoreError, match="拒绝以明文保存密钥") as exc:
        open_keystore(tmp_path, "w-test", "keyring")
    assert "COUNTER_APP_KEYSTORE=file" in exc.value.message


def test_open_window_refuses_without_keyring_unless_file_store_configured(backend, tmp_path, monkeypatch):
    from counter_app.services import open_window

    backend(fail.Keyring())
    monkeypatch.setenv("COUNTER_APP_KEYSTORE", "keyring")
    with pytest.raises(KeyStoreError):
        open_window(tmp_path / "a")
    assert not (tmp_path / "a" / "keys").exists()  # nothing fell back to a file silently
    monkeypatch.setenv("COUNTER_APP_KEYSTORE", "file")
    w = open_window(tmp_path / "a")
    assert w.keystore.kind == "file"
    w.close()


def test_keys_live_in_the_os_keyring_per_data_directory(backend, tmp_path, monkeypatch):
    from counter_app.services import open_window

    ring = MemoryKeyring()
    backend(ring)
    monkeypatch.setenv("COUNTER_APP_KEYSTORE", "keyring")
    w1, w2 = open_window(tmp_path / "one"), open_window(tmp_path / "two")
    assert w1.keystore.kind == "keyring" and not (tmp_path / "one" / "keys").exists()
    users = {u for (svc, u) in ring.items if svc == "counter-app"}
    ns = {u.split(":")[0] for u in users}
    assert len(ns) == 2 and {u.split(":", 1)[1] for u in users} >= {"master-key", "wrapped-data-keys",
                                                                   "seal-ed25519-private"}
    blob = w1.vault.encrypt_field("cases", "payload_enc", "r1", "张建军")
    w1.close()
    again = open_window(tmp_path / "one")
    assert again.vault.decrypt_field("cases", "payload_enc", "r1", blob) == "张建军"
    with pytest.raises(DecryptionError):  # the other install has other keys
        w2.vault.decrypt_field("cases", "payload_enc", "r1", blob)
    again.close()
    w2.close()


def test_file_store_is_owner_only_and_refused_when_readable_by_others(store):
    store.set("master-key", b"k" * 32)
    assert (os.stat(store.path).st_mode & 0o777) == 0o600
    os.chmod(store.path, 0o644)
    with pytest.raises(KeyStoreError, match="权限过宽"):
        FileKeyStore(store.path)


def test_file_store_logs_a_warning(tmp_path, caplog):
    with caplog.at_level("WARNING"):
        FileKeyStore(tmp_path / "k.txt")
    assert "文件密钥库" in caplog.text


# ---- the vault ------------------------------------------------------------------------------

def test_nonces_are_unique_and_ciphertexts_differ(store):
    v = Vault(store)
    blobs = [v.encrypt(b"410702199001011234", b"ad") for _ in range(2000)]
    assert len({b[8:20] for b in blobs}) == 2000 and len(set(blobs)) == 2000
    assert all(v.decrypt(b, b"ad") == b"410702199001011234" for b in blobs[:10])


@pytest.mark.parametrize("algorithm", ["aes-256-gcm", "sm4-gcm"])
def test_any_flipped_bit_or_moved_ciphertext_fails(store, algorithm):
    v = Vault(store, algorithm=algorithm)
    blob = v.encrypt_field("cases", "payload_enc", "row-1", "河南省新乡市红旗区人民路1号")
    for i in range(len(blob)):
        bad = bytearray(blob)
        bad[i] ^= 0x01
        with pytest.raises(DecryptionError):
            v.decrypt_field("cases", "payload_enc", "row-1", bytes(bad))
    for table, column, row in (("cases", "payload_enc", "row-2"), ("cases", "other", "row-1"),
                               ("worklist", "payload_enc", "row-1")):
        with pytest.raises(DecryptionError):
            v.decrypt_field(table, column, row, blob)


def test_sm4_gcm_survives_a_restart(store):
    v = Vault(store, algorithm="sm4-gcm")
    blob = v.encrypt_field("t", "c", "1", "张建军")
    assert blob[3] == ALG_SM4_GCM and v.algorithm == "sm4-gcm"
    again = Vault(store, algorithm="sm4-gcm")
    assert again.decrypt_field("t", "c", "1", blob) == "张建军"


def test_switching_algorithm_keeps_old_data_readable_and_blind_index_stable(store):
    aes = Vault(store, algorithm="aes-256-gcm")
    old = aes.encrypt_field("t", "c", "1", "old")
    token = aes.blind_index("id_number", "410702199001011234")
    sm4 = Vault(store, algorithm="sm4-gcm")
    new = sm4.encrypt_field("t", "c", "2", "new")
    assert new[3] == ALG_SM4_GCM and sm4.key_ids == [1, 2]
    assert sm4.decrypt_field("t", "c", "1", old) == "old"
    assert sm4.blind_index("id_number", "410702199001011234") == token


def test_wrapped_keys_in_the_first_format_still_open(store):
    """Installs from before the SM4 fix stored fixed 69-byte AES entries; they must keep working."""
    master, data_key, bidx_key = os.urandom(32), os.urandom(32), os.urandom(32)
    nonce = os.urandom(12)
    plain = struct.pack(">IB", 1, 1) + data_key + bidx_key
    store.set("master-key", master)
    store.set(Vault.WRAP_NAME, nonce + AESGCM(master).encrypt(nonce, plain, b"counter-app data keys"))
    blob = b"CV1" + struct.pack(">BI", 1, 1) + nonce + AESGCM(data_key).encrypt(nonce, b"legacy", b"ad")
    v = Vault(store)
    assert v.decrypt(blob, b"ad") == b"legacy"


def test_data_keys_are_stored_only_wrapped(store):
    v = Vault(store)
    text = store.path.read_text()
    key = v._current().key
    import base64

    assert base64.b64encode(key).decode() not in text and key.hex() not in text


def test_rotate_master_rewraps_without_touching_data(store):
    v = Vault(store)
    blob = v.encrypt_field("t", "c", "1", "张建军")
    old_master, old_wrap = store.get("master-key"), store.get(Vault.WRAP_NAME)
    fp = v.master_fingerprint()
    v.rotate_master()
    assert store.get("master-key") != old_master and store.get(Vault.WRAP_NAME) != old_wrap
    assert v.master_fingerprint() != fp
    assert store.get(Vault.PENDING_NAME) is None and store.get("previous-master-key") is None
    # The old master no longer opens the stored data keys.
    new_wrap = store.get(Vault.WRAP_NAME)
    with pytest.raises(Exception):
        AESGCM(old_master).decrypt(new_wrap[:12], new_wrap[12:], b"counter-app data keys")
    assert Vault(store).decrypt_field("t", "c", "1", blob) == "张建军"


class CrashingStore:
    """A key store that dies after ``n`` writes, as a power cut would."""

    kind = "file"

    def __init__(self, inner, n):
        self.inner, self.left = inner, n

    def get(self, name):
        return self.inner.get(name)

    def _step(self):
        if self.left == 0:
            raise SystemExit("power cut")
        self.left -= 1

    def set(self, name, value):
        self._step()
        self.inner.set(name, value)

    def delete(self, name):
        self._step()
        self.inner.delete(name)


@pytest.mark.parametrize("writes_before_crash", [0, 1, 2, 3, 4])
def test_a_rotation_interrupted_at_any_write_loses_nothing(store, writes_before_crash):
    v = Vault(store)
    blob = v.encrypt_field("t", "c", "1", "张建军")
    crashing = Vault(store)
    crashing._ks = CrashingStore(store, writes_before_crash)
    with pytest.raises(SystemExit):
        crashing.rotate_master()
    recovered = Vault(store)
    assert recovered.decrypt_field("t", "c", "1", blob) == "张建军"
    assert store.get(Vault.PENDING_NAME) is None
    assert Vault(store).decrypt_field("t", "c", "1", blob) == "张建军"


def test_missing_master_with_wrapped_keys_is_refused_not_replaced(store):
    Vault(store)
    store.delete("master-key")
    with pytest.raises(KeyStoreError, match="缺少主密钥"):
        Vault(store)


def test_keyring_store_reads_back_what_it_wrote(backend):
    ring = MemoryKeyring()
    backend(ring)
    ks = KeyringKeyStore("w-x")
    ks.set("a", b"\x00\x01secret")
    assert ks.get("a") == b"\x00\x01secret"
    ks.delete("a")
    ks.delete("a")  # deleting twice is fine
    assert ks.get("a") is None
