"""Matchexpo community pages → fields (pure functions, no network).

Pages are a Vue app: the raw HTML carries unrendered templates (``{{ … }}``)
around the article, which the server may or may not have rendered into the
HTML. The same functions read raw and browser-rendered HTML; ``missing_fields``
tells whether the raw HTML is enough (else the page must be rendered).

The parser leans on structure that any rendering of such a page keeps rather
than on one set of class names: the title is the page's ``h1`` (else og:title
or ``<title>``); the body is the element holding the most paragraph text; the
date and the counters are the short texts after the title, recognised by form
(a date expression; numbers whose element or icon names views/likes/comments,
else the first three numbers in the order views, likes, comments). Absolute
timestamps in the page's own data (inline JSON such as ``create_time``, meta
tags, ``<time datetime>``) win over the shown relative text.
"""
from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Optional, Union
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo

import lxml.html
from lxml import etree
from parsel import Selector

from kspider.extract.boilerplate import Block, remove_boilerplate
from kspider.extract.counters import parse_count
from kspider.extract.dates import ParsedDate, parse_date
from kspider.extract.html import body_blocks, extract_images, sanitize_html
from kspider.extract.ids import canonical_url
from kspider.extract.page import parse_html
from kspider.extract.result import ArticleResult, fill_from_generic
from kspider.extract.text import clean_text, detect_lang, normalize_text

logger = logging.getLogger(__name__)

ARTICLE_PATH = re.compile(r"^/(?:(?:tw|cn|en|hk|zh-tw|zh-cn|zh-hant|zh-hans)/)?community/article/(\d+)/?$", re.I)
LISTING_PATH = re.compile(r"^/(?:(?:tw|cn|en|hk|zh-tw|zh-cn|zh-hant|zh-hans)/)?community/?$", re.I)
_TEMPLATE = re.compile(r"\{\{.*?\}\}|\{\{|\}\}", re.S)
_TITLE_SUFFIX = re.compile(r"\s*[-_|｜–—]\s*(?:Matchexpo|展会帮|Match\s*expo)[^-_|｜]*$", re.I)

# The site's UI furniture in its three UI languages (International, 繁體, 简体):
# widgets, disclaimer, dialogs, footer. A block matching one is not body text.
FURNITURE = re.compile(
    r"^(?:Share|Collection|Collected|Give the thumbs-up|Liked|Like|Comment area|Comments?|Follow official account|"
    r"Online support|Register|Login|Log in|Quick publish|Congratulations|View Now|Go publish|Send|Reply|Hot articles|"
    r"Next|Previous|No content|More|"
    r"分享|收藏|已收藏|点赞|點讚|點贊|已点赞|已點讚|已點贊|评论区|評論區|评论|評論|关注公众号|關注公眾號|在线客服|在線客服|"
    r"注册|註冊|登录|登入|快速发布|快速發佈|快速發布|恭喜您?|立即查看|去发布|去發佈|去發布|发送|發送|回复|回覆|热门文章|熱門文章|"
    r"下一页|下一頁|上一页|上一頁|暂无内容|暫無內容)$"
    r"|^The content is the author's independent opinion"
    r"|^(?:内容|內容)(?:为|為)作者(?:独立|獨立)(?:观点|觀點)"
    r"|^(?:本文|文章)?(?:内容|內容)?(?:仅|僅)?代表作者"
    r"|^Matchexpo(?:\s*is an exhibition community platform|\s*:\s*Event Marketing Platform|是中(?:国|國)会展|是中國會展|\s*[:：]\s*活(?:动|動)(?:营销|營銷)平台)"
    r"|International\s*-\s*Chinese Traditional\s*-\s*Chinese Simplified"
    r"|^\|?\s*Matchpages Web Builder"
    r"|^Modify certification",
    re.I,
)
# Furniture after which nothing is body text (the widgets and disclaimer follow the body).
TAIL = re.compile(
    r"^(?:Share|Collection|Give the thumbs-up|分享|收藏|点赞|點讚|點贊)$"
    r"|^The content is the author's independent opinion|^(?:内容|內容)(?:为|為)作者",
    re.I,
)
# 文章授权转载自“引力播”客户端 → 引力播 (Simplified or Traditional, any quote style).
SOURCE_LINE = re.compile(
    r"^(?:本文|文章)?(?:已获|已獲|经|經)?(?:授权|授權)?(?:转载|轉載|转自|轉自)(?:自|于|於)?\s*[:：]?\s*"
    r"[“\"「『《]?(?P<name>[^”\"」』》]{1,40}?)[”\"」』》]?(?:客户端|客戶端|公众号|公眾號|微信公众号|微信公眾號|官网|官網|网站|網站|APP)?\s*[。.]?$"
)
_NUMERIC = re.compile(r"^\s*\d[\d,，.]*\s*(?:[kKwW万萬]\+?|\+)?\s*$")
_COUNTER_HINTS = (
    ("views", re.compile(r"view|browse|read|eye|visit|pv|click|浏览|瀏覽|阅读|閱讀", re.I)),
    ("likes", re.compile(r"like|zan|praise|thumb|digg|good|点赞|點讚|點贊|赞|讚", re.I)),
    ("comments", re.compile(r"comment|reply|discuss|评论|評論", re.I)),
)
# The site's English UI prints Chinese relative dates word for word: 2年前 → "2 Last year",
# 5个月前 → "5 Months ago". Assumed: "N Last year" means N years ago (seed 001: an article
# about a 2021-11-09 event shown as "2 Last year").
_SITE_EN_RELATIVE = re.compile(
    r"(?<![\d.])(?P<n>\d{1,3})\s*(?P<unit>Last\s+year|years?\s+ago|Months?\s+ago|Weeks?\s+ago|Days?\s+ago|"
    r"Hours?\s+ago|Minutes?\s+ago|Seconds?\s+ago)\b",
    re.I,
)
_SITE_EN_UNITS = {"last": "年", "year": "年", "month": "个月", "week": "周", "day": "天", "hour": "小时",
                  "minute": "分钟", "second": "秒"}
_DATA_DATE_KEY = re.compile(
    r"[\"']?(?P<key>create_time|createTime|created_at|createdAt|publish_time|publishTime|published_at|publishedAt|"
    r"pub_time|pubTime|add_time|addTime|release_time|releaseTime|datePublished|ctime)[\"']?\s*[:=]\s*"
    r"(?:[\"'](?P<text>[^\"']{6,40})[\"']|(?P<num>\d{10}(?:\d{3})?)(?!\d))"
)
_DATA_COUNTER_KEYS = {
    "views": ("browse_num", "view_num", "views", "view_count", "read_num", "read_count", "pv", "click_num", "hits"),
    "likes": ("like_num", "likes", "like_count", "praise_num", "zan_num", "thumb_num", "digg_count"),
    "comments": ("comment_num", "comments", "comment_count", "reply_num", "comment_total"),
}
_SKIP_TAGS = {"script", "style", "noscript", "template", "textarea", "svg", "select", "button", "head", "title"}
_CHROME_TAGS = {"header", "footer", "nav", "aside"}


@dataclass
class Listing:
    article_urls: list[str] = field(default_factory=list)
    page_urls: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- helpers

def _doc(html: Union[str, bytes]) -> Optional[etree._Element]:
    if not html or not str(html).strip():
        return None
    if isinstance(html, bytes):
        from kspider.extract.article import decode_html  # the generic extractor's charset sniffing
        html = decode_html(html)
    return parse_html(html)[0]  # read whole however deep it nests


def _tag(el: Any) -> str:
    return el.tag.lower() if isinstance(getattr(el, "tag", None), str) else ""


def _text(el: etree._Element) -> str:
    parts = [t for t in el.xpath(".//text()[not(ancestor::script or ancestor::style or ancestor::template)]")]
    return normalize_text(" ".join(parts))


def _is_template(text: str) -> bool:
    return bool(_TEMPLATE.search(text or ""))


def is_article_url(url: str) -> bool:
    parts = urlsplit(url)
    return bool(ARTICLE_PATH.match(parts.path or ""))


def article_id(url: str) -> Optional[str]:
    m = ARTICLE_PATH.match(urlsplit(url).path or "")
    return m.group(1) if m else None


def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except Exception:  # noqa: BLE001 - a bad zone name falls back to the site default
        return ZoneInfo("Asia/Shanghai")


# --------------------------------------------------------------------------- title

def _title(doc: etree._Element) -> Optional[str]:
    for h1 in doc.xpath("//body//h1"):
        text = _text(h1)
        if text and not _is_template(text):
            return text
    for xp in ("//meta[@property='og:title']/@content", "//meta[@name='title']/@content", "//title/text()"):
        for value in doc.xpath(xp):
            text = _TITLE_SUFFIX.sub("", normalize_text(value))
            if text and not _is_template(text) and text.lower() not in ("matchexpo", "community"):
                return text
    return None


# --------------------------------------------------------------------------- body

_BLOCKISH = frozenset("div p section article main ul ol li dl table blockquote pre figure header footer nav aside "
                      "h1 h2 h3 h4 h5 h6 form".split())
_WIDGET_WORDS = re.compile(
    r"Share|Collection|Collected|Give the thumbs-up|Liked|Comment area|分享|收藏|已收藏|点赞|點讚|點贊|已点赞|已點讚|"
    r"评论区|評論區|[\s|·•]", re.I)


def _is_leaf_block(el: etree._Element) -> bool:
    return not any(_tag(d) in _BLOCKISH for d in el.iterdescendants())


def _counts_as_body(text: str) -> bool:
    """Whether a paragraph's text can be article text (not template, furniture, counters or a widget row)."""
    return bool(text) and not (
        _is_template(text) or FURNITURE.search(text) or _NUMERIC.match(text) or _is_meta_line(text)
        or not _WIDGET_WORDS.sub("", text)
    )


def _paragraph_score(el: etree._Element) -> int:
    """Text held by an element's own paragraphs: what distinguishes a body from page chrome.

    Paragraphs are the element's direct text and its children that hold no
    block of their own (a <p>, a text-only <div>, inline runs); lists and
    tables count whole. Nested containers do not count: they compete themselves.
    """
    texts = [el.text or ""]
    for child in el:
        texts.append(child.tail or "")
        tag = _tag(child)
        if not tag or tag == "h1" or tag in _SKIP_TAGS or tag in _CHROME_TAGS:
            continue
        if tag in _BLOCKISH and tag not in ("ul", "ol", "table", "blockquote", "dl") and not _is_leaf_block(child):
            continue
        texts.append(_text(child))
    return sum(len(t) for t in (normalize_text(t) for t in texts) if _counts_as_body(t))


def _body_element(doc: etree._Element, title: Optional[str]) -> Optional[etree._Element]:
    best, best_score = None, 0
    for el in doc.xpath("//body//*[self::div or self::section or self::article or self::main or self::td]"):
        if any(_tag(a) in _CHROME_TAGS or _tag(a) in _SKIP_TAGS for a in el.iterancestors()):
            continue
        if el.get("v-html") is not None and not len(el) and not (el.text or "").strip():
            continue
        score = _paragraph_score(el)
        if score > best_score:
            best, best_score = el, score
    return best if best_score >= 20 else None


def _clean_blocks(blocks: Iterable[Block], title: Optional[str]) -> tuple[list[Block], Optional[str], list[str]]:
    """Body blocks without furniture; the source line's name; the texts dropped."""
    kept: list[Block] = []
    dropped: list[str] = []
    source: Optional[str] = None
    for block in blocks:
        text = block.text.strip()
        if not text:
            continue
        if TAIL.search(text) and kept:
            dropped.append(text)
            break
        m = SOURCE_LINE.match(text)
        if m and len(text) <= 60:
            source = source or m.group("name").strip()
            dropped.append(text)
            continue
        if (_is_template(text) or FURNITURE.search(text) or _NUMERIC.match(text) or text == title
                or _date_expression(text) == text or _is_meta_line(text)):
            dropped.append(text)
            continue
        kept.append(Block(text=text, link_ratio=block.link_ratio))
    return kept, source, dropped


_META_WORDS = re.compile(
    r"Comment area|评论区|評論區|Views?|Likes?|Comments?|浏览|瀏覽|阅读|閱讀|点赞|點讚|评论|評論|[\d,，.]+[kKwW万萬]?\+?|[\s|·•/:：]",
    re.I,
)


def _is_meta_line(text: str) -> bool:
    """A line that is only the date and counters run together ("5 Months ago 2,045 31 1 Comment area")."""
    if len(text) > 80:
        return False
    converted = _site_relative_to_chinese(text)
    probe = parse_date(converted, datetime(2000, 1, 1, tzinfo=timezone.utc))
    if probe.iso is None or probe.raw not in converted:
        return False
    rest = _META_WORDS.sub("", converted.replace(probe.raw, "", 1))
    return rest == ""


def _drop_elements_with_text(root: etree._Element, texts: set[str]) -> None:
    for el in list(root.iter()):
        if el is root or _tag(el) not in ("p", "div", "section", "span", "a", "li", "ul", "h2", "h3", "h4", "blockquote"):
            continue
        if el.getparent() is None:
            continue
        if _text(el) in texts:
            el.drop_tree()


# --------------------------------------------------------------------------- dates

def _site_relative_to_chinese(text: str) -> str:
    """'2 Last year' → '2年前', '5 Months ago' → '5个月前' (the site's English UI)."""
    def repl(m: re.Match[str]) -> str:
        word = m.group("unit").split()[0].lower().rstrip("s")
        return f"{m.group('n')}{_SITE_EN_UNITS.get(word, '天')}前"
    return _SITE_EN_RELATIVE.sub(repl, text)


def _date_expression(text: str) -> Optional[str]:
    """The text itself when it is (only) a date expression the parser understands, else None."""
    if not text or len(text) > 40:
        return None
    probe = parse_date(_site_relative_to_chinese(text), datetime(2000, 1, 1, tzinfo=timezone.utc))
    if probe.iso is None:
        return None
    # The whole short text must be the date (not a sentence that mentions one).
    rest = text.replace(probe.raw, "") if probe.raw in text else _site_relative_to_chinese(text).replace(probe.raw, "")
    rest = re.sub(r"[\s:：|·•/,，()（）]|发布于|發佈於|发布|發佈|Published|Posted|on", "", rest, flags=re.I)
    return text if len(rest) <= 2 else None


def _data_date(doc: etree._Element, tz: str) -> Optional[ParsedDate]:
    """An absolute publication time carried by the page's data (scripts, meta, <time>)."""
    zone = _zone(tz)
    ref = datetime.now(timezone.utc)  # only absolute forms are accepted below, so ref is unused
    for xp in ("//meta[@property='article:published_time']/@content", "//meta[@itemprop='datePublished']/@content",
               "//meta[@name='publishdate']/@content", "//meta[@name='pubdate']/@content",
               "//time[@datetime]/@datetime"):
        for value in doc.xpath(xp):
            parsed = parse_date(value, ref, tz)
            if parsed.iso and parsed.precision != "approx":
                return parsed
    for script in doc.xpath("//script[not(@src)]/text()"):
        for m in _DATA_DATE_KEY.finditer(script):
            if m.group("num"):
                num = int(m.group("num"))
                seconds = num / 1000 if num > 10**11 else num
                try:
                    dt = datetime.fromtimestamp(seconds, zone)
                except (OverflowError, OSError, ValueError):
                    continue
                return ParsedDate(dt.replace(microsecond=0).isoformat(), "second", m.group("num"))
            parsed = parse_date(m.group("text"), ref, tz)
            if parsed.iso and parsed.precision != "approx":
                return parsed
    return None


def _data_counters(doc: etree._Element) -> dict[str, int]:
    out: dict[str, int] = {}
    scripts = " ".join(doc.xpath("//script[not(@src)]/text()"))
    for name, keys in _DATA_COUNTER_KEYS.items():
        for key in keys:
            m = re.search(rf"[\"']?\b{key}[\"']?\s*[:=]\s*[\"']?(\d+)", scripts)
            if m:
                out[name] = int(m.group(1))
                break
    return out


# --------------------------------------------------------------------------- meta line

def _meta_texts(doc: etree._Element, body: Optional[etree._Element]) -> list[tuple[str, etree._Element]]:
    """Short visible texts in document order, with their element, outside the body and page chrome."""
    out: list[tuple[str, etree._Element]] = []
    body_nodes = set(body.iter()) if body is not None else set()
    for node in doc.xpath("//body//text()"):
        parent = node.getparent()
        if parent is None or parent in body_nodes:
            continue
        if any(_tag(a) in _SKIP_TAGS or _tag(a) in _CHROME_TAGS for a in [parent, *parent.iterancestors()]):
            continue
        text = normalize_text(str(node))
        if text and len(text) <= 40 and not _is_template(text):
            out.append((text, parent))
    return out


def _counter_kind(el: etree._Element) -> Optional[str]:
    """views/likes/comments from the class/title of the number's element, its icon or its holder."""
    hints = []
    for node in (el, el.getparent()):
        if node is None:
            continue
        hints.append(" ".join(filter(None, (node.get("class"), node.get("title"), node.get("aria-label")))))
        for child in node:
            if _tag(child) in ("i", "img", "svg", "span", "em"):
                hints.append(" ".join(filter(None, (child.get("class"), child.get("title"), child.get("alt")))))
    for hint in hints:
        for kind, regex in _COUNTER_HINTS:
            if regex.search(hint):
                return kind
    return None


def _meta_fields(texts: list[tuple[str, etree._Element]], title: Optional[str]) -> tuple[Optional[str], dict[str, int]]:
    """The shown date text and the counters from the texts after the title."""
    start = 0
    if title:
        for i, (text, _el) in enumerate(texts):
            if text == title or (len(title) > 8 and title in text):
                start = i + 1
                break
    date_text: Optional[str] = None
    date_index = start
    for i, (text, _el) in enumerate(texts[start:start + 30], start):
        if _date_expression(text):
            date_text, date_index = text, i
            break
    counters: dict[str, int] = {}
    unlabelled: list[int] = []
    for text, el in texts[date_index:date_index + 30]:
        if not _NUMERIC.match(text):
            if TAIL.search(text):
                break
            continue
        value = parse_count(text)
        if value is None:
            continue
        kind = _counter_kind(el)
        if kind and kind not in counters:
            counters[kind] = value
        elif kind is None:
            unlabelled.append(value)
        if len(counters) == 3:
            break
    # Unlabelled numbers in the page's order: views, likes, comments (seed 001: 3,311 70 0).
    if not counters and len(unlabelled) >= 2:
        counters = dict(zip(("views", "likes", "comments"), unlabelled))
    return date_text, counters


# --------------------------------------------------------------------------- article

def _alternates(doc: etree._Element, url: str) -> tuple[Optional[str], list[str]]:
    canon = None
    for href in doc.xpath("//link[translate(@rel,'CANONICAL','canonical')='canonical']/@href"):
        if href.strip():
            canon = canonical_url(urljoin(url, href.strip()))
            break
    alts = {canonical_url(urljoin(url, h.strip()))
            for h in doc.xpath("//link[translate(@rel,'ALTERNATE','alternate')='alternate'][@hreflang]/@href")
            if h.strip()}
    alts.add(canonical_url(url))
    own = canon or canonical_url(url)
    return canon, sorted(a for a in alts if a != own and urlsplit(a).scheme in ("http", "https"))


def parse_article(html: Union[str, bytes], url: str, ref: datetime, tz: str = "Asia/Shanghai",
                  fallback: bool = True) -> ArticleResult:
    """Every field an article page (raw or rendered HTML) gives; missing ones stay None/empty.

    The site-shaped readers here come first; with ``fallback``, the title, date, body and
    byline they miss come from the generic extractor (``fill_fallback``). The spider asks
    without fallback first: a raw page lacking what the app renders goes to the browser
    instead, and only the rendered page falls back.
    """
    out = ArticleResult()
    doc = _doc(html)
    if doc is None:
        return fill_fallback(out, html, url, ref, tz) if fallback else out
    out.canonical, out.alt_urls = _alternates(doc, url)
    out.title = _title(doc)
    body = _body_element(doc, out.title)

    if body is not None:
        blocks, source, dropped = _clean_blocks(body_blocks(body), out.title)
        blocks = remove_boilerplate(blocks)
        cleaned = clean_text("\n".join(b.text for b in blocks))
        out.content_text = cleaned.text
        out.quality_flags = list(cleaned.flags)
        out.source_name = source
        if out.content_text:
            out.lang = detect_lang(out.content_text)
        body_copy = lxml.html.fragment_fromstring(lxml.html.tostring(body, encoding="unicode"))
        _drop_elements_with_text(body_copy, set(dropped))
        out.content_html = sanitize_html(lxml.html.tostring(body_copy, encoding="unicode"), url)
        out.images = extract_images(body_copy, url)

    shown_text, counters = _meta_fields(_meta_texts(doc, body), out.title)
    data_date = _data_date(doc, tz)
    shown = parse_date(_site_relative_to_chinese(shown_text), ref, tz) if shown_text else None
    if data_date is not None:
        out.published_at, out.date_precision = data_date.iso, data_date.precision
    elif shown is not None and shown.iso:
        out.published_at, out.date_precision = shown.iso, shown.precision
    out.published_raw = shown_text or (data_date.raw if data_date else None)
    if out.published_at is None:
        out.flag("missing_date")

    data_counts = _data_counters(doc)
    out.views = counters.get("views", data_counts.get("views"))
    out.likes = counters.get("likes", data_counts.get("likes"))
    out.comments = counters.get("comments", data_counts.get("comments"))
    return fill_fallback(out, html, url, ref, tz) if fallback else out


# Parts the readers above look for (their miss is layout drift), and byline parts they
# read only from the source line (filled from the generic byline without a flag).
FALLBACK_WATCHED = ("title", "published_at", "content_text")
FALLBACK_SILENT = ("author", "editor", "source_name")


def fill_fallback(result: ArticleResult, html: Union[str, bytes], url: str, ref: datetime,
                  tz: str = "Asia/Shanghai") -> ArticleResult:
    """The parts of ``result`` the readers missed, from the generic extractor (flagged)."""
    from kspider.extract.article import extract_article

    if not html or not str(html).strip():
        if result.published_at is None:
            result.flag("missing_date")
        return result
    return fill_from_generic(result, lambda: extract_article(html, url, ref, tz), FALLBACK_WATCHED, FALLBACK_SILENT)


def missing_fields(fields: ArticleResult) -> list[str]:
    """What a parse lacks that rendering could give: the per-page browser check."""
    missing = []
    if not fields.title:
        missing.append("title")
    if len(fields.content_text or "") < 20:
        missing.append("content_text")
    if fields.published_at is None:
        missing.append("published_at")
    if fields.views is None and fields.likes is None:
        missing.append("counters")
    return missing


# --------------------------------------------------------------------------- listing

def parse_listing(html: Union[str, bytes], base_url: str) -> Listing:
    """Article links and other listing pages in a (rendered) community listing."""
    listing = Listing()
    doc = _doc(html)
    if doc is None:
        return listing
    seen: set[str] = set()
    for href in doc.xpath("//body//a/@href"):
        href = href.strip()
        if not href or href.startswith(("javascript:", "#", "mailto:")) or _is_template(href):
            continue
        absolute = urljoin(base_url, href)
        parts = urlsplit(absolute)
        if parts.hostname != urlsplit(base_url).hostname:
            continue
        if ARTICLE_PATH.match(parts.path):
            key = canonical_url(absolute)
            if key not in seen:
                seen.add(key)
                listing.article_urls.append(absolute)
        elif LISTING_PATH.match(parts.path) and re.search(r"(?:^|&)page=\d+", parts.query):
            if absolute not in listing.page_urls and canonical_url(absolute) != canonical_url(base_url):
                listing.page_urls.append(absolute)
    return listing


def _walk(data: Any) -> Iterable[dict]:
    """Every object in decoded JSON, depth first in document order; iterative, so JSON nested
    deeper than Python's recursion limit is walked too."""
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            yield node
            stack.extend(reversed(node.values()))
        elif isinstance(node, list):
            stack.extend(reversed(node))


def parse_listing_api(data: Union[str, bytes, dict, list], base_url: str) -> tuple[list[str], Optional[int]]:
    """Article URLs from the listing API's JSON, and the next page number (None on the last page).

    Items are objects in a list that have an ``id`` and a ``title``; paging comes
    from ``page``/``total``/``page_size`` (or ``has_more``/``last_page``).
    """
    if isinstance(data, (str, bytes)):
        try:
            data = json.loads(data)
        except ValueError:
            return [], None
        except RecursionError:  # the JSON decoder recurses: nesting past Python's limit is no API answer
            logger.warning("listing API JSON nested too deep to decode (%d bytes)", len(data))
            return [], None
    urls: list[str] = []
    for obj in _walk(data):
        for value in obj.values():
            if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
                for item in value:
                    item_id = item.get("id") or item.get("article_id")
                    if item_id is not None and ("title" in item or "article_title" in item):
                        url = urljoin(base_url, f"/community/article/{item_id}")
                        if url not in urls:
                            urls.append(url)
    next_page = None
    for obj in _walk(data):
        page = obj.get("page") or obj.get("current_page") or obj.get("current")
        if not isinstance(page, int):
            continue
        size = obj.get("page_size") or obj.get("per_page") or obj.get("limit") or obj.get("size")
        total, last, more = obj.get("total"), obj.get("last_page"), obj.get("has_more")
        if isinstance(more, bool):
            next_page = page + 1 if more else None
        elif isinstance(last, int):
            next_page = page + 1 if page < last else None
        elif isinstance(total, int) and isinstance(size, int) and size > 0:
            next_page = page + 1 if page * size < total else None
        break
    return urls, next_page
