"""Counters shown on pages (views, likes, comments) as integers."""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Optional

_MULTIPLIERS = {"": 1, "百": 100, "千": 1000, "k": 1000, "万": 10_000, "萬": 10_000, "w": 10_000,
                "m": 1_000_000, "亿": 100_000_000, "億": 100_000_000}
# "3,311", "1.2万", "3.5k", "10万+", "瀏覽量:0", "阅读 38": the first number, with its unit
_COUNT = re.compile(
    r"(?<![\d.])(?P<num>\d{1,3}(?:[,，]\d{3})+|\d+(?:\.\d+)?)\s*(?P<unit>[百千万萬亿億]|[kKwWmM](?![A-Za-z]))?"
)
_FULLWIDTH_DIGITS = {cp: cp - 0xFEE0 for cp in range(0xFF10, 0xFF1A)}


def parse_count(text: str | None) -> Optional[int]:
    """The first count in ``text`` as an int; None when there is none."""
    if text is None:
        return None
    match = _COUNT.search(str(text).translate(_FULLWIDTH_DIGITS))
    if match is None:
        return None
    try:
        number = Decimal(match["num"].replace(",", "").replace("，", ""))
    except InvalidOperation:
        return None
    unit = (match["unit"] or "").lower()
    return int(number * _MULTIPLIERS[unit])
