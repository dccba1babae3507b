"""Text cleaning: pure functions shared by every spider and the cleaning pipeline.

The chain (``clean_text``): normalize whitespace and width → strip pinyin
artifacts → undo advertising-law rewrites (per site) → drop boilerplate lines
→ flag encoding damage → detect the script → Simplified copy for Traditional
pages. Every step is idempotent, so the whole chain is.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Iterable, Optional

from kspider.extract.boilerplate import Block, remove_boilerplate

if TYPE_CHECKING:  # only for the annotation; the registry imports nothing from here
    from kspider.sites import Site

# --------------------------------------------------------------------------- normalize

# Full-width digits and Latin letters → ASCII. Chinese punctuation (，。：“” …) is
# deliberately left alone, so this is not a full NFKC.
_FULLWIDTH = {cp: cp - 0xFEE0 for r in ((0xFF10, 0xFF19), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A))
              for cp in range(r[0], r[1] + 1)}
# Characters that carry nothing in text: zero-width and bidi marks, soft hyphen,
# C0/C1 controls (line-breaking ones excepted; splitlines handles those).
_INVISIBLE = re.compile(
    "[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
    "\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f]"
)
_SURROGATE = re.compile("[\ud800-\udfff]")


_HAS_FULLWIDTH = re.compile("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]")


def _safe(text: str) -> str:
    """Lone surrogates (possible in a Python str, never in real text) become U+FFFD,
    so that encoders such as OpenCC never raise on them."""
    return _SURROGATE.sub("\ufffd", text)


def normalize_text(text: str) -> str:
    """Whitespace and width normalization (see ``_normalize``); short strings are cached,
    since a page's blocks and lines are normalized again at several steps."""
    if text and len(text) <= 512:
        return _normalize_cached(text)
    return _normalize(text)


@lru_cache(maxsize=16384)
def _normalize_cached(text: str) -> str:
    return _normalize(text)


def _normalize(text: str) -> str:
    """Whitespace and width normalization.

    Runs of whitespace (including U+3000 indents and non-breaking spaces) become
    one space; lines are stripped; blank lines dropped; paragraphs joined by
    "\\n"; full-width digits/letters made half-width; NFC composition last (after
    every removal, so a second pass finds nothing new to compose).
    """
    if not text:
        return ""
    text = _INVISIBLE.sub("", _safe(text))
    if _HAS_FULLWIDTH.search(text):  # translate() walks every character: only when needed
        text = text.translate(_FULLWIDTH)
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(unicodedata.normalize("NFC", line) for line in lines if line)


# --------------------------------------------------------------------------- pinyin

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ"
_DETONE = str.maketrans({**{c: b for b, cs in (("a", "āáǎà"), ("e", "ēéěè"), ("i", "īíǐì"), ("o", "ōóǒò"),
                                               ("u", "ūúǔù"), ("ü", "ǖǘǚǜ"), ("n", "ńňǹ"), ("m", "ḿ"))
                           for c in cs}})
# One pinyin syllable (tones removed): optional initial + a final. Checked so that a
# bracketed foreign word with an accent, e.g. 咖啡(café), is not taken for pinyin.
_SYLLABLE = re.compile(
    r"(?:zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])?"
    r"(?:iang|iong|uang|ueng|ang|eng|ing|ong|iao|uai|ian|uan|üan|ai|ei|ao|ou|an|en|er|ia|ie|iu|in|ua|uo|ui|un|ue|üe|ün|ng|a|o|e|i|u|ü|v|n|m)"
)
_PINYIN_GROUP = re.compile(rf"(?<=[{_CJK}])(?:[(（]\s*([a-zü{_TONED}]{{1,7}})\s*[)）])+", re.IGNORECASE)
_PINYIN_ONE = re.compile(rf"[(（]\s*([a-zü{_TONED}]{{1,7}})\s*[)）]", re.IGNORECASE)


def _is_toned_syllable(word: str) -> bool:
    word = word.lower()
    return any(c in _TONED for c in word) and _SYLLABLE.fullmatch(word.translate(_DETONE)) is not None


def strip_pinyin(text: str) -> tuple[str, bool]:
    """Remove "(tone-marked pinyin syllable)" right after a CJK character.

    關(guān) → 關, 網(wǎng) → 網; (ACM), (昆山), (2021), (HVLP) are never touched: the
    bracket must hold one syllable with a tone mark and follow a CJK character.
    """
    if "(" not in text and "（" not in text:  # the lookbehind scan is costly on long HTML
        return text, False
    changed = False

    def repl(match: re.Match[str]) -> str:
        nonlocal changed
        groups = _PINYIN_ONE.findall(match.group(0))
        if all(_is_toned_syllable(g) for g in groups):
            changed = True
            return ""
        return match.group(0)

    out = _PINYIN_GROUP.sub(repl, text)
    return out, changed


# --------------------------------------------------------------------------- adlaw

# 第一 written as 头部 is restored only before a classifier/counter; each classifier
# lists the real words that begin with it (头部企业 never matches: 企 is no classifier,
# but 头部位置, 头部名企, 头部家居 … must stay).
_DIYI_CLASSIFIERS: dict[str, tuple[str, ...]] = {
    "家": ("家族", "家电", "家電", "家居", "家具", "家装", "家裝", "家庭"),
    "天": ("天线", "天線", "天团", "天團"),
    "个": ("个股", "个人", "个体", "个护"),
    "個": ("個股", "個人", "個體"),
    "次": ("次元",),
    "批": ("批发", "批發"),
    "名": ("名人", "名企", "名校", "名牌", "名单", "名單", "名师", "名師", "名品"),
    "位": ("位置",),
    "期": ("期刊", "期货", "期貨"),
    "届": (), "屆": (), "季": ("季节", "季節"), "年": ("年轻", "年輕", "年龄", "年齡"),
    "轮": ("轮廓",), "輪": ("輪廓",), "场": ("场景",), "場": ("場景",), "站": (), "步": (),
    "条": ("条件",), "條": ("條件",), "座": (), "代": ("代表",), "号": (), "號": (),
    "时间": (), "時間": (), "梯队": (), "梯隊": (),
}
_DIYI = re.compile(
    "[头頭]部(?=(" + "|".join(sorted(map(re.escape, _DIYI_CLASSIFIERS), key=len, reverse=True)) + "))"
)
_ZUI = re.compile("蕞(?![尔爾])")


def _restore_diyi(text: str) -> str:
    def repl(match: re.Match[str]) -> str:
        after = text[match.end():match.end() + 3]
        if any(after.startswith(word) for word in _DIYI_CLASSIFIERS[match.group(1)]):
            return match.group(0)
        return "第一"

    return _DIYI.sub(repl, text)


ADLAW_RULES = {"zui": lambda t: _ZUI.sub("最", t), "diyi": _restore_diyi}


def restore_adlaw(text: str, rules: Iterable[str] = ("zui", "diyi")) -> tuple[str, bool]:
    """Undo advertising-law rewrites: 蕞→最 (not in 蕞尔), 头部+classifier→第一.

    ``rules`` are names from ``Site.adlaw_rules``; unknown names are ignored.
    Returns the text and whether anything changed.
    """
    if "蕞" not in text and "部" not in text:  # nothing a rule could change
        return text, False
    out = text
    for name in rules:
        rule = ADLAW_RULES.get(name)
        if rule is not None:
            out = rule(out)
    return out, out != text


# --------------------------------------------------------------------------- script

@lru_cache(maxsize=2)
def _converter(config: str):  # OpenCC objects are costly to build; share one per config
    import opencc

    return opencc.OpenCC(config)


_CJK_RE = re.compile(f"[{_CJK}]")
_KANA_RE = re.compile("[\u3040-\u30ff]")
_HANGUL_RE = re.compile("[\uac00-\ud7a3]")
_LATIN_RE = re.compile("[A-Za-z]")


def to_simplified(text: str) -> str:
    """Traditional → Simplified script (OpenCC t2s)."""
    if not text:
        return ""
    return _converter("t2s").convert(_safe(text))


def _script_counts(chars: str) -> tuple[int, int]:
    """(Traditional-only, Simplified-only) among distinct CJK characters: a character
    t2s changes is Traditional, one s2t changes is Simplified."""
    if not chars:
        return 0, 0
    hans = _converter("t2s").convert(chars)
    hant = _converter("s2t").convert(chars)
    if len(hans) != len(chars) or len(hant) != len(chars):  # phrase mappings: fall back per char
        hans = "".join(_converter("t2s").convert(c)[:1] or c for c in chars)
        hant = "".join(_converter("s2t").convert(c)[:1] or c for c in chars)
    return (sum(a != b for a, b in zip(chars, hans)), sum(a != b for a, b in zip(chars, hant)))


def detect_lang(text: str, default: str = "zh-Hans") -> str:
    """"zh-Hans", "zh-Hant", "en", "ja", "ko", or "und" when there are no letters.

    Chinese text with no character that tells the scripts apart gets ``default``
    (pass the site's registry language).
    """
    text = _safe(text or "")
    cjk = _CJK_RE.findall(text)
    latin = len(_LATIN_RE.findall(text))
    if not cjk and not latin:
        if _HANGUL_RE.search(text):
            return "ko"
        return "ja" if _KANA_RE.search(text) else "und"
    if len(cjk) * 2 < latin:  # an English word is ~5 letters, a Chinese one ~2 characters
        return "en"
    if len(_KANA_RE.findall(text)) * 5 > len(cjk):
        return "ja"
    distinct = "".join(sorted(set(cjk)))
    if default == "zh-Hans" and _converter("t2s").convert(distinct) == distinct:
        return "zh-Hans"  # no Traditional character: Simplified or neutral, both give the default
    hant, hans = _script_counts(distinct)
    if hant > hans:
        return "zh-Hant"
    if hans > hant:
        return "zh-Hans"
    return default


# --------------------------------------------------------------------------- mojibake

# Sentence-final particles and question words: a "?" right after one is a question.
_QUESTION_END = set("吗嗎呢吧啊呀么麼嘛哪谁誰何啥嘞哩")
_QMARK_RUN = re.compile(r"\?+")
# UTF-8 read as GBK ("锟斤拷"), uninitialised-memory patterns, UTF-8 read as Latin-1/cp1252.
_KNOWN_GARBAGE = re.compile(
    "锟斤拷|烫烫烫|屯屯屯|(?:[ÃÂÅÆÇÈÉÊËÌÍÎÏÐÑÒÓÔÕÖ×ØÙÚÛÜÝÞßàáâãäåæçèé]"
    "[\u0080-\u00bf€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ]){2,}"
)


@lru_cache(maxsize=4096)
def _is_rare_cjk(char: str) -> bool:
    """A CJK character in neither GB2312 nor Big5: common in GBK-misread bytes
    (傆, 嬘, 傤), rare in real Simplified or Traditional text."""
    if not _CJK_RE.match(char):
        return False
    for codec in ("gb2312", "big5"):
        try:
            char.encode(codec)
            return False
        except UnicodeEncodeError:
            pass
    return True


def has_mojibake(text: str) -> bool:
    """True when the text shows encoding damage.

    Signals: U+FFFD; known garbage sequences; a run of "?" touching a rare CJK
    character (``??傆嬘?2個``, ``上??傤I事館``); a run of two or more "?" inside
    CJK text after a character that is not a question particle. A question
    mark ending a question ("…吗?", "What?") is not damage.
    """
    if not text:
        return False
    text = _safe(text)
    if "\ufffd" in text or _KNOWN_GARBAGE.search(text):
        return True
    for match in _QMARK_RUN.finditer(text):
        start, end = match.span()
        before = text[start - 1] if start else ""
        after = text[end] if end < len(text) else ""
        near = text[max(0, start - 2):start] + text[end:end + 2]
        if any(_is_rare_cjk(c) for c in near):
            return True
        if (end - start >= 2 and _CJK_RE.match(after or " ") and before
                and (_CJK_RE.match(before) or before.isdigit()) and before not in _QUESTION_END):
            return True
    return False


# --------------------------------------------------------------------------- the chain

@dataclass
class CleanResult:
    text: str
    flags: list[str] = field(default_factory=list)
    lang: str = "und"
    text_hans: Optional[str] = None


def clean_blocks(blocks: list[Block], site: Optional["Site"] = None) -> CleanResult:
    """``clean_text`` for blocks from ``html.body_blocks``: the structural rules that
    need link ratios (link-dense runs at the end) run on the blocks first; joined
    text loses them."""
    extra = site.boilerplate if site else ()
    kept = remove_boilerplate(blocks, extra)
    return clean_text("\n".join(b.text for b in kept), site)


def clean_text(text: str, site: Optional["Site"] = None) -> CleanResult:
    """The whole cleaning chain for body text (see the module docstring).

    ``site`` supplies the advertising-law rule sets, extra boilerplate patterns and
    the fallback language; without it no advertising-law rule is applied.
    Flags: ``pinyin_stripped``, ``adlaw_restored``, ``mojibake``. The text is
    idempotent; flags say what this pass changed, so a second pass over cleaned
    text reports only ``mojibake``.
    """
    flags: list[str] = []
    out = normalize_text(text or "")
    out, stripped = strip_pinyin(out)
    if stripped:
        flags.append("pinyin_stripped")
    out, restored = restore_adlaw(out, site.adlaw_rules if site else ())
    if restored:
        flags.append("adlaw_restored")
    extra = site.boilerplate if site else ()
    blocks = remove_boilerplate([Block(line) for line in out.split("\n") if line], extra)
    out = "\n".join(b.text for b in blocks)
    if has_mojibake(out):
        flags.append("mojibake")
    lang = detect_lang(out, default=site.lang if site else "zh-Hans")
    return CleanResult(text=out, flags=flags, lang=lang,
                       text_hans=to_simplified(out) if lang == "zh-Hant" else None)
