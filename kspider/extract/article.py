"""The generic article extractor: any news page in, an ``ArticleResult`` out, no site selectors.

How it reads a page (pure: HTML, URL, reference time and zone in; fields out):

1. **Blocks.** One iterative walk splits the page into paragraph-level text
   blocks (block elements and ``<br>`` separate them), each with its length,
   the share of it inside links and its count of sentence punctuation
   (full-width ，。；！？、 as well as ASCII). Scripts, styles, forms and hidden
   elements carry no text.
2. **Body.** Every block is worth its unlinked text when it reads like prose
   (punctuation, or long), a fraction of it when it does not, and loses twice
   its linked text plus a small constant. The body is the element whose
   subtree is worth most: a parent beats its child only when what it adds is
   prose on balance, so navigation, link lists and sidebars fall outside.
   When the article's paragraphs are loose siblings among link lists (old
   table layouts, unclosed <p>), the maximum-sum run of consecutive blocks
   is worth clearly more than any element, and that run is the body.
   Inside the chosen element, subtrees that are comment boxes, share bars,
   related-article lists or page-turn bars (by their class/id or by their
   links) are pruned, blocks before the headline and the byline are dropped,
   and the project's boilerplate rules plus the generic ones here drop
   责任编辑/来源/免责声明/分享到/相关阅读 … lines; a tail marker ends the body.
3. **Title.** The headline as shown: the heading (h1–h3 or a ``*title*``
   element) nearest before the body that agrees with ``og:title`` or the
   ``<title>`` text; never a heading inside a link to the home page or one
   equal to the site's name; otherwise ``og:title`` or ``<title>`` less its
   site suffix.
4. **Date.** Candidates from the byline between headline and body (labelled
   发布时间/时间/日期 first), ``<meta>`` (article:published_time, pubdate …),
   JSON-LD ``datePublished``, ``<time datetime>`` near the headline and the URL
   (/2021/0528/, t20210528_); implausible ones (after the reference time, or
   before 1995) are discarded. Dates in comments, sidebars and the body text
   are never candidates, and a time alone is no date. None found: the
   ``missing_date`` flag.
5. **Byline.** Author, source and editor from the byline (and the 责任编辑 /
   来源 lines at the end of the body), images with captions from the body,
   ``lang`` from the text.

No Python recursion over the DOM anywhere: pages nesting thousands of
elements are walked with explicit stacks.
"""
from __future__ import annotations

import copy
import json
import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from itertools import accumulate, chain, islice
from typing import Any, Iterable, Optional, Union
from urllib.parse import urljoin, urlsplit

from lxml import etree

from kspider.extract.boilerplate import is_boilerplate, is_tail_marker
from kspider.extract.dates import ParsedDate, parse_date
from kspider.extract.html import extract_images, sanitize_html
from kspider.extract.newsportal import parse_meta_line
from kspider.extract.page import LIBXML_MAX_DEPTH, PARSER_MAX_DEPTH, parse_flattened, parse_html
from kspider.extract.result import ArticleResult
from kspider.extract.text import detect_lang, normalize_text

try:  # parsel is a dependency of the project; accepted as input, never required
    from parsel import Selector
except ImportError:  # pragma: no cover
    Selector = None  # type: ignore[assignment,misc]

__all__ = ["extract_article", "decode_html"]

# --------------------------------------------------------------------------- constants

BLOCK_TAGS = frozenset(
    "p div li ul ol dl dt dd h1 h2 h3 h4 h5 h6 blockquote section article header footer aside nav "
    "main table thead tbody tfoot tr td th caption figure figcaption pre address center form hr "
    "fieldset legend details summary menu".split()
)
# Elements whose content is never text of the page.
SKIP_TAGS = frozenset(
    "script style noscript template iframe object embed svg select button textarea head title "
    "input option canvas video audio map link meta".split()
)
HEADING_TAGS = frozenset(("h1", "h2", "h3"))
_HEADINGS = frozenset(("h1", "h2", "h3", "h4", "h5", "h6"))
_SENTENCE_PUNCT = frozenset("，。！？；、,.!?;")  # not colons: label lines (来源：…) are no prose
# class/id words of page parts that are never article text
_NEGATIVE_ATTR = re.compile(
    r"(?:^|[\s_-])(?:comments?|comment-?list|reply|replies|pinglun|cmt|discuss|share|sharing|bdshare|"
    r"jiathis|social|related|relate|relative|recommend|recomm|tuijian|xiangguan|hot-?news|hotnews|"
    r"rank|paihang|sidebar|side|aside|footer|foot|copyright|banquan|breadcrumbs?|crumbs?|position|"
    r"location|weizhi|pager|pages|pagination|page-?nav|pagelink|fenye|ad|ads|advert|guanggao|gg|"
    r"banner|toolbar|tools|print|font-?size|zihao|nav|navbar|menu|tags?|keywords|next|prev|"
    r"context|article-?nav|post-?nav|updown|shangxia|author-?(?:box|bio|info|card)|bio|page-?links?|qrcode|erweima|login|subscribe|"
    r"newsletter|disclaimer|mianze|statement|shengming|editor|zrbj|weixin|wechat|qr|wx|intro|summary|abstract|digest|zhaiyao)(?:$|[\s_\d-])",
    re.I,
)
# a cheap first test, on lower-cased words (a case-insensitive regex scans several times slower)
_COMMENT_WORD = re.compile(r"comment|cmt|pinglun|repl|gentie|discuss")
_COMMENT_TOKEN = re.compile(r"(?:^|[-_])(?:comments?|cmt|pinglun|reply|replies|gentie|discuss)(?:$|[-_])", re.I)
# tokens that only say a page has comments somewhere (a feature switch, a counter, a button)
_COMMENT_NOT = re.compile(r"feature|tab|count|num|btn|button|icon|link|enable|open|total|switch", re.I)


class _CommentAttr:
    """Whether class/id words name a comment box (token by token)."""

    @staticmethod
    def search(words: str) -> bool:
        return bool(_COMMENT_WORD.search(words.lower())) and any(
            _COMMENT_TOKEN.search(t) and not _COMMENT_NOT.search(t) for t in words.split())


_COMMENT_ATTR = _CommentAttr()
_TITLE_ATTR = re.compile(r"(?:^|[\s_-])(?:title|headline|tit|biaoti|artTit|arttitle|news_?title|"
                         r"article-?title|detail-?title|post-?title|entry-?title)(?:$|[\s_\d-])", re.I)
# display:none only: share pages hide their content with visibility:hidden until a script shows it
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none", re.I)

# Lines inside the body that are not article text (on top of the project's boilerplate rules).
# Furniture lines: what a line starts with (matched at its start only) …
_BOILERPLATE_START = re.compile(
    r"(?:[①②③④⑤⑥⑦⑧⑨⑩※•·\-—]\s*)?"  # a numbered or bulleted notice: ① 凡本网注明…, - 作者：…
    r"(?:[【\[]\s*(?:推荐|纠错|打印|关闭|收藏|分享)?\s*[】\]]?$|[】\]]$"  # tool-bar fragments: 【推荐 / 】
    r"|[(（【\[]?\s*(?:更多(?:内容|精彩|资讯|新闻)|欢迎)[^。！？]{0,6}(?:继续)?关注[^。！？]{0,40}$"  # （更多内容请继续关注 某某网）
    r"|[(（【\[]?\s*(?:责任编辑|責任編輯|编辑|編輯|责编|責編|审核|審核|校对|校對|监制|監製|审校|终审|"
    r"值班编辑|实习编辑|美编|编审|初审|复审|来源|來源|稿源|文章来源|信息来源|新闻来源|作者|记者|通讯员|撰稿|"
    r"摄影|出品|策划|统筹)\s*[:：]"
    r"[^。！？]{0,60}$"
    r"|(?:分享到|分享至|分享|转发到|收藏|打印|打印本页|关闭|关闭窗口|【?打印】?|【?关闭】?|返回顶部|"
    r"返回首页|字号|【字体|【字号|字体[:：]|点赞|举报|纠错|我要纠错|我要评论|发表评论|网友评论|"
    r"查看评论|参与评论|评论\s*\d*|点击进入专题|进入专题|相关阅读|相关新闻|相关文章|相关链接|"
    r"延伸阅读|推荐阅读|热门推荐|为你推荐|猜你喜欢|精彩推荐|热点推荐|更多精彩|扫一扫|微信扫一扫|"
    r"上一篇|下一篇|上一页|下一页|首页|尾页|返回列表)"
    r"(?:$|[\s:：|｜/>›»\-—(（【\[][^。！？]{0,30}$)"  # the word alone or before a separator: 收藏家…, 评论人：… are text
    r"|(?:本文|本站|本网)(?:所有|内容|声明|转载|来源)|(?:凡本网|凡注明|未经.{0,10}授权)|"
    r"(?:点击|点此|点这里)?\s*(?:进入|查看).{0,12}专题|[(（【]\s*(?:全文完|本文完|全文结束)|原标题\s*[:：]|"
    r"下载.{0,12}(?:APP|客户端)|"
    r"(?:长按|扫描|扫码|识别).{0,8}二维码|点击(?:上方)?蓝字|分享、?点赞、?在看|(?:跟贴|跟帖|评论|参与)\s*\d+|"
    r".{0,12}(?:报料|爆料|新闻热线|报料热线|举报电话|投稿邮箱)\s*[:：]|"
    r".{0,10}(?:公众号|微信号|视频号)$|"
    r"(?:关注|扫码关注|长按关注|欢迎关注).{0,20}(?:公众号|微信|微博|抖音号|视频号)$|【\s*(?:纠错|打印|关闭|收藏)\s*】|"
    r"(?:微信|微博|QQ|QQ空间|朋友圈|新浪微博|腾讯微博|豆瓣|人人网)(?:\s*[/|、]?\s*(?:微信|微博|QQ|QQ空间|朋友圈|"
    r"新浪微博|腾讯微博|豆瓣|人人网))*$)",
    re.I,
)
# A site's notice after the article (① 凡本网注明…, 免责声明：…): the article has ended
_NOTICE_TAIL = re.compile(r"^(?:[①②③④⑤⑥⑦⑧⑨⑩※]|\d{1,2}[.、．])?\s*(?:凡本网注明|凡本站注明|凡注明|本网声明|本站声明|"
                          r"免责声明|免責聲明|版权声明|版權聲明)")
# … and what it holds anywhere (no anchored alternative here: the regex engine then skips ahead by first
# characters, which is most of the cost on long paragraphs)
# (matched against the lower-cased line: a case-insensitive regex scans long paragraphs several times slower)
_BOILERPLATE_ANYWHERE = re.compile(
    r"免责声明|免責聲明|版权声明|版權聲明|版权所有|版權所有|copyright\s*(?:©|\(c\)|\d{4})|©\s*\d{4}|"
    r"二维码关注|扫码关注|尽在.{0,12}(?:app|客户端)$|(?<=[\u4e00-\u9fff])icp[备证]\s*\d|违法和不良信息举报|"
    r"all rights reserved",
)


# Headings after which a page shows no more article text (besides boilerplate.TAIL_MARKERS and the
# notices of _NOTICE_TAIL, tested beside it).
_TAIL = re.compile(r"^(?:反侵权公告|文档附件|相关附件|往期推荐|往期回顾|往期精选|精彩推荐|猜你喜欢|更多阅读|热文推荐|"
                   r"相关新闻|相关报道|热门评论|最新评论|精彩评论|网友评论|全部评论|评论列表|[-—\s]*end[-—\s]*)"
                   r"\s*[:：]?$", re.I)
# A page-turn bar: "上一页 1 2 3 下一页", "共3页", "第1页".
_PAGE_BAR = re.compile(r"^(?:(?:页面|页码|分页|pages?)\s*[:：]?\s*)?(?:[<«‹]|上一页|首页|\d{1,3}|下一页|尾页|末页|[>»›]|共\s*\d+\s*页|第\s*\d+\s*页|\s|[|｜])+$")
_NEXT_PAGE_TEXT = re.compile(r"^\s*(?:下一页|下页|next\s*page|next|›|»|>)\s*$", re.I)

_DATE_LABEL = re.compile(r"(?:发布|發佈|發布|更新|上传|发表|發表|出版|刊发)?(?:时间|時間|日期)\s*[:：]|发表于|發表於|发布于|發佈於")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_HAS_TIME_ONLY = re.compile(r"^\s*\d{1,2}:\d{2}(?::\d{2})?\s*$")
_SITE_SEP = re.compile(r"\s*(?:_|\|{1,2}|｜|--?|—{1,2}|–|·|::|：：|»)\s*")
_SITE_SEP_KEPT = re.compile(f"({_SITE_SEP.pattern})")
# what a page prints around its headline: a label (主题：), a page number (页 1), separators left over
_TITLE_LABEL = re.compile(r"^\s*(?:[*·•■□◆◇●○★☆]+\s*|(?:标题|主题|题目|標題|主題)\s*[:：]\s*)")
_TITLE_TRAIL = re.compile(r"\s*(?:[(（]\s*(?:页|第)\s*\d+\s*页?\s*[)）]|(?:\s*[-—_|｜]\s*)+)$")
# what a heading shows that is no part of the headline: icon-font glyphs (private use area), an edit link
_TITLE_NOISE = re.compile(r"[\ue000-\uf8ff]|\s*[\[【](?:编辑|編輯|edit)[\]】]\s*$", re.I)

_META_DATE_NAMES = (
    "article:published_time", "og:article:published_time", "og:release_date", "article:published",
    "pubdate", "publishdate", "publish_date", "publishtime", "publish-date", "published_time",
    "datepublished", "date", "dc.date", "dc.date.issued", "dc.date.created", "dcterms.issued",
    "dcterms.created", "sailthru.date", "parsely-pub-date", "ptime", "weibo:article:create_at",
    "bytedance:published_time", "firstpublishedtime", "lastmodifiedtime", "article:modified_time",
    "og:updated_time", "article.published", "published-date", "release_date", "citation_date",
)
_META_MODIFIED = {"article:modified_time", "og:updated_time", "lastmodifiedtime"}

# URL dates: /2021/0528/, /2021-05-28/, /20210528/, t20210528_, /202105/28/
_URL_DATE = re.compile(
    r"(?<!\d)(?P<y>(?:19|20)\d{2})(?P<s1>[/_-]?)(?P<m>0[1-9]|1[0-2])(?P<s2>[/_-]?)(?P<d>0[1-9]|[12]\d|3[01])(?!\d)"
)


# --------------------------------------------------------------------------- decoding / parsing

def decode_html(body: bytes, content_type: Optional[str] = None) -> str:
    """Bytes as text, by the Content-Type charset, the BOM, the page's own <meta charset>
    and finally by content sniffing (what Scrapy does through w3lib)."""
    from w3lib.encoding import html_body_declared_encoding, html_to_unicode, http_content_type_encoding, read_bom

    if not (http_content_type_encoding(content_type) or read_bom(body)[0] or html_body_declared_encoding(body)):
        # nothing declared: Chinese pages without a charset are GBK about as often as UTF-8; the
        # decoding with fewer undecodable bytes wins (UTF-8 on a tie)
        best = None
        for encoding in ("utf-8", "gb18030"):
            text = body.decode(encoding, "replace")
            bad = text.count("\ufffd")
            if best is None or bad < best[0]:
                best = (bad, text)
            if bad == 0:
                break
        return best[1]
    _, text = html_to_unicode(content_type, body)
    return text


def _parse(text: str) -> tuple[Optional[etree._Element], bool]:
    # Plain lxml elements (no per-element class lookup while walking), comments left out (the
    # one date some engines keep in a comment is read from the text). No nesting estimate: the
    # walk measures the tree's depth and a tree deeper than the limit is read again flattened.
    return parse_html(text, keep_comments=False, html_elements=False, estimate_depth=False)


_ELEMENT = etree.Element  # as a tag filter: elements only (no comments), filtered by lxml


# --------------------------------------------------------------------------- the walk

@dataclass(slots=True)
class _TextBlock:
    text: str
    chars: int  # non-space characters
    linked: int  # non-space characters inside <a>
    punct: int  # sentence punctuation outside links
    owner: int  # pre-order index of the innermost block element holding it
    heading: bool = False  # the owner is h1-h6 or the text is bold only


@dataclass
class _Page:
    root: etree._Element
    elements: list[etree._Element]  # pre-order
    end: list[int]  # pre-order index of each element's last descendant
    parent: list[int]  # pre-order index of each element's parent (-1 for the root)
    blocks: list[_TextBlock]
    depth: int  # levels of elements
    # class and id of each element ("" when it has neither; None: an inline element, read on demand)
    words: list[Optional[str]]
    attributed: list[int]  # pre-order indexes of the elements (not inline) with a class or id
    aside: dict[int, bool] = field(default_factory=dict)  # _comment_owner's answers, per element

    def word(self, i: int) -> str:
        w = self.words[i]
        if w is None:
            w = self.words[i] = _attr_words(self.elements[i])
        return w


def _nonspace(text: str) -> int:
    return len("".join(text.split()))


def _is_hidden(el: etree._Element) -> bool:
    style = el.get("style")
    if style and "none" in style and _HIDDEN_STYLE.search(style):
        return True
    return el.get("hidden") is not None


# phrasing elements: their class and id are read only where a rule looks at them
_INLINE_TAGS = frozenset("a span i em b strong img font small big u s sup sub label abbr cite code tt "
                         "input wbr ins del mark q kbd var time".split())
_ROW_BREAK_NAMES = sorted(BLOCK_TAGS - {"td", "th"}) + ["br", "img"]
_CELLS = frozenset(("td", "th"))
_ROW_BREAKS = frozenset(_ROW_BREAK_NAMES)
_XML_SPACE = re.compile(r"[ \t\r\n]+")


def _data_row(tr: etree._Element) -> bool:
    """A table row of short cells (a data table), not a layout row holding page parts: two or
    more cells, none holding a block, a line break or a picture, none longer than 60 characters."""
    cells = [c for c in tr if c.tag in _CELLS]
    if len(cells) < 2:
        return False
    for cell in cells:
        if len(cell):
            for node in cell.iterdescendants():
                if node.tag in _ROW_BREAKS:
                    return False
    for cell in cells:
        text = "".join(cell.itertext(_ELEMENT)) if len(cell) else cell.text
        if text and len(text) > 60 and len(_XML_SPACE.sub(" ", text).strip(" \t\r\n")) > 60:
            return False
    return True


_PUNCT_RE = re.compile("[" + re.escape("".join(sorted(_SENTENCE_PUNCT))) + "]")


def _count_punct(text: str) -> int:
    return len(_PUNCT_RE.findall(text)) if text else 0  # one C scan (ten str.count calls cost more)


def _walk(root: etree._Element) -> _Page:
    """Pre-order element list (lxml's own iteration), parent and subtree-end tables, class/id
    words and paragraph blocks; no recursion. Element ends are found from the parent table (an
    element ends before the first later one outside it), so Python sees each element once.
    Skipped subtrees (scripts, hidden parts …) are stepped over by their end index. The tree
    holds no comments or processing instructions (their tails would be text of their own)."""
    elements = list(root.iter(_ELEMENT))
    n = len(elements)
    index = dict(zip(elements, range(n)))
    parent = [-1]
    parent.extend([index[el.getparent()] for el in islice(elements, 1, None)])
    end = list(range(n))
    for i in range(n - 1, 0, -1):
        p = parent[i]
        if end[i] > end[p]:
            end[p] = end[i]
    # class and id; None for inline elements (read on demand by _Page.word)
    words: list[Optional[str]] = [None] * n
    words[0] = ""
    attributed: list[int] = []
    blocks: list[_TextBlock] = []
    pieces: list[str] = []
    linked: list[str] = []
    owners: list[int] = [0]  # open block elements
    inline_rows: set[int] = set()
    # per open element: its index and kind (1 block, 2 link, 0 neither, 3 skipped)
    open_idx: list[int] = [0]
    open_kind: list[int] = [1]
    link_depth = 0
    max_depth = 1
    block_tags, skip_tags, inline_tags = BLOCK_TAGS, SKIP_TAGS, _INLINE_TAGS
    append_piece, append_linked = pieces.append, linked.append
    append_block = blocks.append

    def flush() -> None:
        raw = "".join(pieces)
        pieces.clear()
        if raw.isspace():
            linked.clear()
            return
        text = normalize_text(raw.replace("\n", " "))
        if text:
            if linked:
                link_text = "".join(linked)
                linked.clear()
                link_chars = _nonspace(link_text)
                punct = _count_punct(raw) - _count_punct(link_text)
            else:
                link_chars = 0
                punct = _count_punct(raw)
            append_block(_TextBlock(text, _nonspace(raw), link_chars, punct, owners[-1]))
        else:
            linked.clear()

    def take(text: str) -> None:
        """Text (an element's own or a tail) of the open block, and of the open link if any."""
        if pieces or not text.isspace():
            append_piece(text)
            if link_depth:
                append_linked(text)

    def close(kind: int, tail: Optional[str]) -> None:
        """An element ends: a block ends its paragraph, a link its link text; its tail follows."""
        nonlocal link_depth
        if kind == 1:
            if pieces:
                flush()
            owners.pop()
        elif kind == 2:
            link_depth -= 1
        if tail:
            take(tail)

    if root.text and not root.text.isspace():
        append_piece(root.text)
    i = 1
    while i < n:
        el = elements[i]
        p = parent[i]
        while open_idx[-1] != p:  # the open elements this one is not inside have ended
            close(open_kind.pop(), elements[open_idx.pop()].tail)
        tag = el.tag
        keys = el.keys()  # one call; most elements lack most attributes
        if tag not in inline_tags:  # inline elements' class and id are read on demand
            cls = el.get("class") if keys and "class" in keys else None
            cid = el.get("id") if keys and "id" in keys else None
            if cls or cid:
                words[i] = f"{cls or ''} {cid or ''}".strip()
                attributed.append(i)
            else:
                words[i] = ""
        if tag in skip_tags or tag == "br" or tag == "hr" \
                or keys and ("style" in keys or "hidden" in keys) and _is_hidden(el):
            if (tag == "br" or tag == "hr") and pieces:
                flush()
            last = end[i]
            if last > i:
                words[i + 1:last + 1] = [""] * (last - i)
                open_idx.append(i)
                open_kind.append(3)
            else:  # a leaf ends right here: only its tail is text
                close(3, el.tail)
            i = last + 1
            continue
        if tag in block_tags:
            if tag == "tr":
                if len(el) >= 2 and _data_row(el):
                    inline_rows.add(i)
                kind = 1
            elif (tag == "td" or tag == "th") and p in inline_rows:
                kind = 0
                append_piece(" ")
            else:
                kind = 1
            if kind:
                if pieces:
                    flush()
                owners.append(i)
        elif tag == "a":
            link_depth += 1
            kind = 2
        else:
            kind = 0
        text = el.text
        if text:
            take(text)
        if end[i] == i:  # a leaf ends right here (no push and pop)
            close(kind, el.tail)
            if len(open_idx) >= max_depth:
                max_depth = len(open_idx) + 1
        else:
            open_idx.append(i)
            open_kind.append(kind)
            if len(open_idx) > max_depth:
                max_depth = len(open_idx)
        i += 1
    while len(open_idx) > 1:
        close(open_kind.pop(), elements[open_idx.pop()].tail)
    if pieces:
        flush()
    return _Page(root, elements, end, parent, blocks, max_depth, words, attributed)


# --------------------------------------------------------------------------- scoring

def _block_value(b: _TextBlock) -> float:
    own = b.chars - b.linked
    prose = b.punct >= 1 and own >= 8 or own >= 40
    good = own if prose else own * 0.25
    return good - 2.0 * b.linked - (0 if prose else 3.0)


def _attr_words(el: etree._Element) -> str:
    return f"{el.get('class') or ''} {el.get('id') or ''}".strip()


def _comment_flags(page: _Page) -> bytearray:
    """Per element: inside a comment box (by class/id). A box's subtree is a range of pre-order
    indexes, marked in one slice; only the elements (not inline) with a class or id are looked at."""
    flags = bytearray(len(page.elements))
    words, end, elements, attributed = page.words, page.end, page.elements, page.attributed
    # one search over all their words joined (a match's element found by its offset), then the
    # token test on the few elements whose words hold a comment word
    joined = "\n".join([words[i] for i in attributed])  # type: ignore[misc]
    offsets = list(accumulate(len(words[i]) + 1 for i in attributed))  # type: ignore[arg-type]
    hits = sorted({bisect_right(offsets, m.start()) for m in _COMMENT_WORD.finditer(joined.lower())})
    covered = 0
    for j in hits:
        i = attributed[j]
        if i <= covered:
            continue
        if _COMMENT_ATTR.search(words[i]) and elements[i].tag not in ("body", "html"):  # type: ignore[arg-type]
            flags[i:end[i] + 1] = b"\x01" * (end[i] - i + 1)
            covered = end[i]
    return flags


def _choose_body(page: _Page) -> tuple[int, Optional[tuple[int, int]]]:
    """Pre-order index of the element whose subtree's blocks are worth most, and, when the
    article's paragraphs are loose siblings among link lists in one container (old table
    layouts, unclosed <p>), the run of consecutive blocks worth most (first, last block index).

    The run is the maximum-sum run of block values (Kadane): article text is contiguous in
    document order. It is used only when it is worth clearly more than the best element."""
    n = len(page.elements)
    in_comments = _comment_flags(page)
    score = [0.0] * n
    values = []
    for b in page.blocks:
        # comment boxes are prose too: their text counts against a candidate
        value = -0.5 * b.chars if in_comments[b.owner] else _block_value(b)
        values.append(value)
        score[b.owner] += value
    # a subtree is a range of pre-order indexes: its total is a difference of prefix sums
    prefix = [0.0, *accumulate(score)]
    total = [prefix[e + 1] - prefix[i] for i, e in enumerate(page.end)]
    best = max(range(n), key=total.__getitem__)  # the first of equals, as a loop would
    best_score = total[best]
    run_best, run = float("-inf"), (0, -1)
    current, start = 0.0, 0
    for k, value in enumerate(values):
        if current <= 0:
            current, start = value, k
        else:
            current += value
        if current > run_best:
            run_best, run = current, (start, k)
    if run[1] >= run[0] and run_best > 1.3 * best_score + 50:
        return _common_ancestor(page, page.blocks[run[0]].owner, page.blocks[run[1]].owner), run
    return best, None


def _stray_paragraphs(page: _Page, run: tuple[int, int], reach: int = 10) -> set[int]:
    """Paragraphs of the article cut off from the run by an advert or link box between them (a lead
    paragraph above a sponsored-links table): prose blocks within ``reach`` blocks of the run whose
    element is a sibling of the run's paragraphs with the same tag and class. Only link lines and
    short lines may lie between."""
    blocks = page.blocks
    first = blocks[run[0]].owner
    shape = (page.parent[first], page.elements[first].tag, page.word(first))
    found: set[int] = set()
    for direction, edge in ((-1, run[0]), (1, run[1])):
        k = edge + direction
        while 0 <= k < len(blocks) and abs(k - edge) <= reach:
            b = blocks[k]
            owner = b.owner
            prose = b.punct >= 1 and b.chars - b.linked >= 20 and b.linked * 5 < b.chars
            if (page.parent[owner], page.elements[owner].tag, page.word(owner)) == shape and prose:
                found.add(k)
            elif prose or page.elements[owner].tag in _HEADINGS:
                break  # other text: the article does not reach past it
            k += direction
    return found


_STAMP = re.compile(r"(?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}日?\s*\d{1,2}:\d{2}")


def _first_post_end(body_blocks: list[tuple[int, _TextBlock]], first_prose: int) -> Optional[int]:
    """A blog page or forum thread shows several posts in one column, each closed by a stamp line of
    one shape (由某某张贴 @ 2005-03-21 01:20:44, 〓 … 发布时间 2005/05/17 22:11:42 by …): the article is
    the first post, so the body ends at the first of two or more such lines (its block index)."""
    shapes: dict[str, list[int]] = {}
    for k, b in body_blocks:
        if k <= first_prose or len(b.text) > 120:
            continue
        m = _STAMP.search(b.text)
        if m and m.start() >= 2:  # a labelled stamp: a bare date line may head each post
            shape = re.sub(r"\d+", "", b.text[:m.start()]).strip()
            shapes.setdefault(shape, []).append(k)
    return min((at[0] for at in shapes.values() if len(at) >= 2), default=None)


def _common_ancestor(page: _Page, a: int, b: int) -> int:
    seen = set()
    while a >= 0:
        seen.add(a)
        a = page.parent[a]
    while b >= 0 and b not in seen:
        b = page.parent[b]
    return max(b, 0)


# --------------------------------------------------------------------------- metadata

def _meta_map(root: etree._Element) -> dict[str, str]:
    out: dict[str, str] = {}
    for meta in root.iter("meta"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or meta.get("http-equiv") or "")
        key = key.strip().lower()
        value = meta.get("content")
        if key and value and key not in out:
            out[key] = value.strip()
    return out


def _json_ld(root: etree._Element) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for script in root.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json" or not script.text:
            continue
        try:
            data = json.loads(script.text.strip().rstrip(";"))
        except ValueError:
            continue
        queue = [data]
        while queue:  # iterative: @graph lists and nested objects
            item = queue.pop()
            if isinstance(item, list):
                queue.extend(item)
            elif isinstance(item, dict):
                out.append(item)
                if "@graph" in item:
                    queue.append(item["@graph"])
    return out


def _text_of(el: etree._Element) -> str:
    return normalize_text(" ".join(t for t in el.itertext() if isinstance(t, str)).replace("\n", " "))


# --------------------------------------------------------------------------- title

_TITLE_PUNCT = re.compile(r"[\s\u3000·:：,，、!！?？\"“”'‘’《》<>()（）\[\]【】|｜_\-—–]+")


def _norm_title(text: str) -> str:
    return _TITLE_PUNCT.sub("", text or "").lower()


def _is_title_line(text: str, norm: str) -> bool:
    """Whether a line is the headline (``norm``: the headline's _norm_title): long lines never are."""
    return len(text) <= 2 * len(norm) + 20 and _norm_title(text) == norm


def _bigrams(text: str) -> set[str]:
    return {text[i:i + 2] for i in range(len(text) - 1)} or {text}


def _similar(a: str, b: str) -> float:
    a, b = _norm_title(a), _norm_title(b)
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    if a in b or b in a:
        return min(len(a), len(b)) / max(len(a), len(b)) + 0.3
    x, y = _bigrams(a), _bigrams(b)
    return 2 * len(x & y) / (len(x) + len(y))


def _title_from_tag(title_tag: str, site_names: Iterable[str], shown: frozenset[str] = frozenset()) -> str:
    """<title> less its site suffix (or prefix): the segments that are not the site's name,
    the longest of the leading ones. ``shown``: the page's short lines (_norm_title): a run of
    segments the page shows as a line of its own is the headline (对比试车—测试某车型 keeps its dash)."""
    text = normalize_text(title_tag)
    if shown and _norm_title(text) in shown:
        return text
    pieces = _SITE_SEP_KEPT.split(text)  # segments at even indexes, separators between
    if len(pieces) > 3 and shown:
        segments = len(pieces) // 2 + 1
        runs = [("".join(pieces[2 * a:2 * b + 1]).strip(), b - a) for a in range(segments) for b in range(a, segments)
                if b - a < segments - 1]
        present = [run for run, _ in runs if run and _norm_title(run) in shown]
        if present:
            return max(present, key=len)
    parts = [p for p in _SITE_SEP.split(text) if p.strip() and not _SOFTWARE_CREDIT.search(p)] or [text]
    if len(parts) <= 1:
        return text
    if shown:
        present = [p for p in parts if _norm_title(p) in shown]
        if present:
            return max(present, key=len)
    names = {_norm_title(n) for n in site_names if n}
    kept = [p for p in parts if _norm_title(p) not in names]
    if not kept:
        return parts[0]
    # the headline is the longest part: channel and site names around it are short
    return max(kept, key=len)


def _heading_text(page: "_Page", blocks: list["_TextBlock"], k: int) -> str:
    """The text of the heading block ``k`` with the other lines of the same heading element
    (a headline broken by <br> or a <div> inside), joined without a space between Chinese characters."""
    owner = blocks[k].owner
    if page.elements[owner].tag not in _HEADINGS:
        return blocks[k].text
    stop = page.end[owner]  # the heading's subtree: lines of its own and of elements inside it
    first = last = k
    while first > 0 and owner <= blocks[first - 1].owner <= stop:
        first -= 1
    while last + 1 < len(blocks) and owner <= blocks[last + 1].owner <= stop:
        last += 1
    text = blocks[first].text
    for b in blocks[first + 1:last + 1]:
        text += ("" if _CJK.match(text[-1:]) and _CJK.match(b.text[:1]) else " ") + b.text
    return text if len(text) <= 120 else blocks[k].text


_EMPHASIS = ("strong", "b", "font", "big", "h1", "h2", "h3", "h4", "h5", "h6")
_CENTRED = re.compile(r"text-align\s*:\s*center", re.I)


def _links_here(el: etree._Element, url: str) -> bool:
    """Whether a link in ``el`` points to the page itself (a blog post's headline links to its permalink;
    the same path with another extension counts)."""
    here = re.sub(r"\.\w+$", "", urlsplit(url).path)
    for a in el.iter("a"):
        href = (a.get("href") or "").strip()
        if href and not href.startswith(("#", "javascript:")):
            try:
                there = re.sub(r"\.\w+$", "", urlsplit(urljoin(url, href)).path)
            except ValueError:
                continue
            if there == here and len(here) > 1:
                return True
    return False


def _display_headline(page: "_Page", blocks: list["_TextBlock"], prose_k: int, names: Iterable[str],
                      host: str, url: str) -> Optional[int]:
    """A line shown as the headline right above the text without a heading element (old layouts:
    a centred cell, bold or large type; a blog's permalink): the nearest such short line, byline lines
    passed over."""
    for k in range(prose_k - 1, max(-1, prose_k - 12), -1):
        b = blocks[k]
        text = b.text
        if not (4 <= len(text) <= 60) or b.punct > 2 or text.endswith(("。", ":", "：")):
            continue
        if b.linked:
            if b.linked == b.chars and _links_here(page.elements[b.owner], url):
                return k
            continue
        if _HEADER_LABEL.search(text) and not _TITLE_LABEL.match(text) or _ANY_DATE.search(text) \
                or _BARE_ADDRESS.match(text):
            continue  # a byline, a date line, the site's address
        el = page.elements[b.owner]
        if _is_logo(el, text, names, host):
            continue
        display = el.get("align", "").lower() == "center" or bool(_CENTRED.search(el.get("style") or "")) \
            or el.tag in _HEADINGS or bool(_TITLE_ATTR.search(_attr_words(el))) or bool(_TITLE_LABEL.match(text))
        if not display:
            norm = _norm_title(text)
            display = any(_norm_title("".join(e.itertext())) == norm for e in el.iter(*_EMPHASIS) if e is not el)
        if display:
            return k
    return None


def _heading_like(el: etree._Element) -> bool:
    tag = el.tag.lower() if isinstance(el.tag, str) else ""
    if tag in HEADING_TAGS:
        return True
    return tag in ("h4", "strong", "b", "td", "p", "div", "span", "header") and bool(_TITLE_ATTR.search(_attr_words(el)))


def _is_logo(el: etree._Element, text: str, site_names: Iterable[str], host: str) -> bool:
    words = _attr_words(el).lower()
    if "logo" in words:
        return True
    for a in ([el] if el.tag == "a" else []) + list(el.iter("a")):
        href = (a.get("href") or "").strip()
        if href in ("/", "./", "index.html", "/index.html", "index.shtml", "/index.shtml", "#"):
            return True
        parts = urlsplit(urljoin(f"http://{host}/", href))
        if parts.path in ("", "/", "/index.html", "/index.shtml", "/index.htm", "/index.php") and not parts.query:
            return True
    if el.find(".//img") is not None and len(text) <= 12:
        return True
    norm = _norm_title(text)
    return any(norm == _norm_title(n) for n in site_names if n)


# --------------------------------------------------------------------------- dates

def _plausible(parsed: ParsedDate, ref: datetime) -> bool:
    if not parsed.iso:
        return False
    try:
        dt = datetime.fromisoformat(parsed.iso)
    except ValueError:
        return False
    return datetime(1995, 1, 1, tzinfo=timezone.utc) <= dt <= ref + timedelta(days=1)


# month/day/year with a 12-hour clock, as ASP.NET sites print a labelled date: 发布日期： 9/17/2004 5:54:13 AM
# (without AM/PM the order is unknown: 06/02/2022 is day first on European sites)
_US_DATE = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/((?:19|20)\d{2})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AP]M)\b", re.I)


def _us_date(text: str, ref: datetime, tz: str) -> Optional[ParsedDate]:
    m = _US_DATE.match(text)
    if not m or not (1 <= int(m[1]) <= 12 and 1 <= int(m[2]) <= 31 and 1 <= int(m[4]) <= 12):
        return None
    hour = int(m[4]) % 12 + (12 if m[7].upper() == "PM" else 0)
    value = f"{m[3]}-{int(m[1]):02d}-{int(m[2]):02d} {hour:02d}:{m[5]}:{m[6] or '00'}"
    parsed = parse_date(value, ref, tz)
    if not parsed.iso or not _plausible(parsed, ref):
        return None
    return ParsedDate(parsed.iso, parsed.precision, m.group(0).strip())


def _date_from_text(text: str, ref: datetime, tz: str) -> Optional[ParsedDate]:
    """A date in a byline text; a bare time is no date, and a relative phrase inside a longer
    text (四年前中500万… in a headline) is no date either."""
    if not text or _HAS_TIME_ONLY.match(text):
        return None
    label = _DATE_LABEL.search(text)
    if label:
        parsed = parse_date(text[label.end():], ref, tz)
        if parsed.iso and _plausible(parsed, ref):
            return parsed
        parsed = _us_date(text[label.end():], ref, tz)
        if parsed is not None:
            return parsed
    parsed = parse_date(text, ref, tz)
    if parsed.iso and parsed.precision == "approx" and len(text) > 3 * len(parsed.raw) + 10:
        return None
    if parsed.iso and parsed.raw and not any(c.isdigit() for c in parsed.raw) \
            and len(_CJK.findall(text.replace(parsed.raw, "", 1))) >= 2:
        return None  # 昨天 in a sentence or a headline (昨天去金矿玩) is no date; 昨天 10:20 is
    return parsed if parsed.iso and _plausible(parsed, ref) else None


def _date_from_meta(meta: dict[str, str], ld: list[dict[str, Any]], ref: datetime, tz: str) -> Optional[ParsedDate]:
    values: list[str] = []
    for item in ld:
        value = item.get("datePublished") or item.get("dateCreated")
        if isinstance(value, str):
            values.append(value)
    for name in _META_DATE_NAMES:
        if name in _META_MODIFIED:
            continue
        if name in meta:
            values.append(meta[name])
    for value in values:
        value = value.strip()
        if re.fullmatch(r"\d{10}(?:\d{3})?", value):  # epoch seconds / milliseconds
            stamp = int(value[:10])
            dt = datetime.fromtimestamp(stamp, tz=timezone.utc)
            value = dt.isoformat()
        parsed = parse_date(value, ref, tz)
        if parsed.iso and parsed.precision in ("second", "minute", "day") and _plausible(parsed, ref):
            return parsed
    return None


def _date_from_url(url: str, ref: datetime, tz: str) -> Optional[ParsedDate]:
    path = urlsplit(url).path
    for m in _URL_DATE.finditer(path):
        if m["s1"] != m["s2"] and "" in (m["s1"], m["s2"]) and (m["s1"], m["s2"]) not in (("/", ""), ("", "/")):
            continue
        if m["s1"] == "" and m["s2"] == "" and not re.search(r"(?:^|[/_tA-Za-z-])$", path[:m.start()] or "/"):
            continue
        text = f"{m['y']}-{m['m']}-{m['d']}"
        parsed = parse_date(text, ref, tz)
        if parsed.iso and _plausible(parsed, ref):
            return ParsedDate(parsed.iso, "day", m.group(0))
    return None


# a blog's or forum's post foot: 发表于 2004年12月27日 12:40, 发布时间 2005/05/17 22:11, posted @ 2005-09-07
_FOOT_LABEL = re.compile(r"(?:发表于|發表於|发布于|發佈於|(?:发布|發佈|發布|发表|發表)(?:时间|時間|日期)|posted\s*(?:on|at|@)?|"
                         r"(?:本贴|本帖|此贴|此帖)由\S{1,20}?于)"
                         r"\s*[:：]?\s*(?=(?:19|20)\d{2}\s*[-/.年])", re.I)


def _date_from_post_foot(page: _Page, body_blocks: list[tuple[int, _TextBlock]], kept: list[_TextBlock],
                         position: dict[int, int], ref: datetime, tz: str) -> Optional[ParsedDate]:
    """The first labelled date line in the body or right after its last kept line (never in a comment
    box or a sidebar): where blogs and forums show the post's time."""
    if not kept:
        return None
    first, last = position[id(kept[0])], position[id(kept[-1])]
    lines = [b for k, b in body_blocks if first <= k <= last] + page.blocks[last + 1:last + 6]
    for b in lines:
        if len(b.text) > 120:
            continue
        m = _FOOT_LABEL.search(b.text)
        if m and not _comment_owner(page, b.owner):
            parsed = parse_date(b.text[m.end():], ref, tz)
            if parsed.iso and parsed.precision in ("second", "minute", "day") and _plausible(parsed, ref):
                return parsed
    return None


# Founder (方正) publishing systems keep the article's properties in a comment: <!--enpproperty <date>…</date>
_ENP_DATE = re.compile(r"<date>\s*((?:19|20)\d{2}-\d{1,2}-\d{1,2}(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?)")


def _date_from_comments(text: str, ref: datetime, tz: str) -> Optional[ParsedDate]:
    """The date a Founder system keeps in its property comment, read from the page's text (the
    tree is parsed without comments)."""
    at = text.find("enpproperty")
    while at >= 0:
        close = text.find("-->", at)
        m = _ENP_DATE.search(text, at, close if close >= 0 else len(text))
        if m:
            parsed = parse_date(m.group(1), ref, tz)
            if parsed.iso and _plausible(parsed, ref):
                return parsed
        at = text.find("enpproperty", close) if close >= 0 else -1
    return None


# publication times that share pages and app pages keep in their page state (a script)
_SCRIPT_DATE = re.compile(
    r"[\"']?\b(?:pubTime|pub_time|publishTime|publish_time|publishDate|publish_date|datePublished|createTime|"
    r"create_time|ct|ptime|pubDate|releaseTime|release_time)[\"']?\s*[=:]\s*[\"']?"
    r"(\d{10}(?:\d{3})?|(?:19|20)\d{2}-\d{1,2}-\d{1,2}(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?)")


def _date_from_scripts(root: etree._Element, ref: datetime, tz: str) -> Optional[ParsedDate]:
    for script in root.iter("script"):
        text = script.text
        if not text or (script.get("src") is not None):
            continue
        m = _SCRIPT_DATE.search(text)
        if not m:
            continue
        value = m.group(1)
        if value.isdigit():
            value = datetime.fromtimestamp(int(value[:10]), tz=timezone.utc).isoformat()
        parsed = parse_date(value, ref, tz)
        if parsed.iso and _plausible(parsed, ref):
            return parsed
    return None


_PUBLISHED_ATTR = re.compile(r"publish|entry-date|post-date|pubdate|datePublished", re.I)


def _date_from_time_elements(page: _Page, body_idx: int, first_prose: int, ref: datetime,
                             tz: str) -> Optional[ParsedDate]:
    """<time> of the article: one marked as the publication time first, then the first one
    before the body's end (articles put it in their header or footer); never one in a comment
    box or a sidebar."""
    limit = page.end[body_idx] + 40
    marked, plain = [], []
    for i, el in enumerate(page.elements):
        if el.tag != "time" or _comment_owner(page, i):
            continue
        words = f"{_attr_words(el)} {el.get('itemprop') or ''} {el.get('pubdate') or ''}"
        if _PUBLISHED_ATTR.search(words) or el.get("pubdate") is not None:
            marked.append(el)
        elif i <= limit:
            plain.append(el)
    for el in marked + plain:
        value = el.get("datetime") or _text_of(el)
        parsed = _date_from_text(value, ref, tz) if value else None
        if parsed:
            return parsed
    return None


# --------------------------------------------------------------------------- byline

_PHOTO_CREDIT = re.compile(r"(?:图片|圖片|照片|题图|題圖|配图|视频|視頻)(?:来源|來源)\s*[:：]\s*\S+")
_CHIEF_EDITOR_RE = re.compile(r"(?:责任编辑|責任編輯|责编|責編)\s*[:：|｜]?\s*([^\s】\]）)|｜,，;；:：]{1,20})")
_REPORTER_RE = re.compile(r"(?:^|\s|【|\[)\S{0,8}(?:记者|記者)\s*[|｜:：]?\s*([\u4e00-\u9fff·]{2,5})(?=$|\s|】|\]|\d)")
_DATE_THEN_NAME = re.compile(r"^(?:19|20)\d{2}[-/年.]\d{1,2}[-/月.]\d{1,2}日?\s*(?:\d{1,2}:\d{2}(?::\d{2})?)?\s*"
                             r"(?:来自|來自)?\s*([\u4e00-\u9fffA-Za-z]{2,12})$")
_EDITOR_RE = re.compile(r"(?:责任编辑|責任編輯|责编|責編|编辑|編輯)(?:\s*[:：|｜]\s*|\s+)([^\s】\]）)|｜,，;；:：]{1,20})")
_SOURCE_RE = re.compile(r"(?:来源|來源|稿源|文章来源|信息来源)\s*[:：]\s*([^\s】\]）)|｜,，;；:：]{1,30})")
_AUTHOR_RE = re.compile(r"(?:作者|记者|記者|文)\s*[:：／/]\s*([^\s】\]）)|｜,，;；:：]{1,30})")
_VALUE_CUT = re.compile(r"\s*(?:[|｜]|(?:19|20)\d{2}\s*[-/.年]|发布(?:时间|日期|于|者)|時間|时间|日期|通讯员|昨天|今天|前天|\d+\s*(?:分钟|小时|天)前|\d{1,2}:\d{2}|\d+人参与|查看|浏览|阅读|点击|字号|字体|摘要|举报|\+关注|参与互动|参与评论|我要评论|【|\[|打印|分享|评论).*$")


# CMS account names and placeholders printed where no person is named
_NO_ONE = frozenset({"admin", "administrator", "root", "webmaster", "editor", "管理员", "系统管理员", "超级管理员",
                     "佚名", "未知", "匿名", "本站", "本网", "网络", "互联网", "小编", "不详", "无", "暂无"})


def _clean_value(value: Optional[str]) -> Optional[str]:
    if not value:
        return None
    value = re.sub(r"^.{0,8}?(?:记者|記者|通讯员)(?:\s*[|｜:：/]\s*|\s+)", "", value.strip())
    value = _VALUE_CUT.sub("", normalize_text(value)).strip(" :：|｜·•,，;；()（）【】[]")
    value = re.sub(r"_[A-Z]{1,4}\d{2,}$", "", value)  # a staff code after the name (王晓_NN1234)
    if not value or value.lower() in _NO_ONE or value.isdigit():  # an account id is no name
        return None
    return value[:40] or None


# --------------------------------------------------------------------------- the extractor

def _root_of(html: Union[str, bytes, Any]) -> Optional[etree._Element]:
    if Selector is not None and isinstance(html, Selector):
        root = html.root
        if isinstance(root, etree._Element):
            return root.getroottree().getroot()
        html = html.get() if hasattr(html, "get") else str(html)
    if isinstance(html, bytes):
        html = decode_html(html)
    if not isinstance(html, str):
        return None
    return _parse(html)[0]


def extract_article(html: Union[str, bytes, Any], url: str, ref: datetime,
                    tz: str = "Asia/Shanghai") -> ArticleResult:
    """The fields of an article page, read without site selectors.

    ``html``: page text, bytes (decoded by charset sniffing) or a parsel Selector (read,
    never changed). ``ref``: the response's Date (a naive datetime is UTC); dates without
    a year and relative dates resolve against it, and dates after it are implausible.
    ``tz``: the site's zone; ``published_at`` is ISO 8601 with its offset.
    Flags: ``missing_date``, ``multi_page``, ``no_body``, ``deep_nesting``.
    """
    if ref.tzinfo is None:
        ref = ref.replace(tzinfo=timezone.utc)
    result = ArticleResult()
    raw_text: Optional[str] = None
    if isinstance(html, bytes):
        raw_text = decode_html(html)
    elif isinstance(html, str):
        raw_text = html
    if raw_text is not None:
        root, flattened = _parse(raw_text)
    else:
        root, flattened = _root_of(html), False
    if root is None:
        result.flag("no_body")
        result.flag("missing_date")
        return result
    if raw_text is None:  # a tree parsed elsewhere: read a copy without its comments (kept tails)
        comment_text = "".join(f"<!--{c.text}-->" for c in root.iter(etree.Comment)
                               if c.text and "enpproperty" in c.text)
        root = copy.deepcopy(root)
        etree.strip_tags(root, etree.Comment, etree.ProcessingInstruction)
    else:
        comment_text = raw_text
    page = _walk(root)
    # a tree deeper than pages are read (text), or as deep as libxml2 reads (a tree parsed elsewhere,
    # which then lacks the rest of the page): read again flattened
    if page.depth > (PARSER_MAX_DEPTH if raw_text is not None else LIBXML_MAX_DEPTH):
        if raw_text is None:
            raw_text = etree.tostring(root, encoding="unicode", method="html")
        flat, _ = parse_flattened(raw_text, keep_comments=False, html_elements=False)
        if flat is not None:
            root = flat
            page = _walk(root)
        flattened = True
    if flattened:
        result.flag("deep_nesting")
    return _extract(page, url, ref, tz, result, comment_text)


def _extract(page: _Page, url: str, ref: datetime, tz: str, result: ArticleResult,
             comment_text: str) -> ArticleResult:
    """``comment_text``: the page's text, or its comments, where a publishing system's
    property comment (and its date) is looked for."""
    root = page.root
    host = urlsplit(url).hostname or ""
    meta = _meta_map(root)
    ld = _json_ld(root)
    title_el = root.find(".//title")
    title_tag = _text_of(title_el) if title_el is not None else ""
    site_names = [meta.get("og:site_name", ""), meta.get("application-name", "")]
    result.site_name = normalize_text(meta.get("og:site_name", "")) or None

    body_idx, run = _choose_body(page)
    blocks = page.blocks
    start, stop = body_idx, page.end[body_idx]

    # ---- prune subtrees inside the body: comment boxes, share bars, related lists, page bars
    pruned: list[tuple[int, int]] = []
    # block value per element of the body, as prefix sums over pre-order indexes (a subtree is a range)
    own_value = [0.0] * (stop - start + 2)
    for b in blocks:
        if start <= b.owner <= stop:
            own_value[b.owner - start + 1] += _block_value(b)
    prefix = list(accumulate(own_value))
    total_body = prefix[-1] or 1.0
    in_pruned = bytearray(stop - start + 1)
    i = start + 1
    while i <= stop:
        words = page.word(i)
        if words and _NEGATIVE_ATTR.search(words):
            last = page.end[i]
            sub_value = prefix[last - start + 1] - prefix[i - start]
            if sub_value < 0.5 * total_body:
                pruned.append((i, last))
                in_pruned[i - start:last - start + 1] = b"\x01" * (last - i + 1)
                i = last + 1
                continue
        i += 1

    def inside_pruned(owner: int) -> bool:
        return bool(in_pruned[owner - start])

    strays = _stray_paragraphs(page, run) if run is not None else set()
    body_blocks = [(k, b) for k, b in enumerate(blocks) if start <= b.owner <= stop and not inside_pruned(b.owner)
                   and (run is None or run[0] <= k <= run[1] or k in strays)]

    # ---- title: the heading nearest before the body's first prose that agrees with the metadata
    og_title = normalize_text(meta.get("og:title", "") or meta.get("twitter:title", ""))
    ld_title = next((normalize_text(str(item.get("headline"))) for item in ld if item.get("headline")), "")
    body_first = body_blocks[0][0] if body_blocks else len(blocks)
    # the page's short lines around the body, as _norm_title keys (which <title> segments the page shows)
    near = range(max(0, body_first - 60), min(len(blocks), body_first + 6))
    shown = frozenset(_norm_title(blocks[k].text) for k in near if len(blocks[k].text) <= 120)
    tag_title = _title_from_tag(title_tag, site_names, shown) if title_tag else ""
    references = [t for t in (og_title, ld_title, tag_title, title_tag) if t]
    tag_parts = [t for t in _SITE_SEP.split(title_tag) if t.strip() and not _SOFTWARE_CREDIT.search(t)]
    names = site_names + [t for t in tag_parts if len(tag_parts) > 1 and t != max(tag_parts, key=len)]
    candidates: list[tuple[int, _TextBlock, etree._Element]] = []
    # headings before the body (nearest first), then the body's own first blocks
    window = list(range(min(body_first, len(blocks)) - 1, max(-1, body_first - 60), -1)) + \
        list(range(body_first, min(len(blocks), body_first + 6)))
    for k in window:
        b = blocks[k]
        el = page.elements[b.owner]
        if not _heading_like(el) or not (2 <= len(b.text) <= 120) or b.punct > 6:
            continue
        if _is_logo(el, b.text, names, host):
            continue
        candidates.append((k, b, el))
    headline_k: Optional[int] = None
    title: Optional[str] = None
    best_sim = 0.0
    for k, b, el in candidates:
        sim, text = max(((max((_similar(t, r) for r in references), default=0.0), t)
                         for t in dict.fromkeys((b.text, _heading_text(page, blocks, k)))), key=lambda st: st[0])
        if sim >= 0.5 and sim > best_sim + 0.05:
            best_sim, headline_k, title = sim, k, text
    if title is not None:
        for r in references:
            rest = title[len(r):].strip() if r and title.startswith(r) else None
            if rest and len(rest) <= 4:
                title = r
                break
    if title is None:
        # no metadata agrees: the nearest h1/h2 (or *title* element) right above the text, a line shown as a
        # headline there (centred, bold, large), a farther h1/h2, else the metadata
        # (a line whose only mark ends it, ？ or ！, may be the headline itself)
        prose_k = next((k for k, b in body_blocks if _block_value(b) > 0 and b.punct > b.text.endswith(("？", "！", "?", "!"))
                        and page.elements[b.owner].tag not in _HEADINGS and not _looks_header(b, None, ref)), body_first)
        marked = [(k, b) for k, b, el in candidates if el.tag in ("h1", "h2") or _TITLE_ATTR.search(_attr_words(el))]
        close = sorted(((k, b) for k, b in marked if prose_k - 12 <= k < prose_k and not _DATE_LINE.match(b.text)),
                       key=lambda kb: -kb[0])  # nearest first; a date line is no headline
        meta_shown = any(_norm_title(t) in shown for t in (og_title, ld_title, tag_title) if t)
        shown_k = _display_headline(page, blocks, prose_k, names, host, url) if not close and not meta_shown else None
        if close:
            headline_k, title = close[0][0], _heading_text(page, blocks, close[0][0])
        elif shown_k is not None:
            headline_k, title = shown_k, blocks[shown_k].text
        elif marked:
            headline_k, title = marked[0][0], _heading_text(page, blocks, marked[0][0])
    if title is None:
        title = og_title or ld_title or tag_title or None
        if title:
            # the headline shown in a plain cell or <strong>: found by its text, for the byline under it
            for k in window:
                if 2 <= len(blocks[k].text) <= 120 and _similar(blocks[k].text, title) >= 0.9:
                    headline_k = k
                    break
    if title:
        title = _TITLE_NOISE.sub("", title).strip() or title
        title = _TITLE_TRAIL.sub("", _TITLE_LABEL.sub("", title)) or title
    result.title = title
    after_title = headline_k + 1 if headline_k is not None else 0
    first_prose = next((k for k, b in body_blocks if k >= after_title and _block_value(b) > 0 and b.punct >= 1
                        and page.elements[b.owner].tag not in _HEADINGS and not _looks_header(b, title, ref)), None)
    if first_prose is None:
        first_prose = next((k for k, _ in body_blocks if k >= after_title), len(blocks))

    # ---- byline zone: blocks between the headline and the body's first prose
    zone_start = headline_k + 1 if headline_k is not None else max(0, first_prose - 6)
    span = blocks[zone_start:first_prose]
    # the byline sits right under the headline or right above the text: a long run between them is furniture
    zone = span if len(span) <= 10 else span[:6] + span[-4:]
    if title:
        norm = _norm_title(title)
        zone = [b for b in zone if not _is_title_line(b.text, norm)]
    zone = [b for b in zone if not _comment_owner(page, b.owner)]

    # ---- body blocks: after the headline and the byline, boilerplate removed
    position = {id(b): k for k, b in enumerate(blocks)}
    kept: list[_TextBlock] = []
    dropped: list[_TextBlock] = []
    started = False
    # stamp lines count where pruning took them out too (a post's foot often carries a comment link)
    post_end = _first_post_end([(k, b) for k, b in enumerate(blocks) if start <= b.owner <= stop], first_prose)
    for k, b in body_blocks:
        if post_end is not None and k >= post_end:
            dropped.append(b)
            continue
        if headline_k is not None and k <= headline_k:
            dropped.append(b)
            continue
        if not started:
            owner_tag = page.elements[b.owner].tag
            if k < first_prose and (_looks_header(b, title, ref) or owner_tag in ("h1", "h2", "h3", "h4", "h5", "h6")
                                    and not _SENTENCE_END.search(b.text)):
                dropped.append(b)
                continue
            started = True
        text = b.text
        # (tail markers are headings: a paragraph is never one, and converting it to test is costly)
        if kept and (len(text) <= 200 and is_tail_marker(text) or _TAIL.match(text) or _NOTICE_TAIL.match(text)):
            dropped.append(b)
            break
        # (a bare number outside a table or list is a counter: views, likes)
        if _is_furniture(b) or text.isdigit() and len(text) <= 7 and page.elements[b.owner].tag not in _LISTED \
                and page.elements[page.parent[b.owner]].tag not in _LISTED:
            dropped.append(b)
            continue
        kept.append(b)
    # trailing link-dense and byline-like lines
    while kept and ((kept[-1].linked * 2 >= kept[-1].chars and kept[-1].chars <= 80)
                    or (len(kept[-1].text) <= 12 and kept[-1].text.endswith((":", "："))) or _PAGE_BAR.match(kept[-1].text)):
        dropped.append(kept.pop())
    if title:  # the headline repeated inside the body (under a video, over a print view) is no paragraph
        norm = _norm_title(title)
        repeated = [b for b in kept if _is_title_line(b.text, norm)]
        if repeated:
            dropped.extend(repeated)
            kept = [b for b in kept if not _is_title_line(b.text, norm)]
    result.content_text = "\n".join(b.text for b in kept)

    # ---- date
    published = None
    # a labelled publication date first (发布时间：, 发表于 …: a blog's 建立于 line may come before it), then any
    # date of the byline, then a labelled line among the body's first lines (a byline the text scoring took in)
    labelled = [b for b in zone if (m := _DATE_LABEL.search(b.text)) and not m.group(0).startswith("更新")]
    head_lines = [b for k, b in body_blocks if k >= first_prose][:4]
    for lines in (labelled, zone, [b for b in head_lines if _DATE_LABEL.search(b.text)]):
        for b in lines:
            if len(b.text) > 160:
                continue
            published = _date_from_text(b.text, ref, tz)
            if published:
                break
        if published:
            break
    meta_date = _date_from_meta(meta, ld, ref, tz)
    if published is not None and re.search(r"[前天日]|刚|ago|today|yesterday", published.raw or "", re.I) \
            and not re.search(r"\d{4}", published.raw or ""):
        # a relative date as shown (昨天 10:20): the page's exact time, when it falls on the same day
        exact = meta_date or _date_from_scripts(root, ref, tz)
        if exact is not None and exact.iso[:10] == published.iso[:10]:
            published = ParsedDate(exact.iso, exact.precision, published.raw)
    elif published is not None and published.precision == "day" and meta_date is not None \
            and meta_date.precision in ("second", "minute") and meta_date.iso[:10] == published.iso[:10]:
        published = ParsedDate(meta_date.iso, meta_date.precision, published.raw)  # the day shown, timed
    if published is None:
        published = meta_date
    if published is None:
        published = _date_from_time_elements(page, body_idx, first_prose, ref, tz)
    if published is None and headline_k is not None:
        # a date line right above the headline (forum archives, some blogs print the post's time there)
        for b in blocks[max(0, headline_k - 3):headline_k]:
            if len(b.text) <= 60 and not b.linked and _FULL_DATE.search(b.text) and not _comment_owner(page, b.owner):
                published = _date_from_text(b.text, ref, tz)
                if published:
                    break
    if published is None:
        published = _date_from_post_foot(page, body_blocks, kept, position, ref, tz)
    if published is None:
        published = _date_from_comments(comment_text, ref, tz)
    if published is None:
        published = _date_from_scripts(root, ref, tz)
    if published is None:
        published = _date_from_url(url, ref, tz)
    if published is not None:
        result.published_at = published.iso
        result.published_raw = published.raw
        result.date_precision = published.precision
    else:
        result.flag("missing_date")

    # ---- byline: author, source, editor
    # a photo credit (图片来源：视觉中国) is no source of the article
    zone_text = _PHOTO_CREDIT.sub(" ", " ".join(b.text for b in zone))
    byline = parse_meta_line(zone_text) if zone_text else None
    if byline is not None:
        result.author = _clean_value(byline.author)
        result.source_name = _clean_value(byline.source_name)
        result.editor = _clean_value(byline.editor or byline.meta_editor)
        result.views = byline.views
    # lines after the body's first prose, in or right after the body (责任编辑 / 来源 lines, even in pruned parts)
    body_stop = page.end[body_idx]
    zone_ids = {id(b) for b in zone}
    reach = (position[id(kept[-1])] if kept else first_prose) + 20
    tail_lines = [b.text for k, b in enumerate(blocks[first_prose:], first_prose) if id(b) not in zone_ids
                  and (b.owner <= body_stop or k <= reach) and len(b.text) <= 100]
    if result.editor is None or (byline is not None and byline.editor is None):
        for editor_re in (_CHIEF_EDITOR_RE, _EDITOR_RE):  # 责任编辑 over 编辑
            m = next((m for m in map(editor_re.search, tail_lines + [zone_text]) if m), None)
            if m and _clean_value(m.group(1)):
                result.editor = _clean_value(m.group(1))
                break
    for line in tail_lines:
        if result.source_name is None:
            m = _SOURCE_RE.search(line)
            if m and len(line) < 80:
                result.source_name = _clean_value(m.group(1))
    if result.author is None:
        m = _REPORTER_RE.search(zone_text)
        if m:
            result.author = _clean_value(m.group(1))
    if result.source_name and " " in result.source_name and re.match(r"[\u4e00-\u9fff]{2,}", result.source_name):
        result.source_name = result.source_name.split(" ")[0]
    if result.source_name is None and meta.get("source"):
        result.source_name = _clean_value(meta["source"])
    if result.source_name is None:
        # an unlabelled source right after the date: "2023年03月16日 09:12 新华日报"
        for b in zone:
            m = _DATE_THEN_NAME.match(b.text)
            if m:
                result.source_name = m.group(1)
                break
    by_poster = False
    for label_re, name in _EXTRA_LABELS:  # 原作者 over 发布者; 来自 (Discuz portal)
        m = label_re.search(zone_text)
        if m and (getattr(result, name) is None or label_re is _ORIGINAL_AUTHOR):
            setattr(result, name, _clean_value(m.group(1)) or getattr(result, name))
            if name == "author":
                by_poster = label_re is _EXTRA_LABELS[0][0]
    if by_poster:  # the posting account; a dateline in the text names the reporter
        for b in [bb for _, bb in body_blocks[:4]]:
            m = _DATELINE_AUTHOR.search(b.text[:60])
            if m and _clean_value(m.group(1) or m.group(2)):
                result.author = _clean_value(m.group(1) or m.group(2))
                break
    if result.author is None:
        result.author = _author_element(page, body_idx)
    if result.author is None:
        for b in [bb for _, bb in body_blocks[:4]]:  # a dateline: 本报讯（记者 张伟）, 新华社北京5月28日电（记者 王某 李某）
            m = _DATELINE_AUTHOR.search(b.text[:60])
            if m:
                result.author = _clean_value(m.group(1) or m.group(2))
                break
    if result.author is None:
        # a <meta name="author"> names the editor, the portal or the CMS as often as the author:
        # taken only when the byline, or a line of its own (an author card), shows the same name
        value = next((str(a.get("name")) for item in ld for a in _as_list(item.get("author"))
                      if isinstance(a, dict) and a.get("name")), None)
        shown = (meta.get("author") or "").strip()
        if value is None and shown and shown != result.editor and not _ORGANIZATION.search(shown) \
                and (shown in zone_text or any(b.text == shown for b in blocks)):
            value = shown
        if value and not _SOFTWARE_CREDIT.search(value):
            result.author = _clean_value(value)
    if result.source_name is None:
        m = _SOURCE_RE.search(zone_text or "")
        if m:
            result.source_name = _clean_value(m.group(1))

    # ---- multi-page: a page-turn bar in or right after the body linking to this article's page 2
    if _has_next_page(page, body_idx, url):
        result.flag("multi_page")

    # ---- html, images, lang
    outside_run = [] if run is None else [b for k, b in enumerate(blocks)
                                          if start <= b.owner <= stop and not run[0] <= k <= run[1] and k not in strays]
    result.content_html, result.images = _body_html(page, body_idx, pruned, kept, dropped + outside_run, url)
    lang_attr = (root.get("lang") or root.get("xml:lang") or "").strip()
    result.lang = detect_lang((result.content_text or (result.title or ""))[:1000],
                              default="zh-Hant" if lang_attr.lower() in ("zh-tw", "zh-hk", "zh-hant") else "zh-Hans") \
        if (result.content_text or result.title) else (lang_attr or None)
    canonical = root.find(".//link[@rel='canonical']")
    result.canonical = canonical.get("href") if canonical is not None else None
    keywords = meta.get("keywords") or meta.get("news_keywords")
    if keywords:
        result.tags = [t for t in (normalize_text(x) for x in re.split(r"[,，;；、|\s]+", keywords)) if t][:20]
    if not result.content_text:
        result.flag("no_body")
    return result


_ORIGINAL_AUTHOR = re.compile(r"原作者\s*[:：]\s*([^|｜]{1,30})")
_EXTRA_LABELS = (
    (re.compile(r"(?:发布者|發佈者|发布人|發布人|投稿人)\s*[:：]\s*([^|｜]{1,30})"), "author"),
    (_ORIGINAL_AUTHOR, "author"),
    (re.compile(r"(?:来自|來自|转载自|轉載自)\s*[:：]?\s*([^|｜\s]{2,30})"), "source_name"),
)
_ORGANIZATION = re.compile(r"(?:局|办|处|委|中心|公司|政府|网|社|报|院|厅|部|站|室|馆|会|所|队|团)$")
_SOFTWARE_CREDIT = re.compile(r"\bteam\b|\binc\b|powered|cms|discuz|comsenz|wordpress|dedecms|phpcms", re.I)
_DATELINE_AUTHOR = re.compile(r"[（(]\s*(?:本报|本台|本网)?(?:记者|記者)\s*[:：]?\s*([^）()（]{2,20}?)\s*(?:通讯员[^）)]*)?[）)]"
                              r"|^(?:本报|本台|本网)?(?:记者|記者)\s*[|｜:：/]\s*([^|｜\s]{2,12})")
_AUTHOR_ATTR = re.compile(r"(?:^|[\s_-])(?:author|byline|writer|zuozhe)(?:$|[\s_-](?!bio|box|info|title|desc))", re.I)


def _author_element(page: _Page, body_idx: int) -> Optional[str]:
    """The author named by a rel=author link or an author/byline element near the body (not in comments)."""
    lo = max(page.parent[body_idx], 0)
    for i in range(lo, min(len(page.elements), page.end[body_idx] + 40)):
        el = page.elements[i]
        if (el.tag == "a" or el.tag == "link") and el.get("rel") == "author" \
                or (page.word(i) and _AUTHOR_ATTR.search(page.word(i)) and not len(el.findall(".//a")) > 1):
            if _comment_owner(page, i):
                continue
            text = re.sub(r"^(?:作者|文|by)\s*[:：/]?\s*", "", _text_of(el), flags=re.I).strip()
            if 1 < len(text) <= 20 and not _SENTENCE_END.search(text) and not _EDITOR_RE.search(text):
                return _clean_value(text)
    return None


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value] if value else []


_SIDEBAR_ATTR = re.compile(r"(?:^|[\s_-])(?:side|sidebar|aside|right|rightbox)(?:$|[\s_\d-])", re.I)


def _comment_owner(page: _Page, idx: int) -> bool:
    """Whether the element at ``idx`` sits in a comment box or a sidebar (walking up the parent table;
    each element's answer is kept, so ancestors are looked at once per page)."""
    memo = page.aside
    path: list[int] = []
    found = False
    while idx > 0 and len(path) < 400:
        known = memo.get(idx)
        if known is not None:
            found = known
            break
        el = page.elements[idx]
        if el.tag in ("body", "html"):
            break
        path.append(idx)
        words = page.word(idx)
        # (a sidebar is a container: an inline element floated right is none)
        if words and (_COMMENT_ATTR.search(words) or el.tag not in _INLINE_TAGS and _SIDEBAR_ATTR.search(words)) \
                or el.tag == "aside":
            found = True
            break
        idx = page.parent[idx]
    for i in path:
        memo[i] = found
    return found


_HEADER_LABEL = re.compile(r"(?:来源|來源|作者|记者|通讯员|編輯|编辑|时间|時間|日期|发布|發佈|点击|浏览|阅读|字号|字体|"
                           r"分享|打印|收藏|评论)\s*[:：]?")


_BARE_ADDRESS = re.compile(r"^(?:https?://)?(?:[\w-]+\.)+(?:com|cn|net|org|gov|edu|info|cc|tv)(?:\.[a-z]{2})?(?:/\S*)?$", re.I)


def _looks_header(b: _TextBlock, title: Optional[str], ref: datetime) -> bool:
    """A block above the body's first prose that belongs to the header: title, byline, crumbs, tools."""
    if title and _norm_title(b.text) == _norm_title(title):
        return True
    if b.linked * 2 >= b.chars or _BARE_ADDRESS.match(b.text):
        return True
    if len(b.text) <= 160 and not _SENTENCE_END.search(b.text) and (
            _HEADER_LABEL.search(b.text) or _ANY_DATE.search(b.text)):
        return True
    return False


_SENTENCE_END = re.compile(r"[。！？!?]")
_DATE_LINE = re.compile(r"^[\s\d:：/.\-年月日时分秒]+$")
_FULL_DATE = re.compile(r"(?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}")
# whether a line shows a date (what it is does not matter here)
_ANY_DATE = re.compile(r"(?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}|\d{1,2}\s*月\s*\d{1,2}\s*日|\d{1,2}-\d{1,2}\s+\d{1,2}:\d{2}|"
                       r"昨天|今天|前天|刚刚|\d+\s*(?:秒|分钟|小时|天)前|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)"
                       r"[a-z]*\.?\s+\d{1,2},?\s+\d{4}|\b\d{1,2}\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\s+\d{4}",
                       re.I)


# An editor's or the site's note about the article, not text of it (lines up to 200 characters):
# where it comes from and on what terms (本文系…独家稿件，未经授权不得转载 / 本文来自微信公众号… /
# 部分内容综合自：…), whose views it holds (文章代表作者个人观点 / 以上内容不代表本站立场), a citation
# line (——《北京之春》1996年6月号), view counters, trackback links, breadcrumbs and search widgets.
# (two regexes: the line-shaped forms matched at the start only, the phrases searched; one alternation
# of both would try every form at every position)
_EDITORIAL_LINE = re.compile(
    r"[\s(（【\[]*(?:本文|此文|该文)(?:系|为|来自|转载自|转自|摘自|选自|原载于?|原发于?|首发于?|已获|经|由|来源于?)"
    r"(?:[^。！？]{0,60}$|.{0,160}(?:授权|转载|观点|出处|首发|公众号|专栏|稿件|原创|发布))"
    r"|[\s(（【\[]*(?:特别声明|重要声明|郑重声明|声明|友情提示)\s*[:：]"
    r"|[\s(（【\[]*(?:部分)?(?:内容|资料|素材|信息)?综合(?:整理)?(?:自|于)\s*[:：]"
    r"|[\s-]*[-—]{1,2}\s*(?:原载|载于|选自|摘自|转自|刊于)?\s*《[^》]{1,20}》[^。！？]{0,20}$"
    r"|[^>›»。，,]{1,16}(?:\s*[>›»]\s*[^>›»。，,]{1,16}){2,}$"
    r"|[^。！？]{0,30}©[^。！？]{0,30}$"
    r"|作者[^，。,]{1,30}[，,]\s*(?:系|为|是)[^。！？]{0,40}(?:作者|撰稿人|记者|编辑|研究员)。?$"  # an author's bio line
    r"|欢迎(?:加入|订阅)[^。！？]{0,20}(?:邮件列表|邮件|会员)|[^。！？]{0,10}版主\s*[:：]"
    r"|[^。！？]{0,30}(?:网站|网|门户)\s*(?:https?://)?(?:www\.)?[\w-]+(?:\.[\w-]+)+/?$"  # a site's name and address
    r"|[^。！？，,]{0,20}\s+https?://\S+$|[^。！？]{0,24}(?:记者|通讯员|特约撰稿人)$"  # a reporter's role line
    r"|[-—]{1,2}\s*由[^。！？]{1,20}(?:创作|撰写|编写|整理|编译|报道|出品)$"  # a credit line
    r"|欢迎(?:来到|收看|收听|阅读)[^。！？]{0,20}(?:栏目|专栏|频道|节目)",  # a column's greeting
    re.I,
)
_EDITORIAL_PHRASE = re.compile(
    r"(?:本文|文章|此文|该文|以上|文中|上述)(?:内容|观点|文章)?[^。！？]{0,10}(?:仅|只|均)?(?:代表|属于?|系)(?:作者|撰稿人|原作者)"
    r"|不代表(?:本|我|该|平台|\S{1,8}(?:网|站|平台|号|报))[^。！？]{0,6}(?:观点|立场|看法)"
    r"|(?:言论|内容|文章|本文)纯属(?:作者)?个人(?:观点|行为)"
    r"|(?:阅读|浏览|点击|访问)(?:次数|量)?\s*[:：]?\s*\d+\s*次|第\s*\d+\s*(?:个|位)(?:阅览|访问|读)者"
    r"|trackback|引用通告|共找到\s*[\d,，]+\s*(?:个|条|篇)|下载.{0,12}(?:应用程序|应用)",  # on the lower-cased line
)


# every match of _BOILERPLATE_ANYWHERE / _EDITORIAL_PHRASE holds one of these
_ANYWHERE_KEYS = ("声明", "聲明", "所有", "copyright", "©", "关注", "尽在", "icp", "举报", "reserved")
_PHRASE_KEYS = ("代表", "纯属", "阅读", "浏览", "点击", "访问", "阅览", "读者", "trackback", "引用通告", "共找到", "下载")


_LISTED = frozenset(("td", "th", "li", "dd", "dt", "tr"))


def _holds_any(text: str, keys: tuple[str, ...]) -> bool:
    for key in keys:  # a plain loop: any() over a generator costs twice as much here
        if key in text:
            return True
    return False


def _is_furniture(b: _TextBlock) -> bool:
    text = b.text
    low = text.lower()
    # (substring tests first: a regex alternation tries every alternative at every position of a paragraph)
    if _BOILERPLATE_START.match(text):
        return True
    if _holds_any(low, _ANYWHERE_KEYS):
        m = _BOILERPLATE_ANYWHERE.search(low)
        # a notice names itself early or is short: a sentence that mentions a 版权声明 far into a paragraph is text
        if m and (m.start() <= 15 or len(text) <= 60 and not _SENTENCE_END.search(text)):
            return True
    if len(text) <= 200 and (_EDITORIAL_LINE.match(text)
                             or _holds_any(low, _PHRASE_KEYS) and _EDITORIAL_PHRASE.search(low)):
        return True
    # the project's rules are about furniture lines; a paragraph is article text (and the script
    # conversion those rules need costs more than all the rest on a long body)
    if len(text) <= 80 and is_boilerplate(text):
        return True
    if _PAGE_BAR.match(text) and b.linked:
        return True
    if len(text) <= 80 and _FOOT_LABEL.search(text):  # a post foot: 发表于 2004年12月27日 12:40 - (阅读:37)
        return True
    if b.chars <= 80 and b.linked * 10 >= b.chars * 6:  # a link line: 相关 headline, 点击进入专题
        return True
    return False


# TRS WCM writes its page-turn bar from a script: createPageHTML(pages, current, stem, ext)
_PAGE_SCRIPT = re.compile(r"createPageHTML\(\s*(?:[2-9]|\d{2,})\s*,|countPage\s*=\s*(?:[2-9]|\d{2,})\b")


def _has_next_page(page: _Page, body_idx: int, url: str) -> bool:
    stop = page.end[body_idx]
    # the bar sits inside the body or within a few elements after it
    limit = min(len(page.elements) - 1, stop + 60)
    base = urlsplit(url)
    stem = re.sub(r"\.\w+$", "", base.path.rsplit("/", 1)[-1])
    # links and scripts only, found by lxml in the body, then among the elements right after it
    after = [el for el in page.elements[stop + 1:limit + 1] if el.tag == "a" or el.tag == "script"]
    for el in chain(page.elements[body_idx].iter("a", "script"), after):
        if el.tag == "script":
            if el.text and _PAGE_SCRIPT.search(el.text):
                return True
            continue
        href = (el.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:")):
            continue
        text = normalize_text("".join(el.itertext()))
        if not (text.isdigit() and len(text) <= 3 or _NEXT_PAGE_TEXT.match(text)):
            continue  # page-turn links read "2" or "下一页"
        target = urlsplit(urljoin(url, href))
        name = target.path.rsplit("/", 1)[-1]
        same_stem = bool(stem) and name.startswith(stem) and re.search(r"[_-]\d{1,2}(?:\.\w+)?$", name)
        base_path = re.sub(r"(?:/|\.\w+)$", "", base.path)
        numbered = re.match(r"^(.*\D)(\d{1,2})(\.\w+)?$", base.path)
        other = re.match(r"^(.*\D)(\d{1,2})(\.\w+)?$", target.path)
        same_stem = same_stem or bool(numbered and other and numbered.group(1) == other.group(1)
                                      and numbered.group(1)[-1:] in "-_" and numbered.group(2) != other.group(2))
        same_stem = same_stem or (bool(base_path) and target.path.startswith(base_path) and re.fullmatch(
            r"[/_-]\d{1,2}(?:\.\w+|/)?", target.path[len(base_path):]))
        paged_query = target.path == base.path and re.search(r"(?:^|&)(?:page|p|pn|pg)=\d", target.query)
        if (same_stem or paged_query) and (text.isdigit() or _NEXT_PAGE_TEXT.match(text)):
            return True
    return False


def _drop(node: etree._Element) -> None:
    """Remove an element and its subtree, keeping its tail text in place."""
    parent = node.getparent()
    if parent is None:
        return
    if node.tail:
        previous = node.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + node.tail
        else:
            parent.text = (parent.text or "") + node.tail
    parent.remove(node)


_UNSAFE_ATTRS = ("class", "id", "style", "align", "valign", "face", "color", "size", "lang", "dir", "border",
                 "bgcolor", "cellspacing", "cellpadding", "target", "name", "onclick", "onload", "onerror",
                 "onmouseover", "onmouseout", "data-id", "data-type", "role", "rel", "aria-label", "tabindex")
_INLINE_WRAPPERS = ("span", "font", "small", "big", "label", "abbr", "cite", "tt", "nobr", "ins", "o:p")


class _Offset:
    """The copy of the element at a page index: a list read with the body's offset."""

    def __init__(self, items: list[etree._Element], first: int) -> None:
        self.items, self.first = items, first

    def get(self, i: int) -> Optional[etree._Element]:
        j = i - self.first
        return self.items[j] if 0 <= j < len(self.items) else None

    def __getitem__(self, i: int) -> etree._Element:
        return self.items[i - self.first]


def _body_html(page: _Page, body_idx: int, pruned: list[tuple[int, int]], kept: list[_TextBlock],
               dropped: list[_TextBlock], url: str) -> tuple[str, list[dict[str, Any]]]:
    """Sanitized HTML of the body (pruned parts and dropped blocks removed) and its images."""
    body = page.elements[body_idx]
    clone = copy.deepcopy(body)
    clone.tail = None
    originals = page.elements[body_idx:page.end[body_idx] + 1]
    copies = list(clone.iter(_ELEMENT))
    if len(copies) != len(originals):
        return "", []
    mapping = _Offset(copies, body_idx)
    kept_owners = {b.owner for b in kept}
    drop_owners = {b.owner for b in dropped} - kept_owners
    doomed: list[Any] = []
    for a, _ in pruned:
        node = mapping.get(a)
        if node is not None:
            doomed.append(node)
    kept_order = sorted(kept_owners)
    for owner in drop_owners:
        node = mapping.get(owner)
        if node is not None and node is not clone:
            # only when nothing kept sits in the same subtree (a range of pre-order indexes)
            at = bisect_left(kept_order, owner)
            if at == len(kept_order) or kept_order[at] > page.end[owner]:
                doomed.append(node)
    # block elements that hold no kept text and no picture of the article go too: the stored HTML says what
    # the text says (and sanitizing a small tree is cheap)
    first = body_idx
    size = page.end[body_idx] - body_idx + 1
    keep = bytearray(size)

    def mark(i: int) -> None:
        while i > body_idx and not keep[i - first]:
            keep[i - first] = 1
            i = page.parent[i]

    kept_sorted = sorted(o for o in kept_owners if o != body_idx)
    for owner in kept_sorted:
        keep[owner - first:page.end[owner] - first + 1] = b"\x01" * (page.end[owner] - owner + 1)
        mark(page.parent[owner])
    if kept_sorted:
        lo, hi = kept_sorted[0] - 20, max(page.end[o] for o in kept_sorted)
        for i in range(max(lo, body_idx + 1), min(hi, page.end[body_idx]) + 1):
            if page.elements[i].tag == "img":
                mark(i)
        i = body_idx + 1
        while i <= page.end[body_idx]:
            tag = page.elements[i].tag
            if not keep[i - first] and isinstance(tag, str) and tag.lower() in BLOCK_TAGS:
                doomed.append(mapping[i])
                i = page.end[i] + 1
            else:
                i += 1
    for node in doomed:
        if node.getparent() is not None:
            _drop(node)
    for node in list(clone.iter(*SKIP_TAGS)):
        if node is not clone and node.getparent() is not None:
            _drop(node)
    try:
        images = extract_images(clone, url)
        # what the sanitizer would remove or unwrap anyway goes here, in lxml's C walks: it then
        # handles fewer elements and attributes in Python
        etree.strip_attributes(clone, *_UNSAFE_ATTRS)
        etree.strip_tags(clone, *_INLINE_WRAPPERS)
        html = sanitize_html(etree.tostring(clone, encoding="unicode", method="html"), url)
    except (ValueError, etree.LxmlError):
        return "", []
    kept_text = "\n".join(b.text for b in kept)
    for image in images:
        if image.get("caption") and normalize_text(image["caption"]) not in kept_text:
            image["caption"] = None
    return html, images
