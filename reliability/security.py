"""Hostile input and protective headers, checked over HTTP on the running instance, plus a
static check of the nginx template and a secrets scan of the repository."""

from __future__ import annotations

import io
import re
import subprocess
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import openpyxl

from catalogage.config import PROJECT_DIR
from reliability.instance import ORG_A, Instance, dataset_body

SQL_PAYLOADS = [
    "' OR '1'='1",
    "' OR 1=1 --",
    '" OR ""="',
    "1; DROP TABLE dataset; --",
    "'; SELECT pg_sleep(5); --",
    "1' UNION SELECT NULL, version() --",
    "%' AND 1=1 AND '%'='",
    "\\'; --",
    "$$ OR 1=1 $$",
    "') OR ('x'='x",
]
#: CKAN actions read their parameters from the query string without declaring them.
CKAN_PARAMS = ["id", "q", "fq", "rows", "start", "sort", "limit", "offset", "all_fields"]


@dataclass
class SqlResult:
    requests: int = 0
    server_errors: int = 0
    changed: list[str] = field(default_factory=list)
    slow: int = 0


def _summary(response: httpx.Response) -> Any:
    """What must not change between a benign value and a payload: the status, and how many
    results came back (bodies may echo the query)."""
    if response.status_code in (400, 404, 409, 422):
        return "rejected"
    try:
        body = response.json()
    except ValueError:
        return (response.status_code, len(response.content) > 0)
    if isinstance(body, list):
        return (response.status_code, len(body))
    if isinstance(body, dict):
        result = body.get("result", body)
        if isinstance(result, dict):
            return (response.status_code, result.get("count", result.get("total")))
        if isinstance(result, list):
            return (response.status_code, len(result))
        return (response.status_code, body.get("total"))
    return response.status_code


def _no_wider(payload: Any, benign: Any) -> bool:
    """The payload was rejected, or answered like its words alone, or with fewer results:
    search syntax (quotes make phrases, a leading `-` excludes) may narrow a search, but an
    injection (`OR 1=1`) would widen it to rows the words do not match."""
    if payload in ("rejected", benign):
        return True
    if benign == "rejected":  # no words at all (an empty query is refused): nothing found
        return isinstance(payload, tuple) and payload[1] == 0
    if isinstance(payload, tuple) and isinstance(benign, tuple) and payload[0] == benign[0]:
        return (
            isinstance(payload[1], int) and isinstance(benign[1], int) and payload[1] <= benign[1]
        )
    return False


def _path_values(instance: Instance) -> dict[str, str]:
    dataset = httpx.get(f"{instance.url}/datasets/", params={"page_size": 1}, timeout=30).json()
    return {"siret": ORG_A, "dataset_id": dataset[0]["id"], "extension": "ttl"}


def sql_injection(instance: Instance) -> SqlResult:
    """Every query parameter of every GET operation (from /openapi.json), as admin: each
    payload must be rejected with a 4xx or answer like the payload's words alone (same
    status, no more results); never 5xx, never slow (pg_sleep)."""
    schema = httpx.get(f"{instance.url}/openapi.json", timeout=30).json()
    values = _path_values(instance)
    result = SqlResult()
    with httpx.Client(
        base_url=instance.url, headers=instance.headers("admin"), timeout=30
    ) as client:
        for path, operations in schema["paths"].items():
            get = operations.get("get")
            if get is None:
                continue
            url = re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), "x"), path)
            names = [p["name"] for p in get.get("parameters", []) if p["in"] == "query"]
            if path.startswith("/api/3/action/"):
                names += CKAN_PARAMS
            for name in names:
                for payload in SQL_PAYLOADS:
                    # The same words without the SQL punctuation: a full-text search may
                    # match "1" or "x", and must match them the same way either way.
                    words = " ".join(re.findall(r"\w+", payload))
                    benign = _summary(client.get(url, params={name: words}))
                    response = client.get(url, params={name: payload})
                    result.requests += 1
                    if response.status_code >= 500:
                        result.server_errors += 1
                    elif response.elapsed.total_seconds() > 4:
                        result.slow += 1
                    elif not _no_wider(_summary(response), benign):
                        result.changed.append(f"{path}?{name}={payload!r}")
    return result


XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'
FORMULA = '=HYPERLINK("http://evil.example","clic")'


@dataclass
class XssResult:
    fields: int
    json_verbatim: bool
    highlight_escaped: bool
    csv_neutralised: bool
    xlsx_neutralised: bool
    html_escaped: bool | None
    detail: list[str] = field(default_factory=list)


def xss(instance: Instance) -> XssResult:
    """A public dataset with script payloads in every text field and a formula in the
    title: the JSON API returns the text verbatim, search highlights escape it (only
    `<mark>` is markup), CSV and XLSX exports neutralise the formula."""
    marker = uuid.uuid4().hex[:10]
    text_fields = {
        "title": f"{FORMULA} {marker} {XSS}",
        "description": f"{XSS} {marker} description",
        "service": f"+{XSS}",
        "technical_source": f"-{XSS}",
        "geographical_coverage": f"@{XSS}",
        "license": f"{XSS} licence",
        "url": "https://example.gouv.fr/?q=<script>",
    }
    body = dataset_body(**text_fields, keywords=[f"{XSS} {marker}"])
    detail: list[str] = []
    with httpx.Client(base_url=instance.url, headers=instance.headers("admin"), timeout=60) as c:
        created = c.post("/datasets/", json=body)
        if created.status_code != 201:
            detail.append(f"create: {created.status_code} {created.text[:200]}")
            return XssResult(len(text_fields) + 1, False, False, False, False, None, detail)
        read = c.get(f"/datasets/{created.json()['id']}")
        stored = read.json()
        json_verbatim = read.headers["content-type"].startswith("application/json") and all(
            stored[name] == value for name, value in text_fields.items()
        )
        json_verbatim &= any(XSS in k for k in stored["keywords"])
        found = c.get("/search/datasets", params={"q": marker}).json()
        highlights = [
            h for item in found["items"] for h in (item["title_html"], item["description_html"])
        ]
        stripped = [h.replace("<mark>", "").replace("</mark>", "") for h in highlights]
        highlight_escaped = bool(highlights) and not any("<" in h for h in stripped)
        highlight_escaped &= any("&lt;script&gt;" in h for h in highlights)
        csv_text = c.get(f"/catalogs/{ORG_A}/export.csv").text
        row = next((line for line in csv_text.splitlines() if marker in line), "")
        csv_neutralised = bool(row) and not re.search(r'(^|[,;])"?[=+\-@]', row)
        workbook = openpyxl.load_workbook(
            io.BytesIO(c.get(f"/catalogs/{ORG_A}/export.xlsx").content)
        )
        cells = [
            cell
            for sheet in workbook.worksheets
            for line in sheet.iter_rows()
            if any(marker in str(cell.value) for cell in line)
            for cell in line
        ]
        xlsx_neutralised = bool(cells) and not any(
            cell.data_type == "f" or str(cell.value or "").startswith(("=", "+", "-", "@"))
            for cell in cells
        )
        html_escaped = _html_escaped(instance.url, created.json()["id"], marker, detail)
    if not csv_neutralised:
        detail.append(f"csv row: {row[:200]}")
    return XssResult(
        len(text_fields) + 1,
        json_verbatim,
        highlight_escaped,
        csv_neutralised,
        xlsx_neutralised,
        html_escaped,
        detail,
    )


def _html_escaped(base_url: str, dataset_id: str, marker: str, detail: list[str]) -> bool | None:
    """The web UI's dataset page and search results page, anonymously (the dataset is
    public): the payload appears escaped, never as markup. None without a web UI."""
    pages = [f"/jeux-de-donnees/{dataset_id}", f"/recherche?q={marker}"]
    checked = 0
    for path in pages:
        page = httpx.get(base_url + path, timeout=60)
        if not page.headers.get("content-type", "").startswith("text/html"):
            continue
        checked += 1
        if "<script>alert" in page.text or "<img src=x" in page.text:
            detail.append(f"HTML page {path} carries the payload unescaped")
            return False
        if "&lt;script&gt;" not in page.text:
            detail.append(f"HTML page {path} does not show the payload at all")
            return False
    return True if checked == len(pages) else (None if checked == 0 else False)


@dataclass
class HeaderResult:
    app_missing: list[str]
    hsts_behind_tls: bool
    hsts_without_tls: bool
    nginx_missing: list[str]


REQUIRED_HEADERS = {
    "content-security-policy": "frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
}


def headers(instance: Instance) -> HeaderResult:
    plain = httpx.get(f"{instance.url}/health", timeout=30)
    missing = [
        name for name, value in REQUIRED_HEADERS.items() if value not in plain.headers.get(name, "")
    ]
    tls = httpx.get(f"{instance.url}/health", headers={"X-Forwarded-Proto": "https"}, timeout=30)
    template = (
        PROJECT_DIR / "ops/ansible/roles/nginx/templates/catalogage.conf.j2"
    ).read_text() + (PROJECT_DIR / "ops/ansible/roles/nginx/defaults/main.yml").read_text()
    nginx_missing = [
        needed
        for needed in ("X-Content-Type-Options: nosniff", "Strict-Transport-Security")
        if needed not in template
    ]
    return HeaderResult(
        missing,
        "strict-transport-security" in tls.headers,
        "strict-transport-security" in plain.headers,
        nginx_missing,
    )


@dataclass
class UploadResult:
    statuses: dict[str, int]
    expected: dict[str, int]

    @property
    def ok(self) -> bool:
        return self.statuses == self.expected


def upload_limits(instance: Instance) -> UploadResult:
    """Oversized, unsized, mistyped and garbage uploads to the catalog import."""
    url = f"{instance.url}/catalogs/{ORG_A}/import"
    auth = instance.headers("editor_a")
    statuses = {}
    with httpx.Client(headers=auth, timeout=120) as client:
        big = b"titre\n" + b"x" * (33 * 1024 * 1024)
        statuses["33 MB file"] = client.post(url, files={"file": ("a.csv", big)}).status_code

        def chunks() -> Any:
            yield b"--b\r\n"

        statuses["no Content-Length"] = client.post(
            url, content=chunks(), headers={"Content-Type": "multipart/form-data; boundary=b"}
        ).status_code
        statuses["JSON body"] = client.post(url, json={"file": "x"}).status_code
        statuses["garbage file"] = client.post(
            url, params={"dry_run": "false"}, files={"file": ("a.xlsx", b"\x00\x01PK garbage")}
        ).status_code
    expected = {"33 MB file": 413, "no Content-Length": 411, "JSON body": 415, "garbage file": 422}
    return UploadResult(statuses, expected)


#: (name, pattern) of secrets that must never be committed.
SECRET_PATTERNS = [
    ("private key", re.compile(r"-----BEGIN (RSA |EC |OPENSSH |DSA )?PRIVATE KEY-----")),
    ("AWS key", re.compile(r"AKIA[0-9A-Z]{16}")),
    ("GitHub token", re.compile(r"gh[pousr]_[A-Za-z0-9]{36}")),
    ("API token", re.compile(r"ctg_[A-Za-z0-9_-]{40,}")),
    (
        "password in plain text",
        re.compile(
            r"(?i)(password|passwd|secret_key|api_key)\s*[:=]\s*[\"']?(?!\{\{|\$|<|\*)"
            r"[A-Za-z0-9!#%&+/=@^_~-]{12,}"
        ),
    ),
]
#: Known and intended: the lab's vault password (documented in ops/ansible/secrets/README.md)
#: and throwaway credentials of tests and harnesses.
SECRET_ALLOWED = re.compile(
    r"^(ops/ansible/secrets/lab\.vault-password|tests/|reliability/|bench/|ops/tests/)"
)


def secrets_scan() -> list[str]:
    files = subprocess.run(
        ["git", "ls-files"],  # noqa: S607 - git from PATH
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    findings = []
    for name in files:
        if SECRET_ALLOWED.match(name):
            continue
        try:
            text = (PROJECT_DIR / name).read_text(errors="replace")
        except OSError:
            continue
        findings += scan_text(name, text)
    return findings


def scan_text(name: str, text: str) -> list[str]:
    """`name:line: kind` for each secret-looking string in `text`."""
    findings = []
    for label, pattern in SECRET_PATTERNS:
        for match in pattern.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            findings.append(f"{name}:{line}: {label}")
    return findings
