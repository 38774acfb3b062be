"""Rewrite the generated tables of docs/model.md (events and parameters) from the code.

Usage: python docs/update_tables.py
"""

from __future__ import annotations

import re
from pathlib import Path

from geosim.parameters import table_markdown
from geosim.policies import events_markdown

DOC = Path(__file__).parent / "model.md"


def main() -> None:
    """Replace the text between each pair of markers."""
    text = DOC.read_text()
    for name, table in (("events", events_markdown()), ("parameters", table_markdown())):
        text = re.sub(rf"<!-- {name}:start -->.*?<!-- {name}:end -->",
                      lambda _, t=table, n=name: f"<!-- {n}:start -->\n{t}\n<!-- {n}:end -->",
                      text, flags=re.S)
    DOC.write_text(text)
    print(f"updated {DOC}")


if __name__ == "__main__":
    main()
