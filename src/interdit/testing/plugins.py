"""A plugin installed for one test: a distribution written into a folder (its modules, and a dist-info with the
`interdit.plugins` entry points), and Python run in a fresh process with that folder on its path, as after
`pip install`. A fresh process is how a person meets a plugin: the registries are read for the first time.

    site = install_plugin(tmp_path, "acme-reports", {"acme_reports/__init__.py": "", "acme_reports/pdf.py": CODE},
                          {"reporting.acme": "acme_reports.pdf"})
    result = run_python(site, "from interdit.reporting import formats; print(formats.names())")

`code_files(markdown)` reads the files a page's code blocks declare (a first line `# file: PATH`), so a test can
walk a guide exactly as written.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import interdit


def install_plugin(folder: Path, name: str, files: Mapping[str, str], entry_points: Mapping[str, str],
                   *, version: str = "1.0") -> Path:
    """Write distribution `name` into `folder` (the site): `files` by relative path, and its entry points in the
    `interdit.plugins` group (entry-point name -> module). Returns the site, to put on the path."""
    for relative, text in files.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    info = folder / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n", encoding="utf-8")
    lines = "".join(f"{key} = {value}\n" for key, value in entry_points.items())
    (info / "entry_points.txt").write_text(f"[interdit.plugins]\n{lines}", encoding="utf-8")
    return folder


def run_python(site: Path, code: str, *, cwd: Path | None = None, env: Mapping[str, str] | None = None,
               timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run `code` in a fresh interpreter that sees `site` and this interdit (in `cwd`, with `env` added to the
    environment); output captured as text."""
    source = str(Path(interdit.__file__).parent.parent)
    environ = {**os.environ, **(env or {}), "PYTHONPATH": os.pathsep.join((str(site), source))}
    return subprocess.run([sys.executable, "-c", code], env=environ, cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, check=False)


_BLOCK = re.compile(r"^```[a-z]*\n# file: (?P<path>\S+)\n(?P<code>.*?)^```$", re.M | re.S)


def code_files(markdown: Path) -> dict[str, str]:
    """The files declared by the code blocks of `markdown` whose first line is `# file: PATH`, by path."""
    return {m["path"]: m["code"] for m in _BLOCK.finditer(markdown.read_text("utf-8"))}
