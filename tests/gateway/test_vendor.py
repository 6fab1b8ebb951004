"""The vendored browser code is the pinned release, byte for byte, served as JavaScript."""

from __future__ import annotations

import hashlib
from pathlib import Path

from aiohttp.test_utils import TestClient

VENDOR = Path(__file__).resolve().parents[2] / "handoff" / "static" / "vendor"
CHART_JS_SHA256 = "48444a82d4edcb5bec0f1965faacdde18d9c17db3063d042abada2f705c9f54a"


def test_chart_js_is_the_recorded_4_5_1_build() -> None:
    build = (VENDOR / "chart.umd.min.js").read_bytes()
    assert hashlib.sha256(build).hexdigest() == CHART_JS_SHA256
    assert (VENDOR / "SHA256SUMS").read_text() == f"{CHART_JS_SHA256}  chart.umd.min.js\n"
    assert build.startswith(b"/*!\n * Chart.js v4.5.1\n")
    assert CHART_JS_SHA256 in (VENDOR / "README.md").read_text()
    assert "MIT License" in (VENDOR / "chart.js-LICENSE.md").read_text()


async def test_the_gateway_serves_chart_js_as_javascript(client: TestClient) -> None:
    response = await client.get("/static/vendor/chart.umd.min.js")
    assert response.status == 200
    assert response.content_type in ("text/javascript", "application/javascript")
    assert await response.read() == (VENDOR / "chart.umd.min.js").read_bytes()
