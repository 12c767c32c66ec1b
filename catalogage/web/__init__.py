"""The web interface: server-rendered pages in French (and English) with the State
design system (DSFR), served by the same app as the JSON API.

`install_web(app)` adds the session middleware, the session-cookie user loader used
by `catalogage.accounts.auth.current_user`, the pages, the static files and the
HTML error pages. Call it after `install_error_handlers`.
"""

from __future__ import annotations

from fastapi import FastAPI

from catalogage.config import Settings
from catalogage.web import account, admin, imports, organizations, routes
from catalogage.web.assets import mount_static
from catalogage.web.errors import install_error_pages
from catalogage.web.sessions import install_sessions, load_session_user


def install_web(app: FastAPI, settings: Settings) -> None:
    install_sessions(app, settings)
    app.state.session_user_loader = load_session_user
    for router in (routes.router, account.router, organizations.router, admin.router):
        app.include_router(router)
    app.include_router(imports.router)
    mount_static(app)
    install_error_pages(app)
