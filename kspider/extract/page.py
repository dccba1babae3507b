"""Page-parsing helpers every template parser shares (tpure, news portals).

Pure functions: selectors and text of nodes, absolute link lists, a detached
body element without its non-body parts, and ``finish_body``, which turns the
kept body blocks into ``content_text``, ``content_html`` and ``images`` so the
two always say the same thing.
"""
from __future__ import annotations

import copy
import logging
import re
from functools import lru_cache
from itertools import islice
from typing import Any, Iterable, Optional, Protocol, Union
from urllib.parse import urljoin

from lxml import etree
from lxml import html as lxml_html
from lxml.cssselect import CSSSelector
from parsel import Selector

from kspider.extract.boilerplate import Block
from kspider.extract.html import XML_INCOMPATIBLE, extract_images, holds_img, sanitize_html
from kspider.extract.text import normalize_text

logger = logging.getLogger(__name__)

def as_selector(page: Union[str, Selector]) -> Selector:
    """A parsel Selector from HTML text (or the Selector itself); the whole page is read however
    deep it nests (``parse_page``)."""
    return page if isinstance(page, Selector) else Selector(root=parse_page(page or "<html></html>"), type="html")


def _element(node: Any) -> Any:
    """The lxml element of a parsel Selector (or the element itself)."""
    return node.root if isinstance(node, Selector) else node


def node_text(sel: Any) -> str:
    """All text under a node (Selector or lxml element), whitespace-normalized."""
    root = _element(sel)
    if isinstance(root, str):
        return normalize_text(root)
    return normalize_text(" ".join(root.itertext()))


def select(sel: Any, css: str) -> list[Any]:
    """lxml elements matching ``css`` under a node, in document order. Faster than parsel's
    ``.css()``: the selector is compiled once and no Selector objects are built."""
    root = _element(sel)
    if not hasattr(root, "iter"):
        return []
    return css_matcher(css)(root)


def first_text(sel: Any, css: str) -> Optional[str]:
    """The text of the first node matching ``css``; None when there is none or it is empty."""
    nodes = select(sel, css)
    if not nodes:
        return None
    value = node_text(nodes[0])
    return value or None


def abs_links(sel: Any, css: str, base_url: str, never_follow: Optional[re.Pattern[str]] = None) -> list[str]:
    """Absolute hrefs of the ``a`` elements matching ``css`` (or inside the elements matching it),
    in page order, each once; empty hrefs and those matching ``never_follow`` skipped."""
    out: list[str] = []
    seen_anchors: set[Any] = set()
    # A page links the same address many times (title, thumbnail, "read more"): each href is
    # checked and resolved once.
    seen_hrefs: set[str] = set()
    seen_urls: set[str] = set()
    for node in select(sel, css):
        for anchor in node.iter("a"):
            if anchor in seen_anchors:
                continue
            seen_anchors.add(anchor)
            href = (anchor.get("href") or "").strip()
            if href in seen_hrefs:
                continue
            seen_hrefs.add(href)
            # A bare fragment ("#", "#top") points back into the same page.
            if not href or href.startswith("#") or (never_follow is not None and never_follow.search(href)):
                continue
            url = urljoin(base_url, href)
            if url not in seen_urls:
                seen_urls.add(url)
                out.append(url)
    return out


# cssselect tests a class as "@class and (the whitespace-normalized class attribute holds ' x ')",
# a string built for every element looked at. A plain substring test instead of "@class" lets most
# elements fail without building it, and without libxml2 building a node-set for "@class": the
# same elements match (a class name holds no space, so the substring is in each match, and no
# substring is in a missing attribute).
_CLASS_TEST = re.compile(r"@class and (contains\(concat\(' ', normalize-space\(@class\), ' '\), ' ([\w-]+) '\))")
# cssselect writes the descendant combinator as "/descendant-or-self::*/"; "//" (the same elements:
# only elements have children) is the form libxml2 evaluates as one descendant walk.
_DESCENDANT = "/descendant-or-self::*/"
# The first step of each branch cssselect writes: a walk of the tree for one element name.
_FIRST_STEP = re.compile(r"descendant-or-self::(\*|[\w-]+)")


def _top_level_split(path: str, sep: str) -> list[str]:
    """``path`` cut at each ``sep`` outside brackets, parentheses and string literals."""
    parts: list[str] = []
    depth, quote, start = 0, "", 0
    for i, ch in enumerate(path):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == sep and not depth:
            parts.append(path[start:i])
            start = i + 1
        elif ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
    parts.append(path[start:])
    return parts


def _first_step(branch: str) -> Optional[tuple[str, str, str]]:
    """(name test, predicate or "", the rest) of a branch starting "descendant-or-self::name[...]";
    None for any other shape, or a predicate that may depend on position."""
    found = _FIRST_STEP.match(branch)
    if found is None:
        return None
    name, rest = found.group(1), branch[found.end():]
    predicate = ""
    if rest.startswith("["):
        inner = _top_level_split(rest[1:], "]")
        if len(inner) < 2:
            return None
        predicate = inner[0]
        rest = rest[len(predicate) + 2:]
    if (rest and not rest.startswith("/")) or "position()" in predicate or "last()" in predicate \
            or predicate.strip().isdigit() or "[" in predicate:
        return None
    return name, predicate, rest


def _merged_union(path: str) -> str:
    """A union of CSS branches as fewer walks: branches that differ only in their first step's
    predicate become one step testing either ("div.x a, div.y a" -> "descendant-or-self::div[x or
    y]//a"). The same elements, in document order: each branch's first step is a condition on
    one element, the rest of the path runs from each element that meets it. (Branches naming
    different elements stay apart: one step over every element testing them all costs more.)"""
    branches = [branch.strip() for branch in _top_level_split(path, "|")]
    steps = [_first_step(branch) for branch in branches]
    if len(branches) < 2 or any(step is None for step in steps):
        return path
    by_name_and_rest: dict[tuple[str, str], list[str]] = {}
    for name, predicate, rest in steps:  # type: ignore[misc]
        by_name_and_rest.setdefault((name, rest), []).append(predicate)
    merged = []
    for (name, rest), predicates in by_name_and_rest.items():
        if all(predicates):
            test = predicates[0] if len(predicates) == 1 else " or ".join(f"({p})" for p in predicates)
            merged.append(f"descendant-or-self::{name}[{test}]{rest}")
        else:  # a branch without a predicate takes every element of that name
            merged.append(f"descendant-or-self::{name}{rest}")
    return " | ".join(merged)


@lru_cache(maxsize=512)
def css_matcher(css: str) -> etree.XPath:
    """A compiled CSS selector (translating CSS to XPath costs more than matching), in the forms
    libxml2 evaluates fastest: cheap class tests, "//" descendant steps, a union of branches as
    few walks as it can; ``.path`` is its XPath."""
    path = CSSSelector(css, translator="html").path
    path = _CLASS_TEST.sub(r"contains(@class, '\2') and \1", path).replace(_DESCENDANT, "//")
    try:
        return etree.XPath(_merged_union(path))
    except etree.XPathSyntaxError:  # a shape the merge does not know: the union as it is
        return etree.XPath(path)


def detached_body(sel: Selector, body_css: Iterable[str], non_body_css: Iterable[str]) -> Optional[Any]:
    """A detached lxml copy of the first node matching one of ``body_css`` (tried in order),
    with every descendant matching one of ``non_body_css`` removed."""
    node = None
    for css in body_css:
        found = select(sel, css)
        if found:
            node = found[0]
            break
    if node is None:
        return None
    # A deep copy of the parsed node: no serializing and re-parsing the body.
    element = copy.deepcopy(node)
    element.tail = None
    non_body = ", ".join(non_body_css)
    if non_body:
        # One union selector: one walk of the body instead of one per selector.
        for bad in css_matcher(non_body)(element):
            if bad is not element and bad.getparent() is not None:
                bad.drop_tree()
    return element


class BodyParts(Protocol):
    """What ``finish_body`` needs from a parsed post (tpure.PostPage, newsportal.ArticlePage)."""

    blocks: list[Block]  # body blocks kept after boilerplate removal
    dropped: list[Block]  # body blocks removed as boilerplate
    body: Any  # lxml element of the body, non-body parts removed (None when there is no body)


def drop_blocks_from_html(element: Any, dropped_texts: set[str], kept_texts: set[str]) -> None:
    """Remove the elements whose whole text is a dropped block, so content_html matches content_text."""
    for node in list(element.iter("p", "div", "li", "ul", "ol", "h2", "h3", "h4", "h5", "h6", "section", "table")):
        if node is element or node.getparent() is None:
            continue
        text = normalize_text(node.text_content())
        if not text:
            # Empty paragraphs and image-only blocks stay (images are filtered separately).
            continue
        lines = [line for line in text.split("\n") if line]
        if lines and all(line in dropped_texts and line not in kept_texts for line in lines):
            node.drop_tree()


def drop_trailing_images(element: Any, kept_texts: set[str]) -> None:
    """Drop images after the last kept body paragraph: they belong to inserted blocks
    (an inline ad's photo, the contact block's QR codes), not to the article."""
    nodes = list(element.iter())  # page order; element itself first
    # One string holding every kept text, so "is this node's text in the body" is one search.
    kept_all = "\x00".join(t for t in kept_texts if t)
    # The last node whose own text is kept: looked for from the end (most bodies end in text).
    last_kept = -1
    for index in range(len(nodes) - 1, 0, -1):
        node = nodes[index]
        if not isinstance(node.tag, str):
            continue
        own = normalize_text((node.text or "") + "".join(child.tail or "" for child in node))
        if own and own in kept_all:
            last_kept = index
            break
    for img in [node for node in nodes[last_kept + 1:] if node.tag == "img"]:
        holder = img.getparent()
        img.drop_tree()
        if (holder is not None and holder is not element and holder.getparent() is not None
                and not normalize_text(holder.text_content()) and not holds_img(holder)):
            holder.drop_tree()


def finish_body(post: BodyParts, url: str, removed_texts: Iterable[str] = ()) -> dict[str, Any]:
    """content_text, content_html and images from the kept blocks, minus any further removed texts
    (e.g. inline ad blocks the caller turned into ads)."""
    removed = {normalize_text(t) for t in removed_texts}
    removed_lines = {line for t in removed for line in t.split("\n") if line}
    blocks = [b for b in post.blocks if normalize_text(b.text) not in removed and b.text not in removed_lines]
    kept_texts = {normalize_text(b.text) for b in blocks}
    dropped_texts = {normalize_text(b.text) for b in post.dropped} | removed_lines | removed
    body = post.body
    content_html = ""
    images: list[dict[str, Any]] = []
    if body is not None:
        drop_blocks_from_html(body, dropped_texts, kept_texts)
        drop_trailing_images(body, kept_texts)
        images = extract_images(body, url)
        for image in images:
            # A caption is text the reader sees next to the image; alt text is not one.
            if image.get("caption") and normalize_text(image["caption"]) not in kept_texts:
                image["caption"] = None
        content_html = sanitize_html(lxml_html.tostring(body, encoding="unicode"), url)
    return {
        "content_text": "\n".join(b.text for b in blocks if b.text),
        "content_html": content_html,
        "images": images,
    }


# --------------------------------------------------------------------------- hostile pages
# What a page may cost and how it may be broken: pure functions on the HTML text, used by the
# download layer (kspider.download.pages) before any parser sees the page, and by as_selector.

_VOID_TAGS = ("area", "base", "br", "col", "embed", "hr", "img", "input", "keygen", "link", "meta", "param",
              "source", "track", "wbr", "basefont", "bgsound", "frame", "isindex")
_START_TAG = re.compile(r"<[a-zA-Z]")
_VOID_OPENS = tuple(f"<{tag}" for tag in _VOID_TAGS if tag not in ("basefont", "bgsound", "isindex", "keygen"))
# A "<" that opens an element which may hold others: not a close tag, comment or doctype, nor a
# void tag. No void name is the prefix of another, so each "<" is one or the other; inside a
# chunk, a lookahead cut short by the chunk's end counts an open tag, as the chunk's counts do.
_NESTING_OPEN = re.compile("<(?!/|!|" + "|".join(v[1:] for v in _VOID_OPENS) + ")")
_ESTIMATE_CHUNK = 4096
_TOKEN = re.compile(
    r"<!--.*?(?:-->|\Z)"  # comment
    r"|<(script|style|textarea|title|xmp)\b[^>]*>.*?(?:</\1\s*>|\Z)"  # raw-text element: one leaf
    r"|<[!?][^>]*>?"  # doctype, processing instruction
    r"|<(/?)([a-zA-Z][^\s/>]*)([^>]*)>",
    re.S | re.I,
)
_DOCUMENT_OPEN = re.compile(r"<(?:html|body)[\s>]", re.I)
_DOCUMENT_CLOSE = re.compile(r"</(?:body|html)\s*>", re.I)
# Elements an opening tag closes implicitly when one is open right above it.
_IMPLICIT_CLOSE = {"li": ("li",), "dt": ("dt", "dd"), "dd": ("dt", "dd"), "td": ("td", "th"), "th": ("td", "th"),
                   "tr": ("tr", "td", "th"), "option": ("option",)}
_CLOSES_P = frozenset("address article aside blockquote div dl fieldset figure footer form h1 h2 h3 h4 h5 h6 "
                      "header hr main nav ol p pre section table ul".split())
# Paragraph-level elements kept a little past the depth limit, so flattened text keeps its paragraphs.
_PARAGRAPHS = frozenset("p h1 h2 h3 h4 h5 h6 li dt dd pre blockquote figcaption caption td th".split())
_PARAGRAPH_SLACK = 32
# Levels at the bottom of the depth limit kept for whole subtrees (see ``flatten_nesting``).
_CONTENT_RESERVE = 50


def page_truncated(html: str) -> bool:
    """A document that opens <html> or <body> but closes neither: the download was cut off."""
    return bool(_DOCUMENT_OPEN.search(html)) and not _DOCUMENT_CLOSE.search(html)


def cap_page(html: str, max_chars: int, max_elements: int) -> tuple[str, bool]:
    """The page cut before its ``max_chars``-th character or its ``max_elements + 1``-th element
    (never inside a tag), and whether it was cut. 0 means no limit."""
    cut = len(html)
    if max_chars and len(html) > max_chars:
        cut = max_chars
    # Every start tag is a "<": a page with no more of those than the limit has nothing to cut.
    if max_elements and html.count("<", 0, cut) > max_elements:
        beyond = next(islice(_START_TAG.finditer(html, 0, cut), max_elements, None), None)
        if beyond is not None:
            cut = beyond.start()
    if cut >= len(html):
        return html, False
    # Back to before the first "<" after the last ">": a stray "<" in text before a cut tag
    # would otherwise leave the kept part ending in what reads as an open tag.
    tag_start = html.find("<", html.rfind(">", 0, cut) + 1, cut)
    if tag_start != -1:
        cut = tag_start
    return html[:cut], True


def nesting_estimate(html: str) -> int:
    """An upper estimate of the page's element nesting depth, cheap enough for every page: tags
    are counted per chunk (a C-level count and one regex pass, no parse, no per-tag Python), and
    within a chunk the depth may rise by all of its open tags. Unclosed <p>/<li> and upper-case
    void tags only raise the estimate (then ``flatten_nesting`` does the exact count)."""
    depth = best = 0
    for start in range(0, len(html), _ESTIMATE_CHUNK):
        chunk = html[start:start + _ESTIMATE_CHUNK]
        closes = chunk.count("</")
        opens = len(_NESTING_OPEN.findall(chunk))
        if depth + opens > best:
            best = depth + opens
        depth += opens - closes
    return best


def _subtree_heights(html: str) -> dict[int, int]:
    """For each opening tag (by its offset): how many levels of non-paragraph elements its
    element spans, itself included; elements are matched as ``flatten_nesting`` matches them."""
    heights: dict[int, int] = {}
    stack: list[list[Any]] = []  # [tag, offset, own level (0 for paragraphs), tallest child]
    open_count: dict[str, int] = {}

    def pop_to(index: int) -> None:
        for name, offset, own, tallest in reversed(stack[index:]):
            open_count[name] -= 1
            heights[offset] = height = own + tallest
            stack.pop()
            if stack and height > stack[-1][3]:
                stack[-1][3] = height

    for match in _TOKEN.finditer(html):
        name = match.group(3)
        if name is None:
            continue
        name = name.lower()
        if match.group(2):
            if not open_count.get(name):
                continue
            index = len(stack) - 1
            while stack[index][0] != name:
                index -= 1
            pop_to(index)
            continue
        if name in _VOID_TAGS or match.group(4).endswith("/"):
            continue
        if stack and (stack[-1][0] in _IMPLICIT_CLOSE.get(name, ()) or (stack[-1][0] == "p" and name in _CLOSES_P)):
            pop_to(len(stack) - 1)
        stack.append([name, match.start(), 0 if name in _PARAGRAPHS else 1, 0])
        open_count[name] = open_count.get(name, 0) + 1
    pop_to(0)
    return heights


def flatten_nesting(html: str, max_depth: int) -> tuple[str, int]:
    """The page with the tags of elements nested deeper than ``max_depth`` removed (their text
    stays, inside the deepest kept element), and how many elements were unwrapped.

    HTML parsers give up at some depth (libxml2: 256 levels, 2048 with huge_tree) and drop
    everything after it; nothing is lost this way. Paragraph-level elements are kept a few
    levels further, so the text keeps its paragraphs. The last levels below the limit go to
    whole subtrees: a wrapper whose content would not fit under it is unwrapped instead of the
    content, so a list or article nested in thousands of wrappers keeps its own markup.
    """
    heights = _subtree_heights(html)
    reserve_from = max_depth - min(_CONTENT_RESERVE, max_depth // 4)
    out: list[str] = []
    last = 0
    stack: list[tuple[str, bool]] = []  # (tag, unwrapped)
    open_count: dict[str, int] = {}
    kept = 0  # elements on the stack that are kept
    unwrapped = 0

    def pop_to(index: int) -> None:
        nonlocal kept
        for name, was_unwrapped in stack[index:]:
            open_count[name] -= 1
            kept -= not was_unwrapped
        del stack[index:]

    for match in _TOKEN.finditer(html):
        name = match.group(3)
        if name is None:
            continue
        name = name.lower()
        if match.group(2):  # a close tag: closes its innermost open element and anything left open inside
            if not open_count.get(name):
                continue
            index = len(stack) - 1
            while stack[index][0] != name:
                index -= 1
            if stack[index][1]:
                out.append(html[last:match.start()])
                last = match.end()
            pop_to(index)
            continue
        if name in _VOID_TAGS or match.group(4).endswith("/"):
            continue
        if stack and (stack[-1][0] in _IMPLICIT_CLOSE.get(name, ()) or (stack[-1][0] == "p" and name in _CLOSES_P)):
            pop_to(len(stack) - 1)
        if name in _PARAGRAPHS:
            unwrap = kept >= max_depth + _PARAGRAPH_SLACK
        else:
            unwrap = kept >= max_depth or (kept >= reserve_from and kept + heights[match.start()] > max_depth)
        if unwrap:
            out.append(html[last:match.start()])
            last = match.end()
            unwrapped += 1
        else:
            kept += 1
        stack.append((name, unwrap))
        open_count[name] = open_count.get(name, 0) + 1
    if not unwrapped:
        return html, 0
    out.append(html[last:])
    return "".join(out), unwrapped


# Parsers stop reading at some depth and drop the rest of the page (libxml2: 256 levels, 2,048
# with huge_tree), and tree walks cost more the deeper the tree: pages are read at most this deep.
PARSER_MAX_DEPTH = 200
# A tree this deep was cut by libxml2 (it keeps 256 levels, with a margin for its own nodes).
LIBXML_MAX_DEPTH = 250


def too_deep(parser: Any) -> bool:
    """Whether libxml2 stopped reading the last page ``parser`` parsed at its depth limit."""
    return any("Excessive depth" in entry.message for entry in parser.error_log)


_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)
# the same characters in UTF-8: control bytes (never part of a longer sequence), U+FFFE, U+FFFF
_CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
_NONCHARACTERS = re.compile(rb"\xef\xbf[\xbe\xbf]")


@lru_cache(maxsize=None)
def _html_parser(keep_comments: bool, html_elements: bool) -> Any:
    # lxml.html's parser builds HtmlElement (what parsel and lxml.html build); plain etree
    # elements skip the per-element class lookup, for walks over every node. The page is handed
    # over as UTF-8 bytes: libxml2 reads those directly (a str it first converts from UCS-2/4).
    make = lxml_html.HTMLParser if html_elements else etree.HTMLParser
    return make(recover=True, huge_tree=True, remove_comments=not keep_comments,
                remove_pis=not keep_comments, encoding="utf-8")


def _utf8(text: str) -> bytes:
    """The page as UTF-8 without the characters XML cannot hold (C-level passes; a regex over
    the text only when it holds lone surrogates)."""
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates
        data = XML_INCOMPATIBLE.sub("", text).encode("utf-8")
    data = data.translate(None, _CONTROL_BYTES)
    if b"\xef\xbf" in data:
        data = _NONCHARACTERS.sub(b"", data)
    return data


def parse_html(html: str, *, keep_comments: bool = True, html_elements: bool = True,
               max_depth: int = PARSER_MAX_DEPTH, estimate_depth: bool = True
               ) -> tuple[Optional[etree._Element], bool]:
    """The lxml root of an HTML page read whole however deep it nests (None for an empty or
    unreadable page), and whether it was flattened on the way.

    A page nesting deeper than ``max_depth`` is flattened first (``flatten_nesting``): libxml2
    would drop everything below its depth limit, and deep trees cost every walk. An XML
    declaration and characters XML cannot hold are dropped. ``keep_comments``: comments (and
    processing instructions) stay in the tree (dates hide in them); ``html_elements``: lxml.html
    elements, else plain ones. ``estimate_depth=False``: no nesting estimate before parsing (a
    caller that measures the tree's depth on its own walk and calls ``parse_flattened`` when it
    is too deep); only libxml2's own depth stop is caught here.
    """
    text = _XML_DECL.sub("", html or "")
    if not text.strip():
        return None, False
    flattened = False
    if estimate_depth and len(text) >= 3 * max_depth and nesting_estimate(text) > max_depth:
        text, unwrapped = flatten_nesting(text, max_depth)
        flattened = unwrapped > 0
    parser = _html_parser(keep_comments, html_elements)
    try:
        root = etree.fromstring(_utf8(text), parser=parser)
    except _PARSE_ERRORS:
        return None, flattened
    if too_deep(parser) and not flattened:  # the estimate is an upper bound: only a safety net
        try:
            root = etree.fromstring(_utf8(flatten_nesting(text, max_depth)[0]), parser=parser)
            flattened = True
        except _PARSE_ERRORS as exc:  # the first reading (cut at libxml2's depth limit) is kept
            logger.warning("page nesting past libxml2's limit could not be read flattened (%s); "
                           "the part above the limit is kept", exc)
    return (root if root is not None and isinstance(root.tag, str) else None), flattened


_PARSE_ERRORS = (etree.ParserError, etree.XMLSyntaxError, ValueError, AssertionError)


def parse_flattened(html: str, *, keep_comments: bool = True, html_elements: bool = True,
                    max_depth: int = PARSER_MAX_DEPTH) -> tuple[Optional[etree._Element], bool]:
    """``parse_html`` of the page flattened to ``max_depth`` (for a caller whose tree, parsed
    without the estimate, turned out deeper), and whether anything was unwrapped."""
    text = _XML_DECL.sub("", html or "")
    flat, unwrapped = flatten_nesting(text, max_depth)
    root, _ = parse_html(flat, keep_comments=keep_comments, html_elements=html_elements,
                         max_depth=max_depth, estimate_depth=False)
    return root, unwrapped > 0


def parse_page(html: str) -> Any:
    """The lxml root of an HTML page, as parsel builds it, read whole however deep it nests
    (``parse_html``); an empty page is an empty <html>."""
    root, _ = parse_html(html.strip())
    return root if root is not None else etree.fromstring(b"<html/>", parser=_html_parser(True, True))
