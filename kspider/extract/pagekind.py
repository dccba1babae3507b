"""What kind of page a news site served: an article, a listing, or something else.

Read from content, not from the URL, so a CMS or URL scheme never seen works:

- an *article* has one block of running text (paragraphs with full-width
  punctuation and few links), usually under a headline, often with article
  metadata (``og:type`` article, ``article:published_time``, JSON-LD);
- a *listing* repeats a structure that holds a headline link
  (kspider.extract.listing), and its text sits in those repeated items (titles,
  excerpts) rather than in one block;
- anything else (an about page, a search form, an empty shell) is *other*.

A URL pattern of the site template is a *prior*: it decides the close cases
(a short article next to a long hot-news list, a listing with a long channel
intro), never the clear ones. Pure functions; one bottom-up pass over the DOM,
no recursion.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Optional, Union

from lxml import etree
from parsel import Selector

from kspider.extract.listing import MIN_GROUP, ListingLinks, as_root, find_links, main_groups
from kspider.extract.page import LIBXML_MAX_DEPTH, parse_html

ARTICLE, LISTING, OTHER = "article", "listing", "other"

_SKIP = frozenset(("script", "style", "noscript", "template", "iframe", "select", "option", "textarea", "head",
                   "title", "svg", "button", "form"))
_BLOCK = frozenset("p div li ul ol dl dt dd h1 h2 h3 h4 h5 h6 blockquote section article header footer aside nav "
                   "main table thead tbody tfoot tr td th figure figcaption pre address center".split())
_CONTAINER = frozenset(("div", "td", "article", "section", "main", "body", "center", "font"))
_SKIP_CONTAINER_HINT = re.compile(r"foot|copyright|comment|side|nav|menu|header|topbar", re.I)
_PUNCT = re.compile(r"[，。！？；：、,.!?;:]")
_HEADINGS = ("h1", "h2")
_NEWS_TYPES = re.compile(r'"@type"\s*:\s*"(?:News)?Article|"@type"\s*:\s*"(?:Blog)?Posting', re.I)

# Body text (characters) of a clear article, and of a short one a prior may confirm.
CLEAR_ARTICLE_CHARS = 250
SHORT_ARTICLE_CHARS = 100
# Headline links of a clear listing.
CLEAR_LISTING_LINKS = 4


@dataclass
class PageKind:
    kind: str  # "article", "listing" or "other"
    body_chars: int  # characters of the largest block of running text (outside repeated list items)
    body_punct: int  # punctuation marks in it
    headline_links: int  # headline links in the main list
    list_chars: int  # characters of headline text in the main list
    article_meta: bool  # og:type article, article:published_time or a JSON-LD article
    listing: ListingLinks = field(default_factory=ListingLinks)


def _tag(el: Any) -> str:
    return el.tag.lower() if isinstance(getattr(el, "tag", None), str) else ""


def _chars(text: Optional[str]) -> int:
    return len("".join(text.split())) if text else 0


def _body_block(root: etree._Element, excluded: set[Any]) -> tuple[int, int]:
    """(characters, punctuation) of the container with the most paragraph text.

    Bottom-up over the elements in reverse document order, so every child is
    measured before its parent: text, linked text, punctuation and whether a
    block element sits inside. A container scores the unlinked text of its
    direct paragraph-like children (no block inside, at most half linked) and
    its own loose text.
    """
    nodes = [el for el in root.iter() if isinstance(el.tag, str)]
    text: dict[Any, int] = {}
    linked: dict[Any, int] = {}
    punct: dict[Any, int] = {}
    has_block: dict[Any, bool] = {}
    best = (0, 0)
    for el in reversed(nodes):
        tag = _tag(el)
        if tag in _SKIP:
            text[el], linked[el], punct[el], has_block[el] = 0, 0, 0, False
            continue
        own_text = (el.text or "") + "".join(c.tail or "" for c in el if c.tail)
        t, p, blk = _chars(own_text), len(_PUNCT.findall(own_text)), False
        link = 0
        for child in el:
            if not isinstance(child.tag, str):
                continue
            t += text.get(child, 0)
            p += punct.get(child, 0)
            link += linked.get(child, 0)
            blk = blk or has_block.get(child, False) or _tag(child) in _BLOCK
        if tag == "a":
            link = t
        text[el], linked[el], punct[el], has_block[el] = t, link, p, blk
        if tag not in _CONTAINER or el in excluded:
            continue
        hint = f"{el.get('class') or ''} {el.get('id') or ''}"
        if tag != "body" and hint.strip() and _SKIP_CONTAINER_HINT.search(hint):
            continue
        score, marks = _chars(own_text), len(_PUNCT.findall(own_text))
        for child in el:
            if not isinstance(child.tag, str) or child in excluded:
                continue
            ctag = _tag(child)
            if ctag in _SKIP or ctag in _HEADINGS or ctag in ("ul", "ol", "dl", "table"):
                continue
            if has_block.get(child) and ctag != "p":
                continue
            ct, cl = text.get(child, 0), linked.get(child, 0)
            if ct and cl * 2 <= ct:
                score += ct - cl
                marks += punct.get(child, 0)
        if score > best[0]:
            best = (score, marks)
    return best


def _article_meta(root: etree._Element) -> bool:
    for meta in root.iter("meta"):
        prop = (meta.get("property") or meta.get("name") or "").lower()
        if prop == "og:type" and (meta.get("content") or "").lower() == "article":
            return True
        if prop in ("article:published_time", "pubdate", "publishdate"):
            return True
    for script in root.iter("script"):
        if (script.get("type") or "").lower() == "application/ld+json" and _NEWS_TYPES.search(script.text or ""):
            return True
    return False


def _too_deep(root: etree._Element) -> bool:
    """Whether the tree reaches libxml2's nesting limit (it drops everything below it)."""
    depth: dict[Any, int] = {}
    for el in root.iter():
        parent = el.getparent()
        d = depth[el] = depth.get(parent, 0) + 1 if parent is not None else 0
        if d >= LIBXML_MAX_DEPTH:
            return True
    return False


def classify_page(page: Union[str, bytes, Selector, Any], url: str, prior: Optional[str] = None,
                  text: Optional[str] = None) -> PageKind:
    """The kind of a page (``ARTICLE``, ``LISTING`` or ``OTHER``) from its content; ``prior``
    (what the URL pattern suggests) settles only the close cases. The listing links found on
    the way come with the result. ``text``: the page's HTML when ``page`` is already parsed,
    read again flattened if the parsed tree hit the parser's nesting limit."""
    root = as_root(page)
    if root is None:
        return PageKind(OTHER, 0, 0, 0, 0, False)
    raw = text if text is not None else (page if isinstance(page, str) else None)
    if raw is not None and _too_deep(root):
        flat, _ = parse_html(raw)
        root = flat if flat is not None else root
    listing = find_links(root, url)
    excluded: set[Any] = set()
    for group in listing.groups:
        if len(group.members) < MIN_GROUP:
            continue  # a pair of blocks with links (an article and its related box) is no list
        for member in group.members:
            excluded.update(member.iter())
    body_chars, body_punct = _body_block(root, excluded)
    list_chars = sum(g.text_len for g in main_groups(listing.groups))
    meta = _article_meta(root)
    links = listing.headline_links
    clear_article = body_chars >= CLEAR_ARTICLE_CHARS and body_punct >= 4
    # A URL that names an article makes a shorter text enough.
    some_article = body_chars >= (SHORT_ARTICLE_CHARS if prior != ARTICLE else 60) and body_punct >= 2
    # A short list with a pager is a listing too (the last page of a channel).
    clear_listing = links >= CLEAR_LISTING_LINKS or (links >= 2 and bool(listing.page_urls) and not some_article)

    if clear_article and (body_chars * 5 >= list_chars * 3 or meta or prior == ARTICLE):
        kind = ARTICLE
    elif body_chars >= 150 and body_punct >= 4 and body_chars * 2 >= list_chars * 3:
        kind = ARTICLE  # a short article beside a short related list
    elif body_chars >= 150 and body_punct >= 8:
        kind = ARTICLE  # several sentences of running text outside any list: no listing has that
    elif some_article and (meta or prior == ARTICLE):
        kind = ARTICLE
    elif clear_listing:
        kind = LISTING
    elif clear_article or (some_article and prior != LISTING):
        kind = ARTICLE
    elif prior == LISTING and links >= 1:
        kind = LISTING
    elif prior == ARTICLE and body_chars >= 40:
        kind = ARTICLE
    else:
        kind = OTHER
    return PageKind(kind, body_chars, body_punct, links, list_chars, meta, listing)
