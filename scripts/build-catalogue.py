#!/usr/bin/env python3
"""Check the catalogue source and write the copy interdit loads.

    .venv/bin/python scripts/build-catalogue.py          # validate catalogue.yaml, write catalogue.json
    .venv/bin/python scripts/build-catalogue.py --check  # fail if catalogue.json is not up to date

catalogue.yaml is the file people edit and review; catalogue.json holds the same data and parses much faster.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ruamel.yaml import YAML

from interdit.catalogue.load import DATA_FILE, SOURCE_FILE, data_path, parse_catalogue, validate_against_schema
from interdit.errors import CatalogueError


def compiled(source: Path) -> str:
    data = YAML(typ="safe", pure=True).load(source.read_text("utf-8"))
    validate_against_schema(data, where=str(source))
    parse_catalogue(data, where=str(source))  # references between entries, shared hosts
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only check that catalogue.json is current")
    args = parser.parse_args()
    source, target = data_path(SOURCE_FILE), data_path(DATA_FILE)
    try:
        text = compiled(source)
    except CatalogueError as exc:
        print(exc, file=sys.stderr)
        return 1
    if args.check:
        if not target.exists() or target.read_text("utf-8") != text:
            print(f"{target} is out of date: run scripts/build-catalogue.py", file=sys.stderr)
            return 1
        print(f"{target} is up to date")
        return 0
    target.write_text(text, encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
