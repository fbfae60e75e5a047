"""/docs and /redoc with their Swagger UI and ReDoc files served here (shipped by fastapi-offline): no CDN."""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, HTTPException, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import FileResponse, HTMLResponse

ASSETS_URL = "/docs-assets"
ASSETS_DIR = Path(fastapi_offline.__file__).parent / "static"
ASSET_TYPES = {"swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css",
               "redoc.standalone.js": "text/javascript"}
FAVICON_URL = "/favicon.svg"
OAUTH2_REDIRECT_URL = "/docs/oauth2-redirect"
ONE_DAY_S = 86_400
# everything from this server: ReDoc's footer would otherwise fetch its logo from a CDN
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'")

router = APIRouter(include_in_schema=False)


def _openapi_url(request: Request) -> str:
    return f"{request.scope.get('root_path', '')}{request.app.openapi_url}"


def _self_only(page: HTMLResponse) -> HTMLResponse:
    page.headers["Content-Security-Policy"] = DOCS_CSP
    return page


@router.get("/docs")
def swagger_ui(request: Request) -> HTMLResponse:
    root = request.scope.get("root_path", "")
    return _self_only(get_swagger_ui_html(openapi_url=_openapi_url(request), title=f"{request.app.title} · API",
                               swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
                               swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
                               swagger_favicon_url=f"{root}{FAVICON_URL}",
                               oauth2_redirect_url=f"{root}{OAUTH2_REDIRECT_URL}"))


@router.get(OAUTH2_REDIRECT_URL)
def swagger_ui_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()


@router.get("/redoc")
def redoc(request: Request) -> HTMLResponse:
    root = request.scope.get("root_path", "")
    return _self_only(get_redoc_html(openapi_url=_openapi_url(request), title=f"{request.app.title} · API",
                                     redoc_js_url=f"{root}{ASSETS_URL}/redoc.standalone.js",
                                     with_google_fonts=False, redoc_favicon_url=f"{root}{FAVICON_URL}"))


@router.get(ASSETS_URL + "/{name}")
def asset(name: str) -> FileResponse:
    """Only the three named files; nothing else is read from disk by the name given."""
    if name not in ASSET_TYPES:
        raise HTTPException(404, f"no documentation asset named {name!r}")
    return FileResponse(ASSETS_DIR / name, media_type=ASSET_TYPES[name],
                        headers={"Cache-Control": f"public, max-age={ONE_DAY_S}"})
