"""The window's settings: each declared once, with its type, default and Chinese label.

Settings live in ``config.toml`` in the data directory (non-secret values only: the platform
credential is in the OS keyring, never in a file). ``COUNTER_APP_PLATFORM_URL`` and
``COUNTER_APP_PLATFORM_TOKEN`` override the configured address and credential for scripted
installs and tests.
"""
from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from counter_app.errors import UserError


class ConfigError(UserError, ValueError):
    """The message is Chinese and says what to do (see ``counter_app.errors``)."""


@dataclass(frozen=True)
class SettingSpec:
    name: str
    type: type
    default: Any
    label: str
    check: str = ""  # regex the string form must match
    minimum: int | None = None  # inclusive bounds of an int setting
    maximum: int | None = None


SPECS: tuple[SettingSpec, ...] = (
    SettingSpec("center_code", str, "410702", "服务中心代码（6位行政区划代码）", r"\d{6}"),
    SettingSpec("center_name", str, "新乡市红旗区退役军人服务中心", "服务中心名称"),
    SettingSpec("county_va_name", str, "新乡市红旗区退役军人事务局", "县（区）退役军人事务部门名称"),
    SettingSpec("military_office", str, "新乡市红旗区人民武装部", "县级兵役机关名称"),
    SettingSpec("military_office_address", str, "新乡市红旗区人民路100号", "县级兵役机关地址"),
    SettingSpec("window_no", str, "01", "窗口号（01–99）", r"(0[1-9]|[1-9]\d)"),
    SettingSpec("platform_url", str, "http://127.0.0.1:8800", "省一体化政务服务平台接口地址", r"https?://\S+"),
    SettingSpec("lookup_url", str, "https://www.hnzwfw.gov.cn/ythj/", "办件进度查询地址（回执二维码）", r"https?://\S+"),
    SettingSpec("ca_bundle", str, "", "政务外网CA证书文件（留空使用系统证书）"),
    SettingSpec("pinned_cert_sha256", str, "", "证书固定（SHA-256指纹，可留空）", r"([0-9a-fA-F]{64})?"),
    SettingSpec("reader_port", str, "", "身份证阅读器串口（留空自动查找）"),
    SettingSpec("reader_sdt_library", str, "", "身份证读卡器标准接口库（libsdtapi.so 或 sdtapi.dll 的路径；留空则用串口）"),
    SettingSpec("reader_sdt_port", int, 0, "标准接口库端口（1001–1016 USB，1–16 串口；0 自动查找）"),
    SettingSpec("camera_index", int, 0, "照相机编号"),
    SettingSpec("document_camera_index", int, 1, "高拍仪编号"),
    SettingSpec("scan_import_dir", str, "", "扫描仪导入文件夹"),
    # Bounds from 等保 2.0 (login failure handling, session timeout): outside them the control is void.
    SettingSpec("idle_lock_minutes", int, 5, "无操作自动锁屏（分钟）", minimum=1, maximum=60),
    SettingSpec("lockout_attempts", int, 5, "密码连续错误锁定次数", minimum=3, maximum=10),
    SettingSpec("lockout_minutes", int, 15, "账户锁定时长（分钟）", minimum=5, maximum=1440),
    SettingSpec("stale_warn_minutes", int, 60, "待上报超过此时间提醒（分钟）"),
    SettingSpec("stale_block_days", int, 3, "最早待上报办件超过此天数停止受理（天）"),
    # PIPL art. 19 (no longer than the purpose needs): a finished case is the platform's archive,
    # the window keeps it at most a year for questions at the counter.
    SettingSpec("retention_days", int, 30, "办结后个人信息保留天数", minimum=0, maximum=365),
    SettingSpec("draft_retention_days", int, 14, "未完成草稿保留天数（到期自动撤回并清除）", minimum=1, maximum=90),
    SettingSpec("crypto_algorithm", str, "aes-256-gcm", "加密算法（aes-256-gcm 或 sm4-gcm）", r"aes-256-gcm|sm4-gcm"),
    SettingSpec("sync_interval_seconds", int, 30, "进度同步间隔（秒）"),
    SettingSpec("request_deadline_seconds", int, 60, "与省平台单次通信最长时间（秒）", minimum=5, maximum=600),
    SettingSpec("demo_mode", bool, False, "演示模式（模拟设备）"),
    # The center's PDF signature key (the PIN / password is asked by the program, never stored).
    SettingSpec("signing_key_kind", str, "", "签章密钥类型（pkcs12 证书文件 / pkcs11 UKey，留空不签章）",
                r"(pkcs12|pkcs11)?"),
    SettingSpec("signing_pkcs12_path", str, "", "签章证书文件（.p12/.pfx）"),
    SettingSpec("signing_pkcs11_library", str, "", "UKey驱动（PKCS#11库文件）"),
    SettingSpec("signing_token_label", str, "", "UKey标签（留空使用第一个UKey）"),
    SettingSpec("signing_slot", str, "", "UKey插槽号（留空按标签查找）", r"\d*"),
    SettingSpec("signing_key_label", str, "", "UKey中证书和私钥的标签（留空使用唯一的一对）"),
    SettingSpec("signing_trust_root", str, "", "信任根证书（CA根证书，PEM/DER）"),
    SettingSpec("signing_tsa_url", str, "", "时间戳服务地址（留空不加时间戳）", r"(https?://\S+)?"),
)
SPEC_BY_NAME = {s.name: s for s in SPECS}


_SPEC_DEFAULTS: dict[str, Any] = {s.name: s.default for s in SPECS}


@dataclass
class Settings:
    values: dict[str, Any] = field(default_factory=lambda: {s.name: s.default for s in SPECS})
    path: Path | None = None

    def __getattr__(self, name: str) -> Any:
        values = self.__dict__.get("values")
        if values is not None and name in values:
            return values[name]
        raise AttributeError(name)

    def set(self, name: str, value: Any) -> None:
        self.values[name] = coerce(name, value)

    @property
    def platform_url_effective(self) -> str:
        return os.environ.get("COUNTER_APP_PLATFORM_URL") or self.values["platform_url"]

    def save(self, path: Path | None = None) -> None:
        path = path or self.path
        if path is None:
            raise ConfigError("没有配置文件路径。")
        lines = ["# 退役军人服务“一件事”窗口配置（不含密码等机密信息）\n"]
        for spec in SPECS:
            v = self.values[spec.name]
            lines.append(f"# {spec.label}\n{spec.name} = {_toml_value(v)}\n")
        tmp = path.with_suffix(".tmp")
        tmp.write_text("".join(lines), encoding="utf-8")
        os.replace(tmp, path)


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    s = str(v).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{s}"'


def coerce(name: str, value: Any) -> Any:
    spec = SPEC_BY_NAME.get(name)
    if spec is None:
        raise ConfigError(f"未知的配置项：{name}。")
    try:
        if spec.type is bool:
            if isinstance(value, str):
                if value.lower() in ("true", "1", "yes", "是"):
                    value = True
                elif value.lower() in ("false", "0", "no", "否"):
                    value = False
                else:
                    raise ValueError
            elif not isinstance(value, bool):
                raise ValueError
        elif spec.type is int:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            value = int(value)
            if value < 0:
                raise ValueError
        else:
            if not isinstance(value, (str, int)):
                raise ValueError
            value = str(value).strip()
    except (TypeError, ValueError, OverflowError):  # OverflowError: int(inf) from a TOML "inf"
        raise ConfigError(f"配置项“{spec.label}”（{name}）的值无效：{value!r}。") from None
    if spec.type is int and ((spec.minimum is not None and value < spec.minimum)
                             or (spec.maximum is not None and value > spec.maximum)):
        raise ConfigError(f"配置项“{spec.label}”（{name}）须在{spec.minimum}到{spec.maximum}之间，"
                          f"{value!r} 超出范围，未采用。")
    if spec.check and not re.fullmatch(spec.check, str(value)):
        raise ConfigError(f"配置项“{spec.label}”（{name}）的值格式不正确：{value!r}。")
    return value


def parse_settings(data: Any, *, strict: bool = True) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ConfigError("配置格式不正确。")
    out = {}
    for k, v in data.items():
        if k not in SPEC_BY_NAME:
            if strict:
                raise ConfigError(f"未知的配置项：{k}。")
            continue
        out[k] = coerce(k, v)
    return out


def needs_first_run(home: Path) -> bool:
    """True until this data directory has been configured (wizard or ``configure --from``).
    Here, beside the settings, so the GUI's start asks it without importing the site tools."""
    return not (Path(home) / "config.toml").exists()


def load_settings(path: Path) -> Settings:
    settings = Settings(path=path)
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"配置文件 {path} 格式错误：{exc}。请改正或删除后重新配置。") from None
        except UnicodeDecodeError:
            raise ConfigError(f"配置文件 {path} 不是UTF-8文本。") from None
        settings.values.update(parse_settings(data, strict=False))
    return settings


_unused = fields


# ---- what printed documents say about this window ----------------------------------------------

def lookup_template(base: str) -> str:
    """The one rule for the receipt's progress-lookup link: ``base`` with a ``{case_no}``
    placeholder kept as it is, otherwise the number added as the ``case_no`` query parameter.
    Printing fills the placeholder with the compact case number."""
    base = base.strip()
    if not base or "{case_no}" in base:
        return base
    return base + ("&" if "?" in base else "?") + "case_no={case_no}"


@dataclass(frozen=True)
class DocumentDetails:
    """The window's names and links the documents print, handed to ``printing`` as data (the
    printing package never reads the data directory). Defaults are the settings' defaults."""

    lookup_url: str = lookup_template(_SPEC_DEFAULTS["lookup_url"])  # with a {case_no} placeholder
    county_va_name: str = _SPEC_DEFAULTS["county_va_name"]
    military_office: str = _SPEC_DEFAULTS["military_office"]
    military_office_address: str = _SPEC_DEFAULTS["military_office_address"]

    @classmethod
    def of(cls, settings: Settings) -> "DocumentDetails":
        return cls(lookup_url=lookup_template(settings.lookup_url), county_va_name=settings.county_va_name,
                   military_office=settings.military_office,
                   military_office_address=settings.military_office_address)
