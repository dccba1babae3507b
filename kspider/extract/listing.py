"""Links of a listing page found without site selectors.

A news listing, whatever its CMS, repeats one structure per item (``li``,
``dd``, ``tr``, ``article``, ``div.item`` …) that holds a headline link; a
pager holds page numbers and 下一页/第N页 links; a channel menu repeats short
links near the top. ``find_links`` reads those three from the DOM:

- *headline groups*: sibling elements of one tag and class, at least
  ``MIN_GROUP`` of them, each holding a headline-like link (on-site, with the
  text of a headline rather than a label). The main list is the group with
  the most headline text; groups built like it (the same tag/class path from
  the page root, as the channel blocks of a portal's home page are) belong to
  it too. Sidebar lists (hot, ranking, related …) are other groups;
- *pagination*: links whose text is a page number, 下一页/上一页/尾页/第N页 or
  the arrows, in a pager;
- *channel menu*: repeated short links (2–10 characters) outside the main list.

Pure functions; lxml walks only (no Python recursion over the DOM).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Iterable, Optional, Union
from urllib.parse import urljoin, urlsplit

from lxml import etree
from parsel import Selector

from kspider.extract.page import parse_html
from kspider.extract.text import normalize_text

# Fewest repeated siblings that make a list.
MIN_GROUP = 3
# Hrefs never followed: actions, member area, search, feeds, scripts, comment anchors.
NEVER_FOLLOW = re.compile(
    r"^(?:#|javascript:|mailto:|tel:|data:)|/(?:member|plus/(?:search|rss|stow|recommend|erraddsave|ad_js)|search|"
    r"login|register|feed|wp-login\.php|wp-admin|xmlrpc\.php|comments?/feed)\b|[?&](?:q|s|keyword|kw|replytocom)="
    r"|\.(?:jpe?g|png|gif|webp|pdf|docx?|xlsx?|zip|rar|mp4|mp3|apk|exe)(?:$|\?)|#(?:respond|comments?)$",
    re.I,
)
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_SKIP = frozenset(("script", "style", "noscript", "template", "iframe", "select", "option", "textarea", "head"))
# The text of a pager's "next page" link (下一页, 下頁 >>, next, older posts, ›, &gt; …).
NEXT_LINK_TEXT = re.compile(r"^(?:下一?[页頁]|下[一]?[页頁]\s*[>»›]*|next(?:\s*page)?|older(?:\s*posts?)?|较早的文章|[>»›]|&gt;)\s*[>»›]*$",
                   re.I)
_PAGER_TEXT = re.compile(
    r"^(?:\[?\d{1,4}\]?|第\s*\d{1,4}\s*[页頁]|下一?[页頁]|上一?[页頁]|首[页頁]|尾[页頁]|末[页頁]|最后一?[页頁]|"
    r"next(?:\s*page)?|prev(?:ious)?(?:\s*page)?|older(?:\s*posts?)?|newer(?:\s*posts?)?|较早的文章|较新的文章|"
    r"first|last|[<>«»›‹]+|&[lg]t;)\s*[<>«»›‹]*$",
    re.I,
)
_DATE = re.compile(r"(?:19|20)\d\d[-/.年]\s*\d{1,2}[-/.月]\s*\d{1,2}|(?<!\d)\d{1,2}[-/月]\d{1,2}(?:日|(?!\d))|\d+\s*(?:分钟|小时|天)前")
_PAGER_HINT = re.compile(r"pag|pager|pages|pagelist|page-numbers|nav-links|fenye|pagination", re.I)
_SIDE_HINT = re.compile(r"side|aside|right|hot|rank|top10|related|relate|recommend|tuijian|widget|footer|friend|"
                        r"links?$|comment|xgyd|xiangguan|remen|paihang", re.I)


@dataclass
class LinkGroup:
    """Sibling elements of one kind, each holding a headline link."""

    path: str  # tag.class path from the root to the parent, and the members' tag.class
    parent: Any
    members: list[Any]  # the repeated elements (li, dd, article …)
    anchors: list[Any]  # the headline anchor of each member, in page order
    text_len: int  # characters of headline text
    side: bool  # inside a sidebar-like container
    dated: bool = False  # most members show a date (news lists do, hot lists rarely)


@dataclass
class ListingLinks:
    article_urls: list[str] = field(default_factory=list)  # headline links of the main list, page order
    page_urls: list[str] = field(default_factory=list)  # pagination links (this page excluded)
    next_page_url: Optional[str] = None
    channels: list[tuple[str, str]] = field(default_factory=list)  # (link text, URL) of the channel menu
    headline_links: int = 0  # headline links in the main list
    groups: list[LinkGroup] = field(default_factory=list)  # every headline group
    main: list[LinkGroup] = field(default_factory=list)  # the groups of the main list


def as_root(page: Union[str, bytes, Selector, Any]) -> Optional[etree._Element]:
    """The lxml root of a page given as HTML text, a parsel Selector or an lxml element."""
    if isinstance(page, Selector):
        root = page.root
        return root if isinstance(root, etree._Element) else None
    if isinstance(page, etree._Element):
        return page
    if isinstance(page, bytes):
        page = page.decode("utf-8", "replace")
    if not page or not str(page).strip():
        return None
    return parse_html(str(page))[0]  # read whole however deep it nests


def _tag(el: Any) -> str:
    return el.tag.lower() if isinstance(getattr(el, "tag", None), str) else ""


def _sig(el: Any) -> str:
    return _sig_of(_tag(el), el.get("class") or "")


@lru_cache(maxsize=4096)
def _sig_of(tag: str, cls: str) -> str:
    # The first class names the kind (WordPress adds per-post classes after it); numbered
    # classes (post-123, item1) still name one kind of element.
    first = cls.split()[0] if cls.split() else ""
    first = re.sub(r"[-_]?\d+", "", first)
    return f"{tag}.{first}" if first else tag


def anchor_text(a: Any) -> str:
    return normalize_text(" ".join(t for t in a.itertext())).replace("\n", " ")


def is_headline_text(text: str) -> bool:
    """Text that reads like a headline: 6+ CJK characters, or 4+ words of Latin script."""
    if not text or text.isdigit():
        return False
    cjk = len(_CJK.findall(text))
    if cjk >= 6:
        return True
    return cjk == 0 and len(text) >= 20 and len(text.split()) >= 4


def _same_site(url: str, base_host: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return host == base_host or host.removeprefix("www.") == base_host.removeprefix("www.")


def _href(a: Any, base_url: str) -> Optional[str]:
    href = (a.get("href") or "").strip()
    if not href or NEVER_FOLLOW.search(href):
        return None
    url = urljoin(base_url, href).split("#", 1)[0]
    if urlsplit(url).scheme not in ("http", "https"):
        return None
    return url


def _anchors(root: etree._Element) -> list[tuple[Any, str]]:
    """Every ``a`` outside scripts, forms' option lists and the like, with its text."""
    hidden = {a for skip in root.iter(*_SKIP) for a in skip.iter("a")}
    return [(a, anchor_text(a)) for a in root.iter("a") if a not in hidden]


def _path(el: Any) -> str:
    return "/".join(reversed([_sig(a) for a in el.iterancestors()])) + "/" + _sig(el)


def _is_side(el: Any) -> bool:
    for node in (el, *el.iterancestors()):
        if _tag(node) in ("aside", "footer"):
            return True
        hint = f"{node.get('class') or ''} {node.get('id') or ''}"
        if hint.strip() and _SIDE_HINT.search(hint):
            return True
    return False


def headline_groups(root: etree._Element, base_url: str,
                    anchors: Optional[list[tuple[Any, str]]] = None) -> list[LinkGroup]:
    """Every group of at least MIN_GROUP siblings of one kind that each hold an on-site headline link."""
    base_host = (urlsplit(base_url).hostname or "").lower()
    own = base_url.split("#", 1)[0]
    texts: dict[Any, str] = {}
    # Each anchor with headline text, attributed to its nearest ancestor that has same-kind siblings.
    by_parent: dict[tuple[Any, str], list[tuple[Any, Any]]] = {}
    sibling_counts: dict[Any, dict[str, int]] = {}
    for a, text in (anchors if anchors is not None else _anchors(root)):
        if not is_headline_text(text):
            text = normalize_text(a.get("title") or "")
            if not is_headline_text(text):
                continue
        url = _href(a, base_url)
        if url is None or url == own or not _same_site(url, base_host):
            continue
        texts[a] = text
        member = a
        node = a
        # Walk up to the first ancestor that repeats among its siblings (li, dd, tr, article …).
        for _ in range(6):
            parent = node.getparent()
            if parent is None:
                break
            counts = sibling_counts.get(parent)
            if counts is None:
                counts = {}
                for sib in parent:
                    if isinstance(sib.tag, str):
                        key = _sig(sib)
                        counts[key] = counts.get(key, 0) + 1
                sibling_counts[parent] = counts
            if counts.get(_sig(node), 0) >= 2:
                member = node
                break
            node = parent
        else:
            member = a
        parent = member.getparent()
        if parent is None:
            continue
        by_parent.setdefault((parent, _sig(member)), []).append((member, a))
    groups: list[LinkGroup] = []
    for (parent, sig), pairs in by_parent.items():
        members: dict[Any, Any] = {}
        for member, a in pairs:
            # One headline per member: the longest one (an image link and a text link share the href).
            best = members.get(member)
            if best is None or len(texts[a]) > len(texts[best]):
                members[member] = a
        if len(members) < 2:
            continue
        anchors = list(members.values())
        dated = sum(1 for m in members if _DATE.search(normalize_text(" ".join(m.itertext()))))
        groups.append(LinkGroup(
            path=_path(parent) + "/" + sig, parent=parent, members=list(members), anchors=anchors,
            text_len=sum(len(texts[a]) for a in anchors),
            side=_is_side(parent), dated=dated * 2 >= len(members),
        ))
    return groups


def main_groups(groups: list[LinkGroup]) -> list[LinkGroup]:
    """The main list: outside sidebars when there is such a group, a dated list (news lists
    show dates, hot and ranking lists rarely) before an undated one, MIN_GROUP members or more
    when there is such a group (the last page of a channel may list only two); of those the
    group with the most headline text, and the groups built like it."""
    if not groups:
        return []
    outside = [g for g in groups if not g.side]
    pool = ([g for g in outside if g.dated]
            or [g for g in outside if len(g.members) >= MIN_GROUP]
            or outside
            or [g for g in groups if len(g.members) >= MIN_GROUP])
    if not pool:
        return []
    best = max(pool, key=lambda g: g.text_len)
    return [g for g in pool if g is best or g.path == best.path]


def _pager_links(anchors: list[tuple[Any, str]], base_url: str) -> tuple[list[str], Optional[str]]:
    own = base_url.split("#", 1)[0]
    base_host = (urlsplit(base_url).hostname or "").lower()
    pages: list[str] = []
    next_url: Optional[str] = None
    for a, text in anchors:
        text = text or normalize_text(a.get("title") or a.get("aria-label") or "")
        rel = (a.get("rel") or "").lower()
        if len(text) > 12 or not (_PAGER_TEXT.match(text) or rel in ("next", "prev")):
            continue
        url = _href(a, base_url)
        if url is None or not _same_site(url, base_host):
            continue
        if text.strip("[]").isdigit() or len(text) <= 2:
            # A bare number or arrow is a page link only inside a pager.
            holder = [a, *a.iterancestors()][:4]
            if not any(_PAGER_HINT.search(f"{n.get('class') or ''} {n.get('id') or ''}") for n in holder):
                siblings = [x for x in (a.getparent() if a.getparent() is not None else a).iter("a")
                            if anchor_text(x).strip("[]").isdigit()]
                if len(siblings) < 2:
                    continue
        if url == own:
            continue  # the current page (a last page's 下一页 may point to itself)
        if next_url is None and (rel == "next" or NEXT_LINK_TEXT.match(text)):
            next_url = url
        if url not in pages:
            pages.append(url)
    return pages, next_url


def _channel_menu(anchors: list[tuple[Any, str]], base_url: str, exclude: set[str]) -> list[tuple[str, str]]:
    """Repeated short links (menu items) in page order: (text, URL)."""
    base_host = (urlsplit(base_url).hostname or "").lower()
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for a, text in anchors:
        if not text or len(text) > 12 or text.isdigit() or is_headline_text(text):
            continue
        url = _href(a, base_url)
        if url is None or url in exclude or url in seen or not _same_site(url, base_host):
            continue
        # A menu item repeats: its li/a has siblings of its kind.
        node = a.getparent() if _tag(a.getparent()) in ("li", "span", "dd", "td", "div") else a
        parent = node.getparent() if node is not None else None
        if parent is None:
            continue
        # By tag alone: the current channel's item carries a class of its own.
        tag = _tag(node)
        if sum(1 for sib in parent if _tag(sib) == tag) < MIN_GROUP:
            continue
        seen.add(url)
        out.append((text, url))
    return out


def find_links(page: Union[str, bytes, Selector, Any], base_url: str) -> ListingLinks:
    """Headline links of the main list, pagination links and the channel menu of a page."""
    root = as_root(page)
    out = ListingLinks()
    if root is None:
        return out
    anchors = _anchors(root)
    groups = headline_groups(root, base_url, anchors)
    out.groups = groups
    seen: set[str] = set()
    out.main = main_groups(groups)
    for group in out.main:
        for a in group.anchors:
            url = _href(a, base_url)
            if url and url not in seen:
                seen.add(url)
                out.article_urls.append(url)
    out.headline_links = len(out.article_urls)
    out.page_urls, out.next_page_url = _pager_links(anchors, base_url)
    out.page_urls = [u for u in out.page_urls if u not in seen]
    out.channels = _channel_menu(anchors, base_url, seen | set(out.page_urls))
    return out


def channel_matches(text: str, url: str, names: Iterable[str]) -> bool:
    """Whether a channel link is one of the registry's channels: its text equals a name,
    or its URL contains a name that looks like a path (``/category/china``)."""
    text = normalize_text(text)
    for name in names:
        if "/" in name or "=" in name:
            if name in url:
                return True
        elif text == name:
            return True
    return False


_HEADING = frozenset(("h1", "h2", "h3", "h4", "h5", "h6", "dt", "strong", "b", "span", "em"))


def _block_names(group: LinkGroup, base_url: str) -> list[tuple[str, str]]:
    """(text, URL) of what labels a group's block: the links and headings of its box (the
    nearest ancestors up to three levels) outside the group itself, e.g. "苏州新闻 更多>>"."""
    own = set(group.members)
    out: list[tuple[str, str]] = []
    node = group.parent
    for _ in range(3):
        node = node.getparent() if node is not None else None
        if node is None:
            break
        for el in node.iter():
            if el in own or any(a in own for a in el.iterancestors()):
                continue
            tag = _tag(el)
            if tag == "a":
                url = _href(el, base_url)
                out.append((anchor_text(el), url or ""))
            elif tag in _HEADING or "title" in (el.get("class") or ""):
                text = normalize_text(" ".join(el.itertext()))
                if text:
                    out.append((text, ""))
        if out:
            break
    return out


def channel_article_urls(found: ListingLinks, base_url: str, names: Iterable[str]) -> list[str]:
    """The main list's headline links, only from the blocks labelled as one of ``names`` when
    the main list is several blocks built alike (a portal home's channel boxes). A single
    list, or blocks none of which is labelled so, stays whole."""
    names = tuple(names)
    if not names or len(found.main) < 2:
        return list(found.article_urls)
    kept = [g for g in found.main
            if any(channel_matches(text, url, names) or any(n in text for n in names if "/" not in n)
                   for text, url in _block_names(g, base_url))]
    if not kept:
        return list(found.article_urls)
    out: list[str] = []
    for group in kept:
        for a in group.anchors:
            url = _href(a, base_url)
            if url and url not in out:
                out.append(url)
    return out
