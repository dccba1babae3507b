"""Page parsing for news portals (xinjiapo.news, 江苏苏讯网): listing pages and article pages.

News portals differ in markup, not in what a page holds: a title, a meta line
(date, 来源, 编辑, 浏览量), a body, labelled lines in or after the body
(原文地址, 【责任编辑】), navigation around it. So there is one parser, driven
by a *layout*: CSS selectors by role. ``DEFAULT_LAYOUT`` lists selectors common
on such sites; a site's registry entry (``Site.layout``) puts its own
selectors first for any role. Everything else — labels, date resolution,
boilerplate removal, body assembly — is shared.

Pure functions: HTML text (or a parsel Selector) in, fields out. Text is handed
over as found (pinyin artifacts, Traditional script, encoding damage
included); the cleaning pipeline repairs and flags it once.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable, Mapping, Optional, Union

from parsel import Selector

from kspider.extract.boilerplate import Block, remove_boilerplate
from kspider.extract.counters import parse_count
from kspider.extract.dates import parse_date
from kspider.extract.html import body_blocks
from kspider.extract.page import abs_links, as_selector, detached_body, first_text, node_text
from kspider.extract.text import normalize_text, strip_pinyin

Layout = Mapping[str, Iterable[str]]

# Roles and the selectors tried for each when the site's layout has none that match.
DEFAULT_LAYOUT: dict[str, tuple[str, ...]] = {
    # the part of an article page that holds title, meta, body and the lines after the body
    "article": ("article", "div.viewbox", "div.article", "div.news-detail", "div.main-content", "body"),
    "title": ("h1",),
    "date": ("span.date", "span.time", "time", "span.pubtime", "span.publish-time"),
    "meta": ("div.meta", "div.info", "div.article-info", "p.info", "div.source"),
    "body": ("div.news-content", "div.article-content", "div.content", "div#content", "div.TRS_Editor",
             "article .content", "div.text"),
    "non_body": ("script", "style", "noscript", "form", "iframe", "ins", "div.ad", "div[class^=ad-]",
                 "div.share-bar", "div.bdsharebuttonbox", "div.news-nav", "div.handle", "div.context",
                 "div.mianze", "div.editor", "section.comments", "section.newsletter", "aside"),
    "category": ("div.meta span.category", "span.category"),
    "breadcrumb": ("div.breadcrumb a", "div.place a", "div.position a", "div.crumbs a", "nav.breadcrumb a"),
    "listing_links": ("div.news-list h2 a", "div.listbox a.title", "ul.news-list li a", "div.list li a"),
    "page_links": ("nav.pagination a", "ul.pagelist a", "div.pagination a", "div.pages a", "div.page a"),
    "channel_links": ("nav.channel-nav a", "div.nav a", "nav a"),
    "nav_links": ("div.news-nav a", "div.handle div.context a", "div.context a"),
    "next_page": ("a[rel=next]",),
}

# Links a crawl never follows: actions, member area, search, feeds, scripts.
NEVER_FOLLOW = re.compile(
    r"^(?:#|javascript:|mailto:|tel:)|/(?:member|plus/(?:search|rss|stow|recommend|erraddsave|ad_js)|search|login|feed)"
    r"\b|[?&](?:q|keyword)=",
    re.I,
)

# Labels of the meta line and of labelled body lines, both scripts.
_LABELS: dict[str, str] = {
    "责任编辑": "editor", "責任編輯": "editor", "编辑": "meta_editor", "編輯": "meta_editor",
    "来源": "source_name", "來源": "source_name", "作者": "author", "记者": "author", "記者": "author",
    "浏览量": "views", "瀏覽量": "views", "浏览": "views", "瀏覽": "views", "阅读": "views", "閱讀": "views",
    "点击": "views", "點擊": "views", "发布时间": "date", "發佈時間": "date", "發布時間": "date", "时间": "date",
    "時間": "date", "日期": "date",
}
# Longest label first, so 责任编辑 is one label and not 编辑 after 责任. A colon, or a number
# right after the label (阅读 38, 点击 1.2万).
_LABEL_RE = re.compile("(" + "|".join(sorted(map(re.escape, _LABELS), key=len, reverse=True)) + r")\s*(?:[:：]|(?=\d))")
_EDITOR_LINE = re.compile(r"[【\[]\s*[责責]任[编編][辑輯]\s*[:：]\s*([^】\]]+?)\s*[】\]]")
_SOURCE_URL_LINE = re.compile(r"(?:原文|来源|來源)(?:地址|链接|鏈接|網址|网址)\s*[:：]\s*(https?://[^\s<>\"'，。]+)")
_NEXT_TEXT = re.compile(r"^(?:下一?[页頁]|下页|next|›|»|>|&gt;)", re.I)
_HOME_CRUMBS = {"首页", "首頁", "home", "主页", "主頁", "正文", "正文内容"}


def layout_selectors(layout: Optional[Layout], role: str) -> tuple[str, ...]:
    """The selectors tried for a role: the site's first, then the defaults."""
    own = tuple((layout or {}).get(role, ()))
    return own + tuple(s for s in DEFAULT_LAYOUT.get(role, ()) if s not in own)


def _first_match(sel: Selector, layout: Optional[Layout], role: str) -> Optional[Selector]:
    for css in layout_selectors(layout, role):
        found = sel.css(css)
        if found:
            return found[0]
    return None


def _role_text(sel: Selector, layout: Optional[Layout], role: str) -> Optional[str]:
    for css in layout_selectors(layout, role):
        value = first_text(sel, css)
        if value:
            return value
    return None


def _role_links(sel: Selector, layout: Optional[Layout], role: str, base_url: str) -> list[str]:
    """Links of the first selector of a role that yields any."""
    for css in layout_selectors(layout, role):
        links = abs_links(sel, css, base_url, NEVER_FOLLOW)
        if links:
            return links
    return []


# --------------------------------------------------------------------------- meta line

@dataclass
class MetaLine:
    """What a news meta line (``2021-05-28 10:14 來源: 編輯:中國江蘇網 瀏覽量:0``) says."""

    date_text: Optional[str] = None
    source_name: Optional[str] = None
    author: Optional[str] = None
    meta_editor: Optional[str] = None  # 编辑 on the meta line (may name an outlet, not a person)
    editor: Optional[str] = None  # 责任编辑
    views: Optional[int] = None


def parse_meta_line(text: Optional[str]) -> MetaLine:
    """Split a meta line at its labels (来源/來源, 编辑/編輯, 责任编辑, 作者, 浏览量/阅读/点击, 时间/日期).

    The text before the first label is the date text when there is no 时间/日期 label.
    An empty value (``來源: 編輯:…``) is None, never the next label.
    """
    out = MetaLine()
    text = normalize_text(text or "").replace("\n", " ")
    if not text:
        return out
    marks = list(_LABEL_RE.finditer(text))
    lead = text[: marks[0].start()] if marks else text
    values: dict[str, str] = {}
    for i, mark in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        value = text[mark.end():end].strip(" |｜•·")
        values.setdefault(_LABELS[mark.group(1)], value)
    out.date_text = values.get("date") or (lead.strip(" |｜•·") or None)
    out.source_name = values.get("source_name") or None
    out.author = values.get("author") or None
    out.meta_editor = values.get("meta_editor") or None
    out.editor = values.get("editor") or None
    out.views = parse_count(values["views"]) if values.get("views") else None
    return out


def labelled_lines(lines: Iterable[str]) -> dict[str, Optional[str]]:
    """``editor`` from a 【责任编辑:X】 line and ``source_url`` from a 原文地址:URL line (first of each)."""
    out: dict[str, Optional[str]] = {"editor": None, "source_url": None}
    for line in lines:
        if out["editor"] is None:
            found = _EDITOR_LINE.search(line)
            if found:
                out["editor"] = found.group(1).strip() or None
        if out["source_url"] is None:
            found = _SOURCE_URL_LINE.search(line)
            if found:
                out["source_url"] = found.group(1).rstrip(".,;")
    return out


# --------------------------------------------------------------------------- listing

@dataclass
class Listing:
    article_urls: list[str] = field(default_factory=list)  # the main list, in page order
    page_urls: list[str] = field(default_factory=list)  # pagination links
    next_page_url: Optional[str] = None
    channel_urls: list[str] = field(default_factory=list)  # channel/category navigation


def _next_page(sel: Selector, layout: Optional[Layout], base_url: str) -> Optional[str]:
    from urllib.parse import urljoin

    for css in layout_selectors(layout, "next_page"):
        href = sel.css(css).xpath("@href").get()
        if href:
            return urljoin(base_url, href.strip())
    for css in layout_selectors(layout, "page_links"):
        for link in sel.css(css):
            href = (link.xpath("@href").get() or "").strip()
            if href and _NEXT_TEXT.match(node_text(link)):
                return urljoin(base_url, href)
    return None


def parse_listing(page: Union[str, Selector], base_url: str, layout: Optional[Layout] = None) -> Listing:
    """Article links of a listing page (home, channel, channel page N), its pagination and channel links."""
    sel = as_selector(page)
    page_urls = [u for u in _role_links(sel, layout, "page_links", base_url) if u != base_url]
    return Listing(
        article_urls=_role_links(sel, layout, "listing_links", base_url),
        page_urls=page_urls,
        next_page_url=_next_page(sel, layout, base_url),
        channel_urls=_role_links(sel, layout, "channel_links", base_url),
    )


# --------------------------------------------------------------------------- article

@dataclass
class ArticlePage:
    """What a news article page holds, before item assembly."""

    fields: dict[str, Any]
    blocks: list[Block]  # body blocks kept
    dropped: list[Block]  # body blocks removed as boilerplate
    body: Any = None  # lxml element of the body, non-body parts removed
    canonical: Optional[str] = None
    nav_urls: list[str] = field(default_factory=list)  # previous/next article links (navigation, not related)
    subheads: set[str] = field(default_factory=set)  # texts of bold/heading-only paragraphs of the body


def _title(sel: Selector, region: Selector, layout: Optional[Layout]) -> Optional[str]:
    title = _role_text(region, layout, "title") or _role_text(sel, layout, "title")
    if title:
        return title
    # Fallback: og:title or <title>, minus the " - SITE" / "_CHANNEL_SITE" tail.
    raw = normalize_text(sel.css('meta[property="og:title"]::attr(content)').get()
                         or sel.css("title::text").get() or "")
    return re.split(r"\s+[-|–—]\s+|_", raw)[0].strip() or None


def _breadcrumbs(sel: Selector, layout: Optional[Layout]) -> list[str]:
    for css in layout_selectors(layout, "breadcrumb"):
        crumbs = [node_text(n) for n in sel.css(css)]
        crumbs = [c for c in crumbs if c and c.lower() not in _HOME_CRUMBS]
        if crumbs:
            return crumbs
    return []


def _subheads(body: Any) -> set[str]:
    """Paragraphs whose whole text is bold or a heading: section subheads, never image captions."""
    out: set[str] = set()
    if body is None:
        return out
    for node in body.iter("p", "div", "h2", "h3", "h4", "h5", "h6"):
        text = normalize_text(node.text_content())
        if not text:
            continue
        if node.tag in ("h2", "h3", "h4", "h5", "h6"):
            out.add(text)
            continue
        bold = "".join(normalize_text(b.text_content()) for b in node.iter("strong", "b"))
        if bold and bold.replace(" ", "") == text.replace(" ", ""):
            out.add(text)
    return out


def _split_boilerplate(blocks: list[Block], extra: Iterable[str]) -> tuple[list[Block], list[Block]]:
    """(kept, dropped). Patterns are matched on the text with pinyin artifacts removed
    (江蘇蘇訊網(wǎng)客服 is 江蘇蘇訊網客服), while the blocks keep their text as found."""
    probes = [Block(strip_pinyin(b.text)[0], b.link_ratio) for b in blocks]
    kept_probe_ids = {id(p) for p in remove_boilerplate(probes, tuple(extra))}
    kept = [b for b, p in zip(blocks, probes) if id(p) in kept_probe_ids]
    dropped = [b for b, p in zip(blocks, probes) if id(p) not in kept_probe_ids]
    return kept, dropped


def parse_article(page: Union[str, Selector], url: str, ref: datetime, tz: str = "Asia/Shanghai",
                  layout: Optional[Layout] = None, extra_boilerplate: Iterable[str] = ()) -> ArticlePage:
    """Fields of a news article page. A date without a year resolves against ``ref`` (the
    response Date) in zone ``tz``."""
    sel = as_selector(page)
    region = _first_match(sel, layout, "article") or sel
    meta_node = _first_match(region, layout, "meta")
    meta = parse_meta_line(node_text(meta_node) if meta_node is not None else None)
    date_text = _role_text(region, layout, "date") or meta.date_text
    published = parse_date(date_text, ref, tz) if date_text else None
    if published is not None and published.iso is None and meta.date_text and meta.date_text != date_text:
        published = parse_date(meta.date_text, ref, tz)

    body = detached_body(region, layout_selectors(layout, "body"), layout_selectors(layout, "non_body"))
    all_blocks = body_blocks(body) if body is not None else []
    kept, dropped = _split_boilerplate(all_blocks, extra_boilerplate)

    # Labelled lines may sit in the body (原文地址) or after it (【责任编辑】): read the whole region.
    region_lines = [b.text for b in body_blocks(region)]
    labelled = labelled_lines(region_lines)
    breadcrumbs = _breadcrumbs(sel, layout)
    category = _role_text(region, layout, "category") or (breadcrumbs[-1] if breadcrumbs else None)

    fields: dict[str, Any] = {
        "title": _title(sel, region, layout),
        "author": meta.author,
        # 责任编辑 names the editor; the meta line's 编辑 only when there is none.
        "editor": labelled["editor"] or meta.editor or meta.meta_editor,
        "category": category,
        "breadcrumbs": breadcrumbs,
        "published_raw": (published.raw if published and published.iso else date_text) or None,
        "published_at": published.iso if published else None,
        "date_precision": published.precision if published else None,
        "views": meta.views,
        "source_name": meta.source_name,
        "source_url": labelled["source_url"],
        "site_name": normalize_text(sel.css('meta[property="og:site_name"]::attr(content)').get() or "") or None,
    }
    return ArticlePage(
        fields=fields, blocks=kept, dropped=dropped, body=body,
        canonical=sel.css('link[rel="canonical"]::attr(href)').get(),
        nav_urls=_role_links(sel, layout, "nav_links", url),
        subheads=_subheads(body),
    )


def finish_article(post: ArticlePage, url: str) -> dict[str, Any]:
    """content_text, content_html and images of a parsed article (subheads are never captions)."""
    from kspider.extract.page import finish_body

    out = finish_body(post, url)
    for image in out["images"]:
        if image.get("caption") and image["caption"] in post.subheads:
            image["caption"] = None
    return out
