"""Ruled tables with merged cells, as on the source form, drawn straight on the canvas.

A table is a tree: :class:`Row` (cells side by side), :class:`Stack` (blocks one under the
other) and :class:`Beside` (a cell spanning the whole height of the block to its right, like
"户籍事项" or the photo). Each node is measured at its width (text wraps, so long addresses
make their row taller, never overflow), then placed: extra height goes to the rows of a
stack, so merged cells line up.

Thread contract: nodes are built per render call; measuring caches per node, so a node
tree must not be shared between threads.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from printing import flow
from printing.text import Pen

PAD_X = 4.0
PAD_Y = 3.5


@dataclass
class Style:
    size: float = 10.0
    leading: float = 14.0
    min_row: float = 24.0
    line_width: float = 0.6


@dataclass(eq=False)
class Cell:
    """One ruled cell: inline tokens (see :mod:`printing.flow`), or a custom painter."""

    tokens: list = field(default_factory=list)
    align: str = "left"
    width: float | None = None      # in a Row: fixed width; None shares what is left
    vertical: bool = False          # one character per line (group headers "联办申请")
    painter: Callable | None = None  # painter(pen, x, top, w, h) for images
    natural: float = 0.0            # fixed content height for painter cells
    size: float | None = None       # font size override
    _lines: tuple | None = None

    def _layout(self, width: float, style: Style):
        size = self.size or style.size
        if self._lines is None or self._lines[0] != (width, size):
            inner = max(1.0, width - 2 * PAD_X)
            if self.vertical:
                text = "".join(t.text for t in self.tokens if isinstance(t, flow.Text))
                lines = [[flow.Atom("text", ch, size)] for ch in text if not ch.isspace()]
            else:
                lines = flow.layout(self.tokens, size, inner)
            self._lines = ((width, size), lines)
        return self._lines[1]

    def measure(self, width: float, style: Style) -> float:
        if self.painter is not None:
            return max(style.min_row, self.natural + 2 * PAD_Y)
        lines = self._layout(width, style)
        leading = style.leading * (self.size or style.size) / style.size
        return max(style.min_row, len(lines) * leading + 2 * PAD_Y)

    def place(self, pen: Pen, x: float, top: float, width: float, height: float, style: Style) -> None:
        c = pen.canvas
        c.setLineWidth(style.line_width)
        # The cell frame as a raw path operator: same output as canvas.rect, a fraction of its cost.
        c._code.append(f"{x:.2f} {top - height:.2f} {width:.2f} {height:.2f} re S")
        if self.painter is not None:
            self.painter(pen, x, top, width, height)
            return
        size = self.size or style.size
        leading = style.leading * size / style.size
        lines = self._layout(width, style)
        used = len(lines) * leading
        y = top - (height - used) / 2
        if self.vertical:
            flow.draw(pen, lines, x, y, size, leading, width=width, align="center")
        else:
            flow.draw(pen, lines, x + PAD_X, y, size, leading, width=width - 2 * PAD_X, align=self.align)


@dataclass(eq=False)
class Row:
    cells: list[Cell]

    def _widths(self, width: float) -> list[float]:
        fixed = sum(c.width for c in self.cells if c.width is not None)
        free = [c for c in self.cells if c.width is None]
        share = (width - fixed) / len(free) if free else 0.0
        return [c.width if c.width is not None else share for c in self.cells]

    def measure(self, width: float, style: Style) -> float:
        return max(c.measure(w, style) for c, w in zip(self.cells, self._widths(width)))

    def place(self, pen: Pen, x: float, top: float, width: float, height: float, style: Style) -> None:
        for c, w in zip(self.cells, self._widths(width)):
            c.place(pen, x, top, w, height, style)
            x += w


@dataclass(eq=False)
class Stack:
    children: list

    def measure(self, width: float, style: Style) -> float:
        return sum(ch.measure(width, style) for ch in self.children)

    def place(self, pen: Pen, x: float, top: float, width: float, height: float, style: Style) -> None:
        naturals = [ch.measure(width, style) for ch in self.children]
        extra = max(0.0, height - sum(naturals)) / len(self.children)
        for ch, h in zip(self.children, naturals):
            ch.place(pen, x, top, width, h + extra, style)
            top -= h + extra


@dataclass(eq=False)
class Beside:
    """``left`` spans the full height of ``right`` (or ``right`` spans ``left`` if taller)."""

    left: Cell
    right: object
    left_on_right: bool = False  # put the spanning cell on the right side (the photo)

    def measure(self, width: float, style: Style) -> float:
        lw = self.left.width or 0.0
        return max(self.left.measure(lw, style), self.right.measure(width - lw, style))

    def place(self, pen: Pen, x: float, top: float, width: float, height: float, style: Style) -> None:
        lw = self.left.width or 0.0
        if self.left_on_right:
            self.right.place(pen, x, top, width - lw, height, style)
            self.left.place(pen, x + width - lw, top, lw, height, style)
        else:
            self.left.place(pen, x, top, lw, height, style)
            self.right.place(pen, x + lw, top, width - lw, height, style)


def draw_table(pen: Pen, node, x: float, top: float, width: float, style: Style) -> float:
    """Measure and draw a table; returns its height. The outer frame is drawn heavier."""
    h = node.measure(width, style)
    node.place(pen, x, top, width, h, style)
    c = pen.canvas
    c.saveState()
    c.setLineWidth(style.line_width * 2)
    c.rect(x, top - h, width, h, stroke=1, fill=0)
    c.restoreState()
    return h
