"""Page parsing for news portals (xinjiapo.news, 江苏苏讯网): listing pages and article pages.

News portals differ in markup, not in what a page holds: a title, a meta line
(date, 来源, 编辑, 浏览量), a body, labelled lines in or after the body
(原文地址, 【责任编辑】), navigation around it. A site's registry entry may
give *layout hints*: CSS selectors by role (``Site.layout``). They are
precision hints, never a requirement:

- article pages: where a hint finds its part (title, date, meta line, body),
  that part is read through it; every part the hints miss, or that the site
  gives no hint for, comes from the generic extractor
  (kspider.extract.article), and a part whose hint missed is named in the
  result's ``fallback_fields`` and flagged ``layout_fallback``;
- listing pages: the hinted list, pager and channel menu first, the generic
  link finder (kspider.extract.listing) for whatever they miss; the registry's
  channel filter (``Site.channels``) applies to the generic channel menu.

``DEFAULT_LAYOUT`` holds selectors for what the generic extractor does not
read (breadcrumbs, category, parts never in a body, previous/next links);
the shared know-how — meta-line labels, labelled lines, date resolution,
boilerplate removal — applies to hinted and generic parts alike.

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

from kspider.extract import listing as generic_listing
from kspider.extract.boilerplate import Block, remove_boilerplate
from kspider.extract.counters import parse_count
from kspider.extract.dates import parse_date
from kspider.extract.html import body_blocks
from kspider.extract.page import abs_links, as_selector, detached_body, first_text, node_text
from kspider.extract.result import ArticleResult, fill_from_generic
from kspider.extract.text import normalize_text, strip_pinyin

Layout = Mapping[str, Iterable[str]]

# Selectors tried for roles the generic extractor does not cover, after the site's own.
# The parts the generic extractor reads (article region, title, date, meta line, body)
# and the listing parts the generic link finder reads have no defaults: a site's hint
# finds them, or the generic readers do.
DEFAULT_LAYOUT: dict[str, tuple[str, ...]] = {
    "non_body": ("script", "style", "noscript", "form", "iframe", "ins", "div.ad", "div[class^=ad-]",
                 "div.share-bar", "div.bdsharebuttonbox", "div.news-nav", "div.handle", "div.context",
                 "div.mianze", "div.editor", "section.comments", "section.newsletter", "aside"),
    "category": ("div.meta span.category", "span.category", "span.cat-links a", "a[rel~=category]"),
    "breadcrumb": ("div.breadcrumb a", "div.place a", "div.position a", "div.crumbs a", "nav.breadcrumb a",
                   "div.location a", "div.weizhi a", "div.site-path a", "div.pos a"),
    "nav_links": ("div.news-nav a", "div.handle div.context a", "div.context a"),
    "next_page": ("a[rel=next]",),
}

# Article fields read through each hint role; a field whose role is hinted and missed is a fallback.
FIELD_ROLES: dict[str, tuple[str, ...]] = {
    "title": ("title",),
    "published_at": ("date", "meta"),
    "content_text": ("body",),
    "source_name": ("meta",),
    "author": ("meta",),
    "editor": ("meta",),
    "views": ("meta",),
}
# Roles whose selectors are meant for inside the hinted article region.
_REGION_ROLES = ("title", "date", "meta", "body", "category")
# Byline fields: settled by a found meta line, even when it leaves them empty (来源: with no value).
_BYLINE = ("source_name", "author", "editor", "views")

# Links a crawl never follows: actions, member area, search, feeds, scripts.
NEVER_FOLLOW = generic_listing.NEVER_FOLLOW

# Labels of the meta line and of labelled body lines, both scripts.
_LABELS: dict[str, str] = {
    "责任编辑": "editor", "責任編輯": "editor", "编辑": "meta_editor", "編輯": "meta_editor",
    "来源": "source_name", "來源": "source_name", "作者": "author", "记者": "author", "記者": "author",
    "浏览量": "views", "瀏覽量": "views", "浏览": "views", "瀏覽": "views", "阅读": "views", "閱讀": "views",
    "点击": "views", "點擊": "views", "评论": "comments", "評論": "comments", "发布时间": "date", "發佈時間": "date", "發布時間": "date", "时间": "date",
    "時間": "date", "日期": "date",
}
# Longest label first, so 责任编辑 is one label and not 编辑 after 责任. A colon, or a number
# right after the label (阅读 38, 点击 1.2万).
_LABEL_RE = re.compile("(" + "|".join(sorted(map(re.escape, _LABELS), key=len, reverse=True)) + r")\s*(?:[:：]|(?=\d))")
_EDITOR_LINE = re.compile(r"[【\[]\s*[责責]任[编編][辑輯]\s*[:：]\s*([^】\]]+?)\s*[】\]]")
_SOURCE_URL_LINE = re.compile(r"(?:原文|来源|來源)(?:地址|链接|鏈接|網址|网址)\s*[:：]\s*(https?://[^\s<>\"'，。]+)")
_RELATED_HEADING = re.compile(r"^(?:相关|相關|相关文章|相關文章|相关阅读|相關閱讀|相关推荐|相關推薦|Related(?: posts| articles)?)\s*[:：]?$",
                              re.I)
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
    comments: Optional[int] = None


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
    out.comments = parse_count(values["comments"]) if values.get("comments") else None
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
    # Listing roles the site hints for that found nothing, filled by the generic finder.
    fallback_fields: list[str] = field(default_factory=list)


def _next_page(sel: Selector, layout: Optional[Layout], base_url: str) -> Optional[str]:
    from urllib.parse import urljoin

    for css in layout_selectors(layout, "next_page"):
        href = sel.css(css).xpath("@href").get()
        if href:
            return urljoin(base_url, href.strip())
    for css in layout_selectors(layout, "page_links"):
        for link in sel.css(css):
            href = (link.xpath("@href").get() or "").strip()
            if href and generic_listing.NEXT_LINK_TEXT.match(node_text(link)):
                return urljoin(base_url, href)
    return None


def parse_listing(page: Union[str, Selector], base_url: str, layout: Optional[Layout] = None,
                  channels: Iterable[str] = (), found: Optional[generic_listing.ListingLinks] = None) -> Listing:
    """Article links of a listing page (home, channel, channel page N), its pagination and channel links.

    The site's hints first; what they miss comes from the generic link finder (``found``
    when the caller already ran it). Generic channel links are kept only when they are one of
    ``channels`` (link texts or URL parts); with no ``channels`` and no channel hint, every
    channel of the menu is followed.
    """
    sel = as_selector(page)
    own = layout or {}
    out = Listing(
        article_urls=_role_links(sel, layout, "listing_links", base_url),
        page_urls=[u for u in _role_links(sel, layout, "page_links", base_url) if u != base_url],
        next_page_url=_next_page(sel, layout, base_url),
        channel_urls=_role_links(sel, layout, "channel_links", base_url),
    )
    if out.article_urls and out.page_urls and out.channel_urls:
        return out
    generic = found if found is not None else generic_listing.find_links(sel, base_url)
    for role, attr in (("listing_links", "article_urls"), ("page_links", "page_urls")):
        if getattr(out, attr):
            continue
        values = (generic_listing.channel_article_urls(generic, base_url, channels) if attr == "article_urls"
                  else generic.page_urls)
        if values:
            setattr(out, attr, list(values))
            if own.get(role):
                out.fallback_fields.append(role)
    if out.next_page_url is None:
        out.next_page_url = generic.next_page_url
    if not out.channel_urls:
        names = tuple(channels)
        if names:
            out.channel_urls = [url for text, url in generic.channels
                                if generic_listing.channel_matches(text, url, names)]
        elif not own.get("channel_links"):
            out.channel_urls = [url for _text, url in generic.channels]
        if out.channel_urls and own.get("channel_links"):
            out.fallback_fields.append("channel_links")
    return out


# --------------------------------------------------------------------------- article

@dataclass
class _BodyParts:
    """A hinted body before assembly (what ``page.finish_body`` reads)."""

    blocks: list[Block]  # body blocks kept
    dropped: list[Block]  # body blocks removed as boilerplate
    body: Any = None  # lxml element of the body, non-body parts removed


def _title(sel: Selector, region: Selector, layout: Optional[Layout]) -> Optional[str]:
    if not (layout or {}).get("title"):
        return None
    return _role_text(region, layout, "title") or _role_text(sel, layout, "title")


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


def _hinted_body(region: Selector, layout: Optional[Layout], url: str,
                 extra_boilerplate: Iterable[str]) -> Optional[dict[str, Any]]:
    """content_text, content_html and images of the hinted body; None when no hint finds one."""
    from kspider.extract.page import finish_body

    if not (layout or {}).get("body"):
        return None
    body = detached_body(region, tuple(layout["body"]), layout_selectors(layout, "non_body"))
    if body is None:
        return None
    kept, dropped = _split_boilerplate(body_blocks(body), extra_boilerplate)
    subheads = _subheads(body)
    out = finish_body(_BodyParts(blocks=kept, dropped=dropped, body=body), url)
    for image in out["images"]:
        if image.get("caption") and image["caption"] in subheads:
            image["caption"] = None
    return out


def _meta_line_of(lines: list[str], ref: datetime, tz: str, window: int = 3) -> tuple[int, Optional[MetaLine]]:
    """(index, meta line) among the first lines of a body: a date and 来源/编辑 labels. The
    generic extractor may leave it there when the page puts it inside the body container."""
    for i, line in enumerate(lines[:window]):
        if len(line) > 120 or not _LABEL_RE.search(line):
            continue
        meta = parse_meta_line(line)
        if (meta.date_text and parse_date(meta.date_text, ref, tz).iso
                and any((meta.source_name, meta.author, meta.editor, meta.meta_editor, meta.views is not None))):
            return i, meta
    return -1, None


def _page_meta_line(page: Union[str, Selector], title: Optional[str], ref: datetime, tz: str) -> Optional[MetaLine]:
    """The meta line of a page read without selectors: the first short block after the headline
    with a readable date and a 来源/编辑/作者/浏览量 label."""
    blocks = [b.text for b in body_blocks(as_selector(page).root)]
    start = 0
    if title:
        start = next((i + 1 for i, text in enumerate(blocks) if text == title or text.startswith(title)), 0)
    index, meta = _meta_line_of(blocks[start:start + 6] if start else blocks, ref, tz, window=6)
    return meta


_MACHINE_TIME = ('meta[property="article:published_time"]::attr(content)',
                 'meta[itemprop="datePublished"]::attr(content)', "time[datetime]::attr(datetime)")


def _machine_time(sel: Selector, ref: datetime, tz: str) -> Optional[Any]:
    """The publication time the page's markup states (article:published_time, datePublished,
    the first ``<time datetime>``), when it has a time of day."""
    for css in _MACHINE_TIME:
        value = (sel.css(css).get() or "").strip()
        if value and "T" in value:
            parsed = parse_date(value, ref, tz)
            if parsed.iso and parsed.precision in ("second", "minute"):
                return parsed
    return None


def generic_article(page: Union[str, Selector], url: str, ref: datetime, tz: str = "Asia/Shanghai",
                    extra_boilerplate: Iterable[str] = ()) -> ArticleResult:
    """The generic extractor's reading of a news page, with the news-portal know-how on top:
    the site's boilerplate lines dropped from the body, a meta line left at the top of the
    body read (date, 来源, 编辑, 浏览量) and removed, and the 【责任编辑】 / 原文地址 lines read."""
    from kspider.extract.article import extract_article

    result = extract_article(page, url, ref, tz)
    if result.date_precision == "day" and result.published_at:
        exact = _machine_time(as_selector(page), ref, tz)
        if exact is not None and exact.iso[:10] == result.published_at[:10]:
            # The page shows the day; its markup has the time of that same day.
            result.published_at, result.date_precision = exact.iso, exact.precision
    lines = [line for line in result.content_text.split("\n") if line]
    headline = [lines.pop(0)] if lines and result.title and lines[0] == result.title else []
    # A bare "related" heading closing the body is the heading of an empty related-posts box
    # (filled by JavaScript), not article text.
    if lines and _RELATED_HEADING.match(lines[-1]):
        headline.append(lines.pop())
    index, meta = _meta_line_of(lines, ref, tz)
    meta_text = lines.pop(index) if meta is not None else None
    if meta is not None:
        if result.published_at is None and meta.date_text:
            parsed = parse_date(meta.date_text, ref, tz)
            if parsed.iso:
                result.published_at, result.published_raw = parsed.iso, parsed.raw
                result.date_precision = parsed.precision
        result.source_name = result.source_name or meta.source_name
        result.author = result.author or meta.author
        result.editor = result.editor or meta.editor or meta.meta_editor
        if result.views is None:
            result.views = meta.views
    if meta is None and (result.views is None or not (result.source_name or result.editor)):
        meta = _page_meta_line(page, result.title, ref, tz)
        if meta is not None:
            result.source_name = result.source_name or meta.source_name
            result.author = result.author or meta.author
            result.editor = result.editor or meta.editor or meta.meta_editor
            if result.views is None:
                result.views = meta.views
    labelled = labelled_lines(lines)
    result.editor = labelled["editor"] or result.editor
    result.source_url = result.source_url or labelled["source_url"]
    kept, dropped = _split_boilerplate([Block(line) for line in lines], extra_boilerplate)
    if dropped or meta is not None or headline:
        result.content_text = "\n".join(b.text for b in kept)
        result.content_html = _drop_lines_from_html(
            result.content_html, {b.text for b in dropped} | ({meta_text} if meta_text else set()) | set(headline))
    return result


def _drop_lines_from_html(html: str, texts: set[str]) -> str:
    """The body HTML without the elements whose whole text is a dropped line."""
    if not html:
        return html
    import lxml.html

    from kspider.extract.page import drop_blocks_from_html

    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except Exception:  # noqa: BLE001 - the text is what is stored; the HTML stays as it was
        return html
    drop_blocks_from_html(root, {normalize_text(t) for t in texts}, set())
    return "".join(lxml.html.tostring(child, encoding="unicode") for child in root) if len(root) else html


def parse_article(page: Union[str, Selector], url: str, ref: datetime, tz: str = "Asia/Shanghai",
                  layout: Optional[Layout] = None, extra_boilerplate: Iterable[str] = ()) -> ArticleResult:
    """Fields of a news article page: the site's hints first, the generic extractor for the rest.

    A date without a year resolves against ``ref`` (the response Date) in zone ``tz``.
    ``fallback_fields`` names the hinted parts that were missing (see module doc).
    """
    sel = as_selector(page)
    hints = dict(layout or {})
    hinted_roles = {role for role, selectors in hints.items() if selectors}
    region = _first_match(sel, hints, "article") if hints.get("article") else None
    if region is None and hints.get("article"):
        # The hinted article region is not on the page: this is not the hinted layout, and
        # selectors meant for inside that region would match anything of the same name
        # elsewhere (a header's div.content). Those parts come from the generic extractor.
        for role in _REGION_ROLES:
            hints.pop(role, None)
    region = region if region is not None else sel
    meta_node = _first_match(region, hints, "meta") if hints.get("meta") else None
    meta = parse_meta_line(node_text(meta_node) if meta_node is not None else None)
    date_text = (_role_text(region, hints, "date") if hints.get("date") else None) or meta.date_text
    published = parse_date(date_text, ref, tz) if date_text else None
    if published is not None and published.iso is None and meta.date_text and meta.date_text != date_text:
        published = parse_date(meta.date_text, ref, tz)

    # Labelled lines may sit in the body (原文地址) or after it (【责任编辑】): read the whole region.
    labelled = labelled_lines(b.text for b in body_blocks(region))
    breadcrumbs = _breadcrumbs(sel, hints)
    result = ArticleResult(
        title=_title(sel, region, hints),
        author=meta.author,
        # 责任编辑 names the editor; the meta line's 编辑 only when there is none.
        editor=labelled["editor"] or meta.editor or meta.meta_editor,
        category=_role_text(region, hints, "category") or (breadcrumbs[-1] if breadcrumbs else None),
        breadcrumbs=breadcrumbs,
        published_raw=(published.raw if published and published.iso else date_text) or None,
        published_at=published.iso if published else None,
        date_precision=published.precision if published and published.iso else None,
        views=meta.views,
        source_name=meta.source_name,
        source_url=labelled["source_url"],
        site_name=normalize_text(sel.css('meta[property="og:site_name"]::attr(content)').get() or "") or None,
        canonical=sel.css('link[rel="canonical"]::attr(href)').get(),
    )
    if result.published_at is None:
        # An unreadable date text is no date: the generic reading replaces all three forms.
        result.published_raw = result.date_precision = None
    body = _hinted_body(region, hints, url, extra_boilerplate)
    if body is not None and body["content_text"]:
        result.content_text, result.content_html, result.images = (
            body["content_text"], body["content_html"], body["images"])

    watched: list[str] = []
    silent: list[str] = []
    for name, roles in FIELD_ROLES.items():
        if name in _BYLINE and meta_node is not None:
            continue  # the meta line was found: what it leaves empty is empty on the page
        (watched if hinted_roles.intersection(roles) else silent).append(name)
    generic = lambda: generic_article(sel, url, ref, tz, extra_boilerplate)  # noqa: E731 - run only if needed
    return fill_from_generic(result, generic, watched, silent)


def nav_links(page: Union[str, Selector], url: str, layout: Optional[Layout] = None) -> list[str]:
    """Previous/next article links of an article page (navigation, never related articles)."""
    return _role_links(as_selector(page), layout, "nav_links", url)
