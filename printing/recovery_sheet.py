"""The recovery-key sheet IT prints once at set-up and keeps in the center's safe.

Data in (the core's ``security.recovery.RecoverySheet`` fields), PDF bytes out: the key as
text in groups of four and as a QR code, which window it opens and how to use it. The bytes are
returned to the caller and never written to a temporary file here (the key must not linger).
"""
from __future__ import annotations

import io

from printing import codes
from printing import page as pg
from printing.text import Pen


def render_recovery_sheet(*, key_text: str, qr_payload: str, center_code: str, window_no: str,
                          fingerprint: str, issued_at: str) -> bytes:
    buf = io.BytesIO()
    c = pg.new_canvas(buf, "恢复密钥单", "退役军人服务一件事窗口 恢复密钥")
    pen = Pen(c)
    x, y = pg.MARGIN_X, pg.PAGE_H - pg.MARGIN_TOP - 24
    pen.draw(pg.PAGE_W / 2, y, "综合受理窗口 恢复密钥单（绝密，存放于保险柜）", 16, bold=True, align="center")
    y -= 36
    for line in (f"中心代码：{center_code}    窗口号：{window_no}",
                 f"生成时间：{issued_at}    恢复密钥指纹：{fingerprint}",
                 "用途：本机密钥库丢失（硬盘损坏、系统密钥库被重置）时，技术人员执行",
                 "      counter-app keys recover，输入下列恢复密钥（或扫描二维码），即可恢复本窗口的数据密钥。",
                 "重新生成恢复密钥后，本单作废，请销毁。"):
        pen.draw(x, y, line, 10.5)
        y -= 18
    y -= 10
    groups = key_text.split("-")
    for i in range(0, len(groups), 7):
        pen.draw(x, y, "  ".join(groups[i:i + 7]), 15)
        y -= 26
    size = 180.0
    codes.draw_qr(c, qr_payload, (pg.PAGE_W - size) / 2, y - size - 10, size)
    c.showPage()
    c.save()
    return buf.getvalue()
