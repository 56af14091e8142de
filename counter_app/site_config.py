"""One window's site configuration: ``counter-app configure --from site.toml`` and the first-run wizard.

IT staff install many windows; each gets one small TOML file (example in
``packaging/site.example.toml``)::

    [center]
    code = "410702"                 # 服务中心代码（必填）
    name = "新乡市红旗区退役军人服务中心"
    [window]
    number = "03"                   # 窗口号（必填）
    [platform]
    url = "https://platform.example/api"   # 平台接口地址（必填）
    credential_file = "window-03.token"    # or credential = "…", or credential_env = "VAR"
    [reader]
    port = "auto"                   # or "COM3", "/dev/ttyUSB0"
    [cameras]
    photo = 0
    document = 1
    [printers]
    form = "HP LaserJet M1136"      # one per document type; "" = the system default printer
    receipt = "GP-58"
    [settings]
    idle_lock_minutes = 10          # any other setting of counter_app.config by its name

Where each value goes:

* ordinary settings → ``config.toml`` through :mod:`counter_app.config` (same validation as everywhere);
* the platform credential → the window's key store (OS keyring), **never** ``config.toml``;
* printers → the window database's ``settings`` table as ``printer.<document type>`` — the same
  rows the UI's settings page edits (``ui.printouts``).

Everything is validated before anything is written, and every problem is reported at once, in
Chinese, naming the section and key, so IT fixes the file in one pass. The wizard builds the same
nested dict and calls the same :func:`parse_site` / :func:`apply_site_config`.
"""
from __future__ import annotations

import os
import shutil
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from counter_app.config import SPEC_BY_NAME, ConfigError, coerce, load_settings, needs_first_run  # noqa: F401 - re-exported
from counter_app.printers import DOC_TYPES, SETTING_PREFIX, write_printer_map

# (section, key in site.toml, setting name in config.toml, required)
SITE_FIELDS: tuple[tuple[str, str, str, bool], ...] = (
    ("center", "code", "center_code", True),
    ("center", "name", "center_name", False),
    ("center", "county_va_name", "county_va_name", False),
    ("center", "military_office", "military_office", False),
    ("center", "military_office_address", "military_office_address", False),
    ("window", "number", "window_no", True),
    ("platform", "url", "platform_url", True),
    ("platform", "lookup_url", "lookup_url", False),
    ("platform", "ca_bundle", "ca_bundle", False),
    ("platform", "pinned_cert_sha256", "pinned_cert_sha256", False),
    ("reader", "port", "reader_port", False),
    ("reader", "sdt_library", "reader_sdt_library", False),
    ("reader", "sdt_port", "reader_sdt_port", False),
    ("cameras", "photo", "camera_index", False),
    ("cameras", "document", "document_camera_index", False),
    ("scanner", "import_dir", "scan_import_dir", False),
)
CREDENTIAL_KEYS = ("credential", "credential_file", "credential_env")

# The document types and where the choice is stored belong to counter_app.printers.
PRINTER_DOC_TYPES = DOC_TYPES
PRINTER_SETTING_PREFIX = SETTING_PREFIX

from counter_app.errors import UserError  # noqa: E402

_SECTIONS = {s for s, _, _, _ in SITE_FIELDS} | {"printers", "settings"}
_AUTO_PORT = ("", "auto", "自动")


class SiteConfigError(UserError, ValueError):
    """Every problem found in a site file, each one line of Chinese."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems
        self.message = "站点配置有误，未做任何修改：\n" + "\n".join(f"  - {p}" for p in problems)


@dataclass
class SiteConfig:
    settings: dict[str, Any] = field(default_factory=dict)
    credential: str | None = None
    printers: dict[str, str] = field(default_factory=dict)
    ca_source: Path | None = None  # a CA file to copy into the data directory


@dataclass
class AppliedConfig:
    home: Path
    changed: list[str]
    credential_stored: bool
    credential_present: bool
    printers: dict[str, str]

    def summary(self) -> str:
        lines = [f"已写入本窗口配置：{self.home / 'config.toml'}"]
        lines.append("修改的配置项：" + ("、".join(self.changed) if self.changed else "无"))
        if self.credential_stored:
            lines.append("平台凭据：已保存到系统密钥库（不写入配置文件）")
        elif not self.credential_present:
            lines.append("注意：尚未设置平台凭据，本窗口暂时无法向平台上报。")
        if self.printers:
            lines.append("打印机：" + "；".join(f"{PRINTER_DOC_TYPES[k]} → {v or '系统默认打印机'}"
                                            for k, v in self.printers.items()))
        return "\n".join(lines)


# ---------------------------------------------------------------- parsing

def _label(section: str, key: str) -> str:
    return f"[{section}] {key}"


def parse_site(data: Any, *, base_dir: Path | None = None) -> SiteConfig:
    """Validate a site dict (parsed TOML, or the wizard's values); raises :class:`SiteConfigError`."""
    problems: list[str] = []
    if not isinstance(data, dict):
        raise SiteConfigError(["站点配置应为TOML表（[center]、[window]、[platform] 等段）。"])
    site = SiteConfig()
    for section in data:
        if section not in _SECTIONS:
            problems.append(f"未知的段 [{section}]（可用：{'、'.join(sorted(_SECTIONS))}）。")
        elif not isinstance(data[section], dict):
            problems.append(f"[{section}] 应为一个段（表），而不是单个值。")
    known = {(s, k) for s, k, _, _ in SITE_FIELDS} | {("platform", k) for k in CREDENTIAL_KEYS}
    for section, table in data.items():
        if section in _SECTIONS - {"printers", "settings"} and isinstance(table, dict):
            for key in table:
                if (section, key) not in known:
                    problems.append(f"{_label(section, key)}：未知的配置项。")

    for section, key, name, required in SITE_FIELDS:
        table = data.get(section)
        value = table.get(key) if isinstance(table, dict) else None
        if value is None or (isinstance(value, str) and not value.strip() and required):
            if required:
                problems.append(f"{_label(section, key)}：必须填写（{SPEC_BY_NAME[name].label}）。")
            continue
        if name == "window_no" and isinstance(value, int) and not isinstance(value, bool):
            value = f"{value:02d}"
        if name == "center_code" and isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if name == "reader_port" and isinstance(value, str) and value.strip().lower() in _AUTO_PORT:
            value = ""
        if name == "ca_bundle" and isinstance(value, str) and value.strip():
            path = Path(value.strip())
            if not path.is_absolute() and base_dir is not None:
                path = base_dir / path
            if not path.is_file():
                problems.append(f"{_label(section, key)}：找不到CA证书文件 {path}。")
                continue
            site.ca_source = path
            continue  # the setting is filled in with the copied file's path when applied
        try:
            site.settings[name] = coerce(name, value)
        except ConfigError as exc:
            problems.append(f"{_label(section, key)}：{exc.message}")

    extra = data.get("settings", {})
    if isinstance(extra, dict):
        for name, value in extra.items():
            if name not in SPEC_BY_NAME:
                problems.append(f"[settings] {name}：未知的配置项。")
                continue
            if name in site.settings:
                problems.append(f"[settings] {name}：与其他段中的同一配置项重复。")
                continue
            try:
                site.settings[name] = coerce(name, value)
            except ConfigError as exc:
                problems.append(f"[settings] {name}：{exc.message}")

    platform = data.get("platform") if isinstance(data.get("platform"), dict) else {}
    given = [k for k in CREDENTIAL_KEYS if platform.get(k) not in (None, "")]
    if len(given) > 1:
        problems.append("[platform]：credential、credential_file、credential_env 只能填写其中一项。")
    elif given:
        try:
            site.credential = _read_credential(given[0], platform[given[0]], base_dir)
        except SiteConfigError as exc:
            problems.extend(exc.problems)

    printers = data.get("printers", {})
    if isinstance(printers, dict):
        for doc_type, printer in printers.items():
            if doc_type not in PRINTER_DOC_TYPES:
                problems.append(f"[printers] {doc_type}：未知的单据类型（可用：{'、'.join(PRINTER_DOC_TYPES)}）。")
            elif not isinstance(printer, str):
                problems.append(f"[printers] {doc_type}：打印机名称应为文字（留空表示系统默认打印机）。")
            else:
                site.printers[doc_type] = printer.strip()

    if problems:
        raise SiteConfigError(problems)
    return site


def _read_credential(kind: str, value: Any, base_dir: Path | None) -> str:
    where = _label("platform", kind)
    if not isinstance(value, str):
        raise SiteConfigError([f"{where}：应为文字。"])
    if kind == "credential":
        token = value
    elif kind == "credential_env":
        token = os.environ.get(value, "")
        if not token:
            raise SiteConfigError([f"{where}：环境变量 {value} 未设置或为空。"])
    else:
        path = Path(value)
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        try:
            token = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise SiteConfigError([f"{where}：无法读取凭据文件 {path}（{exc.strerror or exc}）。"]) from None
        except UnicodeDecodeError:
            raise SiteConfigError([f"{where}：凭据文件 {path} 不是UTF-8文本。"]) from None
    token = token.strip()
    if not token or any(c.isspace() for c in token) or len(token) > 4096:
        raise SiteConfigError([f"{where}：平台凭据为空或含有空白字符，请核对平台发放的凭据。"])
    return token


def load_site_file(path: Path) -> SiteConfig:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")  # Notepad on Windows may add a BOM
    except FileNotFoundError:
        raise SiteConfigError([f"找不到站点配置文件：{path}。"]) from None
    except OSError as exc:
        raise SiteConfigError([f"无法读取站点配置文件 {path}：{exc.strerror or exc}。"]) from None
    except UnicodeDecodeError:
        raise SiteConfigError([f"站点配置文件 {path} 不是UTF-8编码，请用“UTF-8”另存后重试。"]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SiteConfigError([f"站点配置文件 {path} 格式错误：{exc}。"]) from None
    return parse_site(data, base_dir=path.resolve().parent)


# ---------------------------------------------------------------- applying

def platform_credential(keystore) -> str | None:
    """The window's platform credential from its key store (None when not configured). One name
    for the credential, owned by the sync client that sends it (``counter_app.sync.credentials``:
    a wizard-entered credential must be the one the client reads)."""
    # Imported here: ``counter_app.sync`` (the platform client) is a heavy import, and the GUI asks
    # ``needs_first_run`` of this module on its thread at start.
    from counter_app.sync.credentials import KEY_NAME as PLATFORM_CREDENTIAL_NAME

    raw = keystore.get(PLATFORM_CREDENTIAL_NAME)
    return raw.decode("utf-8") if raw else None


def store_platform_credential(keystore, token: str) -> None:
    from counter_app.sync.credentials import KEY_NAME as PLATFORM_CREDENTIAL_NAME

    keystore.set(PLATFORM_CREDENTIAL_NAME, token.encode("utf-8"))


def current_site(home: Path) -> dict[str, dict[str, Any]]:
    """The window's present values in site-file shape (no credential), to prefill the wizard."""
    settings = load_settings(Path(home) / "config.toml")
    out: dict[str, dict[str, Any]] = {}
    for section, key, name, _ in SITE_FIELDS:
        out.setdefault(section, {})[key] = settings.values[name]
    return out


def apply_site_config(home: Path, site: SiteConfig, *, operator: str = "it_admin", window=None) -> AppliedConfig:
    """Write ``site`` into the window at ``home``: config.toml, key store, printer rows, one audit entry.

    ``window`` is an already open :class:`counter_app.services.Window` for ``home`` (the wizard has
    one); otherwise one is opened (which also creates or upgrades the store) and closed again.
    """
    from counter_app import audit

    home = Path(home)
    home.mkdir(parents=True, exist_ok=True)
    settings = load_settings(home / "config.toml")
    values = dict(site.settings)
    if site.ca_source is not None:
        certs = home / "certs"
        certs.mkdir(exist_ok=True)
        dest = certs / site.ca_source.name
        if site.ca_source.resolve() != dest.resolve():
            shutil.copyfile(site.ca_source, dest)
        values["ca_bundle"] = str(dest)
    changed = [name for name, value in values.items() if settings.values.get(name) != value]
    for name, value in values.items():
        settings.set(name, value)

    own_window = window is None
    if own_window:
        from counter_app.services import open_window

        window = open_window(home)
    try:
        # The key store first: if the keyring refuses, config.toml is not yet half-updated.
        if site.credential:
            store_platform_credential(window.keystore, site.credential)
        settings.save(home / "config.toml")
        with window.sessions.begin() as s:
            write_printer_map(s, site.printers)
            audit.append(s, operator, "settings", "site-config",
                         {"changed": sorted(changed), "credential": bool(site.credential),
                          "printers": sorted(site.printers)})
        present = site.credential is not None or platform_credential(window.keystore) is not None
    finally:
        if own_window:
            window.close()
    # The window's own Settings object (if the caller keeps one) must see the new values.
    window.settings.values.update(settings.values)
    return AppliedConfig(home, sorted(changed), bool(site.credential), present, dict(site.printers))
