"""Harvesting a remote catalog (DCAT or CKAN API) into one of our catalogs.

The source is a URL (or, from the command line, a local file):

- an RDF document (Turtle, JSON-LD, RDF/XML) with `dcat:Dataset`s; Hydra paging
  (`hydra:next`, or the older `hydra:nextPage`) is followed;
- otherwise the root of a CKAN site, read through `package_search`.

Each remote dataset becomes a candidate for `changes.plan_changes`, so harvested
records pass exactly the validation of the JSON API. A `HarvestRecord` remembers
(source URL, remote id) -> dataset: harvesting again updates the same datasets,
and datasets the source no longer lists are flagged (`removed_upstream_at`),
never deleted. Valid records are applied even when others are rejected; the
report says which and why.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import anyio
import httpx
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, RDFS, SKOS
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from catalogage import __version__
from catalogage.accounts.models import User
from catalogage.catalogs.models import Catalog
from catalogage.catalogs.service import get_catalog
from catalogage.datasets.models import Visibility
from catalogage.interop.changes import Candidate, apply_plan, lock_catalog, plan_changes
from catalogage.interop.dcat import EU_LICENCE, EU_LICENCES, HYDRA, LOCN, VCARD
from catalogage.interop.models import HarvestRecord
from catalogage.interop.schemas import FileInfo, ImportReport, Problem, RowAction, RowReport
from catalogage.interop.tabular import extra_value, field_value
from catalogage.organizations.service import get_organization
from catalogage.vocabularies.frequencies import FREQUENCIES
from catalogage.vocabularies.models import Format, License
from catalogage.vocabularies.normalize import fold

MAX_DOCUMENT_BYTES = 64 * 1024 * 1024
MAX_PAGES = 10_000
CKAN_PAGE_ROWS = 1000
TIMEOUT_SECONDS = 60.0
#: Placeholder for sources that do not describe the geographic coverage (required here).
UNKNOWN_COVERAGE = "Non précisée"

_RDF_TYPES = {
    "text/turtle": "turtle",
    "application/x-turtle": "turtle",
    "application/ld+json": "json-ld",
    "application/rdf+xml": "xml",
    "application/xml": "xml",
    "text/xml": "xml",
}
_RDF_EXTENSIONS = {".ttl": "turtle", ".jsonld": "json-ld", ".rdf": "xml", ".xml": "xml"}
_ACCEPT = (
    "text/turtle, application/ld+json;q=0.9, application/rdf+xml;q=0.9, application/json;q=0.5"
)


class HarvestError(Exception):
    """The source cannot be harvested at all (unreachable, not DCAT nor CKAN...)."""


Progress = Callable[[str, int], None]


# -- fetching -----------------------------------------------------------------------


@dataclass
class Fetched:
    url: str
    status_code: int
    content_type: str
    content: bytes

    def json(self) -> Any:
        return json.loads(self.content)


async def _get(client: httpx.AsyncClient, url: str, **params: Any) -> Fetched:
    """GET `url`, refusing bodies over MAX_DOCUMENT_BYTES without reading them whole."""
    try:
        async with client.stream("GET", url, params=params or None) as response:
            chunks = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > MAX_DOCUMENT_BYTES:
                    raise HarvestError(f"{url}: larger than {MAX_DOCUMENT_BYTES:,} bytes")
                chunks.append(chunk)
            return Fetched(
                str(response.url),
                response.status_code,
                response.headers.get("content-type", ""),
                b"".join(chunks),
            )
    except httpx.HTTPError as exc:
        raise HarvestError(f"{url}: {type(exc).__name__}: {exc}") from None


def _rdf_format(content_type: str, url: str) -> str | None:
    media = content_type.split(";", 1)[0].strip().lower()
    if media in _RDF_TYPES:
        return _RDF_TYPES[media]
    return _RDF_EXTENSIONS.get(Path(urlsplit(url).path).suffix.lower())


def _parse(data: bytes, rdf_format: str, where: str) -> Graph:
    if rdf_format == "json-ld":
        _refuse_remote_contexts(data, where)
    try:
        # Relative IRIs (a relative hydra:next...) resolve against the document's URL.
        return Graph().parse(data=data, format=rdf_format, publicID=where)
    except Exception as exc:  # rdflib raises parser-specific types
        raise HarvestError(f"{where}: not valid RDF ({type(exc).__name__}: {exc})") from None


def _refuse_remote_contexts(data: bytes, where: str) -> None:
    """JSON-LD `@context` URLs would make the parser fetch other URLs: refused."""

    def contexts(node: Any) -> Iterator[Any]:
        if isinstance(node, dict):
            if "@context" in node:
                yield node["@context"]
            for value in node.values():
                yield from contexts(value)
        elif isinstance(node, list):
            for value in node:
                yield from contexts(value)

    try:
        document = json.loads(data)
    except ValueError:
        raise HarvestError(f"{where}: not valid JSON-LD") from None
    for context in contexts(document):
        items = context if isinstance(context, list) else [context]
        if any(isinstance(item, str) for item in items):
            raise HarvestError(f"{where}: remote JSON-LD contexts are not fetched; inline them")


def _next_page(graph: Graph) -> str | None:
    for term in (HYDRA.next, HYDRA.nextPage):
        for value in graph.objects(None, term):
            return str(value)
    return None


async def _dcat_graphs(
    client: httpx.AsyncClient, first: Fetched, url: str, progress: Progress | None
) -> list[Graph]:
    graphs = []
    seen = {url}
    response = first
    page_url = url
    while True:
        rdf_format = _rdf_format(response.content_type, page_url)
        if rdf_format is None:
            raise HarvestError(f"{page_url}: not an RDF document")
        graph = _parse(response.content, rdf_format, page_url)
        graphs.append(graph)
        if progress:
            progress("pages", len(graphs))
        following = _next_page(graph)
        if following is None:
            return graphs
        following = urljoin(page_url, following)
        if following in seen or len(graphs) >= MAX_PAGES:
            return graphs
        seen.add(following)
        page_url = following
        response = await _get(client, page_url)
        if response.status_code != 200:
            raise HarvestError(f"{page_url}: HTTP {response.status_code}")


async def _ckan_packages(
    client: httpx.AsyncClient, root: str, progress: Progress | None
) -> list[dict[str, Any]]:
    endpoint = root.rstrip("/") + "/api/3/action/package_search"
    packages: list[dict[str, Any]] = []
    start = 0
    for _ in range(MAX_PAGES):
        response = await _get(
            client, endpoint, rows=CKAN_PAGE_ROWS, start=start, sort="metadata_created asc"
        )
        try:
            body = response.json()
            result = body["result"] if body.get("success") else None
        except (ValueError, KeyError, AttributeError):
            result = None
        if not isinstance(result, dict):
            raise HarvestError(f"{endpoint}: not a CKAN package_search answer")
        batch = result.get("results") or []
        packages.extend(batch)
        if progress:
            progress("pages", start // CKAN_PAGE_ROWS + 1)
        start += len(batch)
        if not batch or start >= int(result.get("count") or 0):
            break
    return packages


def _ckan_root(url: str) -> str:
    marker = url.find("/api/")
    return url[:marker] if marker >= 0 else url.rstrip("/")


# -- mapping DCAT -------------------------------------------------------------------


class _Vocab:
    def __init__(
        self, formats: list[tuple[str, str | None]], licenses: list[tuple[str, str, str | None]]
    ):
        self.format_by_key = {fold(name): name for name, _ in formats}
        self.format_by_code = {code: name for name, code in formats if code}
        self.license_by_url = {url.rstrip("/"): name for name, _, url in licenses if url}
        self.license_by_key = {key: name for name, key, _ in licenses}
        self.frequency_by_eu = {info.eu_code: code.value for code, info in FREQUENCIES.items()}

    def format_name(self, text: str) -> str | None:
        return self.format_by_key.get(fold(text))

    def license_name(self, graph: Graph, node: Any) -> str | None:
        if isinstance(node, URIRef):
            iri = str(node)
            if iri.rstrip("/") in self.license_by_url:
                return self.license_by_url[iri.rstrip("/")]
            if iri.startswith(EU_LICENCE):
                code = iri.removeprefix(EU_LICENCE)
                for key, (eu_code, _) in EU_LICENCES.items():
                    if eu_code == code and key in self.license_by_key:
                        return self.license_by_key[key]
        label = _label(graph, node)
        if label:
            return label
        return str(node) if isinstance(node, URIRef) else None


async def _vocabularies(session: AsyncSession) -> _Vocab:
    formats = (await session.execute(select(Format.name, Format.eu_file_type))).all()
    licenses = (await session.execute(select(License.name, License.key, License.url))).all()
    return _Vocab(list(formats), list(licenses))


def _literals(graph: Graph, node: Any, predicate: URIRef) -> list[Literal]:
    return [value for value in graph.objects(node, predicate) if isinstance(value, Literal)]


def _text(graph: Graph, node: Any, *predicates: URIRef) -> str | None:
    """The first literal of the first predicate that has one, preferring French."""
    for predicate in predicates:
        values = _literals(graph, node, predicate)
        if values:
            french = [v for v in values if v.language in ("fr", None)]
            return str((french or values)[0]).strip() or None
    return None


def _label(graph: Graph, node: Any) -> str | None:
    return _text(
        graph, node, SKOS.prefLabel, RDFS.label, DCTERMS.title, LOCN.geographicName, FOAF.name
    )


def _email(node: Any) -> str | None:
    text = str(node)
    if text.startswith("mailto:"):
        text = text.removeprefix("mailto:")
    return text.strip() or None


def _date(graph: Graph, node: Any, predicate: URIRef) -> str | None:
    value = _text(graph, node, predicate)
    return value[:10] if value else None


def _distribution_key(graph: Graph, distribution: Any) -> tuple[int, str]:
    """A stable order for distributions: by IRI, else by title and format (blank nodes)."""
    if isinstance(distribution, URIRef):
        return (0, str(distribution))
    title = _text(graph, distribution, DCTERMS.title) or ""
    return (1, title + str(next(iter(graph.objects(distribution, DCTERMS.format)), "")))


def dcat_candidate(graph: Graph, node: Any, position: int, vocab: _Vocab) -> Candidate:
    """A candidate from one `dcat:Dataset` (remote id: its IRI, or its dct:identifier)."""
    identifier = str(node) if isinstance(node, URIRef) else _text(graph, node, DCTERMS.identifier)
    candidate = Candidate(row=position, remote_id=identifier)
    values = candidate.values
    values["title"] = _text(graph, node, DCTERMS.title)
    values["description"] = _text(graph, node, DCTERMS.description)
    # RDF keeps no order: sorted, so that harvesting again finds the same list.
    keywords = {str(k).strip() for k in _literals(graph, node, DCAT.keyword)}
    values["keywords"] = sorted(keywords, key=lambda k: (fold(k), k))
    contacts = list(graph.objects(node, DCAT.contactPoint))
    service = None
    service_email = None
    people: list[str] = []
    for contact in contacts:
        service = service or _text(graph, contact, VCARD["organization-name"], VCARD.fn)
        for email in graph.objects(contact, VCARD.hasEmail):
            service_email = service_email or _email(email)
        members = graph.objects(contact, VCARD.hasMember)
        for member in sorted(members, key=lambda m: (isinstance(m, BNode), str(m))):
            people.extend(filter(None, (_email(e) for e in graph.objects(member, VCARD.hasEmail))))
    publisher = next(iter(graph.objects(node, DCTERMS.publisher)), None)
    if service is None and publisher is not None:
        service = _text(graph, publisher, FOAF.name)
    values["service"] = service
    values["service_contact_email"] = service_email
    values["contact_emails"] = people or ([service_email] if service_email else [])
    values["first_publication_date"] = _date(graph, node, DCTERMS.issued)
    values["last_update_date"] = _date(graph, node, DCTERMS.modified)
    frequency = next(iter(graph.objects(node, DCTERMS.accrualPeriodicity)), None)
    if frequency is not None:
        code = str(frequency).rstrip("/").rsplit("/", 1)[-1]
        values["update_frequency"] = vocab.frequency_by_eu.get(code)
        if values["update_frequency"] is None:
            candidate.warnings.append(
                Problem(field="freq_maj", message=f"unknown frequency {frequency}")
            )
    spatial = next(iter(graph.objects(node, DCTERMS.spatial)), None)
    coverage = _label(graph, spatial) if spatial is not None else None
    if coverage is None and isinstance(spatial, URIRef):
        coverage = str(spatial)
    if coverage is None:
        coverage = UNKNOWN_COVERAGE
        candidate.warnings.append(
            Problem(
                field="couv_geo", message=f"not given by the source: set to {UNKNOWN_COVERAGE!r}"
            )
        )
    values["geographical_coverage"] = coverage
    landing = next(iter(graph.objects(node, DCAT.landingPage)), None)
    values["url"] = str(landing) if isinstance(landing, URIRef) else None
    formats: list[str] = []
    unknown: list[str] = []
    license_name = None
    for distribution in sorted(
        graph.objects(node, DCAT.distribution), key=lambda d: _distribution_key(graph, d)
    ):
        title = _text(graph, distribution, DCTERMS.title)
        name = vocab.format_name(title) if title else None
        file_type = next(iter(graph.objects(distribution, DCTERMS.format)), None)
        if name is None and file_type is not None:
            code = str(file_type).rstrip("/").rsplit("/", 1)[-1]
            name = vocab.format_by_code.get(code) or vocab.format_name(code)
        if name is None:
            unknown.append(title or str(file_type or "?"))
        elif name not in formats:
            formats.append(name)
        licence = next(iter(graph.objects(distribution, DCTERMS.license)), None)
        if license_name is None and licence is not None:
            license_name = vocab.license_name(graph, licence)
    values["formats"] = formats or unknown
    if formats and unknown:
        candidate.warnings.append(
            Problem(field="format", message=f"formats left out (unknown): {', '.join(unknown)}")
        )
    values["license"] = license_name
    return candidate


def dcat_candidates(graphs: list[Graph], vocab: _Vocab) -> list[Candidate]:
    candidates: list[Candidate] = []
    seen: set[Any] = set()
    for graph in graphs:
        for node in graph.subjects(RDF.type, DCAT.Dataset):
            if node in seen:
                continue
            seen.add(node)
            candidate = dcat_candidate(graph, node, len(candidates) + 1, vocab)
            if candidate.remote_id is None:
                candidate.errors.append(
                    Problem(field="id", message="a blank-node dataset without dct:identifier")
                )
            candidates.append(candidate)
    return candidates


# -- mapping CKAN -------------------------------------------------------------------


def ckan_candidate(package: dict[str, Any], position: int, catalog: Catalog) -> Candidate:
    candidate = Candidate(row=position, remote_id=str(package.get("id") or package.get("name")))
    extras = {
        str(item.get("key")): item.get("value")
        for item in package.get("extras") or []
        if isinstance(item, dict)
    }
    organization = package.get("organization") or {}
    values = candidate.values

    def extra(name: str) -> str | None:
        value = extras.get(name)
        return str(value).strip() if value not in (None, "") else None

    def extra_or(name: str, fallback: Any) -> str | None:
        """The extra when the source has it (even empty), else `fallback`."""
        if name in extras:
            return extra(name)
        return str(fallback).strip() or None if fallback else None

    values["title"] = package.get("title") or package.get("name")
    values["description"] = package.get("notes") or None
    values["keywords"] = [t.get("name") for t in package.get("tags") or [] if t.get("name")]
    values["service"] = (
        extra("service") or package.get("maintainer") or organization.get("title") or None
    )
    values["service_contact_email"] = extra_or("contact_service", package.get("maintainer_email"))
    people = (
        extra("contact_personne") or package.get("author_email") or package.get("maintainer_email")
    )
    values["contact_emails"] = [e.strip() for e in str(people or "").split(",") if e.strip()]
    values["technical_source"] = extra("si")
    for column, name, fallback in (
        ("date_pub", "first_publication_date", "metadata_created"),
        ("date_maj", "last_update_date", "metadata_modified"),
    ):
        text = extra_or(column, str(package.get(fallback) or "")[:10])
        if text:
            try:
                values[name] = field_value(name, text)
            except ValueError as exc:
                candidate.errors.append(Problem(field=column, message=str(exc)))
    frequency = extra("freq_maj") or extra("frequency")
    if frequency:
        try:
            values["update_frequency"] = field_value("update_frequency", frequency)
        except ValueError as exc:
            candidate.warnings.append(Problem(field="freq_maj", message=str(exc)))
    coverage = extra("couv_geo") or extra("spatial_text")
    if coverage is None:
        coverage = UNKNOWN_COVERAGE
        candidate.warnings.append(
            Problem(
                field="couv_geo", message=f"not given by the source: set to {UNKNOWN_COVERAGE!r}"
            )
        )
    values["geographical_coverage"] = coverage
    values["url"] = package.get("url") or None
    formats: list[str] = []
    for resource in package.get("resources") or []:
        name = str(resource.get("format") or "").strip()
        if name and name not in formats:
            formats.append(name)
    values["formats"] = formats
    values["license"] = package.get("license_title") or package.get("license_id") or None
    for definition in catalog.extra_fields:
        raw = extras.get(f"extra_{definition.name}")
        if raw is None:
            continue
        try:
            value = json.loads(raw)
            candidate.extra[definition.name] = (
                extra_value(definition, value) if isinstance(value, str) else value
            )
        except ValueError as exc:
            candidate.errors.append(Problem(field=definition.name, message=str(exc)))
    return candidate


# -- the harvest ------------------------------------------------------------------


def _read_local(source: str) -> Graph:
    path = Path(source)
    if not path.is_file():
        raise HarvestError(f"{source}: neither an http(s) URL nor a readable file")
    rdf_format = _RDF_EXTENSIONS.get(path.suffix.lower())
    if rdf_format is None:
        raise HarvestError(f"{source}: unknown RDF file type (use .ttl, .jsonld, .rdf)")
    if path.stat().st_size > MAX_DOCUMENT_BYTES:
        raise HarvestError(f"{source}: larger than {MAX_DOCUMENT_BYTES:,} bytes")
    return _parse(path.read_bytes(), rdf_format, source)


async def fetch_candidates(
    session: AsyncSession,
    catalog: Catalog,
    source: str,
    *,
    client: httpx.AsyncClient | None = None,
    progress: Progress | None = None,
) -> tuple[str, list[Candidate]]:
    """("dcat" or "ckan", candidates) read from `source` (an http(s) URL or a local file)."""
    vocab = await _vocabularies(session)
    if not source.startswith(("http://", "https://")):
        graph = await anyio.to_thread.run_sync(_read_local, source)
        return "dcat", dcat_candidates([graph], vocab)
    owned = client is None
    client = client or httpx.AsyncClient(
        timeout=TIMEOUT_SECONDS,
        follow_redirects=True,
        max_redirects=5,
        headers={"Accept": _ACCEPT, "User-Agent": f"catalogage/{__version__} (harvester)"},
    )
    try:
        first = await _get(client, source)
        if first.status_code == 200 and _rdf_format(first.content_type, source):
            graphs = await _dcat_graphs(client, first, source, progress)
            return "dcat", dcat_candidates(graphs, vocab)
        packages = await _ckan_packages(client, _ckan_root(source), progress)
        return "ckan", [
            ckan_candidate(package, position, catalog)
            for position, package in enumerate(packages, start=1)
        ]
    finally:
        if owned:
            await client.aclose()


async def harvest(
    session: AsyncSession,
    actor: User | None,
    siret: str,
    source: str,
    *,
    dry_run: bool = False,
    visibility: Visibility = Visibility.PUBLIC,
    client: httpx.AsyncClient | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Harvest `source` into catalog `siret` (the caller commits, or rolls back a dry run)."""
    catalog = await get_catalog(session, siret)
    await get_organization(session, siret)
    kind, candidates = await fetch_candidates(
        session, catalog, source, client=client, progress=progress
    )
    report = ImportReport(organization_siret=siret, dry_run=dry_run)
    report.file = FileInfo(format=kind, rows=len(candidates))
    await lock_catalog(session, siret)
    records = (
        (
            await session.execute(
                select(HarvestRecord).where(HarvestRecord.organization_siret == siret)
            )
        )
        .scalars()
        .all()
    )
    from_source = {r.remote_id: r.dataset_id for r in records if r.source_url == source}
    fed = frozenset(r.dataset_id for r in records)
    plan = await plan_changes(
        session,
        catalog,
        candidates,
        report,
        visibility=visibility,
        for_update=True,
        harvested=from_source,
        fed_by_sources=fed,
        progress=(lambda done: progress("records", done)) if progress else None,
    )
    listed = {c.remote_id for c in candidates if c.remote_id}
    removed = [
        record
        for record in records
        if record.source_url == source and record.remote_id not in listed
    ]
    for position, record in enumerate(removed, start=len(candidates) + 1):
        report.rows.append(
            RowReport(
                row=position,
                action=RowAction.REMOVED_UPSTREAM,
                dataset_id=record.dataset_id,
                remote_id=record.remote_id,
                warnings=[Problem(field="id", message="no longer listed by the source; kept")],
            )
        )
    report.count()
    if dry_run:
        return report
    await apply_plan(session, actor, siret, plan)
    await _record(session, siret, source, plan.matched_remote, [r.dataset_id for r in removed])
    report.applied = True
    return report


async def _record(
    session: AsyncSession,
    siret: str,
    source: str,
    matched: dict[str, uuid.UUID],
    removed: list[uuid.UUID],
) -> None:
    """Remember what came from `source`; flag what it no longer lists."""
    now = func.now()
    if matched:
        statement = insert(HarvestRecord).values(
            [
                {
                    "dataset_id": dataset_id,
                    "organization_siret": siret,
                    "source_url": source,
                    "remote_id": remote_id,
                    "last_harvested_at": now,
                }
                for remote_id, dataset_id in matched.items()
            ]
        )
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=[HarvestRecord.dataset_id],
                set_={
                    "source_url": statement.excluded.source_url,
                    "remote_id": statement.excluded.remote_id,
                    "last_harvested_at": statement.excluded.last_harvested_at,
                    "removed_upstream_at": None,
                },
            )
        )
    if removed:
        await session.execute(
            update(HarvestRecord)
            .where(
                HarvestRecord.dataset_id.in_(removed),
                HarvestRecord.removed_upstream_at.is_(None),
            )
            .values(removed_upstream_at=now)
        )
