"""One date parser for every spider.

``parse_date`` finds the first date expression in a piece of text (a meta line
such as ``admin7个月前 (07-15)昆山产业新闻38`` is fine) and resolves it against a
reference time — the response's ``Date`` header — in the site's zone.

Forms handled (the expression that starts first in the text wins; at the same
position, the earlier form in this list):

1. absolute with a year: 2021-05-28 10:14, 2025年7月15日, 2025/7/15 08:30:12,
   ISO 8601 with an offset, 2025年7月 (month precision);
2. Chinese relative: 刚刚, N秒/分钟/小时/天/周/个月/年前, optionally followed by
   (MM-DD) or (YYYY-MM-DD) which fixes the day (the tpure theme's format);
3. 今天/昨天/前天/大前天 with an optional HH:MM;
4. month and day with a weekday and no year (11月17日 星期日): the latest year,
   not after the reference, on which that day is that weekday;
5. month and day without year (7月15日): the latest such day not after the reference;
6. English relative: just now, N units ago, an hour ago, Today, Yesterday,
   Last week/month/year (a number before "Last year", as matchexpo prints,
   is ignored: its meaning is unknown);
7. English absolute with a month name: Apr 22, 2025, April 22nd, 2025 10:30 am and 22 April 2025
   read here; other English forms through dateparser (slow: the last resort).

Relative forms without a fixed day get precision ``approx``; the rest
``second``, ``minute``, ``day`` or ``month`` as written. Written by hand rather
than with dateparser alone because dateparser resolves none of 2, 4 and 5 as
the sites mean them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Optional
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.relativedelta import relativedelta


@dataclass
class ParsedDate:
    iso: Optional[str]
    precision: Optional[str]  # second | minute | day | month | approx
    raw: str  # the date expression as found (the whole input when nothing matched)


def http_date(value: str | bytes | None) -> Optional[datetime]:
    """An HTTP ``Date`` header as an aware UTC datetime; None when absent or unparsable."""
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    try:
        parsed = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:  # "-0000" and obsolete zones: RFC 9110 says GMT
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


# --------------------------------------------------------------------------- helpers

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "兩": 2, "三": 3, "四": 4, "五": 5,
              "六": 6, "七": 7, "八": 8, "九": 9}


def _number(token: str) -> Optional[int]:
    """Arabic or simple Chinese numerals up to 99 (三, 十二, 二十五); 半 is handled by callers."""
    if token.isdigit():
        return int(token)
    if not token or any(c not in _CN_DIGITS and c != "十" for c in token):
        return None
    if "十" in token:
        tens, _, ones = token.partition("十")
        return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[ones] if ones else 0)
    value = 0
    for c in token:
        value = value * 10 + _CN_DIGITS[c]
    return value


def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("Asia/Shanghai")


def _make(year: int, month: int, day: int, zone: ZoneInfo, hour: int = 0, minute: int = 0,
          second: int = 0) -> Optional[datetime]:
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=zone)
    except ValueError:
        return None


def _latest_on_or_before(month: int, day: int, ref: date, zone: ZoneInfo,
                         weekday: Optional[int] = None) -> Optional[datetime]:
    """The latest date with this month and day (and weekday) not after ``ref``.
    The weekday repeats within 28 years (40 covers 29 February)."""
    for year in range(ref.year, ref.year - 41, -1):
        candidate = _make(year, month, day, zone)
        if candidate is None or candidate.date() > ref:
            continue
        if weekday is None or candidate.weekday() == weekday:
            return candidate
    return None


def _result(dt: Optional[datetime], precision: str, raw: str) -> ParsedDate:
    if dt is None:
        return ParsedDate(None, None, raw)
    if precision == "day":
        dt = dt.replace(hour=0, minute=0, second=0)
    elif precision == "month":
        dt = dt.replace(day=1, hour=0, minute=0, second=0)
    return ParsedDate(dt.replace(microsecond=0).isoformat(), precision, raw)


# --------------------------------------------------------------------------- patterns

_ABSOLUTE = re.compile(
    r"(?<!\d)(?P<y>(?:19|20)\d{2})\s*(?:[-/.]|年)\s*(?P<m>\d{1,2})"
    r"(?:\s*(?:[-/.]|月)\s*(?P<d>\d{1,2})(?!\d)\s*(?:日|号|號)?"
    r"(?:(?:\s*|T)(?P<ampm>上午|下午|晚上|凌晨|中午)?\s*(?P<H>\d{1,2})\s*[:：时時点點]\s*(?P<M>\d{1,2})"
    r"(?:\s*[:：分]\s*(?P<S>\d{1,2})(?:\.\d+)?)?\s*(?:分|秒)?"
    r"(?P<tz>Z|[+-]\d{2}:?\d{2}(?!\d))?)?"
    r"|\s*月)"
)
_CN_RELATIVE = re.compile(
    r"(?P<now>刚刚|剛剛|刚才|剛才)"
    r"|(?<!\d)(?P<n>\d{1,3}|[一二两兩三四五六七八九十]+|半)\s*(?:个|個)?\s*多?\s*"
    r"(?P<unit>秒钟|秒鐘|秒|分钟|分鐘|小时|小時|钟头|鐘頭|天|日|周|週|星期|礼拜|禮拜|月|年)\s*(?:之)?前"
    r"(?:\s*[(（]\s*(?:(?P<by>\d{4})-)?(?P<bm>\d{1,2})-(?P<bd>\d{1,2})\s*[)）])?"
)
_CN_DAY_WORD = re.compile(
    r"(?P<word>大前天|前天|昨天|今天|昨日|今日)\s*(?:(?P<H>\d{1,2})\s*[:：]\s*(?P<M>\d{1,2}))?"
)
_MONTH_DAY = re.compile(
    r"(?<!\d)(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*(?:日|号|號)"
    r"(?:\s*[,，]?\s*(?:星期|礼拜|禮拜|周|週)(?P<w>[一二三四五六日天]))?"
)
_EN_RELATIVE = re.compile(
    r"(?P<now>\bjust now\b)"
    r"|\b(?P<n>\d+|an?|one)\s+(?P<unit>second|sec|minute|min|hour|hr|day|week|month|year)s?\s+ago\b"
    r"|\b(?P<word>today|yesterday|last\s+(?:week|month|year))\b",
    re.IGNORECASE,
)
_EN_MONTH = re.compile(r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s", re.IGNORECASE)
_MONTH_NAMES = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
                "november", "december")
_EN_MONTH_NAME = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|" \
                 r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
_EN_CLOCK = r"(?:,?\s+(?:at\s+)?(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?\s*(?P<ampm>[ap]\.?m\.?\b)?)?"
# the common English forms without dateparser: Apr 22, 2025 / April 22nd, 2025 10:30 am / 22 April 2025
_EN_DATE = re.compile(
    r"\b(?:(?P<mon>" + _EN_MONTH_NAME + r")\.?\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<y>(?:19|20)\d{2})"
    r"|(?P<d2>\d{1,2})(?:st|nd|rd|th)?\s+(?P<mon2>" + _EN_MONTH_NAME + r")\.?,?\s+(?P<y2>(?:19|20)\d{2}))(?!\d)"
    + _EN_CLOCK, re.IGNORECASE)

_HALF_WIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF0D, 0xFF1B)}  # －．／０-９：

_CN_UNITS = {"秒钟": "seconds", "秒鐘": "seconds", "秒": "seconds", "分钟": "minutes", "分鐘": "minutes",
             "小时": "hours", "小時": "hours", "钟头": "hours", "鐘頭": "hours", "天": "days", "日": "days",
             "周": "weeks", "週": "weeks", "星期": "weeks", "礼拜": "weeks", "禮拜": "weeks",
             "月": "months", "年": "years"}
_EN_UNITS = {"second": "seconds", "sec": "seconds", "minute": "minutes", "min": "minutes",
             "hour": "hours", "hr": "hours", "day": "days", "week": "weeks", "month": "months", "year": "years"}
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_DAY_WORDS = {"今天": 0, "今日": 0, "昨天": 1, "昨日": 1, "前天": 2, "大前天": 3}


def _ago(ref: datetime, unit: str, amount: float) -> datetime:
    if unit in ("months", "years") and amount == int(amount):
        return ref - relativedelta(**{unit: int(amount)})
    if unit == "months":
        return ref - timedelta(days=30 * amount)
    if unit == "years":
        return ref - timedelta(days=365 * amount)
    return ref - timedelta(**{unit: amount})


def _absolute(m: re.Match[str], zone: ZoneInfo, raw: str) -> ParsedDate:
    year, month = int(m["y"]), int(m["m"])
    if m["d"] is None:
        return _result(_make(year, month, 1, zone), "month", raw)
    day = int(m["d"])
    if m["H"] is None:
        return _result(_make(year, month, day, zone), "day", raw)
    hour, minute = int(m["H"]), int(m["M"])
    if m["ampm"] in ("下午", "晚上") and hour < 12:
        hour += 12
    elif m["ampm"] == "中午" and hour < 11:
        hour += 12
    second = int(m["S"]) if m["S"] is not None else 0
    if m["tz"]:  # an explicit offset: the instant is fixed, shown in the site's zone
        text = m["tz"].replace("Z", "+00:00")
        sign = 1 if text[0] == "+" else -1
        digits = text[1:].replace(":", "")
        offset = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
        try:
            dt = datetime(year, month, day, hour, minute, second, tzinfo=offset).astimezone(zone)
        except (ValueError, OverflowError):
            dt = None
    else:
        dt = _make(year, month, day, zone, hour, minute, second)
    return _result(dt, "second" if m["S"] is not None else "minute", raw)


def _cn_relative(m: re.Match[str], ref: datetime, zone: ZoneInfo, raw: str) -> ParsedDate:
    if m["now"]:
        return _result(ref, "approx", raw)
    if m["bm"]:  # (MM-DD) or (YYYY-MM-DD) fixes the day
        month, day = int(m["bm"]), int(m["bd"])
        if m["by"]:
            return _result(_make(int(m["by"]), month, day, zone), "day", raw)
        return _result(_latest_on_or_before(month, day, ref.date(), zone), "day", raw)
    amount = 0.5 if m["n"] == "半" else _number(m["n"])
    if amount is None:
        return ParsedDate(None, None, raw)
    try:
        return _result(_ago(ref, _CN_UNITS[m["unit"]], amount), "approx", raw)
    except (OverflowError, ValueError):
        return ParsedDate(None, None, raw)


def _en_relative(m: re.Match[str], ref: datetime, raw: str) -> ParsedDate:
    if m["now"]:
        return _result(ref, "approx", raw)
    if m["word"]:
        word = " ".join(m["word"].lower().split())
        if word in ("today", "yesterday"):
            return _result(ref - timedelta(days=0 if word == "today" else 1), "day", raw)
        unit = {"last week": "weeks", "last month": "months", "last year": "years"}[word]
        return _result(_ago(ref, unit, 1), "approx", raw)
    n = m["n"].lower()
    amount = 1 if n in ("a", "an", "one") else int(n)
    try:
        return _result(_ago(ref, _EN_UNITS[m["unit"].lower()], amount), "approx", raw)
    except (OverflowError, ValueError):
        return ParsedDate(None, None, raw)


def _en_absolute(text: str, ref: datetime, tz: str) -> Optional[ParsedDate]:
    import dateparser  # slow to import; only English month names need it

    settings = {"RELATIVE_BASE": ref.replace(tzinfo=None), "TIMEZONE": tz, "TO_TIMEZONE": tz,
                "RETURN_AS_TIMEZONE_AWARE": True, "PREFER_DATES_FROM": "past",
                "REQUIRE_PARTS": ["day", "month", "year"]}
    try:
        data = dateparser.date.DateDataParser(languages=["en"], settings=settings).get_date_data(text.strip())
    except Exception:  # dateparser raises assorted errors on odd input; the answer is "no date"
        return None
    if data is None or data.date_obj is None:
        return None
    dt = data.date_obj
    # dateparser reports period "day" even when a time was given; the time tells
    precision = "second" if dt.second else "minute" if (dt.hour or dt.minute) else "day"
    return _result(dt.astimezone(_zone(tz)), precision, text.strip())


def _en_date(m: re.Match[str], zone: ZoneInfo, raw: str) -> ParsedDate:
    name = (m["mon"] or m["mon2"]).lower()[:3]
    month = next(i for i, full in enumerate(_MONTH_NAMES, 1) if full.startswith(name))
    year, day = int(m["y"] or m["y2"]), int(m["d"] or m["d2"])
    if m["H"] is None:
        return _result(_make(year, month, day, zone), "day", raw)
    hour = int(m["H"])
    ampm = (m["ampm"] or "").lower()[:1]
    if ampm and hour > 12:
        return ParsedDate(None, None, raw)
    if ampm:
        hour = hour % 12 + (12 if ampm == "p" else 0)
    second = int(m["S"]) if m["S"] else 0
    return _result(_make(year, month, day, zone, hour, int(m["M"]), second),
                   "second" if m["S"] else "minute", raw)


def _resolve(kind: str, m: re.Match[str], ref: datetime, zone: ZoneInfo, raw: str) -> ParsedDate:
    if kind == "en_date":
        return _en_date(m, zone, raw)
    if kind == "absolute":
        return _absolute(m, zone, raw)
    if kind == "cn_relative":
        return _cn_relative(m, ref, zone, raw)
    if kind == "en_relative":
        return _en_relative(m, ref, raw)
    if kind == "day_word":
        dt = ref - timedelta(days=_DAY_WORDS[m["word"]])
        if m["H"] is not None:
            return _result(_make(dt.year, dt.month, dt.day, zone, int(m["H"]), int(m["M"])), "minute", raw)
        return _result(dt, "day", raw)
    weekday = _WEEKDAYS[m["w"]] if m["w"] else None
    return _result(_latest_on_or_before(int(m["m"]), int(m["d"]), ref.date(), zone, weekday), "day", raw)


def parse_date(text: str, ref: datetime, tz: str = "Asia/Shanghai") -> ParsedDate:
    """The first date expression in ``text``, resolved against ``ref`` (an aware
    datetime, normally the response's ``Date``; a naive one is taken as UTC),
    as ISO 8601 with the offset of ``tz``."""
    raw_input = (text or "").strip()
    if not raw_input:
        return ParsedDate(None, None, raw_input)
    zone = _zone(tz)
    if ref.tzinfo is None:
        ref = ref.replace(tzinfo=timezone.utc)
    ref = ref.astimezone(zone)
    # full-width digits and separators as plain ones; one character for one, so a
    # match's span also marks the date as shown in the input
    text = raw_input.translate(_HALF_WIDTH)

    # the earliest date expression wins ("3年前 (2023-02-01)" is one expression)
    candidates = []
    for kind, regex in (("cn_relative", _CN_RELATIVE), ("absolute", _ABSOLUTE), ("day_word", _CN_DAY_WORD),
                        ("month_day", _MONTH_DAY), ("en_relative", _EN_RELATIVE), ("en_date", _EN_DATE)):
        m = regex.search(text)
        if m:
            candidates.append((m.start(), kind, m))
    for _, kind, m in sorted(candidates, key=lambda c: c[0]):
        parsed = _resolve(kind, m, ref, zone, raw_input[m.start():m.end()].strip())
        if parsed.iso:
            return parsed
    if _EN_MONTH.search(text + " "):
        parsed = _en_absolute(text, ref, tz)
        if parsed is not None:
            return parsed
    return ParsedDate(None, None, raw_input)
