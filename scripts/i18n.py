"""The translation catalogues (docs/i18n.md).

    python scripts/i18n.py compile   rebuild each locale's .mo from its .po (commit both)
    python scripts/i18n.py check     fail when a .mo is out of date, a message is missing from a locale,
                                     or a message's placeholders differ between locales
"""

from __future__ import annotations

import sys

from interdit.i18n import LOCALES
from interdit.i18n.build import compiled, mo_path, problems


def main(argv: list[str]) -> int:
    if argv not in (["compile"], ["check"]):
        print(__doc__, file=sys.stderr)
        return 2
    stale = []
    for locale in LOCALES.values():
        data = compiled(locale)
        path = mo_path(locale)
        if argv == ["compile"]:
            path.write_bytes(data)
            print(f"wrote {path}")
        elif not path.exists() or path.read_bytes() != data:
            stale.append(f"{path}: out of date with its .po: run python scripts/i18n.py compile")
    found = stale + problems()
    for line in found:
        print(line, file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
