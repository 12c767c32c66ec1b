"""Interoperability: schema CSV/XLSX export and import, DCAT-AP 3, CKAN API, harvesting."""
