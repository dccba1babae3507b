"""Property tests: cleaning is idempotent and never raises, on any Unicode."""
from datetime import datetime, timezone

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from kspider.extract.counters import parse_count
from kspider.extract.dates import parse_date
from kspider.extract.html import body_blocks, extract_images, sanitize_html
from kspider.extract.text import clean_text, has_mojibake, normalize_text, restore_adlaw, strip_pinyin
from kspider.sites import site_for_host

SITES = [None, site_for_host("suzhou.021cf.cn"), site_for_host("www.jssuxun.example"), site_for_host("xinjiapo.news")]

# Text built from the pieces the rules look at, so that the rules actually fire.
PIECES = st.sampled_from([
    "關", "網", "(guān)", "(wǎng)", "(ACM)", "（qū）", "蕞", "蕞尔", "头部", "家", "天", "企业", "位置",
    "?", "??", "傆", "\ufffd", "吗", "\u3000", "\xa0", " ", "\n", "\r\n", "\u200b", "Ａ", "５",
    "版权声明:", "免責聲明:", "相关文章", "上一篇", "葛毅明微信号", "标签:", "。", "江蘇蘇訊網", "a", "é", "\u0301",
    "美国政府将限制非法移民享受学前教育福利",
])
SEEDISH = st.lists(PIECES, max_size=40).map("".join)
# st.text() leaves out lone surrogates; a Python str may hold them, so include them too
WITH_SURROGATES = st.text(st.characters(exclude_categories=()))
ANY_TEXT = st.one_of(st.text(), WITH_SURROGATES, SEEDISH)

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(ANY_TEXT, st.sampled_from(SITES))
def test_clean_text_is_idempotent(text, site):
    once = clean_text(text, site)
    twice = clean_text(once.text, site)
    assert twice.text == once.text
    assert twice.lang == once.lang
    assert "\n\n" not in once.text and once.text == once.text.strip()


@FAST
@given(ANY_TEXT)
def test_each_step_is_idempotent(text):
    normalized = normalize_text(text)
    assert normalize_text(normalized) == normalized
    stripped, _ = strip_pinyin(normalized)
    assert strip_pinyin(stripped) == (stripped, False)
    restored, _ = restore_adlaw(stripped)
    assert restore_adlaw(restored) == (restored, False)


@FAST
@given(ANY_TEXT)
def test_helpers_never_raise(text):
    assert isinstance(has_mojibake(text), bool)
    count = parse_count(text)
    assert count is None or count >= 0
    parsed = parse_date(text, datetime(2026, 2, 19, 8, tzinfo=timezone.utc))
    assert (parsed.iso is None) == (parsed.precision is None)


TAG_SOUP = st.lists(st.sampled_from([
    "<p>", "</p>", "<div>", "</div>", "<a href='/x'>", "</a>", "<img src='a.jpg'>", "<img data-src='b.png' src='data:,'>",
    "<br>", "<html>", "<HTML>", "</0", "<body>", "<figure>", "<figcaption>", "<script>", "</script>", "<!--", "-->",
    "<![CDATA[", "&amp;", "&#0;", "文本", "江佳骏图", "\x00", " ",
]), max_size=30).map("".join)


@FAST
@example("<HTML></0")  # lxml's fragment parser asserts on this one
@given(st.one_of(st.text(), WITH_SURROGATES, TAG_SOUP))
def test_html_helpers_never_raise(text):
    assert isinstance(sanitize_html(text, "http://suzhou.021cf.cn/"), str)
    assert isinstance(body_blocks(text), list)
    assert isinstance(extract_images(text, "http://suzhou.021cf.cn/"), list)
