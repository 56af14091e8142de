"""Problems found in an application: values, not exceptions (style guide: errors the user
can cause are values with a message)."""
from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Problem:
    field: str        # dotted path into the case JSON, e.g. "hukou.police_station"; "" for the whole case
    code: str         # stable machine code, e.g. "required", "exclusive", "id_checksum"
    message: str      # Chinese, tells the clerk what to do
    severity: str = "error"  # "error" blocks finalizing; "warning" is shown but does not block

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def blocking(self) -> bool:
        return self.severity == "error"
