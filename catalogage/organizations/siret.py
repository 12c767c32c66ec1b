"""SIRET numbers: 14 digits, a 9-digit SIREN followed by a 5-digit establishment number.

A SIRET is valid when its digits pass the Luhn check. La Poste (SIREN 356000000)
has more establishments than the Luhn space allows, so INSEE also accepts its
SIRETs whose 14 digits add up to a multiple of 5 (its head office,
35600000000048, passes the ordinary Luhn check).
"""

LA_POSTE_SIREN = "356000000"


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def siret_error(value: str) -> str | None:
    """Why `value` is not a valid SIRET, or None when it is."""
    if len(value) != 14 or not value.isascii() or not value.isdigit():
        return "a SIRET is made of exactly 14 digits"
    if luhn_valid(value):
        return None
    if value.startswith(LA_POSTE_SIREN):
        if sum(int(c) for c in value) % 5 == 0:
            return None
        return "invalid SIRET: neither the Luhn nor La Poste's digit-sum checksum holds"
    return "invalid SIRET: the Luhn checksum fails"


def is_valid_siret(value: str) -> bool:
    return siret_error(value) is None
