"""Linnworks country names -> ISO 3166-1 alpha-2 codes.

Linnworks' order addresses carry the country as a display name (``"United Kingdom"``), while 3PLs want the
two-letter code. This table covers the names Linnworks uses for the countries most sellers ship to; anything
else is quarantined with the name shown, and can be added through the ``COUNTRY_CODE_MAP`` setting.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["country_code"]

_NAMES: dict[str, str] = {
    "united kingdom": "GB", "great britain": "GB", "uk": "GB", "england": "GB", "scotland": "GB",
    "wales": "GB", "northern ireland": "GB", "ireland": "IE", "united states": "US",
    "united states of america": "US", "usa": "US", "canada": "CA", "mexico": "MX", "australia": "AU",
    "new zealand": "NZ", "germany": "DE", "france": "FR", "spain": "ES", "portugal": "PT", "italy": "IT",
    "netherlands": "NL", "belgium": "BE", "luxembourg": "LU", "austria": "AT", "switzerland": "CH",
    "denmark": "DK", "sweden": "SE", "norway": "NO", "finland": "FI", "iceland": "IS", "poland": "PL",
    "czech republic": "CZ", "czechia": "CZ", "slovakia": "SK", "hungary": "HU", "romania": "RO",
    "bulgaria": "BG", "greece": "GR", "croatia": "HR", "slovenia": "SI", "estonia": "EE", "latvia": "LV",
    "lithuania": "LT", "malta": "MT", "cyprus": "CY", "israel": "IL", "turkey": "TR",
    "united arab emirates": "AE", "saudi arabia": "SA", "india": "IN", "china": "CN", "hong kong": "HK",
    "japan": "JP", "south korea": "KR", "korea, republic of": "KR", "singapore": "SG", "malaysia": "MY",
    "thailand": "TH", "philippines": "PH", "indonesia": "ID", "south africa": "ZA", "brazil": "BR",
    "argentina": "AR", "chile": "CL", "jersey": "JE", "guernsey": "GG", "isle of man": "IM",
}  # fmt: skip


def country_code(name: str, extra: Mapping[str, str] | None = None) -> str | None:
    """The ISO code for a Linnworks country name (or an ISO code given as is), or None if unknown."""
    cleaned = " ".join(name.split()).lower()
    for table in (extra or {}, _NAMES):
        for key, code in table.items():
            if key.lower() == cleaned:
                return code.upper()
    if len(cleaned) == 2 and cleaned.isalpha():
        return cleaned.upper()
    return None
