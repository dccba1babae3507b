"""Contact phone numbers in page text, normalized to E.164.

`phonenumbers` (Google's libphonenumber) does the finding and validation: its
metadata knows Chinese area codes, mobile ranges and the 400/800 service
numbers, which a hand-written regex would not. libphonenumber validates the
Chinese 400 numbers (shared cost) and 800 numbers (toll free) as ordinary
E.164 numbers, so *every* number returned here is E.164:
"400-0123-021" → "+864000123021", "800-830-1880" → "+868008301880".

Our own pre-processing covers what the matcher cannot know:

* the agency writes several mobiles as one digit run
  ("135246785151356468684613391219793"); runs made only of 11-digit mobiles
  are split before matching;
* URLs, e-mail addresses (QQ numbers), dates and licence numbers ("0108263号",
  "[2011]0283-097号") are blanked out first, so a digit run inside them can
  never be read as a phone;
* a landline extension written with a hyphen ("0512-57771234-8001") is
  rewritten as "转" so the main number is still found.
"""
from __future__ import annotations

import re
from functools import lru_cache
import unicodedata

import phonenumbers
from phonenumbers import Leniency, NumberParseException, PhoneNumberFormat, PhoneNumberMatcher

DEFAULT_REGION = "CN"

# Dashes that Chinese pages use between digit groups; folded to "-".
_DASHES = str.maketrans({c: "-" for c in "‐‑‒–—―－﹣−"})

# Things whose digits are never phone numbers. Blanked (replaced by a space).
_URL = re.compile(r"(?:https?://|www\.)[^\s\u3000-\u303f\uff00-\uffef\u4e00-\u9fff]+|[A-Za-z0-9.-]+\.(?:com|cn|net|org|html?|shtml|php)\S*", re.I)
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_DATE = re.compile(r"(?<!\d)(?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}(?!\d)")
# Licence / document numbers end in 号 ("0108263号", "[2011]0283-097号"), but
# 号码 ("号码13391219793") is the start of a phone, not the end of a licence.
_LICENCE = re.compile(r"[\[【(（]?\d[\d\-\[\]【】()（）]*号(?!码)")
# Two or more 11-digit mobiles written together, nothing between them.
_GLUED_MOBILES = re.compile(r"(?<!\d)(?:1[3-9]\d{9}){2,}(?!\d)")
# "0512-57771234-8001": the trailing hyphenated group is an extension.
_HYPHEN_EXTENSION = re.compile(r"(?<!\d)(0\d{2,3}-\d{7,8})-(\d{1,5})(?!\d)")


# What each blanking pattern cannot match without: one of these characters (a cheap test first).
_BLANKED = ((_EMAIL, "@"), (_URL, ".:"), (_DATE, "-/.年"), (_LICENCE, "号"))


def _prepare(text: str, normalized: bool = False) -> str:
    """Fold widths and dashes, blank out non-phone digit runs, split glued mobiles.
    ``normalized``: the text is NFKC already."""
    text = (text if normalized else unicodedata.normalize("NFKC", text)).translate(_DASHES)
    for pattern, needs in _BLANKED:
        if any(c in text for c in needs):
            text = pattern.sub(" ", text)
    if "-" in text:
        text = _HYPHEN_EXTENSION.sub(r"\1 转\2", text)
    return _GLUED_MOBILES.sub(
        lambda m: " ".join(m.group(0)[i : i + 11] for i in range(0, len(m.group(0)), 11)), text
    )


# Fewer than 7 digits in a line cannot make a Chinese phone number (local numbers have 7–8).
_SEVEN_DIGITS = re.compile(r"(?:\d\D{0,3}){7}")


def extract_phones(text: str) -> list[str]:
    """Every valid contact number in `text`, E.164, de-duplicated, in order of appearance.

    Leniency.VALID: the number must be valid for its region (so "14 20210527"
    or a 12-digit ID is rejected), while odd groupings such as "133-91219-793"
    are still accepted.
    """
    if not text or not isinstance(text, str):
        return []
    found: list[str] = []
    # Line by line: a number never spans lines, most lines hold none, and the same lines
    # (an agency's contact block, an ad's contact line) come back on page after page.
    for line in text.split("\n"):
        for number in _extract_phones_cached(line):
            if number not in found:
                found.append(number)
    return found


# CJK ideographs and CJK punctuation: no character of a phone number as the matcher reads it
# (digits, its punctuation, "+", brackets, extension words), and neither a Latin letter nor a
# currency or "%" sign, the only neighbours its VALID leniency refuses. So the matcher finds the
# same numbers in the stretches between them as in the whole line.
_NOT_IN_NUMBER = re.compile(r"[\u3001-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
# The fewest digits of any valid number: the shortest numbers libphonenumber knows (4 digits,
# e.g. Austria's) behind their 2-digit country code. A stretch with fewer holds none.
_MIN_NUMBER_DIGITS = 6
_DIGIT = re.compile(r"\d")


@lru_cache(maxsize=4096)
def _extract_phones_cached(text: str) -> tuple[str, ...]:
    # The matcher is slow; the ad finder asks about the same lines many times, and most
    # lines hold no number at all, so those are answered without it.
    normalized = unicodedata.normalize("NFKC", text)
    if not _SEVEN_DIGITS.search(normalized):
        return ()
    found: list[str] = []
    # Only the stretches of the line that can hold a number go to the matcher: in Chinese text
    # most digit runs (years, areas, prices) sit alone between ideographs.
    for stretch in _NOT_IN_NUMBER.split(_prepare(normalized, normalized=True)):
        if len(_DIGIT.findall(stretch)) < _MIN_NUMBER_DIGITS:
            continue
        for e164 in _numbers_in(stretch):
            if e164 not in found:
                found.append(e164)
    return tuple(found)


@lru_cache(maxsize=4096)
def _numbers_in(stretch: str) -> tuple[str, ...]:
    """The valid numbers the matcher finds in one stretch of text, E.164, in order, each once."""
    found: list[str] = []
    for match in PhoneNumberMatcher(stretch, DEFAULT_REGION, leniency=Leniency.VALID):
        e164 = phonenumbers.format_number(match.number, PhoneNumberFormat.E164)
        if e164 not in found:
            found.append(e164)
    return tuple(found)


def normalize_phone(raw: str) -> str | None:
    """One number as written ("133-91219-793", "025-86163400", "400 0123 021") → E.164, or None."""
    if not raw or not isinstance(raw, str):
        return None
    cleaned = unicodedata.normalize("NFKC", raw).translate(_DASHES).strip()
    # Letters other than an extension marker mean it is not a phone number.
    if re.search(r"[A-Za-z]", re.sub(r"(?i)ext\.?|tel:?|x(?=\d)", "", cleaned)):
        return None
    try:
        number = phonenumbers.parse(cleaned, DEFAULT_REGION)
    except NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)
