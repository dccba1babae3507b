"""Articles split over several pages: the next page's address, and one body from all pages.

A site says how its articles are split with the layout hint ``article_pages``
(CSS selectors of the article's page bar, e.g. PHPCMS's ``#pages a`` or
DedeCMS's ``.dede_pages a``). Without that hint an article whose page shows a
page bar is kept as its first page and flagged ``multi_page`` (the generic
extractor sees the bar); following unknown bars would walk into listings and
archives. With it, the spider fetches the later pages one after the other and
stores one article: the first page's fields, the bodies of all pages in order.
"""
from __future__ import annotations

from typing import Any, Iterable, Optional, Sequence
from urllib.parse import urljoin, urlsplit

from parsel import Selector

from kspider.extract.ids import canonical_url
from kspider.extract.listing import NEXT_LINK_TEXT, anchor_text

# A site's longest article is a few dozen pages; a bar that goes on is a listing's.
MAX_ARTICLE_PAGES = 30


def next_article_page(page: Selector, url: str, selectors: Sequence[str], seen: Iterable[str]) -> Optional[str]:
    """The address of the article's next page from the hinted page bar, or None on its last page.

    ``seen``: canonical URLs of the pages already read (a bar links back to them).
    The bar's "下一页" link wins; else the lowest-numbered page not yet read (bars
    that show only numbers). Only links on the article's own host count.
    """
    done = set(seen) | {canonical_url(url)}
    host = urlsplit(url).hostname
    numbered: list[tuple[int, str]] = []
    for css in selectors:
        for link in page.css(css):
            href = (link.attrib.get("href") or "").strip()
            if not href or href.startswith(("#", "javascript:")):
                continue
            target = urljoin(url, href)
            if urlsplit(target).hostname != host or canonical_url(target) in done:
                continue
            text = anchor_text(link.root)
            if NEXT_LINK_TEXT.match(text):
                return target
            if text.isdigit():
                numbered.append((int(text), target))
        if numbered:
            break
    return min(numbered)[1] if numbered else None


# Byline fields a later page may give when the first lacks them (the 责任编辑 line sits at
# the end of the body, so on the last page).
_BYLINE = ("editor", "author", "source_name", "source_url")


def append_page(fields: dict[str, Any], later: Any) -> None:
    """Add a later page's body (an ``ArticleResult``) to an article's item fields, in page order;
    byline fields the pages before lacked are taken from it."""
    for name in _BYLINE:
        if not fields.get(name) and getattr(later, name, None):
            fields[name] = getattr(later, name)
    text = (later.content_text or "").strip()
    if text:
        fields["content_text"] = "\n".join(t for t in (fields.get("content_text") or "", text) if t)
    if later.content_html:
        fields["content_html"] = (fields.get("content_html") or "") + later.content_html
    have = {img.get("src") for img in fields.get("images") or []}
    for img in later.images:
        if img.get("src") not in have:
            fields.setdefault("images", []).append(img)
            have.add(img.get("src"))
