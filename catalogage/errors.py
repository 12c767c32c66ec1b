"""Errors as JSON.

Every error response has the shape::

    {"error": "<code>", "message": "<sentence>", "fields": [{"field": ..., "message": ...}]}

`fields` is present for 422 (and for 409 conflicts about specific fields). No
stack trace ever reaches a client: unexpected exceptions are logged and answered
with a bare 500.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_dbapi
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger("catalogage.errors")


class FieldErrorBody(BaseModel):
    field: str
    message: str
    loc: list[str | int]


class ErrorBody(BaseModel):
    """The body of every error response (documented in the OpenAPI schema)."""

    error: str
    message: str
    fields: list[FieldErrorBody] | None = None


#: Declared on every router, so that clients (and schemathesis) know error shapes.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in {
        400: "Unreadable request body",
        401: "Authentication required or token invalid",
        403: "Forbidden for this user",
        404: "Not found (or not visible to this user)",
        409: "Conflict with the current state",
        411: "Content-Length required (uploads)",
        412: "If-Match names an outdated version",
        413: "Upload too large",
        415: "Unsupported upload type",
        422: "Invalid input; `fields` names each invalid field",
        428: "If-Match header required",
        429: "Too many failed logins (see Retry-After)",
        503: "Database unavailable (see Retry-After)",
    }.items()
}


class FieldError(dict[str, Any]):
    """One invalid field: `{"field": "contact_emails", "message": "...", "loc": [...]}`."""

    def __init__(self, field: str, message: str, loc: list[str | int] | None = None) -> None:
        super().__init__(field=field, message=message, loc=loc or field.split("."))


class AppError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        fields: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields
        self.headers = headers

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.code, "message": self.message}
        if self.fields is not None:
            body["fields"] = self.fields
        return body


class Unauthorized(AppError):
    status_code = 401
    code = "unauthorized"

    def __init__(self, message: str = "Authentication required") -> None:
        super().__init__(message, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(AppError):
    status_code = 403
    code = "forbidden"


class NotFound(AppError):
    status_code = 404
    code = "not_found"


class Conflict(AppError):
    status_code = 409
    code = "conflict"


class LengthRequired(AppError):
    status_code = 411
    code = "length_required"


class PayloadTooLarge(AppError):
    status_code = 413
    code = "payload_too_large"


class UnsupportedMediaType(AppError):
    status_code = 415
    code = "unsupported_media_type"


class PreconditionFailed(AppError):
    status_code = 412
    code = "precondition_failed"


class PreconditionRequired(AppError):
    status_code = 428
    code = "precondition_required"


class ValidationFailed(AppError):
    status_code = 422
    code = "validation_error"

    def __init__(self, fields: list[FieldError], message: str = "Invalid input") -> None:
        super().__init__(message, fields=fields)


class TooManyRequests(AppError):
    status_code = 429
    code = "too_many_requests"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, headers={"Retry-After": str(retry_after)})


class ServiceUnavailable(AppError):
    status_code = 503
    code = "service_unavailable"


#: Model-level validators name the field they reject as a message prefix: "field: why".
_FIELD_PREFIX = re.compile(r"^([a-z_][a-z0-9_.]*): (.+)$", re.DOTALL)


def validation_fields(errors: list[Any]) -> list[FieldError]:
    """Turn pydantic errors into FieldErrors; `field` drops the `body`/`query` prefix
    and list indexes, so `["body", "contact_emails", 0]` names `contact_emails`."""
    fields = []
    for error in errors:
        loc = list(error.get("loc", ()))
        parts = loc[1:] if loc and loc[0] in {"body", "query", "path", "header"} else loc
        names = [str(p) for p in parts if not isinstance(p, int)]
        message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        if error.get("type") == "extra_forbidden":
            message = "unknown field"
        prefixed = _FIELD_PREFIX.match(message)
        if prefixed:
            names.append(prefixed.group(1))
            message = prefixed.group(2)
        fields.append(FieldError(".".join(names) or "body", message, loc))
    return fields


async def _app_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return JSONResponse(exc.body(), status_code=exc.status_code, headers=exc.headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    error = ValidationFailed(validation_fields(list(exc.errors())))
    return JSONResponse(error.body(), status_code=422)


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "error")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    return JSONResponse(
        {"error": code, "message": message}, status_code=exc.status_code, headers=exc.headers
    )


#: What a 503 asks clients to wait before retrying.
RETRY_AFTER_SECONDS = 5


def unavailable_body(message: str) -> dict[str, str]:
    """The body of a 503: the database cannot serve this request now."""
    return {"error": "service_unavailable", "message": message}


async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    logger.error("database unavailable on %s %s: %r", request.method, request.url.path, exc)
    return JSONResponse(
        unavailable_body("The database is unavailable; retry shortly"),
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


#: Failures to reach the database (refused, unreachable, pool exhausted, statement
#: timeout) answer 503 quickly instead of a 500 or a pile-up of waiting requests.
DATABASE_UNAVAILABLE = (
    OSError,
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.TimeoutError,
)


#: SQLSTATE classes meaning "the database cannot serve this now": 08 connection exception,
#: 57 operator intervention (57014 statement timeout, 57P01-57P03 shutting down or
#: starting up), 53 insufficient resources.
_UNAVAILABLE_SQLSTATE_CLASSES = ("08", "57", "53")


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    """Other driver errors: 503 when the database cannot serve now, else a bare 500."""
    assert isinstance(exc, sqlalchemy.exc.DBAPIError)
    sqlstate = str(getattr(exc.orig, "sqlstate", None) or "")
    if sqlstate.startswith(_UNAVAILABLE_SQLSTATE_CLASSES) or isinstance(
        exc.orig, AsyncAdapt_asyncpg_dbapi.InternalClientError
    ):
        # asyncpg's client-side state errors ("cannot switch to state 12; another
        # operation is in progress") come from a connection the server dropped in the
        # middle of an operation (seen during PostgreSQL restarts): nothing was
        # acknowledged, and the pool replaces the connection.
        return await _database_unavailable(request, exc)
    return await _unexpected_error(request, exc)


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return JSONResponse(
        {"error": "internal_error", "message": "Internal server error"}, status_code=500
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for error in DATABASE_UNAVAILABLE:
        app.add_exception_handler(error, _database_unavailable)
    app.add_exception_handler(sqlalchemy.exc.DBAPIError, _database_error)
    app.add_exception_handler(Exception, _unexpected_error)
