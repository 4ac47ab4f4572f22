"""The network tests keep the compiled lists they make (`network/prefilter.py`) in a folder of their own, deleted
at the end, never in the user's cache."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="interdit-tests-cache-")
atexit.register(shutil.rmtree, os.environ["XDG_CACHE_HOME"], True)
