"""Lenient reading of the dates people type into a search form.

Chinese readers write a date year first in several ways (2018-01-01, 2018/01/01, 2018.1.1,
2018年1月1日, full-width digits from an IME); all of them mean one ISO date. A form should
accept them rather than answer "格式应为 YYYY-MM-DD". A range typed backwards (start after
end) is read the way it was obviously meant, and the caller says so.
"""

from __future__ import annotations

import datetime
import re
import unicodedata

# year, month, day with one separator kind, or 8 digits; 日 optional after 年月.
_DATE = re.compile(
    r"^(\d{4})\s*(?:"
    r"-\s*(\d{1,2})\s*-\s*(\d{1,2})"
    r"|/\s*(\d{1,2})\s*/\s*(\d{1,2})"
    r"|\.\s*(\d{1,2})\s*\.\s*(\d{1,2})"
    r"|年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?"
    r"|(\d{2})(\d{2})"
    r")$"
)


class DateFormatError(ValueError):
    """Not a date in any accepted form."""


class DateValueError(ValueError):
    """A well-formed date that does not exist (2020-02-30)."""


def parse_date(value: str | None) -> str | None:
    """The ISO form (YYYY-MM-DD) of a typed date; None for an empty value.

    Raises DateFormatError when the text is no date form we know, DateValueError when it is
    one but names no real day.
    """
    if value is None:
        return None
    text = unicodedata.normalize("NFKC", value).strip()
    if not text:
        return None
    m = _DATE.match(text)
    if not m:
        raise DateFormatError(value)
    groups = [g for g in m.groups()[1:] if g is not None]
    year, month, day = int(m.group(1)), int(groups[0]), int(groups[1])
    try:
        return datetime.date(year, month, day).isoformat()
    except ValueError:
        raise DateValueError(value) from None


def order_range(date_from: str | None, date_to: str | None) -> tuple[str | None, str | None, bool]:
    """(from, to, swapped): ISO dates put in order; swapped is True when they were reversed."""
    if date_from and date_to and date_from > date_to:
        return date_to, date_from, True
    return date_from, date_to, False
