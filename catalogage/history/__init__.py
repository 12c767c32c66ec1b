"""History: who changed what and when, for datasets and catalogs."""
