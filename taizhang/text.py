"""Text as it enters the platform, and text as an XML document may carry it.

`normalise_text` is applied once where text comes in (the create and transition actions, the
importer's cells, attachment names), so what is stored is what every output can show:

- line ends become ``\\n`` (``\\r\\n`` and a lone ``\\r`` alike);
- control characters (Unicode category Cc: C0, DEL and C1) other than newline and tab are removed.
  They are invisible, mean nothing in a report and most of them cannot appear in XML at all; they
  come from copy-and-paste and broken encoders, so dropping them is kinder than refusing a
  resident's report for something they cannot see;
- noncharacters (U+FDD0–U+FDEF and U+xxFFFE/U+xxFFFF, among them U+FFFE and U+FFFF) are removed;
- the bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069) are removed: they
  reorder what follows them on screen, so a title or a file name would read other than it is ("Trojan
  Source", 报告\u202eftp.exe shown as 报告exe.ptf); the marks U+200E, U+200F and U+061C stay;
- a lone surrogate (half of a character, only possible through a JSON ``\\ud800`` escape) becomes
  U+FFFD, the replacement character: something was there and was lost, and the mark says so;
- the result is in Unicode normal form NFC, so the same words typed on two keyboards compare equal.

Identifiers and codes (mechanism, category, division, unit) are not normalised: they must match a
known code exactly, and a control character in one is refused as an unknown code.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

# Cc other than \t and \n (a \r is turned into \n before), the bidi controls and the noncharacters.
_REMOVED = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufdd0-\ufdef"
    + "".join(f"{chr(plane << 16 | 0xFFFE)}{chr(plane << 16 | 0xFFFF)}" for plane in range(17))
    + "]"
)
_SURROGATE = re.compile("[\ud800-\udfff]")
# What XML 1.0 cannot carry at all (its Char production), for output of text stored before intake
# normalised it: C0 controls other than tab, newline and carriage return, surrogates, U+FFFE, U+FFFF.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def normalise_text(value: str) -> str:
    """Text as the platform stores it (see the module docstring); idempotent."""
    if value.isascii() and value.isprintable():  # the common case, at no cost
        return value
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = _SURROGATE.sub("\ufffd", _REMOVED.sub("", value))
    return unicodedata.normalize("NFC", value)


def normalise_data(value: Any) -> Any:
    """Every string in a JSON-like value (dict keys included) normalised; other values unchanged."""
    if isinstance(value, str):
        return normalise_text(value)
    if isinstance(value, dict):
        return {normalise_data(k): normalise_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [normalise_data(v) for v in value]
    return value


def xml_safe(value: str) -> str:
    """Text without the characters XML 1.0 cannot carry (defence in depth for older stored text)."""
    return _XML_ILLEGAL.sub("", value)
