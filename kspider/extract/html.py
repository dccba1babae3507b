"""HTML helpers: body → paragraph blocks, sanitized body HTML, images with captions."""
from __future__ import annotations

import copy
import html as html_lib
import re
from itertools import islice
from typing import Any, Optional
from urllib.parse import urljoin

import lxml.html
from lxml import etree
from lxml_html_clean import Cleaner

from kspider.extract.boilerplate import Block
from kspider.extract.text import normalize_text

# Elements that start and end a paragraph-level block.
BLOCK_TAGS = frozenset(
    "p div li ul ol dl dt dd h1 h2 h3 h4 h5 h6 blockquote section article header footer aside nav "
    "main table thead tbody tfoot tr td th caption figure figcaption pre address center form hr".split()
)
# Elements whose content is never text of the page.
SKIP_TAGS = frozenset("script style noscript template iframe object embed svg select button textarea head title".split())


# huge_tree: libxml2's default parser stops reading 256 levels deep and drops the rest.
_PARSER = lxml.html.HTMLParser(huge_tree=True)
# Characters XML (so lxml) cannot hold: control characters, lone surrogates, U+FFFE/U+FFFF.
XML_INCOMPATIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def _root(element: Any) -> Optional[etree._Element]:
    """An lxml element from an lxml element, a parsel Selector/SelectorList, or HTML text."""
    if element is None:
        return None
    if isinstance(element, (str, bytes)):
        if isinstance(element, bytes):
            element = element.decode("utf-8", "replace")
        element = XML_INCOMPATIBLE.sub("", element)  # lxml accepts them in names, then fails on them
        if not element.strip():
            return None
        from kspider.extract.page import PARSER_MAX_DEPTH, flatten_nesting, too_deep  # page imports this module

        try:
            root = lxml.html.fragment_fromstring(element, create_parent="div", parser=_PARSER)
            if too_deep(_PARSER):  # libxml2 stopped at its depth limit and dropped the rest
                root = lxml.html.fragment_fromstring(flatten_nesting(element, PARSER_MAX_DEPTH)[0],
                                                     create_parent="div", parser=_PARSER)
            return root
        except (etree.ParserError, ValueError, AssertionError):  # lxml asserts on some broken markup
            return None
    if hasattr(element, "root") and not isinstance(element, etree._Element):  # parsel Selector
        root = element.root
        return root if isinstance(root, etree._Element) else None
    if isinstance(element, list):  # parsel SelectorList
        return _root(element[0]) if element else None
    return element if isinstance(element, etree._Element) else None


def _tag(el: etree._Element) -> str:
    return el.tag.lower() if isinstance(el.tag, str) else ""


def body_blocks(element: Any) -> list[Block]:
    """Split a body element into paragraph-level blocks with their link ratio.

    Block-level elements (p, div, li, h2-h6 …) and <br> separate blocks; text in
    inline elements joins the surrounding block. ``link_ratio`` is the share of
    the block's non-space characters that sit inside <a>.
    """
    root = _root(element)
    if root is None:
        return []
    blocks: list[Block] = []
    pieces: list[tuple[str, bool]] = []

    def flush() -> None:
        if not pieces:  # most block boundaries close no text
            return
        # inline boundaries add no space: "平台:<a>园区</a>" reads "平台:园区"
        text = normalize_text("".join(t for t, _ in pieces).replace("\n", " "))
        if text:
            total = sum(len("".join(t.split())) for t, _ in pieces)
            linked = sum(len("".join(t.split())) for t, in_link in pieces if in_link)
            blocks.append(Block(text=text, link_ratio=round(linked / total, 3) if total else 0.0))
        pieces.clear()

    # An explicit stack instead of recursion: bodies may nest thousands of elements deep.
    # Each entry: (element, inside a link, iterator over its children).
    stack: list[tuple[etree._Element, bool, Any]] = []

    def enter(el: etree._Element, in_link: bool) -> None:
        tag = _tag(el)
        if tag in BLOCK_TAGS or tag == "br":
            flush()
        here = in_link or tag == "a"
        if el.text:
            pieces.append((el.text, here))
        stack.append((el, here, iter(el)))

    if _tag(root) in SKIP_TAGS or not _tag(root):
        return []
    enter(root, False)
    while stack:
        el, here, children = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            if _tag(el) in BLOCK_TAGS:
                flush()
            if stack and el.tail:  # the tail belongs to the parent's block
                pieces.append((el.tail, stack[-1][1]))
            continue
        tag = _tag(child)
        if tag in SKIP_TAGS or not tag:  # comments and processing instructions: only their tail counts
            if child.tail:
                pieces.append((child.tail, here))
            continue
        enter(child, here)
    flush()
    return blocks


# --------------------------------------------------------------------------- sanitize

ALLOWED_TAGS = frozenset(
    "p br strong b em i u sub sup img a ul ol li h2 h3 h4 h5 h6 table thead tbody tfoot tr td th caption "
    "blockquote figure figcaption".split()
)
_SAFE_ATTRS = frozenset({"href", "src", "alt", "title", "colspan", "rowspan"})
_TRACKER_SIZE = 2  # width or height at most this: a tracking pixel, not a picture
_LAZY_SRC = ("data-src", "data-original", "data-lazy-src", "data-actualsrc", "data-url")
_BLOCK_INSIDE = BLOCK_TAGS - {"hr"}

_CLEANER = Cleaner(
    scripts=True, javascript=True, comments=True, style=True, inline_style=True, links=True, meta=True,
    page_structure=True, processing_instructions=True, embedded=True, frames=True, forms=True,
    annoying_tags=True, remove_unknown_tags=False, allow_tags=ALLOWED_TAGS, safe_attrs_only=True,
    safe_attrs=_SAFE_ATTRS, kill_tags={"noscript", "template", "svg", "select", "button", "textarea"},
)


def _image_src(img: etree._Element) -> Optional[str]:
    """The real address of an image: lazy-loading attributes win over a placeholder src."""
    for attr in _LAZY_SRC + ("src",):
        value = (img.get(attr) or "").strip()
        if value and not value.lower().startswith(("data:", "javascript:", "about:")):
            return value
    return None


def sanitize_html(html: str, base_url: str) -> str:
    """Body HTML safe to store and show: scripts, styles, event attributes, iframes
    and forms removed; presentational attributes dropped; URLs absolute; only
    p/br/strong/b/em/img/a/lists/h2-h6/tables (and a few inline tags) kept, other
    tags unwrapped. A div holding only text becomes a p, so paragraphs survive."""
    root = _root(html)
    if root is None:
        return ""
    if not isinstance(html, (str, bytes)):
        root = copy.deepcopy(root)  # the caller's tree stays as it was (text was parsed afresh)
    for img in list(root.iter("img")):
        src = _image_src(img)
        if src is None or _is_tracker(img):
            img.drop_tree()
        else:
            img.set("src", src)
    # Containers holding a block element: each block marks its ancestors, stopping at one already
    # marked (one walk, not a descendant query per container: bodies may nest thousands deep).
    holds_block: set[etree._Element] = set()
    for el in root.iter():
        if _tag(el) in _BLOCK_INSIDE:
            for ancestor in el.iterancestors():
                if ancestor in holds_block:
                    break
                holds_block.add(ancestor)
    for div in list(root.iter("div", "section", "article")):
        if div is not root and div not in holds_block:
            div.tag = "p"
    try:
        _CLEANER(root)  # in place: root is this call's own tree (clean_html would copy it once more)
        cleaned = root
    except ValueError:  # markup lxml parsed but cannot edit: keep the text, escaped
        return html_lib.escape(normalize_text(root.text_content()), quote=False)
    # the cleaner leaves links only in a/href and img/src: resolved here (lxml's link walk checks
    # every attribute); it blanks javascript: links, and a blank one is no link
    for el in cleaned.iter("a", "img"):
        for attr in ("href", "src"):
            value = el.get(attr)
            if value is None:
                continue
            value = value.strip()
            if not value:
                del el.attrib[attr]
                continue
            if attr == ("href" if el.tag == "a" else "src"):
                try:
                    el.set(attr, urljoin(base_url, value))
                except ValueError:  # an address urljoin cannot read is no link
                    del el.attrib[attr]
    out = html_lib.escape(cleaned.text or "", quote=False) + "".join(
        lxml.html.tostring(child, encoding="unicode") for child in cleaned
    )
    return out.strip()


# --------------------------------------------------------------------------- images

_GENERIC_ALT = re.compile(r"^(?:图片?|圖片?|image|img|photo|picture|\d+|[\w-]+\.(?:jpe?g|png|gif|webp))$", re.I)
_CAPTION_MAX = 60
_LEADING_NUMBER = re.compile(r"\s*(\d+)")


def _size(img: etree._Element, attr: str) -> Optional[int]:
    match = _LEADING_NUMBER.match(img.get(attr) or "")
    return int(match.group(1)) if match else None


def _is_tracker(img: etree._Element) -> bool:
    return any(size is not None and size <= _TRACKER_SIZE for size in (_size(img, "width"), _size(img, "height")))


def holds_img(el: etree._Element) -> bool:
    """Whether an img sits anywhere below ``el`` (a C-level walk; an XPath query compiles per call)."""
    return next(el.iterdescendants("img"), None) is not None


def _text_of(el: etree._Element) -> str:
    return normalize_text("".join(el.itertext()).replace("\n", " "))


def _caption(img: etree._Element, root: etree._Element) -> Optional[str]:
    for attr in ("alt", "title"):
        value = normalize_text(img.get(attr) or "")
        if value and not _GENERIC_ALT.match(value):
            return value
    figure = next((a for a in img.iterancestors("figure")), None)
    if figure is not None:
        captions = list(figure.iterdescendants("figcaption"))
        if captions and _text_of(captions[0]):
            return _text_of(captions[0])
    # the short text right after the image, or the paragraph after the image's own
    # paragraph (seed 000: a photo, then "…参观江苏昆山城市会客厅。江佳骏图")
    holder = img
    while holder.getparent() is not None and _tag(holder.getparent()) not in BLOCK_TAGS:
        holder = holder.getparent()
    parent = holder.getparent()
    if (parent is not None and parent is not root and not _text_of(parent)
            and len(list(islice(parent.iterdescendants("img"), 2))) == 1):
        holder = parent
    text = normalize_text(holder.tail or "")
    if not text:
        following = holder.getnext()
        while following is not None and (not _tag(following) or _tag(following) == "br"):
            following = following.getnext()
        if following is None or holds_img(following) or _tag(following) == "img":
            return None
        text = _text_of(following)
    if 0 < len(text) <= _CAPTION_MAX and not text.endswith((":", "：")):
        return text
    return None


def extract_images(element: Any, base_url: str) -> list[dict]:
    """Images of a body in document order: ``{"url": absolute, "caption": str|None}``.

    The caption is the alt/title text (unless generic), a figcaption, or the short
    text paragraph right after the image's paragraph. data: URIs and tracking
    pixels are skipped; each URL appears once.
    """
    root = _root(element)
    if root is None:
        return []
    images: list[dict] = []
    seen: set[str] = set()
    for img in root.iter("img"):
        src = _image_src(img)
        if src is None:
            continue
        if _is_tracker(img):
            continue
        url = urljoin(base_url, html_lib.unescape(src))
        if not url.startswith(("http://", "https://")) or url in seen:
            continue
        seen.add(url)
        images.append({"url": url, "caption": _caption(img, root)})
    return images
