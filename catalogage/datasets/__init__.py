"""Datasets: the records of the catalog, following schema-catalogue-donnees."""
