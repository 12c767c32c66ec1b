"""Organizations: the public bodies (ministries, agencies) that own catalogs."""
