"""docs/guides/add-a-log-format.md, followed step by step: the toy format's module is taken from the guide's
code block, installed in a temporary package through the `interdit.plugins` entry point, and scanned.

Everything runs in a child process, so the toy format never joins this process's registry (other tests list
the registered formats)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "guides" / "add-a-log-format.md"

# what the child process does with the installed plugin: every method on hostile toy logs, and a clean one
CHILD = r'''
import json, random, sys
from interdit.network import opening, readers, scan
from interdit.network.match import DomainMatcher
from interdit.network.prefilter import available

out = {"formats": readers.names(), "native": available()}
cls = readers.get("toy-dns")
parsed = [0]
real_parse = cls.parse
def counting(self, line):
    parsed[0] += 1
    return real_parse(self, line)
cls.parse = counting

matcher = DomainMatcher({"tiktok.com": "tiktok", "tiktokv.com": "tiktok", "deepseek.com": "deepseek"})
NAMES = ["www.tiktok.com", "TikTok.COM.", "a.b.tiktokv.com", "api.deepseek.com", "nottiktok.com",
         "tiktok.com.evil.example", "www.example.org", "-", "(empty)", ".", "a..tiktok.com", ".tiktok.com",
         "tiktök.com", "(3)www(6)tiktok(3)com(0)", "x" * 64 + ".tiktok.com", "tik tok.com", "(bad"]
ANSWERS = ["-", "(empty)", "cdn.tiktokv.com.edgesuite.net,1.2.3.4", "1.2.3.4,tiktok.com.", "notdeepseek.com",
           "(3)www(6)tiktok(3)com(0)"]
CLIENTS = ["10.0.0.7", "10.0.0.8", "fe80::1%eth0", "not-an-address"]
STAMPS = ["1700000000.25", "1700086400.5", "abc"]

def facts(r):
    assert r.read == r.matched + r.unmatched + r.rejected
    return {"format": r.format, "read": r.read, "matched": r.matched, "unmatched": r.unmatched,
            "rejected": r.rejected, "weak": r.weak, "rejections": [str(x) for x in r.rejections],
            "sightings": [repr(s) for s in r.aggregate.sightings()]}

def hostile(rng):
    lines = ["#toy-dns", "#columns\tt\tsrc\tname\tcnames"]
    for _ in range(rng.randrange(0, 400)):
        cols = [rng.choice(STAMPS), rng.choice(CLIENTS), rng.choice(NAMES), rng.choice(ANSWERS)]
        r = rng.random()
        if r < 0.05:
            cols = cols[:rng.randrange(0, 4)]
        elif r < 0.08:
            cols.append("extra")
        elif r < 0.10:
            cols = ["# a comment"]
        lines.append("\t".join(cols))
    return ("\n".join(lines) + rng.choice(["", "\n"])).encode("utf-8")

path = sys.argv[1]
scan.SPLIT_MIN = 1
opening.BLOCK = 512
agree = 0
for seed in range(30):
    rng = random.Random(seed)
    with open(path, "wb") as fh:
        fh.write(hostile(rng))
    jobs = 2 if seed % 3 == 0 else 1
    full = facts(scan.scan_file(path, matcher, jobs=jobs, method="full"))
    for method in ("python", "auto"):
        got = facts(scan.scan_file(path, matcher, jobs=jobs, method=method))
        if got != full:
            print(json.dumps({"seed": seed, "method": method, "full": full, "got": got}))
            sys.exit(1)
    agree += full["format"] == "toy-dns"
out["agree"] = agree

opening.BLOCK = 4 * 1024 * 1024
rng = random.Random(1)
with open(path, "w") as fh:
    fh.write("#toy-dns\n#columns\tt\tsrc\tname\tcnames\n")
    for i in range(5000):
        name = "www.tiktok.com" if i % 100 == 0 else f"host{i}.example.org"
        fh.write(f"1700000000.{i % 100:02d}\t10.0.{i % 7}.{i % 200 + 1}\t{name}\t-\n")
for method in ("full", "auto"):
    parsed[0] = 0
    r = scan.scan_file(path, matcher, method=method)
    out[method] = {"read": r.read, "matched": r.matched, "parsed": parsed[0],
                   "families": sorted({s.family for s in r.aggregate.sightings()})}
print(json.dumps(out))
'''


def _module_from_guide() -> tuple[str, str]:
    """The guide's Python block: (its path in the package, from its first-line comment; its code)."""
    blocks = re.findall(r"```python\n(.*?)```", GUIDE.read_text("utf-8"), re.S)
    assert len(blocks) == 1, "the guide shows the reader module in one python block"
    first, _, _ = blocks[0].partition("\n")
    assert first.startswith("# ")
    return first[2:].strip(), blocks[0]


def _install(tmp_path: Path) -> Path:
    """The toy package as a plugin: its module and a dist-info whose entry point names it."""
    site = tmp_path / "site"
    where, code = _module_from_guide()
    module = site / where
    module.parent.mkdir(parents=True)
    (module.parent / "__init__.py").write_text("")
    module.write_text(code)
    toml = re.search(r'```toml\n.*?\[project\.entry-points\."interdit\.plugins"\]\n(.*?)```',
                     GUIDE.read_text("utf-8"), re.S)
    assert toml is not None, "the guide shows the entry point"
    dist = site / "toyfmt-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: toyfmt\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[interdit.plugins]\n" + toml.group(1).replace('"', ""))
    return site


def _child(site: Path, *args: str, script: str | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(site), str(ROOT / "src"), env.get("PYTHONPATH", "")])
    cmd = [sys.executable, "-c", script, *args] if script else [sys.executable, "-m", "interdit.cli.main", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600, check=False)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _install(tmp_path_factory.mktemp("plugin"))


def test_the_toy_format_installs_through_the_entry_point_and_keeps_the_fast_path_promise(
        site: Path, tmp_path: Path) -> None:
    proc = _child(site, str(tmp_path / "toy.log"), script=CHILD)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert "toy-dns" in out["formats"] and "zeek-dns" in out["formats"]
    assert out["agree"] == 30  # detected from the content, and every method gave the full reader's result
    assert out["full"]["read"] == out["auto"]["read"] == 5002
    assert out["full"]["matched"] == out["auto"]["matched"] == 50
    assert out["auto"]["families"] == ["tiktok"]
    assert out["full"]["parsed"] == 5002
    # the declared fast path decodes the headers and the lines that may match, not the other 4,950
    assert out["auto"]["parsed"] <= 100


def test_the_command_lists_and_scans_the_toy_format(site: Path, tmp_path: Path) -> None:
    log = tmp_path / "toy.log"
    log.write_text("#toy-dns\n#columns\tt\tsrc\tname\tcnames\n"
                   "1700000000.25\t10.0.0.7\twww.tiktok.com\ttiktokv.com.edgesuite.net\n"
                   "1700000001.50\t10.0.0.8\twww.example.org\t-\n")
    domains = tmp_path / "domains.txt"
    domains.write_text("tiktok.com tiktok\n")
    listed = _child(site, "logs", "formats", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    assert "toy-dns" in [f["name"] for f in json.loads(listed.stdout)["formats"]]
    scanned = _child(site, "logs", "scan", "--no-store", "--format", "json", "--domains", str(domains), str(log))
    assert scanned.returncode == 0, scanned.stdout + scanned.stderr
    doc, _ = json.JSONDecoder().raw_decode(scanned.stdout[scanned.stdout.index("{"):])
    assert (doc["read"], doc["matched"], doc["unmatched"], doc["rejected"]) == (4, 1, 3, 0)
    assert [(s["client"], s["family"]) for s in doc["sightings"]] == [("10.0.0.7", "tiktok")]
