"""/widget.js is one classic script bundled from ES modules (handoff/static/widget/ and
the shared client code in handoff/static/client/) by esbuild, and committed so that
running Baton needs no Node. Rebuilding it from the sources must give the same bytes:
a change to the sources without `make widget` fails here."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "handoff" / "static" / "widget.js"


def test_the_committed_widget_bundle_is_built_from_its_sources(tmp_path: Path) -> None:
    rebuilt = tmp_path / "widget.js"
    subprocess.run([str(ROOT / "scripts" / "build_widget.sh"), str(rebuilt)], cwd=ROOT,
                   check=True, timeout=600)
    assert rebuilt.read_bytes() == BUNDLE.read_bytes(), "run `make widget` and commit the bundle"


def test_the_widget_bundle_is_one_classic_script() -> None:
    source = BUNDLE.read_text(encoding="utf-8")
    # An IIFE: no module syntax, which a plain <script src> tag could not run.
    assert source.splitlines()[2] == "(() => {" and source.rstrip().endswith("})();")
    assert not any(line.startswith(("import ", "export ")) for line in source.splitlines())
    assert "document.currentScript" in source
