"""The bundled fonts: Chinese text on any machine, and a visible fallback for rare characters.

A service-center PC may have no CJK font at all, so every document embeds (as a subset) the
font shipped in ``resources/fonts``:

- ``wqy-zenhei.ttc`` (文泉驿正黑, TrueType outlines, GPL-2 with the font-embedding exception):
  the whole of CJK Unified Ideographs and of Extension A (e.g. 䶮), Latin, digits, punctuation.
- ``CounterAppRareHan-ExtB.ttf``: a subset of AR PL UMing (Arphic Public License) holding the
  1,789 Extension B ideographs (e.g. 𠈌) that Zen Hei lacks; used only for those characters.

A character in neither font is never dropped: it is drawn as a box with its code point
(``U+2A700``) so the clerk sees something is there, and every render function reports it.

Thread contract: :func:`register_fonts` is idempotent and guarded by a lock, so any thread may
call it at any time; everything else here only reads immutable tables built once, and is safe
to call from any number of worker threads at once.
"""
from __future__ import annotations

import threading
import unicodedata
from functools import lru_cache
from pathlib import Path

# Names under which the fonts are registered with reportlab (and written into the PDFs).
FONT_NAME = "CounterCJK"
RARE_FONT_NAME = "CounterRareHan"

_MAIN_FILE = "fonts/wqy-zenhei.ttc"
_MAIN_SUBFONT = 0  # "WenQuanYi Zen Hei" (1 is the monospaced face, 2 the bitmap "Sharp" face)
_RARE_FILE = "fonts/CounterAppRareHan-ExtB.ttf"

# Kinds of run returned by split_runs.
MAIN, RARE, BOX = "main", "rare", "box"

_lock = threading.Lock()
_registered = False


def _resource(relative: str) -> Path:
    from counter_app.paths import resource_path

    return resource_path(relative)


def font_path() -> Path:
    """The main bundled font file (a TrueType collection; face 0 is used)."""
    return _resource(_MAIN_FILE)


def rare_font_path() -> Path:
    """The bundled Extension B font used for rare name characters the main font lacks."""
    return _resource(_RARE_FILE)


def qt_font_file() -> Path:
    """The file the UI passes to ``QFontDatabase.addApplicationFont`` (family "WenQuanYi Zen Hei")."""
    return font_path()


def qt_font_files() -> list[Path]:
    """All bundled font files, main first; the UI may register each so rare names show too."""
    return [font_path(), rare_font_path()]


QT_FAMILY = "WenQuanYi Zen Hei"
QT_RARE_FAMILY = "CounterApp RareHan"


def register_fonts() -> None:
    """Register the bundled fonts with reportlab; idempotent and thread-safe.

    Raises :class:`printing.result.PrintingError` (Chinese message) if the font files are missing
    or unreadable, e.g. a damaged installation.
    """
    global _registered
    if _registered:
        return
    with _lock:
        if _registered:
            return
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.ttfonts import TTFont

        from printing.result import PrintingError

        try:
            main = TTFont(FONT_NAME, str(font_path()), subfontIndex=_MAIN_SUBFONT)
            rare = TTFont(RARE_FONT_NAME, str(rare_font_path()))
        except Exception as exc:  # missing file, truncated download, CFF font, ...
            raise PrintingError(
                f"无法加载打印所需的中文字体（{font_path().name}）：{exc}。请重新安装本程序或联系技术人员。"
            ) from exc
        pdfmetrics.registerFont(main)
        pdfmetrics.registerFont(rare)
        _fix_to_unicode_for_supplementary_planes()
        _registered = True


def _to_unicode_cmap(fontname: str, subset: list[int]) -> str:
    """reportlab's ToUnicode CMap, but with UTF-16 surrogate pairs for code points above
    U+FFFF. reportlab writes them as 5 hex digits (``<2020C>``), which readers take as U+2020
    plus garbage, so a rare Extension B name character would print correctly but copy, search
    and extract as the wrong character."""

    def utf16(v: int) -> str:
        if v > 0xFFFF:
            v -= 0x10000
            return "%04X%04X" % (0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF))
        return "%04X" % v

    cmap = [
        "/CIDInit /ProcSet findresource begin", "12 dict begin", "begincmap", "/CIDSystemInfo",
        "<< /Registry (%s)" % fontname, "/Ordering (%s)" % fontname, "/Supplement 0", ">> def",
        "/CMapName /%s def" % fontname, "/CMapType 2 def", "1 begincodespacerange",
        "<00> <%02X>" % (len(subset) - 1), "endcodespacerange", "%d beginbfchar" % len(subset),
    ] + ["<%02X> <%s>" % (i, utf16(v)) for i, v in enumerate(subset)] + [
        "endbfchar", "endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end",
    ]
    return "\n".join(cmap)


def _fix_to_unicode_for_supplementary_planes() -> None:
    from reportlab.pdfbase import ttfonts

    # Looked up by name when a subset is written, so replacing the module function suffices.
    ttfonts.makeToUnicodeCMap = _to_unicode_cmap


@lru_cache(maxsize=None)
def _coverage(font_name: str) -> frozenset[int]:
    register_fonts()
    from reportlab.pdfbase import pdfmetrics

    return frozenset(pdfmetrics.getFont(font_name).face.charToGlyph)


def main_coverage() -> frozenset[int]:
    """Code points the main font can draw."""
    return _coverage(FONT_NAME)


def rare_coverage() -> frozenset[int]:
    return _coverage(RARE_FONT_NAME)


def is_ignorable(ch: str) -> bool:
    """Characters that are not drawn at all: controls and variation selectors (a name typed
    with an ideographic variation sequence keeps its base character, which is drawn)."""
    cp = ord(ch)
    if 0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF or cp == 0x200B:
        return True
    return unicodedata.category(ch) == "Cc"


def font_kind(ch: str) -> str:
    """MAIN, RARE or BOX: which way this character is drawn."""
    cp = ord(ch)
    if cp == 0xA0:
        cp = 0x20  # reportlab maps NBSP to space
    if cp in main_coverage():
        return MAIN
    if cp in rare_coverage():
        return RARE
    return BOX


def missing_glyphs(text: str) -> set[str]:
    """Characters of ``text`` the main font lacks (they fall back: the Extension B font, or a
    code-point box). Controls and variation selectors are not counted; they are not drawn."""
    cov = main_coverage()
    return {ch for ch in set(text) if ord(ch) not in cov and ord(ch) != 0xA0 and not is_ignorable(ch)}


def unrenderable(text: str) -> set[str]:
    """Characters no bundled font has: drawn as a box with the code point."""
    return {ch for ch in missing_glyphs(text) if ord(ch) not in rare_coverage()}


@lru_cache(maxsize=65536)
def _split_runs_cached(text: str) -> tuple[tuple[str, str], ...]:
    return tuple(_split_runs(text))


def split_runs(text: str) -> tuple[tuple[str, str], ...]:
    """Split text into (kind, run) pieces: consecutive characters drawn the same way.
    Ignorable characters are left out; BOX runs hold exactly one character each."""
    if len(text) > 200:
        return tuple(_split_runs(text))
    return _split_runs_cached(text)


def _split_runs(text: str) -> list[tuple[str, str]]:
    runs: list[tuple[str, str]] = []
    cov_main = main_coverage()
    cov_rare = rare_coverage()
    for ch in text:
        cp = ord(ch)
        if cp in cov_main or cp == 0xA0:
            kind = MAIN
        elif is_ignorable(ch):
            continue
        elif cp in cov_rare:
            kind = RARE
        else:
            kind = BOX
        if runs and runs[-1][0] == kind and kind != BOX:
            runs[-1] = (kind, runs[-1][1] + ch)
        else:
            runs.append((kind, ch))
    return runs


def code_point_label(ch: str) -> str:
    """How a character without a glyph is shown: ``U+2A700``."""
    return f"U+{ord(ch):04X}"
