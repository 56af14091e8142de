"""Write docs/openapi.yaml from the contract's models and the reference platform's routes.

    .venv/bin/python tools/write_openapi.py [--check]

``--check`` exits 1 when the committed document says something else than the code generates
(``tests/sync/test_contract.py`` makes the same comparison in ``make test``).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from refplatform.openapi_doc import contract_document  # noqa: E402

DOC = ROOT / "docs" / "openapi.yaml"
HEAD = ("# Generated from refplatform/app.py and counter_app/sync/models.py by tools/write_openapi.py.\n"
        "# Do not edit by hand: change the models or the routes, then run the tool again.\n")



def _block_text(dumper: yaml.SafeDumper, text: str) -> yaml.Node:
    """Multi-line prose as a literal block (readable in review), everything else as usual."""
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style="|" if "\n" in text else None)


yaml.SafeDumper.add_representer(str, _block_text)

if __name__ == "__main__":
    doc = json.loads(json.dumps(contract_document()))  # plain JSON types, as a YAML reader gives them back
    if "--check" in sys.argv[1:]:
        same = yaml.safe_load(DOC.read_text(encoding="utf-8")) == doc
        print("docs/openapi.yaml is current." if same else "docs/openapi.yaml is out of date: run tools/write_openapi.py")
        sys.exit(0 if same else 1)
    DOC.write_text(HEAD + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=110), encoding="utf-8")
    print(f"wrote {DOC.relative_to(ROOT)}")
