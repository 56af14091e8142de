"""Inline content of a form cell: text, check boxes with their labels, filled-in blanks.

The source form mixes these freely ("□ 城乡居民医保参保登记  参保地：____市____县（市、区）"),
so a cell is a list of tokens that are laid out left to right and wrapped to the cell width
(a check box never parts from the first character of its label; a blank's value wraps like
text and stays underlined). Ticked boxes carry a "√" glyph, so the PDF's text layer says which
options were chosen.

Thread contract: pure functions over immutable tokens; a ``Pen`` per render call.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from printing.text import NO_LINE_END, NO_LINE_START, Pen, text_width

_UNIT = re.compile(r"[A-Za-z0-9@._\-/:#+*]+|[ \t]+|.", re.DOTALL)

CHECK_EM = 0.82   # check box side, in em
CHECK_GAP_EM = 0.25


@dataclass(frozen=True)
class Text:
    text: str
    bold: bool = False
    # One unit: a label such as "（数据共享校验）" is moved to the next line whole rather than broken
    # mid-word (it is still broken when it is longer than a whole line).
    keep: bool = False


@dataclass(frozen=True)
class Check:
    checked: bool
    label: str = ""


@dataclass(frozen=True)
class Blank:
    """A fill-in blank: the value underlined, at least ``min_em`` wide."""

    value: str
    min_em: float = 4.0


@dataclass(frozen=True)
class Gap:
    em: float = 1.0


@dataclass(frozen=True)
class Break:
    pass


Token = Text | Check | Blank | Gap | Break


@dataclass
class Atom:
    kind: str           # "text", "check", "ul" (underlined text), "ulpad" (underline only), "gap"
    text: str = ""
    width: float = 0.0
    checked: bool = False
    bold: bool = False
    x: float = 0.0


class _Unit:
    """Atoms that must stay on one line."""

    __slots__ = ("atoms", "width", "space", "first", "last")

    def __init__(self, atoms: list[Atom], space: bool = False):
        self.atoms = atoms
        self.width = sum(a.width for a in atoms)
        self.space = space
        texts = [a.text for a in atoms if a.kind in ("text", "ul") and a.text]
        self.first = texts[0][:1] if texts else ""
        self.last = texts[-1][-1:] if texts else ""


def _text_units(text: str, size: float, kind: str, bold: bool) -> list[_Unit]:
    units = []
    for tok in _UNIT.findall(text):
        a = Atom(kind, tok, text_width(tok, size), bold=bold)
        units.append(_Unit([a], space=tok.isspace()))
    return units


def _units(tokens: list[Token], size: float) -> list[_Unit | None]:
    """Tokens to units; None marks a forced line break."""
    out: list[_Unit | None] = []
    for tok in tokens:
        if isinstance(tok, Text) and tok.keep:
            out.append(_Unit([Atom("text", tok.text, text_width(tok.text, size), bold=tok.bold)]))
        elif isinstance(tok, Text):
            out.extend(_text_units(tok.text, size, "text", tok.bold))
        elif isinstance(tok, Check):
            # The box and its whole label stay together (an option is read as one thing);
            # only a label longer than a line is broken, and then the box keeps its first character.
            box = Atom("check", "", size * (CHECK_EM + CHECK_GAP_EM), checked=tok.checked)
            atoms = [box]
            if tok.label:
                atoms.append(Atom("text", tok.label, text_width(tok.label, size)))
            out.append(_Unit(atoms))
        elif isinstance(tok, Blank):
            vw = text_width(tok.value, size)
            pad = max(0.0, tok.min_em * size - vw)
            # One unit: a filled-in value (a name, a number) is not split unless it is longer
            # than a line; the underline padding stays glued to it.
            atoms = [Atom("ul", tok.value, vw)] if tok.value else []
            if pad:
                atoms = [Atom("ulpad", width=pad / 2)] + atoms + [Atom("ulpad", width=pad / 2)]
            out.append(_Unit(atoms))
        elif isinstance(tok, Gap):
            out.append(_Unit([Atom("gap", width=tok.em * size)], space=True))
        elif isinstance(tok, Break):
            out.append(None)
    return out


def _explode(unit: _Unit, size: float) -> list[_Unit]:
    pieces: list[_Unit] = []
    pending: list[Atom] = []
    for a in unit.atoms:
        if a.kind in ("text", "ul") and a.text:
            for ch in a.text:
                pieces.append(_Unit(pending + [Atom(a.kind, ch, text_width(ch, size), bold=a.bold)]))
                pending = []
        else:
            pending.append(a)
    if pending:
        pieces.append(_Unit(pending))
    return pieces


def layout(tokens: list[Token], size: float, width: float) -> list[list[Atom]]:
    """Lay tokens out in lines at most ``width`` wide; atoms get their x offset."""
    lines: list[list[_Unit]] = []
    line: list[_Unit] = []
    used = 0.0

    def flush():
        nonlocal line, used
        while line and line[-1].space:
            line.pop()
        lines.append(line)
        line, used = [], 0.0

    for unit in _units(tokens, size):
        if unit is None:
            flush()
            continue
        if used + unit.width <= width + 1e-6:
            if line or not unit.space:
                line.append(unit)
                used += unit.width
            continue
        if unit.space:
            flush()
            continue
        if unit.width > width:
            # Longer than a whole line: break it anywhere (a check box keeps its first character).
            for piece in _explode(unit, size):
                if used + piece.width > width + 1e-6 and line:
                    flush()
                line.append(piece)
                used += piece.width
            continue
        carry: list[_Unit] = []
        if unit.first in NO_LINE_START and len(line) > 1 and line[-1].width + unit.width <= width:
            carry.append(line.pop())
        while len(line) > 1 and line[-1].last in NO_LINE_END and line[-1].width + unit.width < width:
            carry.insert(0, line.pop())
        if line:
            flush()
        line = carry + [unit]
        used = sum(u.width for u in line)
    flush()
    out: list[list[Atom]] = []
    for ln in lines:
        x = 0.0
        atoms: list[Atom] = []
        for u in ln:
            for a in u.atoms:
                prev = atoms[-1] if atoms else None
                if prev is not None and a.kind in ("text", "ul") and prev.kind == a.kind and prev.bold == a.bold:
                    # Neighbouring characters become one run: one text operation per run, not per glyph.
                    prev.text += a.text
                    prev.width += a.width
                else:
                    atoms.append(Atom(a.kind, a.text, a.width, a.checked, a.bold, x))
                x += a.width
        out.append(atoms)
    return out


def line_width(atoms: list[Atom]) -> float:
    return atoms[-1].x + atoms[-1].width if atoms else 0.0


def draw(pen: Pen, lines: list[list[Atom]], x: float, top: float, size: float, leading: float,
         *, width: float | None = None, align: str = "left") -> float:
    """Draw laid-out lines from ``top`` down; returns the height used."""
    c = pen.canvas
    y = top - (leading - size) / 2 - size * 0.88
    for atoms in lines:
        lw = line_width(atoms)
        x0 = x
        if width is not None and align == "center":
            x0 = x + (width - lw) / 2
        elif width is not None and align == "right":
            x0 = x + width - lw
        for a in atoms:
            ax = x0 + a.x
            if a.kind == "text":
                pen.draw(ax, y, a.text, size, bold=a.bold)
            elif a.kind == "ul":
                pen.draw(ax, y, a.text, size)
                _underline(c, ax, y, a.width, size)
            elif a.kind == "ulpad":
                _underline(c, ax, y, a.width, size)
            elif a.kind == "check":
                draw_check(pen, ax, y, size, a.checked)
        y -= leading
    return leading * len(lines)


def _underline(c, x: float, y: float, w: float, size: float) -> None:
    c.saveState()
    c.setLineWidth(0.5)
    c.line(x, y - size * 0.18, x + w, y - size * 0.18)
    c.restoreState()


def draw_check(pen: Pen, x: float, baseline: float, size: float, checked: bool) -> None:
    """A check box sitting on the baseline; ticked boxes get a "√" glyph (searchable text)."""
    c = pen.canvas
    side = size * CHECK_EM
    bottom = baseline - size * 0.1
    c.saveState()
    c.setLineWidth(0.7)
    c.rect(x, bottom, side, side, stroke=1, fill=0)
    c.restoreState()
    if checked:
        pen.draw(x + side / 2, bottom + side * 0.16, "√", side * 0.95, align="center", bold=True)


def height(lines: list[list[Atom]], leading: float) -> float:
    return leading * len(lines)
