"""Relevance set: queries against a fixed French corpus, with the expected top results.

Covers exact titles, accents and case, plurals, derived words, prefixes while
typing, typos ("did you mean"), phrases, exclusion, OR, and field weights.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import httpx
import pytest

from tests.factories import ORG_A, ORG_B

ORG_C = "21690123100011"

# (title, description, keywords, coverage, organization)
CORPUS = [
    (
        "Arbres d'alignement",
        "Inventaire des arbres plantés le long des voies : essence, hauteur et date de plantation.",
        ["arbres", "voirie", "patrimoine végétal"],
        "Lyon",
        ORG_C,
    ),
    (
        "Arbres remarquables",
        "Arbres exceptionnels par leur âge, leur taille ou leur histoire.",
        ["arbres", "patrimoine"],
        "Lyon",
        ORG_C,
    ),
    (
        "Inventaire forestier national",
        "Placettes de l'inventaire : essences, volumes de bois sur "
        "pied et accroissement des peuplements.",
        ["bois", "inventaire"],
        "France métropolitaine",
        ORG_A,
    ),
    (
        "Forêts publiques gérées",
        "Périmètres des forêts domaniales et communales gérées par l'office.",
        ["foncier", "domaine"],
        "France entière",
        ORG_A,
    ),
    (
        "Sentiers de randonnée",
        "Itinéraires de randonnée pédestre balisés, dont les chemins forestiers.",
        ["tourisme", "randonnée"],
        "Finistère",
        ORG_B,
    ),
    (
        "Qualité de l'eau potable distribuée",
        "Résultats du contrôle sanitaire de l'eau du robinet par unité de distribution.",
        ["eau", "contrôle sanitaire"],
        "France entière",
        ORG_A,
    ),
    (
        "Qualité des eaux de baignade",
        "Classement des sites de baignade en mer et en eau douce.",
        ["baignade", "eau"],
        "Bretagne",
        ORG_B,
    ),
    (
        "Plan local d'urbanisme intercommunal",
        "Zonage et règlement du plan local d'urbanisme approuvé en 2021.",
        ["urbanisme", "PLU", "zonage"],
        "Rennes Métropole",
        ORG_B,
    ),
    (
        "Permis de construire délivrés",
        "Liste des permis de construire. Le plan de situation et "
        "la notice d'urbanisme ne sont pas diffusés ; un local commercial est inclus.",
        ["urbanisme", "construction"],
        "Lyon",
        ORG_C,
    ),
    (
        "Aménagements cyclables",
        "Pistes et bandes cyclables, voies vertes et double-sens cyclables.",
        ["mobilité", "voirie"],
        "Strasbourg",
        ORG_A,
    ),
    (
        "Stationnement vélo",
        "Arceaux et abris de stationnement pour les vélos.",
        ["vélo", "stationnement"],
        "Strasbourg",
        ORG_A,
    ),
    (
        "Horaires du réseau de tramway",
        "Horaires théoriques au format GTFS des lignes de tramway.",
        ["transport", "tramway", "GTFS"],
        "Montpellier",
        ORG_B,
    ),
    (
        "Lignes de métro",
        "Tracé des lignes de métro et position des stations.",
        ["transport", "métro"],
        "Lyon",
        ORG_C,
    ),
    (
        "Établissements scolaires",
        "Écoles, collèges et lycées publics et privés sous contrat, avec leurs effectifs.",
        ["éducation", "enseignement"],
        "France entière",
        ORG_A,
    ),
    (
        "Restauration scolaire",
        "Menus des cantines des écoles maternelles et élémentaires.",
        ["cantine", "alimentation"],
        "Nantes",
        ORG_B,
    ),
    (
        "Hôpitaux et cliniques",
        "Liste des établissements de santé avec leur capacité en lits.",
        ["santé", "soins"],
        "Occitanie",
        ORG_A,
    ),
    (
        "Pharmacies de garde",
        "Pharmacies ouvertes la nuit et le dimanche, en complément des services de secours.",
        ["pharmacie", "santé"],
        "Dijon",
        ORG_B,
    ),
    (
        "Défibrillateurs automatisés externes",
        "Localisation des appareils accessibles au public.",
        ["santé", "secours"],
        "France entière",
        ORG_A,
    ),
    (
        "Budget primitif 2024",
        "Budget voté par le conseil municipal : recettes et dépenses de "
        "fonctionnement et d'investissement.",
        ["budget", "finances"],
        "Dijon",
        ORG_B,
    ),
    (
        "Subventions aux associations",
        "Montants des subventions versées aux associations par la collectivité.",
        ["subventions", "finances"],
        "Dijon",
        ORG_B,
    ),
    (
        "Cadastre des parcelles",
        "Parcelles et bâtiments issus du plan cadastral informatisé.",
        ["cadastre", "foncier"],
        "France entière",
        ORG_A,
    ),
    (
        "Bornes de recharge pour véhicules électriques",
        "Points de charge ouverts au public, puissance et type de prise.",
        ["énergie", "mobilité électrique"],
        "Nantes",
        ORG_B,
    ),
    (
        "Consommation d'électricité par commune",
        "Consommation annuelle d'électricité et de gaz par secteur d'activité.",
        ["énergie", "consommation"],
        "France entière",
        ORG_A,
    ),
    (
        "Musées de France",
        "Liste des musées labellisés avec leurs horaires.",
        ["culture", "musée"],
        "France entière",
        ORG_A,
    ),
    (
        "Fréquentation des bibliothèques",
        "Prêts et inscriptions dans les bibliothèques municipales.",
        ["culture", "lecture"],
        "Nantes",
        ORG_B,
    ),
    (
        "Qualité de l'air : indice ATMO",
        "Indice quotidien de la qualité de l'air : ozone, particules fines, dioxyde d'azote.",
        ["air", "pollution"],
        "Lyon",
        ORG_C,
    ),
    (
        "Émissions de gaz à effet de serre",
        "Bilan des émissions par secteur et par commune.",
        ["climat", "énergie"],
        "Occitanie",
        ORG_A,
    ),
    (
        "Zones humides",
        "Inventaire des zones humides, dont les tourbières et les prairies inondables.",
        ["biodiversité", "eau"],
        "Bretagne",
        ORG_B,
    ),
    (
        "Accidents de la route",
        "Accidents corporels de la circulation recensés par les forces de l'ordre.",
        ["sécurité routière", "transport"],
        "France entière",
        ORG_A,
    ),
    (
        "Comptages routiers",
        "Trafic moyen journalier annuel sur le réseau départemental.",
        ["trafic", "circulation"],
        "Isère",
        ORG_A,
    ),
    (
        "Bruit routier : cartes stratégiques",
        "Cartes de bruit des grandes infrastructures de transport terrestre.",
        ["bruit", "environnement"],
        "Isère",
        ORG_A,
    ),
    (
        "Population légale des communes",
        "Populations municipales issues du recensement.",
        ["population", "recensement"],
        "France entière",
        ORG_A,
    ),
    (
        "Logements sociaux",
        "Répertoire du parc locatif social.",
        ["logement", "habitat"],
        "Nantes",
        ORG_B,
    ),
    (
        "Offres d'emploi",
        "Offres d'emploi publiées par les employeurs du territoire.",
        ["emploi", "économie"],
        "Occitanie",
        ORG_B,
    ),
]


@dataclass(frozen=True)
class Case:
    query: str
    #: The first result, if it matters.
    first: str | None = None
    #: Results expected (in any order) among the first len(top) results.
    top: tuple[str, ...] = ()
    #: Results expected anywhere.
    includes: tuple[str, ...] = ()
    #: Results that must not appear.
    excludes: tuple[str, ...] = ()
    total: int | None = None
    suggestion: str | None = None
    tags: tuple[str, ...] = field(default=())


CASES = [
    # Exact titles come first, whatever the other matches.
    Case("Arbres d'alignement", first="Arbres d'alignement"),
    Case("arbres remarquables", first="Arbres remarquables"),
    Case("BUDGET PRIMITIF 2024", first="Budget primitif 2024"),
    Case("Lignes de métro", first="Lignes de métro"),
    # Title >> keywords > description.
    Case("arbres", top=("Arbres d'alignement", "Arbres remarquables")),
    Case(
        "secours", first="Défibrillateurs automatisés externes", includes=("Pharmacies de garde",)
    ),
    Case("bruit", first="Bruit routier : cartes stratégiques"),
    Case("emploi", first="Offres d'emploi"),
    Case("qualité air", first="Qualité de l'air : indice ATMO"),
    Case("eau potable", first="Qualité de l'eau potable distribuée"),
    Case("subventions associations", first="Subventions aux associations"),
    Case("gaz à effet de serre", first="Émissions de gaz à effet de serre"),
    # Accents and case do not matter.
    Case("foret", first="Forêts publiques gérées"),
    Case("FORÊT", first="Forêts publiques gérées"),
    Case("hopitaux", first="Hôpitaux et cliniques"),
    Case("electricite", first="Consommation d'électricité par commune"),
    Case("defibrillateurs", first="Défibrillateurs automatisés externes"),
    # Plurals and inflections (stemming).
    Case("forêts", first="Forêts publiques gérées"),
    Case("hôpital", first="Hôpitaux et cliniques"),
    Case("eaux", top=("Qualité de l'eau potable distribuée", "Qualité des eaux de baignade")),
    Case("musée", first="Musées de France"),
    # Derived words (lexicon): forestier ~ forêt, école ~ scolaire, électrique ~ électricité.
    Case(
        "forestier",
        first="Inventaire forestier national",
        includes=("Forêts publiques gérées", "Sentiers de randonnée"),
    ),
    Case("écoles", top=("Établissements scolaires", "Restauration scolaire")),
    Case(
        "électricité",
        first="Consommation d'électricité par commune",
        includes=("Bornes de recharge pour véhicules électriques",),
    ),
    Case(
        "routier",
        top=("Comptages routiers", "Bruit routier : cartes stratégiques", "Accidents de la route"),
    ),
    Case("vélo", top=("Stationnement vélo", "Aménagements cyclables")),
    # Prefix of the word being typed.
    Case("inventai", first="Inventaire forestier national", includes=("Zones humides",)),
    Case("défibril", first="Défibrillateurs automatisés externes", total=1),
    Case("cadast", first="Cadastre des parcelles"),
    Case("qualité de l'ai", first="Qualité de l'air : indice ATMO"),
    Case("bibli", first="Fréquentation des bibliothèques"),
    # Typos: "did you mean", with the corrected results.
    Case(
        "inventiare forestier",
        first="Inventaire forestier national",
        suggestion="inventaire forestier",
    ),
    Case(
        "defibrilateurs ",
        first="Défibrillateurs automatisés externes",
        suggestion="défibrillateurs ",
    ),
    Case("pharmcies ", first="Pharmacies de garde", suggestion="pharmacies "),
    Case("bibliotheqes ", first="Fréquentation des bibliothèques", suggestion="bibliothèques "),
    # Phrases.
    Case('"plan local d\'urbanisme"', first="Plan local d'urbanisme intercommunal", total=1),
    Case(
        "plan local urbanisme ",
        first="Plan local d'urbanisme intercommunal",
        includes=("Permis de construire délivrés",),
    ),
    Case('"qualité de l\'eau"', first="Qualité de l'eau potable distribuée", total=1),
    # Exclusion and OR.
    Case("vélo -stationnement", first="Aménagements cyclables", excludes=("Stationnement vélo",)),
    Case("arbres -remarquables", first="Arbres d'alignement", total=1),
    # (A trailing space ends the last word: "métro" alone also matches "Métropole" as a prefix.)
    Case("tramway OR métro ", top=("Horaires du réseau de tramway", "Lignes de métro"), total=2),
    Case(
        "tramway OR métro",
        top=("Horaires du réseau de tramway", "Lignes de métro"),
        includes=("Plan local d'urbanisme intercommunal",),
    ),
    Case("qualité -air -baignade", first="Qualité de l'eau potable distribuée", total=1),
    # Rare words, coverage and organization names (lowest weight) are searched too.
    Case("tourbière", first="Zones humides", total=1),
    Case("Strasbourg", top=("Aménagements cyclables", "Stationnement vélo"), total=2),
    Case("Montpellier", first="Horaires du réseau de tramway", total=1),
    Case("Métropole Lyon", includes=("Lignes de métro", "Qualité de l'air : indice ATMO")),
]


@pytest.fixture
def corpus(db) -> None:
    db.execute(
        "INSERT INTO organization (siret, name) VALUES (:a, 'Direction des données A'), "
        "(:b, 'Agence B'), (:c, 'Métropole de Lyon')",
        a=ORG_A,
        b=ORG_B,
        c=ORG_C,
    )
    rows = [
        {"title": t, "description": d, "keywords": k, "coverage": c, "siret": o}
        for t, d, k, c, o in CORPUS
    ]
    db.execute(
        """
        INSERT INTO dataset (id, organization_siret, title, description, keywords, service,
            contact_emails, geographical_coverage, formats, visibility)
        SELECT gen_random_uuid(), r.siret, r.title, r.description,
            ARRAY(SELECT json_array_elements_text(r.keywords)), 'Service données',
            ARRAY['agent@example.gouv.fr'], r.coverage, ARRAY['CSV'], 'public'
        FROM json_to_recordset(CAST(:rows AS json))
            AS r(title text, description text, keywords json, coverage text, siret text)
        """,
        rows=json.dumps(rows),
    )


@pytest.mark.parametrize("case", CASES, ids=[case.query for case in CASES])
def test_relevance(case: Case, corpus: None, client: httpx.Client) -> None:
    response = client.get("/search/datasets", params={"q": case.query, "page_size": 50})
    assert response.status_code == 200, response.text
    body = response.json()
    found = [item["title"] for item in body["items"]]
    if case.first is not None:
        assert found[:1] == [case.first], found
    if case.top:
        assert set(found[: len(case.top)]) == set(case.top), found
    for title in case.includes:
        assert title in found, found
    for title in case.excludes:
        assert title not in found, found
    if case.total is not None:
        assert body["total"] == case.total, found
    assert body["suggestion"] == case.suggestion
    assert body["corrected"] == (case.suggestion is not None)


def test_relevance_set_is_large_enough() -> None:
    assert len(CASES) >= 30
    assert len(CORPUS) >= 30
