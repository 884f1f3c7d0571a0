"""The browser tests run in every CI run: .ci/run installs Chromium when it is missing,
under the name the tests look for."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_ci_installs_chromium_when_missing_before_the_suite_runs() -> None:
    script = (ROOT / ".ci" / "run").read_text()
    check = script.index("command -v chromium")
    install = re.search(r"apt-get update\b.*&&.*apt-get install -y\b.*\bchromium\b", script)
    assert install is not None
    assert check < install.start() < script.index("\nmake test")
