"""Measuring, wrapping and drawing Chinese text on a reportlab canvas, with the font fallback.

All document modules draw text through :class:`Pen`, so no character can bypass the fallback:
characters the main font lacks go to the Extension B font or become a code-point box, and
the pen remembers them for the :class:`~printing.result.RenderResult`.

Thread contract: a ``Pen`` belongs to one canvas and one render call (not shared between
threads); the module functions are pure and safe from any thread.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from functools import lru_cache

from reportlab.pdfbase.pdfmetrics import getFont, stringWidth

from printing import fonts
from printing.fonts import BOX, FONT_NAME, MAIN, RARE_FONT_NAME

BOX_EM = 1.0  # width of a code-point box, in em

# Chinese line-breaking rules (禁则): these never start a line / never end one.
NO_LINE_START = set("，。、；：？！）》」』】〕〉”’%·…—～,.;:?!)]}、")
NO_LINE_END = set("（《「『【〔〈“‘([{")

_TOKEN = re.compile(r"[A-Za-z0-9@._\-/:#+*]+|[ \t]+|.", re.DOTALL)


@lru_cache(maxsize=None)
def _advance_table(font_name: str) -> tuple[dict[int, float], float]:
    """Glyph advances in 1/1000 em by code point (the same numbers reportlab's stringWidth uses)."""
    fonts.register_fonts()
    face = getFont(font_name).face
    return face.charWidths, face.defaultWidth


def text_width(text: str, size: float) -> float:
    """Width in points of ``text`` at ``size``, as :class:`Pen` would draw it."""
    if not text:
        return 0.0
    return _em_width(text) * size


@lru_cache(maxsize=65536)
def _em_width(text: str) -> float:
    # Cached per string: tables repeat the same labels, states and names many times.
    widths, default = _advance_table(FONT_NAME)
    cov = fonts.main_coverage()
    if all(ord(ch) in cov for ch in text):
        return sum(widths.get(ord(ch), default) for ch in text) * 0.001
    total = 0.0
    for kind, run in fonts.split_runs(text):
        if kind == BOX:
            total += BOX_EM
        else:
            total += stringWidth(run, FONT_NAME if kind == MAIN else RARE_FONT_NAME, 1.0)
    return total


def wrap_text(text: str, size: float, width: float) -> list[str]:
    """Break ``text`` into lines no wider than ``width``.

    Chinese breaks between any two characters; Latin words and digit strings (ID numbers,
    phone numbers, account numbers) stay whole unless longer than a line. Closing punctuation
    never starts a line and opening punctuation never ends one. ``\\n`` forces a break.
    An empty string gives one empty line.
    """
    lines: list[str] = []
    for para in (text or "").split("\n"):
        lines.extend(_wrap_para(para, size, width))
    return lines


def _wrap_para(para: str, size: float, width: float) -> list[str]:
    if not para:
        return [""]
    if text_width(para, size) <= width + 1e-6:  # the common case: it fits
        return [para]
    out: list[list[tuple[str, float]]] = []
    line: list[tuple[str, float]] = []
    used = 0.0
    for tok in _TOKEN.findall(para):
        w = text_width(tok, size)
        if used + w <= width + 1e-6:
            if line or tok[0] not in " \t":  # ASCII blanks vanish at a line start; U+3000 (indent) stays
                line.append((tok, w))
                used += w
            continue
        if tok[0] in " \t":  # a space at a break point disappears
            out.append(line)
            line, used = [], 0.0
            continue
        if w > width and len(tok) > 1:  # a word longer than a whole line: break it anywhere
            for ch in tok:
                cw = text_width(ch, size)
                if used + cw > width + 1e-6 and line:
                    out.append(line)
                    line, used = [], 0.0
                line.append((ch, cw))
                used += cw
            continue
        carry: list[tuple[str, float]] = []
        if tok in NO_LINE_START and len(line) > 1 and line[-1][1] + w <= width:
            carry.append(line.pop())  # take the previous character down with the punctuation
        # an opening mark goes down with the word it opens, but only if the new line still fits
        while (len(line) > 1 and line[-1][0] in NO_LINE_END
               and sum(x[1] for x in carry) + line[-1][1] + w <= width + 1e-6):
            carry.insert(0, line.pop())
        if line:
            out.append(line)
        line = carry + [(tok, w)]
        used = sum(x[1] for x in line)
    out.append(line)
    return ["".join(t for t, _ in ln).rstrip() for ln in out]


def _emit_text(c, font_name: str, size: float, x: float, y: float, text: str) -> None:
    """Write one run of text into the page's content stream.

    Equivalent to ``canvas.drawString`` for a TrueType font (same subset bookkeeping through
    the font's per-document state), without building a text object per call: tables draw
    thousands of cells and this is most of their cost.
    """
    font = getFont(font_name)
    doc = c._doc
    parts = []
    for subset, t in font.splitString(text, doc):
        parts.append(f"{font.getSubsetInternalName(subset, doc)} {size:.2f} Tf ({c._escape(t)}) Tj")
    c._code.append(f"BT 1 0 0 1 {x:.2f} {y:.2f} Tm {' '.join(parts)} ET")


@dataclass
class Pen:
    """Draws text on one canvas and records which characters fell back."""

    canvas: object
    fallback_chars: set[str] = field(default_factory=set)
    boxed_chars: set[str] = field(default_factory=set)

    def width(self, text: str, size: float) -> float:
        return text_width(text, size)

    def draw(self, x: float, y: float, text: str, size: float, *, bold: bool = False,
             align: str = "left", color=None) -> float:
        """Draw one line with its baseline at ``y``; returns the width drawn.

        ``align`` is "left" (x is the left edge), "center" or "right". ``bold`` strokes the
        outline as well (the bundled font has no bold face).
        """
        if not text:
            return 0.0
        w = text_width(text, size) if align != "left" else 0.0
        if align == "center":
            x -= w / 2
        elif align == "right":
            x -= w
        c = self.canvas
        if not bold and color is None:
            runs = fonts.split_runs(text)
            if len(runs) == 1 and runs[0][0] == MAIN:
                _emit_text(c, FONT_NAME, size, x, y, text)
                return w or text_width(text, size)
        c.saveState()
        if color is not None:
            c.setFillColor(color)
            c.setStrokeColor(color)
        start = x
        for kind, run in fonts.split_runs(text):
            if kind == BOX:
                self.fallback_chars.add(run)
                self.boxed_chars.add(run)
                x += self._draw_box(x, y, run, size)
                continue
            name = FONT_NAME if kind == MAIN else RARE_FONT_NAME
            if kind != MAIN:
                self.fallback_chars.update(ch for ch in run if not fonts.is_ignorable(ch))
            t = c.beginText(x, y)
            t.setFont(name, size)
            if bold:
                c.setLineWidth(size * 0.035)
                t.setTextRenderMode(2)
            t.textOut(run)
            c.drawText(t)
            x += stringWidth(run, name, size)
        c.restoreState()
        return x - start

    def draw_lines(self, x: float, top: float, lines: list[str], size: float, *, leading: float,
                   align: str = "left", bold: bool = False) -> float:
        """Draw wrapped lines from ``top`` downwards; returns the height used."""
        y = top - size * 0.88  # first baseline: ascent of the CJK em box below the top
        for ln in lines:
            self.draw(x, y, ln, size, align=align, bold=bold)
            y -= leading
        return leading * len(lines)

    def _draw_box(self, x: float, y: float, ch: str, size: float) -> float:
        """A visible stand-in for a character no bundled font has: a box with its code point."""
        c = self.canvas
        w = BOX_EM * size
        label = f"{ord(ch):04X}"
        c.saveState()
        c.setLineWidth(max(0.4, size * 0.05))
        c.rect(x + w * 0.06, y - size * 0.12, w * 0.88, size * 0.98, stroke=1, fill=0)
        small = min(size * 0.36, (w * 0.8) / (len(label) * 0.56))
        c.setFont(FONT_NAME, small)
        c.drawCentredString(x + w / 2, y + size * 0.48, "U+")
        c.drawCentredString(x + w / 2, y + size * 0.06, label)
        c.restoreState()
        return w
