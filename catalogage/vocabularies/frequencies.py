"""Update frequencies (schema field `freq_maj`): a closed list with French labels.

Each code maps to a term of the EU "frequency" authority table, used by DCAT exports.
"""

from dataclasses import dataclass
from enum import StrEnum

from catalogage.vocabularies.normalize import fold

EU_FREQUENCY = "http://publications.europa.eu/resource/authority/frequency/"


class UpdateFrequency(StrEnum):
    NEVER = "never"
    REALTIME = "realtime"
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    YEARLY = "yearly"
    MULTIYEAR = "multiyear"
    IRREGULAR = "irregular"


@dataclass(frozen=True)
class FrequencyInfo:
    label_fr: str
    label_en: str
    eu_code: str

    @property
    def eu_uri(self) -> str:
        return EU_FREQUENCY + self.eu_code


FREQUENCIES: dict[UpdateFrequency, FrequencyInfo] = {
    UpdateFrequency.NEVER: FrequencyInfo("Pas de mise à jour", "Never updated", "NEVER"),
    UpdateFrequency.REALTIME: FrequencyInfo("Temps réel", "Real time", "UPDATE_CONT"),
    UpdateFrequency.DAILY: FrequencyInfo("Quotidienne", "Daily", "DAILY"),
    UpdateFrequency.WEEKLY: FrequencyInfo("Hebdomadaire", "Weekly", "WEEKLY"),
    UpdateFrequency.MONTHLY: FrequencyInfo("Mensuelle", "Monthly", "MONTHLY"),
    UpdateFrequency.QUARTERLY: FrequencyInfo("Trimestrielle", "Quarterly", "QUARTERLY"),
    UpdateFrequency.YEARLY: FrequencyInfo(
        "Annuelle ou plusieurs fois par an", "Yearly or several times a year", "ANNUAL"
    ),
    UpdateFrequency.MULTIYEAR: FrequencyInfo("Pluriannuelle", "Every few years", "OTHER"),
    UpdateFrequency.IRREGULAR: FrequencyInfo("Irrégulière", "Irregular", "IRREG"),
}

#: Spellings found in existing spreadsheets, folded, mapped to our codes.
_ALIASES = {
    "annuelle": UpdateFrequency.YEARLY,
    "annuel": UpdateFrequency.YEARLY,
    "mensuel": UpdateFrequency.MONTHLY,
    "quotidien": UpdateFrequency.DAILY,
    "hebdomadaire": UpdateFrequency.WEEKLY,
    "trimestriel": UpdateFrequency.QUARTERLY,
    "irregulier": UpdateFrequency.IRREGULAR,
    "jamais": UpdateFrequency.NEVER,
    "temps reel": UpdateFrequency.REALTIME,
}


def parse_frequency(text: str) -> UpdateFrequency | None:
    """Read a code or a French label (any case or accents); None when unknown."""
    key = fold(text)
    for code, info in FREQUENCIES.items():
        if key in (code.value, fold(info.label_fr), fold(info.label_en)):
            return code
    return _ALIASES.get(key)
