"""Readable names of fields and codes, marked for translation (shown with `_()`)."""

from __future__ import annotations

from catalogage.web.i18n import N_

#: Dataset fields, in the order pages show them (schema-catalogue-donnees wording).
DATASET_FIELDS = {
    "title": N_("Titre"),
    "description": N_("Description"),
    "keywords": N_("Mots-clés"),
    "organization_siret": N_("Organisation"),
    "service": N_("Service producteur"),
    "technical_source": N_("Système d’information source"),
    "service_contact_email": N_("Adresse de contact du service"),
    "contact_emails": N_("Personnes à contacter"),
    "first_publication_date": N_("Date de première publication"),
    "last_update_date": N_("Date de dernière mise à jour"),
    "update_frequency": N_("Fréquence de mise à jour"),
    "geographical_coverage": N_("Couverture géographique"),
    "url": N_("Adresse des données"),
    "formats": N_("Formats"),
    "license": N_("Licence"),
    "visibility": N_("Visibilité"),
    "extra_fields": N_("Champs complémentaires"),
}

VISIBILITY = {
    "draft": N_("Brouillon"),
    "restricted": N_("Accès restreint"),
    "public": N_("Public"),
}

VISIBILITY_HINTS = {
    "draft": N_("En cours de rédaction : visible des seuls membres de l’organisation."),
    "restricted": N_(
        "Décrit mais non ouvert : visible des seuls membres de l’organisation, jamais exporté."
    ),
    "public": N_("Visible de tous, exporté et moissonné."),
}

ROLES = {"editor": N_("Éditeur"), "manager": N_("Gestionnaire")}

EXTRA_FIELD_TYPES = {
    "text": N_("Texte"),
    "enum": N_("Liste de choix"),
    "boolean": N_("Oui / non"),
    "date": N_("Date"),
    "url": N_("Adresse web"),
}

HISTORY_ACTIONS = {
    "create": N_("Création"),
    "update": N_("Modification"),
    "delete": N_("Suppression"),
}

SORTS = {
    "relevance": N_("Pertinence"),
    "-updated_at": N_("Mis à jour récemment"),
    "title": N_("Titre (A → Z)"),
    "-title": N_("Titre (Z → A)"),
    "-created_at": N_("Ajoutés récemment"),
}
