"""The charset a page really uses, when the one it declares does not decode it.

Sites serve GBK pages labelled ``charset=utf-8`` (a server default), or Big5
under a GB label. Decoded with the declared charset such a page is replacement
characters; stored, it is garbage. ``CharsetCorrectionMiddleware`` tries, in
order, the page's own ``<meta>`` charset, UTF-8, GB18030 and Big5, and takes the
first that decodes the bytes without error *and* reads like text in that
charset (see ``reads_as``). The response then carries that encoding and the
flag ``charset_corrected``; stats ``charset/corrected`` and
``charset/corrected/<declared>-><used>``.
"""
from __future__ import annotations

import codecs
import logging
from typing import Any, Iterable, Optional

from scrapy import Request
from scrapy.http import HtmlResponse, Response
from w3lib.encoding import html_body_declared_encoding

logger = logging.getLogger(__name__)

FALLBACK_CHARSETS = ("utf-8", "gb18030", "big5")
# Share of a candidate's Chinese characters that must be common ones (GB2312 for the GB family,
# Big5 level 1 for Big5): text decoded with the wrong CJK charset is mostly rare characters.
MIN_COMMON_SHARE = 0.8
_GB_FAMILY = frozenset({"gb2312", "gbk", "gb18030", "hz"})
_BIG5_FAMILY = frozenset({"big5", "big5hkscs", "cp950"})


def codec_name(name: Optional[str]) -> Optional[str]:
    """Python's canonical name of a charset label, or None if Python does not know it."""
    if not name:
        return None
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _han(text: str) -> list[str]:
    return [ch for ch in text if "\u4e00" <= ch <= "\u9fff"]


def _common_share(chars: list[str], is_common: Any) -> float:
    return sum(1 for ch in chars if is_common(ch)) / len(chars)


def _in_gb2312(ch: str) -> bool:
    try:
        ch.encode("gb2312")
        return True
    except UnicodeEncodeError:
        return False


def _big5_level1(ch: str) -> bool:
    try:
        lead = ch.encode("big5")[0]
    except UnicodeEncodeError:
        return False
    return 0xA4 <= lead <= 0xC6


def reads_as(text: str, charset: str) -> bool:
    """Whether text decoded with ``charset`` reads like text written in it.

    UTF-8 and non-CJK charsets: a strict decode is evidence enough. GB and Big5
    decode most byte sequences without error, so their text must also have Chinese
    characters, mostly common ones.
    """
    if charset in _GB_FAMILY or charset in _BIG5_FAMILY:
        han = _han(text)
        if len(han) < 2:
            return False
        return _common_share(han, _in_gb2312 if charset in _GB_FAMILY else _big5_level1) >= MIN_COMMON_SHARE
    return True


def better_charset(body: bytes, declared: str, candidates: Iterable[Optional[str]] = ()) -> Optional[str]:
    """The charset that decodes ``body`` when ``declared`` does not (None when it does, or none does).

    Candidates are tried in order, then ``FALLBACK_CHARSETS``.
    """
    used = codec_name(declared)
    try:
        body.decode(used or "utf-8")
        return None
    except UnicodeDecodeError:
        pass
    tried = {used}
    for candidate in [*candidates, *FALLBACK_CHARSETS]:
        name = codec_name(candidate)
        if name is None or name in tried:
            continue
        tried.add(name)
        try:
            text = body.decode(name)
        except UnicodeDecodeError:
            continue
        if reads_as(text, name):
            return name
    return None


class CharsetCorrectionMiddleware:
    def __init__(self, crawler: Any) -> None:
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Any) -> "CharsetCorrectionMiddleware":
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        if not isinstance(response, HtmlResponse) or "\ufffd" not in response.text:
            return response
        declared = response.encoding
        meta = html_body_declared_encoding(response.body)
        charset = better_charset(response.body, declared, [meta])
        if charset is None:
            return response
        replaced = response.text.count("\ufffd")
        self.stats.inc_value("charset/corrected")
        self.stats.inc_value(f"charset/corrected/{codec_name(declared) or declared}->{charset}")
        logger.warning("charset corrected: %s is served as %s but is %s (%d replacement character(s) otherwise)",
                       response.url, declared, charset, replaced)
        return response.replace(encoding=charset, flags=list(response.flags) + ["charset_corrected"])
