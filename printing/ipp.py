"""A small IPP/1.1 client (RFC 8010 encoding, RFC 8011 operations, CUPS' extensions) over HTTP.

Why not ``lp``/``lpstat``: their output is meant for people (it changes with the locale and the
CUPS version, and a disabled printer's reason sits in an unlabelled line). IPP gives the printer's
state, its state reasons as keywords and whether it accepts jobs as typed attributes, and a job
id and job state the same way. The CUPS scheduler speaks IPP on its local socket
(``/run/cups/cups.sock``) and on its port, so no client library is needed.

Server (as libcups finds it): ``CUPS_SERVER`` (``host``, ``host:port`` or a socket path), else
``ServerName`` in ``~/.cups/client.conf`` or ``/etc/cups/client.conf``, else the local socket,
else ``localhost:631``.

Thread contract: every call opens its own connection; safe from any worker thread (never the GUI
thread: calls block up to ``timeout`` seconds).
"""
from __future__ import annotations

import getpass
import http.client
import itertools
import os
import socket
import struct
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

# Operations
PRINT_JOB = 0x0002
GET_JOB_ATTRIBUTES = 0x0009
GET_PRINTER_ATTRIBUTES = 0x000B
CUPS_GET_DEFAULT = 0x4001
CUPS_GET_PRINTERS = 0x4002

# Delimiter tags
OPERATION_GROUP, JOB_GROUP, END, PRINTER_GROUP, UNSUPPORTED_GROUP = 0x01, 0x02, 0x03, 0x04, 0x05
# Value tags
INTEGER, BOOLEAN, ENUM = 0x21, 0x22, 0x23
TEXT, NAME, KEYWORD, URI, CHARSET, LANGUAGE, MIME = 0x41, 0x42, 0x44, 0x45, 0x47, 0x48, 0x49
_INT_TAGS = (INTEGER, ENUM)

# Status codes
OK_MAX = 0x00FF
NOT_FOUND = 0x0406
NOT_ACCEPTING = 0x0506

PRINTER_IDLE, PRINTER_PROCESSING, PRINTER_STOPPED = 3, 4, 5
JOB_STATES = {3: "pending", 4: "held", 5: "processing", 6: "stopped", 7: "canceled", 8: "aborted", 9: "completed"}

_request_ids = itertools.count(1)


class IppError(Exception):
    """Transport or protocol failure; ``status`` is the IPP status code when the server answered."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


@dataclass
class IppResponse:
    status: int
    request_id: int
    groups: list[tuple[int, dict[str, list]]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status <= OK_MAX

    def group(self, tag: int) -> list[dict[str, list]]:
        return [attrs for t, attrs in self.groups if t == tag]

    def first(self, tag: int) -> dict[str, list]:
        found = self.group(tag)
        return found[0] if found else {}


# ------------------------------------------------------------------------------ encoding

def _value_bytes(tag: int, value) -> bytes:
    if tag in _INT_TAGS:
        return struct.pack(">i", int(value))
    if tag == BOOLEAN:
        return b"\x01" if value else b"\x00"
    return str(value).encode("utf-8")


def encode_request(operation: int, attributes: list[tuple[int, str, object]], *,
                   job_attributes: list[tuple[int, str, object]] = (), request_id: int | None = None,
                   data: bytes = b"") -> bytes:
    """One IPP request. ``attributes`` follow the two required ones (charset, language); a list
    value becomes a multi-valued attribute."""
    rid = next(_request_ids) if request_id is None else request_id
    out = bytearray(struct.pack(">BBHI", 1, 1, operation, rid))

    def put(tag: int, name: str, value) -> None:
        values = value if isinstance(value, (list, tuple)) else [value]
        for i, v in enumerate(values):
            n = name.encode("ascii") if i == 0 else b""
            b = _value_bytes(tag, v)
            out.extend(struct.pack(">BH", tag, len(n)) + n + struct.pack(">H", len(b)) + b)

    out.append(OPERATION_GROUP)
    put(CHARSET, "attributes-charset", "utf-8")
    put(LANGUAGE, "attributes-natural-language", "zh-cn")
    for tag, name, value in attributes:
        put(tag, name, value)
    if job_attributes:
        out.append(JOB_GROUP)
        for tag, name, value in job_attributes:
            put(tag, name, value)
    out.append(END)
    return bytes(out) + data


def decode_response(body: bytes) -> IppResponse:
    """Parse an IPP response; raises :class:`IppError` on a truncated or malformed message."""
    if len(body) < 9:
        raise IppError("打印服务返回的应答不完整")
    _major, _minor, status, rid = struct.unpack(">BBHI", body[:8])
    response = IppResponse(status, rid)
    pos, current, last_name = 8, None, ""
    try:
        while pos < len(body):
            tag = body[pos]
            pos += 1
            if tag == END:
                break
            if tag < 0x10:  # a new attribute group
                current = {}
                response.groups.append((tag, current))
                continue
            (n_len,) = struct.unpack(">H", body[pos:pos + 2])
            name = body[pos + 2:pos + 2 + n_len].decode("utf-8")
            pos += 2 + n_len
            (v_len,) = struct.unpack(">H", body[pos:pos + 2])
            raw = body[pos + 2:pos + 2 + v_len]
            if len(raw) != v_len:
                raise IppError("打印服务返回的应答不完整")
            pos += 2 + v_len
            if tag in _INT_TAGS and v_len == 4:
                value: object = struct.unpack(">i", raw)[0]
            elif tag == BOOLEAN and v_len == 1:
                value = raw != b"\x00"
            elif 0x40 <= tag <= 0x4F:
                value = raw.decode("utf-8", errors="replace")
            else:
                value = bytes(raw)
            if current is None:
                raise IppError("打印服务返回的应答格式错误")
            if name:
                last_name = name
                current[name] = [value]
            elif last_name:  # an additional value of the previous attribute
                current[last_name].append(value)
    except struct.error as exc:
        raise IppError("打印服务返回的应答不完整") from exc
    return response


# ------------------------------------------------------------------------------ transport

class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float):
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self._path)
        self.sock = sock


def _client_conf_server() -> str | None:
    for conf in (Path.home() / ".cups" / "client.conf", Path("/etc/cups/client.conf")):
        try:
            for line in conf.read_text(encoding="utf-8", errors="replace").splitlines():
                words = line.split()
                if len(words) == 2 and words[0].lower() == "servername":
                    return words[1]
        except OSError:
            continue
    return None


def cups_server() -> str:
    """Where the CUPS scheduler is: a socket path or ``host:port``."""
    server = os.environ.get("CUPS_SERVER") or _client_conf_server()
    if not server:
        for sock in ("/run/cups/cups.sock", "/var/run/cups/cups.sock"):
            if os.path.exists(sock):
                return sock
        return "localhost:631"
    if server.startswith("/"):
        return server
    return server if ":" in server.rsplit("]", 1)[-1] else server + ":631"


class IppClient:
    def __init__(self, server: str | None = None, timeout: float = 15.0):
        self.server = server or cups_server()
        self.timeout = timeout

    @property
    def host_for_uris(self) -> str:
        return "localhost" if self.server.startswith("/") else self.server

    def printer_uri(self, name: str) -> str:
        return f"ipp://{self.host_for_uris}/printers/{urllib.parse.quote(name)}"

    def _connection(self) -> http.client.HTTPConnection:
        if self.server.startswith("/"):
            return _UnixHTTPConnection(self.server, self.timeout)
        host, _, port = self.server.rpartition(":")
        return http.client.HTTPConnection(host.strip("[]"), int(port), timeout=self.timeout)

    def request(self, path: str, body: bytes) -> IppResponse:
        """POST one IPP message; raises :class:`IppError` (status None) when the server is unreachable."""
        conn = self._connection()
        try:
            conn.request("POST", path, body=body, headers={"Content-Type": "application/ipp"})
            reply = conn.getresponse()
            data = reply.read()
        except (OSError, http.client.HTTPException) as exc:
            raise IppError(f"无法连接打印服务（{self.server}）：{exc}") from exc
        finally:
            conn.close()
        if reply.status != 200:
            raise IppError(f"打印服务拒绝了请求（HTTP {reply.status}）")
        return decode_response(data)

    # -------------------------------------------------------------------- operations
    PRINTER_ATTRIBUTES = ("printer-name", "printer-state", "printer-state-reasons", "printer-state-message",
                          "printer-is-accepting-jobs", "printer-info")

    def printers(self) -> list[dict[str, list]]:
        body = encode_request(CUPS_GET_PRINTERS, [(KEYWORD, "requested-attributes", list(self.PRINTER_ATTRIBUTES))])
        response = self.request("/", body)
        if response.status == NOT_FOUND:  # CUPS: no printers at all
            return []
        if not response.ok:
            raise IppError(f"打印服务无法列出打印机（IPP 状态 0x{response.status:04X}）", response.status)
        return response.group(PRINTER_GROUP)

    def default_printer(self) -> str | None:
        response = self.request("/", encode_request(CUPS_GET_DEFAULT, [(KEYWORD, "requested-attributes", "printer-name")]))
        if not response.ok:
            return None
        names = response.first(PRINTER_GROUP).get("printer-name")
        return str(names[0]) if names else None

    def print_job(self, printer: str, pdf: bytes, *, title: str = "", copies: int = 1) -> int:
        """Queue a PDF; returns the job id. Raises :class:`IppError` with the IPP status when refused."""
        attrs = [(URI, "printer-uri", self.printer_uri(printer)),
                 (NAME, "requesting-user-name", _user()),
                 (NAME, "job-name", title or "counter-app"),
                 (MIME, "document-format", "application/pdf")]
        job = [(INTEGER, "copies", int(copies)), (KEYWORD, "media", "iso_a4_210x297mm"),
               (KEYWORD, "print-scaling", "fit")]
        response = self.request(f"/printers/{urllib.parse.quote(printer)}",
                                encode_request(PRINT_JOB, attrs, job_attributes=job, data=pdf))
        if not response.ok:
            message = response.first(OPERATION_GROUP).get("status-message", [""])[0]
            raise IppError(str(message) or f"IPP 状态 0x{response.status:04X}", response.status)
        job_ids = response.first(JOB_GROUP).get("job-id")
        if not job_ids:
            raise IppError("打印服务没有返回任务编号")
        return int(job_ids[0])

    def job_state(self, job_id: int) -> str:
        attrs = [(URI, "printer-uri", f"ipp://{self.host_for_uris}/"), (INTEGER, "job-id", int(job_id)),
                 (NAME, "requesting-user-name", _user()), (KEYWORD, "requested-attributes", "job-state")]
        response = self.request("/", encode_request(GET_JOB_ATTRIBUTES, attrs))
        if not response.ok:
            raise IppError(f"查询打印任务失败（IPP 状态 0x{response.status:04X}）", response.status)
        state = response.first(JOB_GROUP).get("job-state", [0])[0]
        return JOB_STATES.get(int(state), "unknown")


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "counter-app"
