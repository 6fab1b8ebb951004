"""The pages the gateway serves: the demo site with the widget, and the agent console."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

STATIC = Path(__file__).resolve().parents[2] / "static"
routes = web.RouteTableDef()


def _file(name: str, content_type: str) -> web.FileResponse:
    return web.FileResponse(STATIC / name, headers={"Content-Type": content_type})


@routes.get("/")
async def demo_page(request: web.Request) -> web.FileResponse:
    return _file("demo.html", "text/html; charset=utf-8")


@routes.get("/widget.js")
async def widget_script(request: web.Request) -> web.FileResponse:
    response = _file("widget.js", "application/javascript; charset=utf-8")
    # Any site may load the widget script itself.
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@routes.get("/agent")
async def console_page(request: web.Request) -> web.FileResponse:
    return _file("console.html", "text/html; charset=utf-8")


routes.static("/static", STATIC)
