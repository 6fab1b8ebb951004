"""axe-core in the browser tests: every default rule (WCAG 2 A/AA and axe's best practices)
run on the whole page, the widget's open shadow root included.

axe-core comes from npm, pinned in tests/browser/package.json and installed by
scripts/install_axe.sh (`make test-deps`). The pages' Content-Security-Policy refuses an
injected <script>, so its text is evaluated through Playwright, which the policy does not
govern.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parents[2]
AXE_JS = ROOT / "tests" / "browser" / "node_modules" / "axe-core" / "axe.min.js"

_RUN_JS = """
async () => {
  const results = await axe.run(document, { resultTypes: ['violations'] });
  return results.violations.map(v => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.map(n => ({ target: n.target.flat().join(' >>> '), summary: n.failureSummary })),
  }));
}
"""


def axe_source() -> str:
    if not AXE_JS.is_file():
        subprocess.run([str(ROOT / "scripts" / "install_axe.sh")], check=True, timeout=300)
    return AXE_JS.read_text(encoding="utf-8")


def violations(page: Page) -> list[dict[str, Any]]:
    """axe's violations on the page as it is now (an empty list when there are none)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source())
    return page.evaluate(_RUN_JS)  # type: ignore[no-any-return]


def describe(found: list[dict[str, Any]]) -> str:
    lines = []
    for v in found:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']}")
        for node in v["nodes"]:
            summary = " ".join((node["summary"] or "").split())
            lines.append(f"    {node['target']}: {summary}")
    return "\n".join(lines)


def assert_no_violations(page: Page, where: str) -> None:
    found = violations(page)
    assert found == [], f"axe found {len(found)} kinds of violation on {where}:\n{describe(found)}"
