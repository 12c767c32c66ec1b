"""Error pages for the HTML routes; the JSON API keeps its JSON errors.

A request gets an HTML error page when it was routed to an HTML page (its route is
an `HtmlRoute`), or when no route matched and the client prefers HTML (a browser
following a dead link). Everything else is answered by the JSON handlers
installed by `catalogage.errors`. On an HTML page, "sign in required" sends a
browser to the sign-in page and back.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute

from catalogage.errors import AppError
from catalogage.web.i18n import N_, _
from catalogage.web.rendering import render
from catalogage.web.sessions import page_user

logger = logging.getLogger("catalogage.web")

Handler = Callable[[Request, Exception], Awaitable[Response]]


class HtmlRoute(APIRoute):
    """Route class of the web pages: marks them for HTML error pages, and times them
    (`Server-Timing: page;dur=<ms>`, what benchmarks of the pages read)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def timed(request: Request) -> Response:
            start = time.perf_counter()
            response = await handler(request)
            elapsed = (time.perf_counter() - start) * 1000
            response.headers["Server-Timing"] = f"page;dur={elapsed:.1f}"
            return response

        return timed


_TITLES = {
    400: N_("Requête incorrecte"),
    401: N_("Connexion requise"),
    403: N_("Accès refusé"),
    404: N_("Page non trouvée"),
    405: N_("Méthode non autorisée"),
    409: N_("Conflit"),
    413: N_("Fichier trop volumineux"),
    422: N_("Données invalides"),
    429: N_("Trop de tentatives"),
    500: N_("Erreur inattendue"),
    503: N_("Service indisponible"),
}
_EXPLANATIONS = {
    401: N_("Connectez-vous pour accéder à cette page."),
    403: N_(
        "Vous n’avez pas les droits nécessaires pour accéder à cette page ou effectuer cette "
        "action. Si vous pensez qu’il s’agit d’une erreur, contactez le gestionnaire de votre "
        "organisation."
    ),
    404: N_(
        "La page que vous cherchez est introuvable. Excusez-nous pour la gêne occasionnée. "
        "Si vous avez tapé l’adresse web dans le navigateur, vérifiez qu’elle est correcte. "
        "La page n’est peut-être plus disponible."
    ),
    413: N_("Le fichier envoyé dépasse la taille maximale acceptée."),
    429: N_("Trop de tentatives de connexion ont échoué. Réessayez dans quelques minutes."),
    500: N_(
        "Désolé, le service rencontre un problème, nous travaillons pour le résoudre le plus "
        "rapidement possible. Essayez de rafraîchir la page ou bien réessayez plus tard."
    ),
}
_CSRF_EXPLANATION = N_(
    "Votre session a expiré ou le formulaire est trop ancien. Revenez à la page précédente, "
    "rechargez-la puis recommencez."
)


def is_html_request(request: Request) -> bool:
    route = request.scope.get("route")
    if route is not None:
        return isinstance(route, HtmlRoute)
    accept = request.headers.get("accept", "")
    return "text/html" in accept.split(",")[0]


def _wants_browser_redirect(request: Request) -> bool:
    return request.method == "GET" and "text/html" in request.headers.get("accept", "")


async def error_page(request: Request, status_code: int, message: str | None = None) -> Response:
    title = _(request, _TITLES.get(status_code, N_("Erreur")))
    explanation = message or _(
        request, _EXPLANATIONS.get(status_code, _TITLES.get(status_code, ""))
    )
    return render(
        request,
        "error.html",
        {"status_code": status_code, "title": title, "explanation": explanation},
        user=await page_user(request),
        status_code=status_code,
    )


def install_error_pages(app: FastAPI) -> None:
    """Wrap every JSON error handler: it still decides the status (and logs), and HTML
    routes show that status as a page."""
    for kind, json_handler in list(app.exception_handlers.items()):
        app.add_exception_handler(kind, _html_or(json_handler))  # type: ignore[arg-type]


def _html_or(json_handler: Handler) -> Handler:
    async def handler(request: Request, exc: Exception) -> Response:
        response = await json_handler(request, exc)
        if not is_html_request(request):
            return response
        status_code = response.status_code
        if isinstance(exc, RequestValidationError) and all(
            error.get("loc", ("",))[0] == "path" for error in exc.errors()
        ):
            status_code = 404  # a malformed id in the path names no page
        if status_code == 401 and _wants_browser_redirect(request):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse("/connexion?" + urlencode({"suivant": target}), status_code=303)
        message = None
        if isinstance(exc, AppError) and exc.message.startswith("CSRF"):
            message = _(request, _CSRF_EXPLANATION)
        try:
            page = await error_page(request, status_code, message)
        except Exception:
            logger.exception("error page failed on %s %s", request.method, request.url.path)
            return response
        if "retry-after" in response.headers:
            page.headers["Retry-After"] = response.headers["retry-after"]
        return page

    return handler
