"""The pages' scripts as the gateway serves them: the console as ES modules from one
entry, every import served as JavaScript (browsers refuse a module of another type) and
no window globals between them; the widget as one classic script any site may load."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urljoin

from aiohttp.test_utils import TestClient

STATIC = Path(__file__).resolve().parents[2] / "handoff" / "static"
IMPORT = re.compile(r"""^import\b[^"']*["']([^"']+)["'];$""", re.MULTILINE)


async def test_the_console_is_one_module_whose_imports_are_all_served(client: TestClient) -> None:
    page = await client.get("/agent")
    html = await page.text()
    assert re.findall(r"<script[^>]*>", html) == [
        '<script type="module" src="/static/console/main.js">'
    ]
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]

    seen: set[str] = set()
    waiting = ["/static/console/main.js"]
    while waiting:
        path = waiting.pop()
        if path in seen:
            continue
        seen.add(path)
        response = await client.get(path)
        assert response.status == 200, path
        assert response.content_type in ("text/javascript", "application/javascript"), path
        source = await response.text()
        assert "window.Baton" not in source, path
        waiting += [urljoin(path, spec) for spec in IMPORT.findall(source)]

    files = {"/static/" + p.relative_to(STATIC).as_posix()
             for p in [*STATIC.glob("console/*.js"), *STATIC.glob("client/*.js")]}
    assert seen == files


async def test_the_widget_is_the_committed_bundle_for_any_site(client: TestClient) -> None:
    response = await client.get("/widget.js")
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/javascript; charset=utf-8"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert await response.read() == (STATIC / "widget.js").read_bytes()
