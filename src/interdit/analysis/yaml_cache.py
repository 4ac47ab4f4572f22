"""YAML read once per content: the score rules and the ByteDance SDK rules are YAML, and parsing them with
ruamel's pure-Python loader (and importing it) costs every `interdit analyze` about 0.04 s. The parsed value is
kept as JSON in the user's cache folder, named by the SHA-256 of the text, and only when JSON gives back exactly
the same value; a missing, unreadable or damaged copy means the text is parsed again.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any


def cache_dir() -> Path:
    """$XDG_CACHE_HOME/interdit/yaml (~/.cache/interdit/yaml)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "interdit" / "yaml"


def load_yaml(text: str) -> Any:
    """`text` parsed by ruamel's safe loader. Raises ValueError (with the parser's message) when it is not YAML."""
    path = cache_dir() / f"{hashlib.sha256(text.encode('utf-8')).hexdigest()}.json"
    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        pass
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        data = YAML(typ="safe").load(text)
    except YAMLError as exc:
        raise ValueError(str(exc)) from exc
    try:
        raw = json.dumps(data, ensure_ascii=False)
        if json.loads(raw) == data and _same_types(json.loads(raw), data):
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp")
            tmp.write_text(raw, "utf-8")
            tmp.replace(path)
    except (TypeError, ValueError, OSError):  # not JSON-shaped (dates...) or no cache folder: parsed each time
        pass
    return data


def _same_types(a: Any, b: Any) -> bool:
    """Equal values of the same types all the way down (1 == 1.0 == True in Python, not here)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same_types(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same_types(x, y) for x, y in zip(a, b, strict=True))
    return True
