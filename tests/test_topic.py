"""The topic filter's score (kspider.extract.topic) on real headlines and sentences."""
from __future__ import annotations

from kspider.extract.topic import on_topic, topic_hits, topic_score
from kspider.sites import site_for_host

KEYWORDS = {"产业园": 3, "昆山": 3, "投资": 1.5, "苏州": 2, "开发区": 2}
XINJIAPO = site_for_host("xinjiapo.news")


def test_each_keyword_counts_once_title_counts_double():
    title = "昆山开发区32个项目集中签约"
    text = "昆山经济技术开发区举行签约活动,昆山累计实际利用外资超过600亿美元,投资总额创新高。"
    # 昆山 and 开发区 in the title (×2), 投资 only in the body; repetition adds nothing.
    assert topic_hits(title, text, KEYWORDS) == {"昆山": 6.0, "开发区": 4.0, "投资": 1.5}
    assert topic_score(title, text, KEYWORDS) == 11.5
    assert topic_score(None, text, KEYWORDS) == 3 + 2 + 1.5


def test_traditional_script_and_pinyin_artifacts_match_simplified_keywords():
    title = "投資金額達536億!又有92個項目落戶蘇州高新區(qū)"
    text = "蘇州高新區(qū)融入滬蘇同城發(fā)展推介會在上海浦東舉行。中日韓(江蘇)產業合作示範園區發布。"
    hits = topic_hits(title, text, KEYWORDS)
    assert hits == {"投资": 3.0, "苏州": 4.0}


def test_off_topic_news_scores_zero():
    title = "东北季风再袭 新加坡本周末多区豪雨 气象署提醒注意骤发洪水"
    text = "新加坡气象署今天发布预报说,受东北季风影响,本周末全岛多个地区将出现持续性阵雨。"
    assert topic_score(title, text, XINJIAPO.topic_keywords) == 0.0
    assert not on_topic(0.0, XINJIAPO.topic_keywords, XINJIAPO.topic_min_score)


def test_passing_mention_stays_below_the_registry_threshold():
    # One mention of 上海 (weight 1) and 投资 (1.5) in an unrelated story is not the crawler's subject.
    text = "这名歌手明年将在上海举行演唱会,主办方表示门票收入将用于投资公益项目。"
    score = topic_score("歌手宣布巡回演唱会日程", text, XINJIAPO.topic_keywords)
    assert score == 2.5
    assert not on_topic(score, XINJIAPO.topic_keywords, XINJIAPO.topic_min_score)


def test_seed_004_headline_is_on_topic_with_the_registry_keywords():
    title = "聚焦长三角|苏州相城:打造长三角国际开放合作新引擎"
    text = "如今,在位于苏州北部阳澄湖畔的相城区,由中国和日本两国政府携手打造的智能制造协同创新区加速崛起。"
    score = topic_score(title, text, XINJIAPO.topic_keywords)
    # 长三角 2×2, 苏州 2×2, 相城 2×2 (title); 智能制造 2, 制造 1.5 (body)
    assert score == 15.5
    assert on_topic(score, XINJIAPO.topic_keywords, XINJIAPO.topic_min_score)


def test_no_keywords_keeps_everything():
    assert topic_score("任何标题", "任何正文", {}) == 0.0
    assert on_topic(0.0, {}, 6.0)


def test_empty_input_is_zero_not_an_error():
    assert topic_score(None, None, KEYWORDS) == 0.0
    assert topic_score("", "", KEYWORDS) == 0.0
