"""Realistic French catalog records, generated deterministically (seeded).

Vocabulary is drawn from what public bodies actually publish (environment,
transport, urbanism, health, budget...). A few words are planted at known rates so
that the benchmark's queries have known selectivities:

- COMMON_WORD ("données") is in about half of the descriptions;
- RARE_WORD ("tourbière") is in about 1 dataset in 2,000;
- PHRASE ("plan local d'urbanisme") is in about 1 dataset in 100.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

COMMON_WORD = "données"
RARE_WORD = "tourbière"
PHRASE = "plan local d'urbanisme"

THEMES = {
    "environnement": (
        [
            "Qualité de l'air",
            "Relevés de qualité de l'eau",
            "Inventaire des zones humides",
            "Arbres d'alignement",
            "Espaces naturels sensibles",
            "Émissions de gaz à effet de serre",
            "Bruit routier",
            "Déchets ménagers collectés",
            "Points d'apport volontaire",
            "Forêts publiques",
            "Haies bocagères",
            "Stations de mesure hydrométrique",
        ],
        ["environnement", "air", "eau", "biodiversité", "forêt", "déchets", "climat", "bruit"],
    ),
    "transport": (
        [
            "Horaires théoriques du réseau de bus",
            "Arrêts de tramway",
            "Aménagements cyclables",
            "Comptages routiers",
            "Stationnement vélo",
            "Bornes de recharge électrique",
            "Accidents corporels de la circulation",
            "Trafic ferroviaire régional",
            "Parkings relais",
            "Itinéraires de randonnée",
        ],
        ["transport", "mobilité", "vélo", "bus", "tramway", "route", "stationnement", "gtfs"],
    ),
    "urbanisme": (
        [
            "Plan local d'urbanisme",
            "Permis de construire délivrés",
            "Cadastre des parcelles",
            "Zonage d'assainissement",
            "Logements sociaux",
            "Bâtiments publics",
            "Adresses postales",
            "Limites communales",
            "Équipements sportifs",
        ],
        ["urbanisme", "cadastre", "logement", "bâtiment", "adresse", "foncier", "zonage"],
    ),
    "santé": (
        [
            "Établissements de santé",
            "Pharmacies de garde",
            "Défibrillateurs",
            "Centres de vaccination",
            "Qualité sanitaire des eaux de baignade",
            "Maisons de santé pluriprofessionnelles",
        ],
        ["santé", "hôpital", "pharmacie", "vaccination", "baignade", "soins"],
    ),
    "budget": (
        [
            "Budget primitif",
            "Compte administratif",
            "Subventions aux associations",
            "Marchés publics attribués",
            "Dette de la collectivité",
            "Indemnités des élus",
        ],
        ["budget", "finances", "subventions", "marchés publics", "comptabilité", "dépenses"],
    ),
    "éducation": (
        [
            "Établissements scolaires",
            "Effectifs des écoles",
            "Restauration scolaire",
            "Carte scolaire",
            "Résultats aux examens",
            "Accueil périscolaire",
        ],
        ["éducation", "école", "collège", "lycée", "cantine", "élèves"],
    ),
    "culture": (
        [
            "Musées et monuments",
            "Bibliothèques municipales",
            "Fréquentation des musées",
            "Patrimoine protégé",
            "Agenda culturel",
            "Fonds d'archives numérisés",
        ],
        ["culture", "patrimoine", "musée", "bibliothèque", "archives", "tourisme"],
    ),
    "économie": (
        [
            "Entreprises immatriculées",
            "Zones d'activité économique",
            "Offres d'emploi",
            "Marchés alimentaires",
            "Commerces de proximité",
            "Fréquentation touristique",
        ],
        ["économie", "emploi", "entreprises", "commerce", "tourisme", "agriculture"],
    ),
}

PLACES = [
    "Bretagne",
    "Normandie",
    "Occitanie",
    "Hauts-de-France",
    "Grand Est",
    "Bourgogne-Franche-Comté",
    "Auvergne-Rhône-Alpes",
    "Nouvelle-Aquitaine",
    "Pays de la Loire",
    "Centre-Val de Loire",
    "Île-de-France",
    "Provence-Alpes-Côte d'Azur",
    "Corse",
    "Finistère",
    "Gironde",
    "Isère",
    "Nord",
    "Bouches-du-Rhône",
    "Haute-Garonne",
    "Loire-Atlantique",
    "Rennes",
    "Nantes",
    "Lyon",
    "Lille",
    "Toulouse",
    "Marseille",
    "Strasbourg",
    "Bordeaux",
    "Montpellier",
    "Dijon",
    "France métropolitaine",
    "France entière",
]
ORG_KINDS = [
    "Commune de",
    "Métropole de",
    "Département de",
    "Région",
    "Communauté de communes de",
    "Syndicat des eaux de",
    "Agence d'urbanisme de",
    "Office de tourisme de",
]
SERVICES = [
    "Direction de l'environnement",
    "Service SIG",
    "Direction des mobilités",
    "Service urbanisme",
    "Direction des finances",
    "Service culture",
    "Direction du numérique",
    "Observatoire territorial",
]
SOURCES = ["ArcGIS", "QGIS Server", "Oracle", "PostgreSQL", "SAP", "Excel", "GRAND LYON DATA"]
SENTENCES = [
    "Ce jeu recense l'ensemble des éléments connus sur le territoire.",
    "La mise à jour est assurée par le service producteur à partir de relevés de terrain.",
    "Les informations sont géolocalisées et accompagnées d'un identifiant unique.",
    "Chaque enregistrement précise la date de la dernière observation.",
    "La méthodologie de collecte a évolué en 2019 ; les séries antérieures restent disponibles.",
    "Les valeurs manquantes sont signalées par un champ vide.",
    "Le fichier est diffusé sous licence ouverte afin de favoriser sa réutilisation.",
    "Les coordonnées sont exprimées en Lambert 93.",
    "Une documentation détaillée des champs accompagne la ressource.",
    "Les agents du service vérifient la cohérence des saisies chaque trimestre.",
    "Ce référentiel sert de base aux études d'aménagement et aux politiques publiques locales.",
    "Il permet de suivre l'évolution des indicateurs sur plusieurs années.",
    "Les périmètres correspondent aux limites administratives en vigueur au 1er janvier.",
    "La précision géographique est de l'ordre du mètre en zone urbaine.",
]
FORMATS = ["CSV", "XLSX", "JSON", "GeoJSON", "SHP", "PDF", "API", "XML", "ODS", "Parquet"]
FREQUENCIES = ["daily", "weekly", "monthly", "quarterly", "yearly", "irregular", "never"]
LICENSES = ["Licence Ouverte 2.0", "ODbL", "CC-BY 4.0", "Licence Ouverte 1.0", None]
NOW = datetime(2026, 11, 1, tzinfo=UTC)


def siret_for(index: int) -> str:
    """A valid SIRET (Luhn checksum) for organization number `index`."""
    base = f"2{index:012d}"
    for check in range(10):
        digits = [int(c) for c in base + str(check)]
        total = sum(
            d if position % 2 == 0 else (d * 2 - 9 if d * 2 > 9 else d * 2)
            for position, d in enumerate(reversed(digits))
        )
        if total % 10 == 0:
            return base + str(check)
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class Organization:
    siret: str
    name: str


def organizations(count: int) -> list[Organization]:
    result = []
    for index in range(count):
        place = PLACES[index % len(PLACES)]
        kind = ORG_KINDS[(index // len(PLACES)) % len(ORG_KINDS)]
        round_ = index // (len(PLACES) * len(ORG_KINDS))
        suffix = f" ({round_ + 1})" if round_ else ""
        result.append(Organization(siret_for(index + 1), f"{kind} {place}{suffix}"))
    return result


#: Column order of `dataset_rows` (a subset of the `dataset` table; the rest defaults).
DATASET_COLUMNS = (
    "id",
    "organization_siret",
    "title",
    "description",
    "keywords",
    "service",
    "technical_source",
    "service_contact_email",
    "contact_emails",
    "first_publication_date",
    "last_update_date",
    "update_frequency",
    "geographical_coverage",
    "url",
    "formats",
    "license",
    "visibility",
    "extra_fields",
    "created_at",
    "updated_at",
    "version",
)


def _description(rng: random.Random, title: str, place: str, index: int) -> str:
    parts = [f"{title} sur le territoire de {place}."]
    if index % 2 == 0:
        parts.append(f"Les {COMMON_WORD} proviennent des systèmes d'information du producteur.")
    if index % 100 == 37:
        parts.append(f"Elles complètent le {PHRASE} approuvé par le conseil.")
    if index % 2000 == 1234:
        parts.append(f"Une {RARE_WORD} classée figure dans le périmètre.")
    target = rng.randint(100, 2000)
    while sum(len(p) + 1 for p in parts) < target:
        parts.append(rng.choice(SENTENCES))
    text = " ".join(parts)
    return text[:2000]


def dataset_rows(count: int, orgs: list[Organization], seed: int = 42) -> Iterator[tuple]:
    """`count` dataset rows in `DATASET_COLUMNS` order."""
    rng = random.Random(seed)
    themes = list(THEMES.values())
    for index in range(count):
        titles, theme_keywords = themes[index % len(themes)]
        org = orgs[rng.randrange(len(orgs))]
        place = rng.choice(PLACES)
        year = rng.randint(2012, 2026)
        title = f"{rng.choice(titles)} - {place} {year}"
        keywords = rng.sample(theme_keywords, rng.randint(2, 4))
        created = NOW - timedelta(seconds=rng.randint(0, 5 * 365 * 86400))
        updated = created + timedelta(seconds=rng.randint(0, int((NOW - created).total_seconds())))
        roll = rng.random()
        visibility = "public" if roll < 0.8 else ("restricted" if roll < 0.9 else "draft")
        published = date(year, rng.randint(1, 12), rng.randint(1, 28))
        yield (
            uuid.UUID(int=rng.getrandbits(128), version=4),
            org.siret,
            title,
            _description(rng, title, place, index),
            keywords,
            rng.choice(SERVICES),
            rng.choice(SOURCES),
            "contact@example.gouv.fr",
            ["agent@example.gouv.fr"],
            published,
            published + timedelta(days=rng.randint(0, 900)),
            rng.choice(FREQUENCIES),
            place,
            f"https://data.example.gouv.fr/jeux/{index}",
            rng.sample(FORMATS, rng.randint(1, 3)),
            rng.choice(LICENSES),
            visibility,
            json.dumps({}),
            created,
            updated,
            1,
        )


def all_keywords() -> list[str]:
    return sorted({keyword for _, keywords in THEMES.values() for keyword in keywords})
