"""Page parsing for Z-BlogPHP sites on the "tpure" theme (the 021cf.cn network).

Pure functions: HTML text (or a parsel Selector) in, fields out. The markup
follows tpure's templates (template/single.php, post-single.php,
post-multi.php, mutuality.php, pagebar.php): ``div.sitemap`` breadcrumb,
``div.post > h1``, ``div.info`` spans, ``div.single`` body with
``div.copynotice``/``div.tags`` inside or right after it, ``div.sharebox``,
``div.pages``, related posts in ``div.relate``/``div.relatelist``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, Iterable, Optional, Union

from lxml import etree
from lxml import html as lxml_html
from parsel import Selector

from kspider.extract.boilerplate import Block, remove_boilerplate
from kspider.extract.counters import parse_count
from kspider.extract.dates import parse_date
from kspider.extract.newsportal import labelled_lines
from kspider.extract.html import body_blocks
from kspider.extract.page import as_selector as _sel
from kspider.extract.page import abs_links, css_matcher, detached_body, finish_body, select
from kspider.extract.page import first_text as _first_text
from kspider.extract.page import node_text as _text
from kspider.extract.result import ArticleResult
from kspider.extract.text import normalize_text

# Parts of a post page that are never body text, wherever the theme version puts them.
NON_BODY_SELECTORS = (
    "div.copynotice", "div.tpureqr", "div.tags", "div.sharebox", "div.pages", "div.relate", "div.relatecon",
    "div.relatelist", "div.posttitle", "div.comment", "#comments", "div.cmt", "script", "style", "noscript",
    "form", "iframe",
)

# Link targets a crawl of this template never follows: actions, search, feeds, comments, login.
NEVER_FOLLOW = re.compile(
    r"(zb_system/|cmd\.php|search\.php|/search/|feed\.php|/feed/?$|[?&]act=|login|#comment|\?replytocom=|"
    r"javascript:|mailto:|/zb_users/)",
    re.I,
)

SITE_NAME_IN_NOTICE = re.compile(r"版[权權]声明[:：]?\s*本文由\s*(.+?)\s*发布")
# Where <title> ends the post title: "TITLE - SITE NAME" (tpure 5), "TITLE_SITE NAME" (older
# versions). A dash with no spaces around it belongs to the title ("2000-6000平").
TITLE_SEPARATOR = re.compile(r"\s+[-–—|]\s+|\s*_\s*|\s*\|\s*")

# The reposted article's source, on a line of its own: 来源：昆山日报, 文章来源: 新华网, 转载自中国江苏网.
SOURCE_LINE = re.compile(r"^(?:[【\[]?(?:文章|新闻|信息|稿件)?来源\s*[:：]\s*|(?:文章)?(?:授权)?转载自\s*)"
                         r"([^\s,，。:：【】\[\]]{2,20})[】\]]?$")

# What the theme writes as the class of <body> (template/*.php: class="{$type}"), by the kind of page
# Z-BlogPHP served. Only "article" is a post; a Z-BlogPHP page (留言本, 关于我们, tag cloud, archive
# templates) is "page". Unknown or missing (older versions): read the page as a post.
PAGE_KINDS = frozenset({"article", "page", "index", "category", "tag", "author", "date", "search", "list", "404"})
NOT_POST_KINDS = PAGE_KINDS - {"article"}


# cssselect tests a class on every element by searching its whitespace-normalized class attribute;
# a plain substring test first lets most elements fail without building that string (same matches).
_CLASS_TEST = re.compile(r"@class and (contains\(concat\(' ', normalize-space\(@class\), ' '\), ' ([\w-]+) '\))")


@lru_cache(maxsize=64)
def _class_matcher(css: str) -> etree.XPath:
    return etree.XPath(_CLASS_TEST.sub(r"@class and contains(@class, '\2') and \1", css_matcher(css).path))


def _select_by_class(node: Any, css: str) -> list[Any]:
    """``page.select`` for the selectors tpure runs over the whole page: the same elements in
    document order, the class tests made cheap."""
    return _class_matcher(css)(node.root if isinstance(node, Selector) else node)


def _abs_links(sel: Selector, css: str, base_url: str) -> list[str]:
    return abs_links(sel, css, base_url, NEVER_FOLLOW)


@dataclass
class Listing:
    post_urls: list[str] = field(default_factory=list)
    page_urls: list[str] = field(default_factory=list)
    category_urls: list[str] = field(default_factory=list)


# A post's address in Z-BlogPHP's URL modes (index.php rewrite, full rewrite, dynamic).
POST_LINK = re.compile(r"/post/\d+\.html$|/\?id=\d+$")


def parse_listing(page: Union[str, Selector], base_url: str) -> Listing:
    """Post links, pagination links and category links of a tpure listing page (home, category, tag)."""
    sel = _sel(page)
    post_urls = _abs_links(
        sel, "div.post.item h2 a, div.item h2 a, div.post.istop h2 a, div.item div.albumcon > a", base_url)
    if not post_urls:
        # Another list style of the theme (album, sticker …): post links of the main column,
        # the sidebar's hot/new lists left out.
        post_urls = [u for u in _abs_links(sel, "div.content, div.listcon, div.block", base_url)
                     if POST_LINK.search(u)]
    return Listing(
        post_urls=post_urls,
        page_urls=_abs_links(sel, "div.pagebar a, div.pagination a, div.pages a.m, span.next-page a", base_url),
        category_urls=_abs_links(sel, "div.header .menu a, #nav a, ul.nav a, div.nav a, div.menu a, nav a", base_url),
    )


@dataclass
class PostPage:
    """A parsed tpure post: its fields (an ``ArticleResult`` whose body fields ``finish_post``
    fills) and the body blocks the caller reads rental ads from before the body is finished."""

    result: ArticleResult
    blocks: list[Block]  # body blocks after structural and pattern boilerplate removal
    dropped: list[Block]  # body blocks removed as boilerplate (kept for ad detection)
    raw_body_text: str  # the whole div.single text, inserted blocks included
    body: Any = None  # lxml element of the body, non-body parts removed
    all_blocks: list[Block] = field(default_factory=list)  # every body block, in page order
    head_title: Optional[str] = None  # the post title part of <title>, for when no h1 is found

    @property
    def canonical(self) -> Optional[str]:
        return self.result.canonical


def _info_fields(info: Any) -> dict[str, Any]:
    """Author, date, category, views and comments of the post's div.info element (None: no such element)."""
    out: dict[str, Any] = {"author": None, "published_raw": None, "category": None, "views": None, "comments": None}
    if info is None:
        return out
    out["author"] = _first_text(info, "span.user")
    date_node = select(info, "span.date, time.datetime, span.time")
    if date_node:
        out["published_raw"] = _text(date_node[0]) or None
    out["category"] = _first_text(info, "span.cate")
    view = _first_text(info, "span.view")
    out["views"] = parse_count(view) if view else None
    cmt = _first_text(info, "span.cmt")
    out["comments"] = parse_count(cmt) if cmt else None
    return out


def _breadcrumbs(sel: Selector) -> list[str]:
    crumbs = [_text(a) for a in _select_by_class(sel, "div.sitemap a")]
    return [c for c in crumbs if c and c not in ("首页", "首頁", "Home")]


def page_kind(page: Union[str, Selector]) -> Optional[str]:
    """The kind of page by the class tpure writes on <body>: article, page, index, category, tag,
    author, date, search …; None when the body carries no known kind (older theme versions)."""
    sel = _sel(page)
    root = sel.root
    # The parser puts <body> right under <html>: found there without walking the page.
    body = [root.find("body")] if getattr(root, "tag", None) == "html" and root.find("body") is not None \
        else select(sel, "body")
    if not body:
        return None
    for name in (body[0].get("class") or "").split():
        if name in PAGE_KINDS:
            return name
    return None


def _split_title(raw_title: str) -> tuple[str, Optional[str]]:
    """(post title, site name) of a <title>; site name None when there is no suffix."""
    raw_title = raw_title.strip()
    last = None
    for last in TITLE_SEPARATOR.finditer(raw_title):
        pass
    if last is None or not last.start() or last.end() >= len(raw_title):
        return raw_title, None
    return raw_title[: last.start()].strip(), raw_title[last.end():].strip()


def _site_name(sel: Selector, page_title: Optional[str] = None) -> Optional[str]:
    """The site name the copyright notice gives, else the one in the page title (``page_title``:
    the <title> text when the caller has it)."""
    notice = " ".join(_text(n) for n in _select_by_class(sel, "div.copynotice"))
    found = SITE_NAME_IN_NOTICE.search(normalize_text(notice))
    if found:
        return found.group(1)
    # Fallback: the page <title> is "POST TITLE - SITE NAME" (or with _ or |).
    return _split_title((page_title if page_title is not None else _first_text(sel, "title")) or "")[1]


def _body_element(sel: Selector) -> Optional[Any]:
    """A detached copy of div.single with the non-body parts removed."""
    return detached_body(sel, ("div.post div.single", "div.single"), NON_BODY_SELECTORS)


_CAPTION_MAX = 60
_SENTENCE_END = ("。", "！", "？", "!", "?", "：", ":", "；", ";")
_LABELLED = re.compile(r"^(?:【[^】]*】|[^\s:：（(]{1,8}[:：])|\d[\d\s-]{6,}\d")


def _images_by_url(body: Any, base_url: str) -> dict[str, Any]:
    """The first <img> of the body for each absolute image URL."""
    from urllib.parse import urljoin

    from kspider.extract.html import _image_src

    out: dict[str, Any] = {}
    for img in body.iter("img"):
        src = _image_src(img)
        if not src:
            continue
        try:
            out.setdefault(urljoin(base_url, src), img)
        except ValueError:  # an address urljoin cannot read is no image
            continue
    return out


def _caption_after(body: Any, img: Any, kept: set[str]) -> Optional[str]:
    """The caption the author wrote under an image: the short body line right after the image's
    own paragraph (not alt text, which the reader does not see), not a sentence of the text."""
    holder = img
    while holder.getparent() is not None and holder.getparent() is not body and not normalize_text(
            holder.getparent().text_content()):
        holder = holder.getparent()
    following = holder.getnext()
    if following is None or not isinstance(following.tag, str) or following.xpath(".//img"):
        return None
    text = normalize_text(following.text_content())
    # A labelled line (联系人：…, 面积：…) or a phone number is a field of the text, not a caption.
    if (0 < len(text) <= _CAPTION_MAX and text in kept and not text.endswith(_SENTENCE_END)
            and not _LABELLED.search(text)):
        return text
    return None


def finish_post(post: PostPage, url: str, removed_texts: Iterable[str] = ()) -> ArticleResult:
    """The post's ``ArticleResult`` with its body: content_text, content_html and images
    (``page.finish_body``) minus ``removed_texts`` (e.g. inline ads the caller turned into ads),
    image captions read from the line under the image when the alt text was not one."""
    out = finish_body(post, url, removed_texts)
    if post.body is not None:
        kept = set(out["content_text"].split("\n"))
        images_by_url: Optional[dict[str, Any]] = None
        for image in out["images"]:
            if image.get("caption") is None:
                if images_by_url is None:  # the body's images by URL, once per post
                    images_by_url = _images_by_url(post.body, url)
                img = images_by_url.get(image["url"])
                image["caption"] = _caption_after(post.body, img, kept) if img is not None else None
    result = post.result
    result.content_text, result.content_html, result.images = out["content_text"], out["content_html"], out["images"]
    return result


def parse_post(page: Union[str, Selector], url: str, ref: datetime, tz: str = "Asia/Shanghai",
               extra_boilerplate: Iterable[str] = ()) -> PostPage:
    """Fields of a tpure post page. Dates resolve against ``ref`` (the response Date)."""
    sel = _sel(page)
    # Queries for the post's own parts run inside div.post: a fraction of the page to search.
    post_node = (_select_by_class(sel, "div.post") or [sel.root])[0]
    title = _first_text(post_node, "h1") or _first_text(sel, "h1")
    # The first div.info of the post, else of the page ("div.post div.info, div.info" is "div.info").
    info_nodes = select(post_node, "div.info") or select(sel, "div.info")
    info = _info_fields(info_nodes[0] if info_nodes else None)
    breadcrumbs = _breadcrumbs(sel)
    published = parse_date(info["published_raw"], ref, tz) if info["published_raw"] else None

    body = _body_element(post_node) if select(post_node, "div.single") else _body_element(sel)
    raw_body_text = normalize_text(body.text_content()) if body is not None else ""
    all_blocks = body_blocks(body) if body is not None else []
    page_title = _first_text(sel, "title") or ""
    head_title = _split_title(page_title)[0] or None
    kept = remove_boilerplate(all_blocks, extra_boilerplate, title=title or head_title)
    kept_ids = {id(b) for b in kept}
    dropped = [b for b in all_blocks if id(b) not in kept_ids]

    canonical = next((link.get("href") for link in select(sel, 'link[rel="canonical"]') if link.get("href")), None)
    # 【责任编辑:…】 and 原文地址:URL lines the reposting left in the body (furniture, but they name
    # the editor and the source).
    labelled = labelled_lines(b.text for b in all_blocks)
    source_name = next((m.group(1) for m in (SOURCE_LINE.match(b.text.strip()) for b in all_blocks) if m), None)
    result = ArticleResult(
        title=title,
        editor=labelled["editor"],
        source_url=labelled["source_url"],
        source_name=source_name,
        author=info["author"],
        category=info["category"] or (breadcrumbs[-1] if breadcrumbs else None),
        breadcrumbs=breadcrumbs,
        tags=[t for t in (_text(a) for a in _select_by_class(sel, "div.tags a")) if t],
        published_raw=info["published_raw"],
        published_at=published.iso if published else None,
        date_precision=published.precision if published else None,
        views=info["views"],
        comments=info["comments"],
        site_name=_site_name(sel, page_title),
        related_urls=_abs_links(sel, "div.relate a, div.relatelist a, div.relatecon a", url),
        canonical=canonical,
    )
    return PostPage(result=result, blocks=kept, dropped=dropped, raw_body_text=raw_body_text,
                    body=body, all_blocks=all_blocks, head_title=head_title)
