"""DCAT-AP 3 views of the catalog and of datasets (Turtle, JSON-LD, RDF/XML).

Each dataset is a `dcat:Dataset` published by its organization (`foaf:Agent`),
with one `dcat:Distribution` per format. Controlled values use the EU
vocabularies: update frequency (frequency NAL), file type (file-type NAL, from
`Format.eu_file_type`), language (French), and licence (licence NAL when the
licence has an entry there, else the licence's own URL). Every EU concept used
is described in the graph itself (`skos:Concept`, `skos:inScheme`,
`skos:prefLabel`), as the DCAT-AP SHACL shapes check those triples.

The catalog is paged with Hydra (`hydra:PagedCollection`, `hydra:next`...): a
page lists `page_size` datasets and links to the next page.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import quote, urlencode

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, RDFS, SKOS, XSD
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from catalogage.datasets.models import Dataset
from catalogage.datasets.visibility import visible_to
from catalogage.vocabularies.frequencies import EU_FREQUENCY, FREQUENCIES, UpdateFrequency
from catalogage.vocabularies.models import Format, License
from catalogage.vocabularies.normalize import fold

HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
LOCN = Namespace("http://www.w3.org/ns/locn#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
EU_AUTHORITY = "http://publications.europa.eu/resource/authority/"
EU_FILE_TYPE = EU_AUTHORITY + "file-type/"
EU_LANGUAGE = EU_AUTHORITY + "language/"
EU_LICENCE = EU_AUTHORITY + "licence/"
FRENCH = URIRef(EU_LANGUAGE + "FRA")
#: Characters a URL typed by a user may hold but an IRI may not (RDF serialisers refuse them,
#: failing the whole catalog): percent-encoded, everything else kept as typed.
_NOT_IN_IRI = {c: f"%{ord(c):02X}" for c in '<>" {}|\\^`'}


def user_iri(url: str) -> URIRef:
    """An IRI for a URL stored as users typed it."""
    return URIRef("".join(_NOT_IN_IRI.get(c, c) for c in url))


#: Our default licences (folded names) that have an entry in the EU licence NAL.
EU_LICENCES = {
    "cc-by 4.0": ("CC_BY_4_0", "Creative Commons Attribution 4.0 International"),
    "cc-by-sa 4.0": ("CC_BYSA_4_0", "Creative Commons Attribution-ShareAlike 4.0 International"),
    "cc0 1.0": ("CC0", "Creative Commons CC0 1.0 Universal"),
    "odbl": ("ODC_BL", "Open Data Commons Open Database License 1.0"),
}

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


class RdfFormat(StrEnum):
    TURTLE = "ttl"
    JSONLD = "jsonld"
    RDFXML = "rdf"

    @property
    def media_type(self) -> str:
        return {
            RdfFormat.TURTLE: "text/turtle",
            RdfFormat.JSONLD: "application/ld+json",
            RdfFormat.RDFXML: "application/rdf+xml",
        }[self]

    @property
    def rdflib_name(self) -> str:
        return {
            RdfFormat.TURTLE: "turtle",
            RdfFormat.JSONLD: "json-ld",
            RdfFormat.RDFXML: "xml",
        }[self]


_MEDIA_TYPES = {fmt.media_type: fmt for fmt in RdfFormat} | {
    "application/x-turtle": RdfFormat.TURTLE,
    "application/json-ld": RdfFormat.JSONLD,
    "application/xml": RdfFormat.RDFXML,
}


def negotiate(accept: str | None) -> RdfFormat | None:
    """The RDF format `accept` prefers over JSON, or None to answer JSON.

    JSON wins ties, and wildcards (`*/*`) mean JSON: browsers and API clients that
    do not ask for RDF get what they always got.
    """
    if not accept:
        return None
    best: tuple[float, int] = (0.0, 0)
    choice: RdfFormat | None = None
    json_quality = 0.0
    for position, part in enumerate(accept.split(",")):
        media, *params = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        media = media.lower()
        if media in {"application/json", "*/*", "application/*"}:
            json_quality = max(json_quality, quality)
        elif media in _MEDIA_TYPES and (quality, -position) > best:
            best = (quality, -position)
            choice = _MEDIA_TYPES[media]
    if choice is None or best[0] <= 0 or best[0] <= json_quality:
        return None
    return choice


@dataclass
class Vocabularies:
    """Lookups from our vocabulary tables, loaded once per response."""

    #: Format name -> EU file-type code.
    file_types: dict[str, str]
    #: Folded licence name -> reference URL.
    license_urls: dict[str, str]


async def load_vocabularies(session: AsyncSession) -> Vocabularies:
    formats = await session.execute(select(Format.name, Format.eu_file_type))
    licenses = await session.execute(select(License.key, License.url))
    return Vocabularies(
        file_types={name: code for name, code in formats if code},
        license_urls={key: url for key, url in licenses if url},
    )


class Builder:
    """Adds DCAT-AP triples to one graph; `base` is the site's URL (no trailing slash)."""

    def __init__(self, base: str, vocabularies: Vocabularies) -> None:
        self.base = base.rstrip("/")
        self.vocabularies = vocabularies
        self.graph = Graph()
        for prefix, namespace in (
            ("dcat", DCAT),
            ("dct", DCTERMS),
            ("foaf", FOAF),
            ("vcard", VCARD),
            ("skos", SKOS),
            ("hydra", HYDRA),
            ("locn", LOCN),
        ):
            self.graph.bind(prefix, namespace)
        self._concepts: set[URIRef] = set()

    # -- IRIs --------------------------------------------------------------------

    def dataset_iri(self, dataset_id: uuid.UUID) -> URIRef:
        return URIRef(f"{self.base}/datasets/{dataset_id}")

    def organization_iri(self, siret: str) -> URIRef:
        return URIRef(f"{self.base}/organizations/{quote(siret)}")

    def catalog_iri(self) -> URIRef:
        return URIRef(f"{self.base}/catalog")

    # -- vocabulary concepts -----------------------------------------------------

    def concept(self, iri: str, scheme: str, label: str, *classes: URIRef) -> URIRef:
        node = URIRef(iri)
        if node not in self._concepts:
            self._concepts.add(node)
            graph = self.graph
            graph.add((node, RDF.type, SKOS.Concept))
            for cls in classes:
                graph.add((node, RDF.type, cls))
            graph.add((node, SKOS.inScheme, URIRef(scheme)))
            graph.add((node, SKOS.prefLabel, Literal(label, lang="en")))
        return node

    def french(self) -> URIRef:
        return self.concept(
            str(FRENCH), EU_AUTHORITY + "language", "French", DCTERMS.LinguisticSystem
        )

    def frequency(self, code: str) -> URIRef:
        info = FREQUENCIES[UpdateFrequency(code)]
        return self.concept(info.eu_uri, EU_FREQUENCY.rstrip("/"), info.label_en, DCTERMS.Frequency)

    def file_type(self, format_name: str) -> URIRef | None:
        code = self.vocabularies.file_types.get(format_name)
        if code is None:
            return None
        return self.concept(
            EU_FILE_TYPE + code, EU_FILE_TYPE.rstrip("/"), code, DCTERMS.MediaTypeOrExtent
        )

    def license(self, name: str) -> URIRef | BNode:
        key = fold(name)
        if key in EU_LICENCES:
            code, label = EU_LICENCES[key]
            node: URIRef | BNode = self.concept(
                EU_LICENCE + code, EU_LICENCE.rstrip("/"), label, DCTERMS.LicenseDocument
            )
        elif key in self.vocabularies.license_urls:
            node = user_iri(self.vocabularies.license_urls[key])
            self.graph.add((node, RDF.type, DCTERMS.LicenseDocument))
        else:
            node = BNode()
            self.graph.add((node, RDF.type, DCTERMS.LicenseDocument))
        self.graph.add((node, RDFS.label, Literal(name)))
        return node

    # -- resources ---------------------------------------------------------------

    def organization(self, siret: str, name: str) -> URIRef:
        node = self.organization_iri(siret)
        graph = self.graph
        graph.add((node, RDF.type, FOAF.Agent))
        graph.add((node, RDF.type, FOAF.Organization))
        graph.add((node, FOAF.name, Literal(name)))
        graph.add((node, DCTERMS.identifier, Literal(siret)))
        return node

    def document(self, url: str) -> URIRef:
        node = user_iri(url)
        self.graph.add((node, RDF.type, FOAF.Document))
        return node

    def dataset(self, dataset: Dataset) -> URIRef:
        graph = self.graph
        node = self.dataset_iri(dataset.id)
        graph.add((node, RDF.type, DCAT.Dataset))
        graph.add((node, DCTERMS.identifier, Literal(str(dataset.id))))
        graph.add((node, DCTERMS.title, Literal(dataset.title, lang="fr")))
        graph.add((node, DCTERMS.description, Literal(dataset.description, lang="fr")))
        for keyword in dataset.keywords:
            graph.add((node, DCAT.keyword, Literal(keyword, lang="fr")))
        graph.add((node, DCTERMS.language, self.french()))
        graph.add(
            (
                node,
                DCTERMS.publisher,
                self.organization(dataset.organization.siret, dataset.organization.name),
            )
        )
        graph.add((node, DCAT.contactPoint, self._contact(dataset)))
        if dataset.first_publication_date:
            graph.add(
                (node, DCTERMS.issued, Literal(dataset.first_publication_date, datatype=XSD.date))
            )
        if dataset.last_update_date:
            graph.add(
                (node, DCTERMS.modified, Literal(dataset.last_update_date, datatype=XSD.date))
            )
        if dataset.update_frequency:
            graph.add((node, DCTERMS.accrualPeriodicity, self.frequency(dataset.update_frequency)))
        location = BNode()
        graph.add((location, RDF.type, DCTERMS.Location))
        graph.add(
            (location, LOCN.geographicName, Literal(dataset.geographical_coverage, lang="fr"))
        )
        graph.add((node, DCTERMS.spatial, location))
        if dataset.url:
            graph.add((node, DCAT.landingPage, self.document(dataset.url)))
        for position, format_name in enumerate(dataset.formats, start=1):
            distribution = self._distribution(dataset, format_name, position)
            graph.add((node, DCAT.distribution, distribution))
        return node

    def _contact(self, dataset: Dataset) -> BNode:
        graph = self.graph
        contact = BNode()
        graph.add((contact, RDF.type, VCARD.Kind))
        graph.add((contact, RDF.type, VCARD.Organization))
        graph.add((contact, VCARD.fn, Literal(dataset.service)))
        graph.add((contact, VCARD["organization-name"], Literal(dataset.service)))
        if dataset.service_contact_email:
            graph.add((contact, VCARD.hasEmail, URIRef(f"mailto:{dataset.service_contact_email}")))
        for position, email in enumerate(dataset.contact_emails, start=1):
            # Numbered like distributions, so that harvesters keep the order.
            member = URIRef(f"{self.dataset_iri(dataset.id)}#contact-{position:03d}")
            graph.add((member, RDF.type, VCARD.Kind))
            graph.add((member, RDF.type, VCARD.Individual))
            graph.add((member, VCARD.hasEmail, URIRef(f"mailto:{email}")))
            graph.add((contact, VCARD.hasMember, member))
        return contact

    def _distribution(self, dataset: Dataset, format_name: str, position: int) -> URIRef:
        graph = self.graph
        # Numbered IRIs keep the formats' order for harvesters (RDF has no order).
        distribution = URIRef(f"{self.dataset_iri(dataset.id)}#distribution-{position:03d}")
        graph.add((distribution, RDF.type, DCAT.Distribution))
        graph.add((distribution, DCTERMS.title, Literal(format_name)))
        access = dataset.url or str(self.dataset_iri(dataset.id))
        graph.add((distribution, DCAT.accessURL, user_iri(access)))
        file_type = self.file_type(format_name)
        if file_type is not None:
            graph.add((distribution, DCTERMS.format, file_type))
        if dataset.license:
            graph.add((distribution, DCTERMS.license, self.license(dataset.license)))
        return distribution

    def catalog(self, title: str, description: str) -> URIRef:
        graph = self.graph
        node = self.catalog_iri()
        graph.add((node, RDF.type, DCAT.Catalog))
        graph.add((node, DCTERMS.title, Literal(title, lang="fr")))
        graph.add((node, DCTERMS.description, Literal(description, lang="fr")))
        graph.add((node, DCTERMS.language, self.french()))
        graph.add((node, FOAF.homepage, self.document(self.base + "/")))
        publisher = URIRef(self.base + "/#publisher")
        graph.add((publisher, RDF.type, FOAF.Agent))
        graph.add((publisher, FOAF.name, Literal(title)))
        graph.add((node, DCTERMS.publisher, publisher))
        return node

    def paging(self, page_url: str, *, page: int, page_size: int, total: int) -> None:
        """Hydra paging terms on the page's own URL (both the Hydra core and the older
        `*Page` properties, which CKAN's DCAT harvester reads)."""
        graph = self.graph
        base, _, _ = page_url.partition("?")
        last = max(1, -(-total // page_size))

        def link(number: int) -> URIRef:
            return URIRef(f"{base}?{urlencode({'page': number, 'page_size': page_size})}")

        node = link(page)
        graph.add((node, RDF.type, HYDRA.PagedCollection))
        graph.add((node, HYDRA.totalItems, Literal(total, datatype=XSD.integer)))
        graph.add((node, HYDRA.itemsPerPage, Literal(page_size, datatype=XSD.integer)))
        for term, legacy, number in (
            (HYDRA.first, HYDRA.firstPage, 1),
            (HYDRA.last, HYDRA.lastPage, last),
            (HYDRA.next, HYDRA.nextPage, page + 1 if page < last else None),
            (HYDRA.previous, HYDRA.previousPage, page - 1 if page > 1 else None),
        ):
            if number is not None:
                graph.add((node, term, link(number)))
                graph.add((node, legacy, link(number)))

    def serialize(self, fmt: RdfFormat) -> bytes:
        data: Any = self.graph.serialize(format=fmt.rdflib_name, encoding="utf-8")
        return bytes(data)


async def catalog_page(
    session: AsyncSession,
    visible: set[str] | None,
    *,
    base: str,
    page_url: str,
    page: int,
    page_size: int,
) -> Builder:
    """The catalog and one page of the datasets the caller may see."""
    total = await session.scalar(
        select(func.count()).select_from(Dataset).where(visible_to(visible))
    )
    datasets: Sequence[Dataset] = (
        await session.scalars(
            select(Dataset)
            .where(visible_to(visible))
            .order_by(Dataset.created_at, Dataset.id)
            .offset((page - 1) * page_size)
            .limit(page_size)
        )
    ).all()
    builder = Builder(base, await load_vocabularies(session))
    catalog = builder.catalog(
        "Catalogue des données",
        "Jeux de données décrits par les administrations (schéma catalogue-donnees).",
    )
    for dataset in datasets:
        builder.graph.add((catalog, DCAT.dataset, builder.dataset(dataset)))
    builder.paging(page_url, page=page, page_size=page_size, total=total or 0)
    return builder


async def dataset_document(session: AsyncSession, dataset: Dataset, *, base: str) -> Builder:
    builder = Builder(base, await load_vocabularies(session))
    builder.dataset(dataset)
    return builder
