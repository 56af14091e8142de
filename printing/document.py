"""Flowing documents (letters, the receipt, the daily report): headings, paragraphs and ruled
tables that continue on the next page with their header row repeated.

Layout and drawing are separate passes: the writer first places everything on pages as
drawing operations, so when it draws it knows the page count and every page can say
"第 x 页 共 y 页".

Thread contract: a ``DocWriter`` belongs to one render call.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

from printing import page as pg
from printing.text import Pen, text_width, wrap_text

Op = Callable[[Pen], None]

CELL_PAD_X = 3.5
CELL_PAD_Y = 3.0


@dataclass
class Column:
    title: str
    width: float
    align: str = "left"   # left / center / right


@dataclass
class DocWriter:
    """Places content top-down on A4 pages between the margins."""

    top: float = pg.PAGE_H - pg.MARGIN_TOP
    bottom: float = pg.MARGIN_BOTTOM + 8
    left: float = pg.MARGIN_X
    width: float = pg.CONTENT_W
    # Called at the top of every page after the first (e.g. a running title); returns height used.
    continuation_header: Callable[["DocWriter"], None] | None = None
    pages: list[list[Op]] = field(default_factory=list)
    y: float = 0.0

    def __post_init__(self):
        self.new_page(first=True)

    # ---- pages ------------------------------------------------------------
    def new_page(self, first: bool = False) -> None:
        self.pages.append([])
        self.y = self.top
        if not first and self.continuation_header is not None:
            self.continuation_header(self)

    def room(self) -> float:
        return self.y - self.bottom

    def ensure(self, height: float) -> None:
        """Start a new page unless ``height`` fits below the cursor."""
        if height > self.room() and self.y < self.top:
            self.new_page()

    def op(self, fn: Op) -> None:
        self.pages[-1].append(fn)

    def space(self, h: float) -> None:
        self.y -= h

    def block(self, height: float, painter: Callable[[Pen, float, float], None]) -> None:
        """A fixed-height block drawn by ``painter(pen, left, top)``, kept on one page."""
        self.ensure(height)
        x, top = self.left, self.y
        self.op(lambda pen: painter(pen, x, top))
        self.y -= height

    # ---- text -------------------------------------------------------------
    def heading(self, text: str, size: float = 16, align: str = "center", space_after: float = 8,
                bold: bool = True, keep_next: float = 0.0) -> None:
        """A one-line heading; ``keep_next``: height of what follows that must share its page."""
        h = size * 1.3
        self.ensure(h + size * 2 + keep_next)  # never leave a heading alone at the foot of a page
        y = self.y - size
        x = {"center": self.left + self.width / 2, "left": self.left, "right": self.left + self.width}[align]
        self.op(lambda pen: pen.draw(x, y, text, size, align=align, bold=bold))
        self.y -= h + space_after

    def paragraph(self, text: str, size: float = 11, leading: float | None = None, indent_em: float = 0,
                  space_after: float = 4, align: str = "left", x_offset: float = 0.0,
                  width: float | None = None, bold: bool = False, keep_together: bool = False) -> None:
        """Wrapped text; ``indent_em`` indents the first line (Chinese paragraphs use 2).
        ``keep_together`` moves a short paragraph to the next page rather than split it."""
        leading = leading or size * 1.6
        width = (width or self.width) - x_offset
        prefix = "\u3000" * int(indent_em)
        lines = wrap_text(prefix + text, size, width)
        if keep_together and len(lines) * leading <= (self.top - self.bottom) / 3:
            self.ensure(len(lines) * leading)
        for ln in lines:
            self.ensure(leading)
            y = self.y - size * 1.05
            x = self.left + x_offset
            if align == "center":
                x += width / 2
            elif align == "right":
                x += width
            self.op(lambda pen, x=x, y=y, ln=ln: pen.draw(x, y, ln, size, align=align, bold=bold))
            self.y -= leading
        self.y -= space_after

    def paragraph_height(self, text: str, size: float = 11, leading: float | None = None, indent_em: float = 0) -> float:
        """Height ``paragraph`` would take for ``text`` (without ``space_after``), e.g. for ``keep_next``."""
        leading = leading or size * 1.6
        return len(wrap_text("\u3000" * int(indent_em) + text, size, self.width)) * leading

    # ---- tables -------------------------------------------------------------
    def table_height(self, columns: Sequence[Column], rows: Sequence[Sequence[str]], *, size: float = 9.5,
                     leading: float | None = None, header: bool = True, min_row: float = 0.0) -> float:
        """Height the table would take if it were not split."""
        leading = leading or size * 1.35
        scale = self.width / sum(c.width for c in columns)
        total = 0.0
        for cells in ([[c.title for c in columns]] if header else []) + [list(r) for r in rows]:
            lines = max(len(wrap_text(str(t), size, c.width * scale - 2 * CELL_PAD_X)) for t, c in zip(cells, columns))
            total += max(lines * leading + 2 * CELL_PAD_Y, min_row)
        return total

    def table(self, columns: Sequence[Column], rows: Sequence[Sequence[str]], *, size: float = 9.5,
              leading: float | None = None, header: bool = True, header_fill=(0.92, 0.92, 0.92),
              min_row: float = 0.0, space_after: float = 8, keep_with: float = 0.0) -> None:
        """A ruled table; a row never splits, and the header row repeats on each new page.

        A table shorter than a third of a page starts on a new page rather than split;
        ``keep_with`` is the height of what must stay on the same page before it (its heading).
        """
        leading = leading or size * 1.35
        widths = [c.width for c in columns]
        scale = self.width / sum(widths)
        widths = [w * scale for w in widths]

        def measure(cells: Sequence[str], sz: float) -> tuple[list[list[str]], float]:
            wrapped = [wrap_text(str(t), sz, w - 2 * CELL_PAD_X) for t, w in zip(cells, widths)]
            h = max(len(w) for w in wrapped) * leading + 2 * CELL_PAD_Y
            return wrapped, max(h, min_row)

        head = measure([c.title for c in columns], size) if header else None

        def emit(wrapped: list[list[str]], h: float, fill=None) -> None:
            x0, top = self.left, self.y
            aligns = [c.align for c in columns]

            def draw(pen: Pen) -> None:
                c = pen.canvas
                c.saveState()
                c.setLineWidth(0.5)
                if fill is not None:
                    c.setFillColorRGB(*fill)
                    c.rect(x0, top - h, sum(widths), h, stroke=0, fill=1)
                    c.setFillColorRGB(0, 0, 0)
                # All the row's cell frames as one path (one operator string instead of a
                # canvas.rect call per cell: tables of a thousand rows draw ten thousand cells).
                frames = []
                x = x0
                for w in widths:
                    frames.append(f"{x:.2f} {top - h:.2f} {w:.2f} {h:.2f} re")
                    x += w
                c._code.append(" ".join(frames) + " S")
                x = x0
                for lines, w, al in zip(wrapped, widths, aligns):
                    used = len(lines) * leading
                    y = top - (h - used) / 2 - (leading - size) / 2 - size * 0.88
                    for ln in lines:
                        if al == "center":
                            pen.draw(x + w / 2, y, ln, size, align="center")
                        elif al == "right":
                            pen.draw(x + w - CELL_PAD_X, y, ln, size, align="right")
                        else:
                            pen.draw(x + CELL_PAD_X, y, ln, size)
                        y -= leading
                    x += w
                c.restoreState()

            self.op(draw)
            self.y -= h

        def emit_header() -> None:
            if head is not None:
                emit(head[0], head[1], header_fill)

        measured = [measure(row, size) for row in rows]
        head_h = head[1] if head else 0.0
        whole = head_h + sum(h for _, h in measured)
        if whole <= (self.top - self.bottom) / 3:
            self.ensure(whole)
        else:
            self.ensure(head_h + (measured[0][1] if measured else 0.0))
        emit_header()
        for wrapped, h in measured:
            if h > self.room():
                self.new_page()
                emit_header()
            emit(wrapped, h)
        self.y -= space_after

    def key_values(self, pairs: Sequence[tuple[str, str]], *, label_w: float = 96.0, size: float = 10.5,
                   columns: int = 1, space_after: float = 8) -> None:
        """Label/value pairs in a ruled grid, ``columns`` pairs per row."""
        cols: list[Column] = []
        value_w = (self.width - columns * label_w) / columns
        for _ in range(columns):
            cols += [Column("", label_w, "center"), Column("", value_w)]
        rows = []
        for i in range(0, len(pairs), columns):
            chunk = list(pairs[i:i + columns])
            chunk += [("", "")] * (columns - len(chunk))
            rows.append([t for pair in chunk for t in pair])
        self.table(cols, rows, size=size, header=False, min_row=size * 2.1, space_after=space_after)

    # ---- output -------------------------------------------------------------
    def render(self, pen: Pen, footer: Callable[[Pen, int, int], None] | None = None,
               page_decor: Callable[[Pen, int, int], None] | None = None) -> int:
        """Draw every page on ``pen``'s canvas; returns the page count."""
        total = len(self.pages)
        for i, ops in enumerate(self.pages, start=1):
            if page_decor is not None:
                page_decor(pen, i, total)
            for fn in ops:
                fn(pen)
            if footer is not None:
                footer(pen, i, total)
            pen.canvas.showPage()
        return total


def fits(text: str, size: float, width: float) -> bool:
    return text_width(text, size) <= width
