"""Sign in, sign out, and the account page with API tokens."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Request, Response
from pydantic import ValidationError

from catalogage.accounts import service as accounts
from catalogage.accounts.auth import AnyCaller, SignedIn
from catalogage.accounts.schemas import Login, TokenCreate
from catalogage.dependencies import AppSettings, DbSession
from catalogage.errors import TooManyRequests, Unauthorized
from catalogage.web import forms
from catalogage.web.errors import HtmlRoute
from catalogage.web.i18n import N_, _
from catalogage.web.rendering import render
from catalogage.web.routes import local_path, redirect
from catalogage.web.sessions import csrf_protect, flash, sign_in, sign_out

router = APIRouter(
    route_class=HtmlRoute, dependencies=[Depends(csrf_protect)], include_in_schema=False
)


@router.get("/connexion")
async def login_form(request: Request, user: AnyCaller, suivant: str = "/") -> Response:
    return render(
        request,
        "login.html",
        {"next": local_path(suivant), "email": "", "errors": {}, "failure": None},
        user=user,
    )


@router.post("/connexion")
async def login(
    request: Request, session: DbSession, settings: AppSettings, user: AnyCaller
) -> Response:
    form = await request.form()
    email, password = forms.text(form, "email"), str(form.get("password", ""))
    next_page = local_path(forms.text(form, "suivant"))
    client = request.client.host if request.client else None
    errors: dict[str, str] = {}
    failure = None
    status_code = 401
    try:
        Login.model_validate({"email": email, "password": password})
        account = await accounts.authenticate(session, settings, email, password, client)
    except ValidationError as exc:
        errors, status_code = forms.model_errors(request, exc), 422
    except TooManyRequests:
        failure, status_code = (
            _(request, N_("Trop de tentatives ont échoué. Réessayez dans quelques minutes.")),
            429,
        )
    except Unauthorized:
        failure = _(request, N_("Adresse électronique ou mot de passe incorrect."))
    else:
        await session.commit()
        sign_in(request, account)
        flash(request, _(request, N_("Vous êtes connecté.")))
        return redirect(next_page)
    return render(
        request,
        "login.html",
        {"next": next_page, "email": email, "errors": errors, "failure": failure},
        user=user,
        status_code=status_code,
    )


@router.post("/deconnexion")
async def logout(request: Request, user: AnyCaller) -> Response:
    sign_out(request)
    flash(request, _(request, N_("Vous êtes déconnecté.")))
    return redirect("/")


async def _account_page(
    request: Request,
    session: DbSession,
    user: SignedIn,
    *,
    issued: str | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "account.html",
        {
            "tokens": await accounts.list_tokens(session, user),
            "issued": issued,
            "errors": errors or {},
        },
        user=user,
        status_code=status_code,
        headers={"Cache-Control": "no-store"},
    )


@router.get("/compte")
async def account(request: Request, session: DbSession, user: SignedIn) -> Response:
    return await _account_page(request, session, user)


@router.post("/compte/jetons")
async def create_token(request: Request, session: DbSession, user: SignedIn) -> Response:
    form = await request.form()
    with forms.FormErrors(request) as errors:
        data = TokenCreate.model_validate(
            {"name": forms.text(form, "name"), "expires_in_days": forms.text(form, "days") or 90}
        )
    if errors.fields:
        if "expires_in_days" in errors.fields:
            errors.fields["days"] = errors.fields.pop("expires_in_days")
        return await _account_page(request, session, user, errors=errors.fields, status_code=422)
    _token, plain = await accounts.issue_token(
        session, user, name=data.name, days=data.expires_in_days
    )
    await session.commit()
    # Shown once, in this response only: it is never stored in clear nor put in a cookie.
    return await _account_page(request, session, user, issued=plain, status_code=201)


@router.post("/compte/jetons/{token_id}/revoquer")
async def revoke_token(
    token_id: uuid.UUID, request: Request, session: DbSession, user: SignedIn
) -> Response:
    await accounts.revoke_token(session, user, token_id)
    await session.commit()
    flash(request, _(request, N_("Le jeton a été révoqué.")))
    return redirect("/compte")
