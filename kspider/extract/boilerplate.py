"""Boilerplate: lines and blocks that are page furniture, not body text.

Two kinds of rule:

- patterns (``BOILERPLATE_PATTERNS``, data, extensible per site through
  ``Site.boilerplate``): a block matching one is dropped. Patterns are written in
  Simplified script; a block in Traditional script is matched in its Simplified
  form too, so 版權聲明 and 版权声明 are one pattern.
- structure: a tail marker (上一篇, 相关文章, 分享给朋友 …) ends the body; a run of
  blocks repeated verbatim is pasted furniture (removed with the headline-like
  blocks around it); a single repeated block is kept once; link-dense short
  blocks at the end are link lists.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable

# One regex per line kind, matched with re.search against one block (a paragraph).
# Keep them anchored (^) unless the phrase can never be body text.
BOILERPLATE_PATTERNS: tuple[str, ...] = (
    # copyright / disclaimer paragraphs, also "江苏苏讯网版权及免责声明:…"
    r"^[^,，。;；:：]{0,15}(?:版权|免责)(?:[及和与、]?(?:免责|版权))?声明\s*(?:[:：]|$)",
    r"^扫描二维码",
    r"^本文链接[:：]",
    r"^原文(?:地址|链接)[:：]",
    r"^分享给朋友",
    r"^分享(?:到|至)?[:：]",
    r"^[-=_*~—·\s]*分隔线[-=_*~—·\s]*$",
    r"^[-=_*~—·]{5,}$",
    r"^【?责任编辑[:：]",
    r"^(?=.{0,80}$).*客服(?:电话|热线|QQ|微信)?[:：]",
    r"(?:欢迎|歡迎)投稿[:：]",
    r"^当前位置[:：]",
    r"^您(?:现在)?的位置[:：]",
    r"^订阅每日新闻",
    r"^(?:标签|tags?)[:：]",
    r"^(?:图片新闻|热点资讯|热点聚焦|热点新闻|相关新闻|推荐阅读|热门文章|最新文章|返回列表|左右滑动查看)$",
    r"^(?:文章)?(?:授权)?转载自[^,，。]{0,30}$",
    # the 021cf agency's promotion line and contact block
    r"^开发区招商引资指定载体",
    r"^网络招商运营服务平台",
    r"^(?=.{0,15}$).*微信号$",
    r"^产业招商/厂房土地租售",
    r"^或微信/手机",
    r"^请说明您的需求",
    r"^长按/?扫一扫",
    r"^扫一扫关注公众号",
    # short QR-code captions of the contact block (扫码添加微信, 微信扫一扫, 长按识别二维码)
    r"^(?=.{0,20}$).*(?:扫一扫|扫码|长按识别|识别二维码|二维码)",
    # a bare call-to-visit line: only the invitation and a number
    r"^(?:欢迎)?(?:来访|来电)(?:考察|咨询|洽谈)?\s*[:：]?\s*[\d\s\-/或]{7,}$",
    r"^重点推荐园区厂房",
    r"^更多厂房土地\s*请点击",
    # site licence lines
    r"^信息网络传播视听节目许可证",
    r"^[京沪苏浙粤]网文\[\d{4}\]",
    r"^[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼]ICP[备证]",
    r"^(?:互联网新闻信息服务许可证|增值电信业务经营许可证|网络文化经营许可证)",
    # unrendered client templates (matchexpo) and its widgets
    r"\{\{[^{}]*\}\}",
    r"^(?:Share|Collection|Collected|Give the thumbs-up|Liked|Comment area|Follow official account|Online support)+$",
    r"^(?:分享|收藏|已收藏|点赞|已点赞|评论区|关注公众号|在线客服)+$",
    r"^The content is the author's independent opinion",
    r"^内容为作者独立观点",
    r"^Matchexpo是中国会展活动社[区群]平台",
    r"^(?:Register|Quick publish|Congratulations|View Now|Go publish)$",
    r"^Matchexpo(?: is an exhibition community platform|: Event Marketing Platform)",
    r"^\|?\s*Matchpages Web Builder",
    r"^Modify certification",
)

# A block equal to one of these ends the body: what follows is navigation.
TAIL_MARKERS: tuple[str, ...] = (
    r"^(?:上一[篇页]|下一[篇页])(?:新闻|文章)?\s*(?:[:：].*|没有了.*)?$",
    r"^(?:相关文章|相关阅读|相关推荐|延伸阅读|更多资讯|更多新闻|推荐阅读|热门推荐)\s*[:：]?$",
    r"^.{0,100}的相关文章$",
    r"^分享给朋友[:：]?$",
    r"^(?:评论|发表评论|网友评论)$",
    r"^(?:图片新闻|热点资讯|热点聚焦)$",
    r"^订阅每日新闻$",
    r"^(?:Hot articles|热门文章)$",
)


@dataclass
class Block:
    """One paragraph-level piece of a page; ``link_ratio`` is the share of its
    characters inside <a>."""

    text: str
    link_ratio: float = 0.0


class _PatternSet:
    """Patterns as two regexes: those anchored at the start (tried at position 0 only)
    and the rest (searched). One alternation searched at every position of a long
    paragraph is what made boilerplate matching the slowest step of cleaning."""

    def __init__(self, anchored: re.Pattern[str] | None, floating: re.Pattern[str] | None) -> None:
        self.anchored = anchored
        self.floating = floating

    def search(self, text: str) -> bool:
        return bool((self.anchored is not None and self.anchored.match(text))
                    or (self.floating is not None and self.floating.search(text)))


def _is_anchored(pattern: str) -> bool:
    """Starts with ^ and has no top-level alternative that could match elsewhere."""
    from re import _constants as c, _parser

    data = _parser.parse(pattern).data
    return bool(data) and data[0] == (c.AT, c.AT_BEGINNING)


@lru_cache(maxsize=256)
def _compile(patterns: tuple[str, ...]) -> _PatternSet | None:
    anchored, floating = [], []
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error:  # a broken registry entry must not stop the crawl
            continue
        (anchored if _is_anchored(pattern) else floating).append(f"(?:{pattern})")
    if not anchored and not floating:
        return None
    return _PatternSet(
        re.compile("|".join(anchored), re.IGNORECASE) if anchored else None,
        re.compile("|".join(floating), re.IGNORECASE) if floating else None,
    )


_SHARED = _compile(BOILERPLATE_PATTERNS)
_TAIL = _compile(TAIL_MARKERS)


@lru_cache(maxsize=8192)
def _forms(text: str) -> tuple[str, ...]:
    """The text, and its Simplified form without pinyin artifacts when that differs
    (blocks may come here straight from the page, before ``clean_text``)."""
    from kspider.extract.text import strip_pinyin, to_simplified

    text = text.strip()
    hans = to_simplified(strip_pinyin(text)[0])
    return (text, hans) if hans != text else (text,)


def _matches(regex: _PatternSet | None, text: str, forms: tuple[str, ...] = ()) -> bool:
    return regex is not None and any(regex.search(form) for form in (forms or _forms(text)))


def is_boilerplate(text: str, extra_patterns: Iterable[str] = ()) -> bool:
    """Whether one block is page furniture by the shared patterns or ``extra_patterns``."""
    if _matches(_SHARED, text):
        return True
    extra = _compile(tuple(extra_patterns))
    return _matches(extra, text)


def is_tail_marker(text: str) -> bool:
    """Whether a block is a heading that ends the body (上一篇, 相关文章 …)."""
    return _matches(_TAIL, text)


_SENTENCE_END = re.compile(r"[。！？!?；;：:]$|。")


def _headline_like(text: str) -> bool:
    """Short and not a sentence: how a pasted list of headlines looks."""
    return len(text) <= 40 and not _SENTENCE_END.search(text)


def _drop_repeats(blocks: list[Block]) -> list[Block]:
    keys = [b.text.strip() for b in blocks]
    positions: dict[str, list[int]] = {}
    for i, key in enumerate(keys):
        positions.setdefault(key, []).append(i)
    in_run: set[int] = set()
    later_copy: set[int] = set()
    for idxs in positions.values():
        for n, i in enumerate(idxs):
            for j in idxs[n + 1:]:
                # i and j open or continue the same sequence of ≥2 blocks
                nxt = i + 1 < j and j + 1 < len(keys) and keys[i + 1] == keys[j + 1]
                prv = i > 0 and i - 1 != j - 1 and keys[i - 1] == keys[j - 1]
                if nxt or prv:
                    in_run.update((i, j))
        later_copy.update(idxs[1:])
    # a pasted run drags along the headline-like blocks next to it
    grown = set(in_run)
    for i in sorted(in_run):
        for step in (-1, 1):
            k = i + step
            while 0 <= k < len(keys) and k not in grown and _headline_like(keys[k]):
                grown.add(k)
                k += step
    drop = grown | later_copy
    return [b for i, b in enumerate(blocks) if i not in drop]


# --- pasted headline runs -------------------------------------------------------------
# A reposted page's "more news" list pasted along with its text: short lines shaped like headlines
# (no sentence punctuation), often numbered or dated, about other topics than the post. Found by
# shape, position and topic, so a run pasted once (or half of one) goes as surely as a repeated one.

# Headlines end without a full stop; a question or exclamation mark may close one, a single comma
# may sit inside one ("面对关税威胁，加拿大总理的回应来了").
_HEADLINE_PUNCT = re.compile(r"[。；;]|[！？!?](?=.)|，.*，|[:：、,，]$")
_HEADLINE_PREFIX = re.compile(
    r"^\s*(?:[\[【(（]?\d{1,2}[-/.月]\d{1,2}日?[\]】)）]?|\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}\s*[.、)）]|[(（]\d{1,2}[)）]"
    r"|[·•●○■□▪▶►]|NEW|new)\s*"
)
# A field of a listing or a byline ("类型：标准厂房", "【面积】35亩", "记者 张三"), not a headline.
_FIELD_LINE = re.compile(r"^(?:【[^】]{1,8}】|[\u4e00-\u9fffA-Za-z]{1,6}\s*[:：]\s*\S.{0,15}$)")
# Credits and notes of the article itself (（记者 陈晨 通讯员 刘洋）, 航拍图（摄影：张伟）, 来源：…).
_CREDIT_LINE = re.compile(r"记者|通讯员|摄影|供图|图片来源|来源\s*[:：]|编辑|作者|图\s*[:：/]|^[（(【\[].*[)）】\]]$")
# Lines of a rental listing (房东直租 无中介费, 可办环评 可注册公司): the post's own offer.
_AD_LINE = re.compile(r"房东|直租|中介|出租|出售|招租|转让|租金|售价|环评|注册|厂房|仓库|土地|车间|分租|行车|配电|层高|承重|"
                      r"现房|看房|面议|产证|独门独院|[0-9]\s*(?:平米|平方|平|亩|㎡)")
_CJK_BIGRAM = re.compile(r"(?=([\u4e00-\u9fff]{2}))")
_HEADLINE_MIN, _HEADLINE_MAX = 6, 40
# Share of a line's bigrams found in the title and the rest of the body below which it is off-topic.
_OFF_TOPIC = 0.3


def _headline_shape(text: str) -> bool:
    text = text.strip()
    core = _HEADLINE_PREFIX.sub("", text, count=1)
    return (_HEADLINE_MIN <= len(core) <= _HEADLINE_MAX and not _HEADLINE_PUNCT.search(core)
            and not _FIELD_LINE.match(core) and not _CREDIT_LINE.search(core) and not _AD_LINE.search(core)
            and len(_CJK_BIGRAM.findall(core)) >= 3)


def _numbered(text: str) -> bool:
    return bool(_HEADLINE_PREFIX.match(text))


def _bigrams(text: str) -> set[str]:
    return set(_CJK_BIGRAM.findall(text))


def _topic_share(line: str, context: set[str]) -> float:
    grams = _bigrams(_HEADLINE_PREFIX.sub("", line, count=1))
    return len(grams & context) / len(grams) if grams else 1.0


def _drop_headline_runs(kept: list[Block], positions: list[int], furniture: set[int], total: int,
                        title: str | None) -> list[Block]:
    """Remove runs of headline-shaped lines that sit at the end of the body or next to removed
    furniture (licence lines, disclaimers, the contact block) and are off the post's topic.

    ``positions[i]`` is the page position of ``kept[i]``; ``furniture`` the page positions of the
    blocks dropped as furniture; ``total`` the number of page blocks. A list of the article's own
    (on its topic, or between paragraphs with nothing removed around it) stays."""
    shaped = [_headline_shape(b.text) for b in kept]
    runs: list[tuple[int, int]] = []
    i = 0
    while i < len(kept):
        if not shaped[i]:
            i += 1
            continue
        j = i
        # one run is all links (a pasted list of <a>) or all plain lines, not both
        while (j + 1 < len(kept) and shaped[j + 1]
               and (kept[j + 1].link_ratio >= 0.5) == (kept[i].link_ratio >= 0.5)):
            j += 1
        runs.append((i, j))
        i = j + 1
    drop: set[int] = set()
    for start, end in runs:
        size = end - start + 1
        # the end of the body, or its very start (a list pasted above the text)
        at_tail = end == len(kept) - 1 or (start == 0 and size >= 3 and end + 1 < len(kept))
        first, last = positions[start], positions[end]
        # furniture right before or after the run, or inside it (licence lines between headlines)
        near_furniture = (first - 1 in furniture or last + 1 in furniture
                          or any(first < p < last for p in furniture))
        numbered = all(_numbered(kept[k].text) for k in range(start, end + 1))
        if size < 2 or (size < 3 and not (at_tail and near_furniture)):
            continue
        context = _bigrams(title or "")
        for k, block in enumerate(kept):
            if not start <= k <= end:
                context |= _bigrams(block.text)
        share = sum(_topic_share(kept[k].text, context) for k in range(start, end + 1)) / size
        lengths = [len(kept[k].text.strip()) for k in range(start, end + 1)]
        similar = max(lengths) <= 3 * min(lengths)
        if not similar:
            continue
        if (at_tail or near_furniture) and share < (_OFF_TOPIC + 0.1 if numbered else _OFF_TOPIC):
            drop.update(range(start, end + 1))
        elif size >= 4 and share < _OFF_TOPIC / 2:
            # a long off-topic run between paragraphs: pasted even with nothing removed around it
            drop.update(range(start, end + 1))
    return [b for k, b in enumerate(kept) if k not in drop]


def _is_link_block(block: Block) -> bool:
    return block.link_ratio >= 0.5 and len(block.text) <= 80


def remove_boilerplate(blocks: list[Block], extra_patterns: Iterable[str] = (), title: str | None = None) -> list[Block]:
    """Body blocks only: tail markers cut, pattern blocks dropped, repeated runs
    removed, pasted headline runs removed (``title`` gives the post's topic),
    trailing link-dense short blocks removed. Order is kept."""
    extra = _compile(tuple(extra_patterns))
    kept: list[Block] = []
    positions: list[int] = []
    furniture: set[int] = set()
    for position, block in enumerate(blocks):
        if not block.text.strip():
            continue
        forms = _forms(block.text)  # one script conversion per block, shared by all rules
        if kept and _matches(_TAIL, block.text, forms):
            break
        if _matches(_SHARED, block.text, forms) or _matches(extra, block.text, forms):
            furniture.add(position)
            continue
        kept.append(block)
        positions.append(position)
    kept = _drop_headline_runs(kept, positions, furniture, len(blocks), title)
    kept = _drop_repeats(kept)
    while kept and _is_link_block(kept[-1]):
        kept.pop()
    return kept
