"""Importing a catalog file from the organization page, in a real browser."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.factories import World
from tests.interop.helpers import SCHEMA_DIR, add_example_organization
from tests.web.conftest import Pages, assert_accessible, sign_in

pytestmark = pytest.mark.browser

EXAMPLE = SCHEMA_DIR / "exemple-valide.csv"
EXAMPLE_TITLE = "Arbres vivants inventoriés en forêt."


@pytest.fixture
def ign(db: Any, world: World) -> str:
    return add_example_organization(db, world)


def _counts(db: Any) -> tuple[int, int]:
    return (
        int(db.scalar("SELECT count(*) FROM dataset")),
        int(db.scalar("SELECT count(*) FROM history_entry")),
    )


def _check(page: Page, path: Path) -> None:
    page.locator("#champ-fichier").set_input_files(str(path))
    page.get_by_role("button", name="Vérifier le fichier").click()


def test_editor_checks_then_applies_the_official_example(
    page: Page, world: World, db: Any, ign: str
) -> None:
    sign_in(page, world, "editor_a")
    page.goto(f"/organisations/{ign}")
    page.get_by_role("link", name="Importer un fichier").click()
    expect(page).to_have_url(re.compile(rf"/organisations/{ign}/import$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Importer un fichier dans le catalogue"
    )
    assert_accessible(page)

    _check(page, EXAMPLE)
    expect(page.locator("#resume-import")).to_contain_text("Créés : 1")
    expect(page.locator("#resume-import")).to_contain_text("Refusés : 0")
    row = page.locator("#lignes-import tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(EXAMPLE_TITLE)
    expect(row).to_contain_text("Création")
    assert _counts(db) == (0, 0), "the check writes nothing"
    assert_accessible(page)

    page.get_by_role("button", name="Appliquer").click()
    expect(page).to_have_url(re.compile(rf"/organisations/{ign}$"))
    expect(page.get_by_text("Import terminé : 1 créé(s), 0 modifié(s).")).to_be_visible()
    expect(page.get_by_role("link", name=EXAMPLE_TITLE)).to_be_visible()
    assert _counts(db) == (1, 1)

    # The same file again: nothing to apply, and the applied file cannot be applied twice.
    page.goto(f"/organisations/{ign}/import")
    _check(page, EXAMPLE)
    expect(page.locator("#resume-import")).to_contain_text("Inchangés : 1")
    expect(page.locator("#rien-a-faire")).to_be_visible()
    expect(page.get_by_role("button", name="Appliquer")).to_have_count(0)


def test_rejected_rows_and_hostile_files_get_french_errors_and_write_nothing(
    page: Page, world: World, db: Any, ign: str, tmp_path: Path
) -> None:
    sign_in(page, world, "editor_a")
    page.goto(f"/organisations/{ign}/import")

    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    bad_row = tmp_path / "catalogue.csv"
    bad_row.write_text(
        "\n".join([lines[0], lines[1].replace("@ign.fr", "@@ign.fr")]), encoding="utf-8"
    )
    _check(page, bad_row)
    expect(page.locator("#resume-import")).to_contain_text("Refusés : 1")
    expect(page.locator("#lignes-refusees")).to_be_visible()
    expect(page.locator("#lignes-import")).to_contain_text("Adresse électronique invalide.")
    expect(page.get_by_role("button", name="Appliquer")).to_have_count(0)
    assert_accessible(page)

    # An "xlsx" that expands to far more than the limit (a zip bomb).
    bomb = tmp_path / "bombe.xlsx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (260 * 1024 * 1024))
    _check(page, bomb)
    expect(page.locator("#erreurs-fichier")).to_contain_text(
        "Ce fichier .xlsx est anormalement gros une fois décompressé"
    )

    binary = tmp_path / "image.csv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + bytes(range(256)))
    _check(page, binary)
    expect(page.locator("#erreurs-fichier")).to_contain_text(
        "Ce fichier n’est pas un fichier texte"
    )
    assert_accessible(page)
    assert _counts(db) == (0, 0)


def test_other_organizations_cannot_import(pages: Pages, world: World, ign: str) -> None:
    outsider = pages.new()
    sign_in(outsider, world, "editor_b")
    outsider.goto(f"/organisations/{ign}")
    expect(outsider.get_by_role("link", name="Importer un fichier")).to_have_count(0)
    response = outsider.goto(f"/organisations/{ign}/import")
    assert response is not None and response.status == 403
    expect(outsider.get_by_role("heading", level=1)).to_have_text("Accès refusé")


def test_a_stale_or_foreign_upload_id_is_refused(
    pages: Pages, world: World, db: Any, ign: str
) -> None:
    """Applying needs the session that checked the file: a copied form is refused."""
    editor = pages.new()
    sign_in(editor, world, "editor_a")
    editor.goto(f"/organisations/{ign}/import")
    _check(editor, EXAMPLE)
    upload_id = editor.locator("input[name=upload]").get_attribute("value")
    assert upload_id

    admin = pages.new()
    sign_in(admin, world, "admin")
    admin.goto(f"/organisations/{ign}/import")
    # Forge the apply form in the admin's page with the editor's upload id.
    admin.evaluate(
        """(id) => {
            const form = document.getElementById("formulaire-import");
            form.action = form.action + "/appliquer";
            form.enctype = "application/x-www-form-urlencoded";
            form.querySelector("input[type=file]").remove();
            const input = document.createElement("input");
            input.type = "hidden"; input.name = "upload"; input.value = id;
            form.appendChild(input);
        }""",
        upload_id,
    )
    admin.get_by_role("button", name="Vérifier le fichier").click()
    expect(admin.locator("#erreur-import")).to_contain_text("Ce fichier n’est plus disponible")
    assert _counts(db) == (0, 0)
