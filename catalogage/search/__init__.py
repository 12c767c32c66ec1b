"""Search and discovery: full-text search, facets, suggestions, autocomplete."""
