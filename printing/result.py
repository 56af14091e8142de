"""What every render function returns, and the one error type printing raises for bad input."""
from __future__ import annotations

from dataclasses import dataclass, field


class PrintingError(Exception):
    """Input the clerk can fix (broken photo, malformed case file, no printer...).

    ``message`` is Chinese and says what to do; the CLI shows it as one line, the UI in a dialog.
    """

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class RenderResult:
    """A rendered document.

    - ``pdf``: the PDF bytes (fonts embedded as subsets; byte-identical for identical input,
      so a re-rendered archived form can be compared by hash).
    - ``fallback_chars``: characters the main font lacks, drawn with the Extension B font or,
      if no bundled font has them, as a code-point box. Show them to the clerk ("生僻字").
    - ``boxed_chars``: the subset of ``fallback_chars`` drawn as a code-point box (no glyph at all).
    - ``pages``: number of pages.
    - ``warnings``: Chinese notes about the input (e.g. a field the case file had in a wrong
      format and that was printed blank); the document is still complete otherwise.
    """

    pdf: bytes
    fallback_chars: set[str] = field(default_factory=set)
    boxed_chars: set[str] = field(default_factory=set)
    pages: int = 1
    warnings: list[str] = field(default_factory=list)

    def write(self, path) -> None:
        from pathlib import Path

        Path(path).write_bytes(self.pdf)
