"""Importing a catalog file from the browser: upload, dry-run report, then apply.

The page checks the uploaded file with the same service as the API
(`catalogage.interop.importer`, dry run) and shows the report row by row. The
"Appliquer" button then applies exactly the bytes that were checked.

Decision: the checked file is kept on the server, not uploaded again. A browser
cannot re-fill a file input, and a second upload could differ from the one the
user reviewed. The file is written under `VAR_DIR/imports/` (shared by the
workers of one host) with a random name; the session cookie remembers that name
with the organization, the visibility chosen and the file's SHA-256. Applying
requires all of them to match: another session, another organization or a
changed file cannot be applied. The file is deleted once applied, replaced by
the session's next upload, or removed after `PENDING_SECONDS` by the next upload
of anyone. (Deployments with several hosts need sticky sessions for this page.)
"""

from __future__ import annotations

import hashlib
import secrets
import time
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from starlette.datastructures import UploadFile

from catalogage.accounts.auth import OrgEditor, ensure_org_role
from catalogage.accounts.models import Role, User
from catalogage.datasets.models import Visibility
from catalogage.dependencies import AppSettings, DbSession
from catalogage.errors import Conflict, PayloadTooLarge
from catalogage.interop import importer
from catalogage.interop.reader import MAX_FILE_BYTES, MAX_ROWS
from catalogage.interop.schemas import ImportReport, Problem, RowAction, RowReport
from catalogage.organizations import service as organizations
from catalogage.web.errors import HtmlRoute
from catalogage.web.i18n import N_, _
from catalogage.web.rendering import render
from catalogage.web.routes import redirect
from catalogage.web.sessions import csrf_protect, flash

#: Room for the multipart envelope and the form's other fields around the file.
_MULTIPART_OVERHEAD = 64 * 1024
#: A checked file waits this long for "Appliquer".
PENDING_SECONDS = 3600
#: Rows shown in the report table (rejected rows first); the counts cover every row.
SHOWN_ROWS = 1000
_SESSION_KEY = "pending_import"
_ACTION_ORDER = {
    RowAction.REJECT: 0,
    RowAction.UPDATE: 1,
    RowAction.CREATE: 2,
    RowAction.UNCHANGED: 3,
    RowAction.REMOVED_UPSTREAM: 4,
}


async def refuse_oversized_upload(request: Request) -> None:
    """Before anything reads the body (the CSRF check parses the form): refuse uploads
    over the size limit by their Content-Length."""
    if request.method != "POST":
        return
    length = request.headers.get("content-length", "")
    if not length.isdigit() or int(length) > MAX_FILE_BYTES + _MULTIPART_OVERHEAD:
        raise PayloadTooLarge(
            f"File too large or of unknown size: the limit is {MAX_FILE_BYTES:,} bytes"
        )


router = APIRouter(
    route_class=HtmlRoute,
    dependencies=[Depends(refuse_oversized_upload), Depends(csrf_protect)],
    include_in_schema=False,
)

#: French messages for the importer's (English) problems, found by a piece of their text.
_MESSAGES = [
    ("file too large", N_("Le fichier est trop volumineux.")),
    ("the file is empty", N_("Le fichier est vide.")),
    (
        "old excel",
        N_(
            "Les fichiers Excel anciens (.xls) ne sont pas acceptés "
            ": enregistrez le fichier au format .xlsx."
        ),
    ),
    (
        "zip bomb",
        N_("Ce fichier .xlsx est anormalement gros une fois décompressé : il est refusé."),
    ),
    ("too many parts", N_("Ce fichier .xlsx contient trop d’éléments : il est refusé.")),
    (".xlsx file", N_("Ce fichier .xlsx est endommagé ou illisible.")),
    ("not an excel", N_("Ce fichier n’est pas un classeur Excel (.xlsx).")),
    (
        "utf-16",
        N_("Les fichiers UTF-16 ne sont pas acceptés : enregistrez le fichier en CSV UTF-8."),
    ),
    ("binary data", N_("Ce fichier n’est pas un fichier texte (CSV) ni un classeur .xlsx.")),
    (
        "encoding is not recognised",
        N_("Encodage non reconnu : enregistrez le fichier en CSV UTF-8."),
    ),
    ("malformed csv", N_("Le fichier CSV est mal formé.")),
    ("cells; the limit", N_("Une ligne du fichier a trop de colonnes.")),
    ("cell longer than", N_("Une cellule du fichier est trop longue.")),
    ("too many rows", N_("Le fichier a trop de lignes.")),
    ("no header row", N_("Le fichier n’a pas de ligne d’en-tête.")),
    ("missing required column", N_("Colonne obligatoire absente.")),
    (
        "unknown column",
        N_(
            "Colonne inconnue : ni une colonne du schéma, "
            "ni un champ complémentaire de ce catalogue."
        ),
    ),
    ("column given twice", N_("Colonne présente deux fois.")),
    ("names organization", N_("Cette ligne concerne une autre organisation que ce catalogue.")),
    ("differs from the organization", N_("Le nom diffère de celui de l’organisation.")),
    ("cells for", N_("Cette ligne a plus de cellules que l’en-tête n’a de colonnes.")),
    ("not a dataset id", N_("Identifiant de jeu de données invalide.")),
    ("no dataset with this id", N_("Aucun jeu de données de ce catalogue n’a cet identifiant.")),
    (
        "datasets of this catalog have this title",
        N_("Plusieurs jeux de données de ce catalogue ont ce titre : ajoutez une colonne id."),
    ),
    ("same dataset as row", N_("Même jeu de données qu’une ligne précédente.")),
    ("must be a date", N_("Date invalide (AAAA-MM-JJ ou JJ/MM/AAAA).")),
    ("unknown frequency", N_("Fréquence de mise à jour inconnue.")),
    ("unknown format", N_("Format inconnu.")),
    ("email", N_("Adresse électronique invalide.")),
    ("must be an http", N_("Adresse web invalide (http:// ou https://).")),
    ("must not be before", N_("La date de mise à jour précède la date de publication.")),
    ("at most", N_("Valeur trop longue ou trop de valeurs.")),
    ("must be true or false", N_("Valeur attendue : oui ou non.")),
    ("must be one of", N_("Choisissez une des valeurs proposées.")),
    ("required", N_("Valeur obligatoire absente.")),
]


def problem_text(request: Request, problem: Problem) -> str:
    """`column : French message`, keeping the importer's precise text when no French
    message covers it."""
    lowered = problem.message.lower()
    for needle, message in _MESSAGES:
        if needle in lowered:
            return f"{problem.field} : {_(request, message)}"
    return f"{problem.field} : {problem.message}"


def _imports_dir(settings: AppSettings) -> Path:
    directory = Path(settings.var_dir) / "imports"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def _forget_pending(request: Request, directory: Path) -> None:
    """Delete the session's pending file, and anyone's older than `PENDING_SECONDS`."""
    pending = request.session.pop(_SESSION_KEY, None)
    if isinstance(pending, dict) and isinstance(pending.get("id"), str):
        (directory / pending["id"]).unlink(missing_ok=True)
    cutoff = time.time() - PENDING_SECONDS
    for path in directory.iterdir():
        if path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)


def _rows_shown(report: ImportReport) -> list[RowReport]:
    ordered = sorted(report.rows, key=lambda row: (_ACTION_ORDER[row.action], row.row))
    return ordered[:SHOWN_ROWS]


def _visibility(value: Any) -> Visibility:
    try:
        return Visibility(str(value))
    except ValueError:
        return Visibility.DRAFT


async def _page(
    request: Request,
    session: DbSession,
    user: User,
    siret: str,
    *,
    report: ImportReport | None = None,
    upload_id: str | None = None,
    filename: str = "",
    visibility: Visibility = Visibility.DRAFT,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    organization = await organizations.get_organization(session, siret)
    return render(
        request,
        "import.html",
        {
            "organization": organization,
            "report": report,
            "rows": _rows_shown(report) if report else [],
            "shown_rows": SHOWN_ROWS,
            "problem_text": lambda problem: problem_text(request, problem),
            "upload_id": upload_id,
            "filename": filename,
            "visibility": visibility.value,
            "error": error,
            "max_megabytes": MAX_FILE_BYTES // (1024 * 1024),
            "max_rows": MAX_ROWS,
        },
        user=user,
        status_code=status_code,
    )


@router.get("/organisations/{siret}/import")
async def import_form(
    siret: str, request: Request, session: DbSession, user: OrgEditor
) -> Response:
    ensure_org_role(user, siret, Role.EDITOR)
    return await _page(request, session, user, siret)


@router.post("/organisations/{siret}/import")
async def check_file(
    siret: str,
    request: Request,
    session: DbSession,
    settings: AppSettings,
    user: OrgEditor,
) -> Response:
    """Check the uploaded file (dry run) and keep it for "Appliquer" when it can be applied."""
    ensure_org_role(user, siret, Role.EDITOR)
    form = await request.form(max_files=1, max_fields=10)
    upload = form.get("file")
    visibility = _visibility(form.get("visibility"))
    if not isinstance(upload, UploadFile) or not upload.filename:
        return await _page(
            request,
            session,
            user,
            siret,
            visibility=visibility,
            error=_(request, N_("Choisissez un fichier CSV ou Excel (.xlsx) à importer.")),
            status_code=422,
        )
    data = await upload.read(MAX_FILE_BYTES + 1)
    filename = upload.filename
    report = await importer.import_file(
        session, user, siret, data, filename=filename, dry_run=True, visibility=visibility
    )
    directory = _imports_dir(settings)
    _forget_pending(request, directory)
    upload_id = None
    if report.acceptable and (report.summary.create or report.summary.update):
        upload_id = secrets.token_urlsafe(24)
        (directory / upload_id).write_bytes(data)
        request.session[_SESSION_KEY] = {
            "id": upload_id,
            "siret": siret,
            "sha256": hashlib.sha256(data).hexdigest(),
            "filename": filename,
            "visibility": visibility.value,
        }
    page = await _page(
        request,
        session,
        user,
        siret,
        report=report,
        upload_id=upload_id,
        filename=filename,
        visibility=visibility,
        status_code=200 if report.acceptable else 422,
    )
    # The dry run created missing keywords to compute canonical spellings: undo (after
    # rendering: rolling back expires the user the page shows).
    await session.rollback()
    return page


@router.post("/organisations/{siret}/import/appliquer")
async def apply_file(
    siret: str,
    request: Request,
    session: DbSession,
    settings: AppSettings,
    user: OrgEditor,
) -> Response:
    """Apply the file this session checked for this organization (all or nothing)."""
    ensure_org_role(user, siret, Role.EDITOR)
    form = await request.form(max_files=0, max_fields=10)
    pending = request.session.get(_SESSION_KEY)
    directory = _imports_dir(settings)
    path = directory / str(pending.get("id", "")) if isinstance(pending, dict) else None
    data = path.read_bytes() if path is not None and path.is_file() else None
    if (
        not isinstance(pending, dict)
        or pending.get("siret") != siret
        or form.get("upload") != pending.get("id")
        or data is None
        or hashlib.sha256(data).hexdigest() != pending.get("sha256")
    ):
        return await _page(
            request,
            session,
            user,
            siret,
            error=_(
                request,
                N_(
                    "Ce fichier n’est plus disponible (délai dépassé, autre fichier vérifié "
                    "depuis ou déjà importé). Vérifiez-le de nouveau."
                ),
            ),
            status_code=409,
        )
    filename = str(pending.get("filename", ""))
    visibility = _visibility(pending.get("visibility"))
    try:
        report = await importer.import_file(
            session, user, siret, data, filename=filename, dry_run=False, visibility=visibility
        )
    except importer.ImportRejected as exc:
        # The catalog changed since the check (a row now clashes): nothing is written.
        page = await _page(
            request,
            session,
            user,
            siret,
            report=exc.report,
            filename=filename,
            visibility=visibility,
            error=_(
                request,
                N_("Le catalogue a changé depuis la vérification : rien n’a été importé."),
            ),
            status_code=422,
        )
        await session.rollback()
        return page
    except Conflict:
        page = await _page(
            request,
            session,
            user,
            siret,
            filename=filename,
            visibility=visibility,
            error=_(
                request,
                N_("Un autre import dans ce catalogue est en cours. Réessayez dans un moment."),
            ),
            status_code=409,
        )
        await session.rollback()
        return page
    await session.commit()
    _forget_pending(request, directory)
    summary = report.summary
    flash(
        request,
        _(request, N_("Import terminé : {created} créé(s), {updated} modifié(s).")).format(
            created=summary.create, updated=summary.update
        ),
    )
    return redirect(f"/organisations/{siret}")
