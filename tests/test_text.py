"""kspider.extract.text: every case is a real string from the sites' pages (fixtures/seeds, docs/SITE_NOTES.md)."""
import pytest

from kspider.extract.text import (
    CleanResult,
    clean_text,
    detect_lang,
    has_mojibake,
    normalize_text,
    restore_adlaw,
    strip_pinyin,
    to_simplified,
)
from kspider.sites import site_for_host

SITE_021CF = site_for_host("suzhou.021cf.cn")
SITE_JSSUXUN = site_for_host("www.jssuxun.example")


# --------------------------------------------------------------------------- normalize

@pytest.mark.parametrize(
    "raw, expected",
    [
        # seed 000: paragraphs indented with two U+3000
        ("\u3000\u30007月5日,西班牙加泰罗尼亚城市联盟(ACM)代表团一行到访江苏昆山",
         "7月5日,西班牙加泰罗尼亚城市联盟(ACM)代表团一行到访江苏昆山"),
        # seed 003: blank lines between paragraphs are dropped
        ("欢迎来访考察 400-0123-021 或 133-91219-793\n\n\n\n重点推荐园区厂房",
         "欢迎来访考察 400-0123-021 或 133-91219-793\n重点推荐园区厂房"),
        # non-breaking and repeated spaces collapse
        ("标准厂房1100平起\xa0\xa0现房   嘉定安亭车程10分钟", "标准厂房1100平起 现房 嘉定安亭车程10分钟"),
        # full-width digits and letters half-width, Chinese punctuation kept
        ("ＧＤＰ突破５０００亿元，昆山：", "GDP突破5000亿元，昆山："),
        # CRLF, zero-width space and BOM
        ("\ufeff渺渺江波里,\u200b最是滬蘇情。\r\n\r\n滬蘇同城", "渺渺江波里,最是滬蘇情。\n滬蘇同城"),
        ("", ""),
        (" \u3000 \n\xa0", ""),
    ],
)
def test_normalize_text(raw, expected):
    assert normalize_text(raw) == expected


# --------------------------------------------------------------------------- advertising law

@pytest.mark.parametrize(
    "raw, expected, changed",
    [
        ("在苏州成立了全国头部家专门从事国防工业科技成果转化的服务机构",
         "在苏州成立了全国第一家专门从事国防工业科技成果转化的服务机构", True),
        ("开始报价头部天,就达到现房前一手", "开始报价第一天,就达到现房前一手", True),
        ("长三角一体化发展始终是我们必须抓牢的蕞大机遇", "长三角一体化发展始终是我们必须抓牢的最大机遇", True),
        ("蕞紧密的纽带,是规划从“蓝图”迈向“实景”;蕞直观的变化", "最紧密的纽带,是规划从“蓝图”迈向“实景”;最直观的变化", True),
        ("速看!苏州吴中3月蕞新房价出炉涉及12个板块!", "速看!苏州吴中3月最新房价出炉涉及12个板块!", True),
        ("蕞近苏州相城某新盘", "最近苏州相城某新盘", True),
        # real words stay
        ("蕞尔小国", "蕞尔小国", False),
        ("通过资本传导引进头部企业入驻", "通过资本传导引进头部企业入驻", False),
        ("头部品牌、头部主播与头部效应", "头部品牌、头部主播与头部效应", False),
        ("头部位置受伤", "头部位置受伤", False),
        ("多家头部期货公司", "多家头部期货公司", False),
        # more classifiers
        ("全国头部批国家级高新区,头部次亮相,获得头部名", "全国第一批国家级高新区,第一次亮相,获得第一名", True),
        ("頭部家", "第一家", True),
    ],
)
def test_restore_adlaw(raw, expected, changed):
    assert restore_adlaw(raw) == (expected, changed)


def test_restore_adlaw_follows_the_rule_sets():
    text = "蕞大机遇,全国头部家"
    assert restore_adlaw(text, ("zui",)) == ("最大机遇,全国头部家", True)
    assert restore_adlaw(text, ("diyi",)) == ("蕞大机遇,全国第一家", True)
    assert restore_adlaw(text, ()) == (text, False)
    assert restore_adlaw(text, ("no-such-rule",)) == (text, False)


# --------------------------------------------------------------------------- pinyin

@pytest.mark.parametrize(
    "raw, expected",
    [
        ("關(guān)注民生 服務社會 發(fā)掘真相 傳播價值 感謝您瀏覽江蘇蘇訊網(wǎng)。",
         "關注民生 服務社會 發掘真相 傳播價值 感謝您瀏覽江蘇蘇訊網。"),
        ("又有92個項目落戶蘇州高新區(qū)", "又有92個項目落戶蘇州高新區"),
        ("騰訊與(yǔ)蘇繡小鎮(zhèn)聯(lián)手", "騰訊與蘇繡小鎮聯手"),
        ("江蘇蘇訊網(wǎng)版權(quán)及免責聲明", "江蘇蘇訊網版權及免責聲明"),
        ("上海市商業(yè)聯(lián)合會", "上海市商業聯合會"),
    ],
)
def test_strip_pinyin(raw, expected):
    assert strip_pinyin(raw) == (expected, True)


@pytest.mark.parametrize(
    "text",
    [
        "西班牙加泰罗尼亚城市联盟(ACM)代表团",
        "戏曲百戏(昆山)盛典开幕",
        "蒙特拉贡自动化(昆山)有限公司",
        "子公司江苏高远未涉及超低轮廓铜箔(HVLP)业务",
        "(苏报融媒记者 朱新国 昆山市融媒体中心供图)",
        "高新區負責人表示。(蘇報融媒記者 周建越 劉曉平 文/攝)",
        "瑞典舒瑞普(SWEP)苏州工厂内",
        "中日韓(江蘇)產業合作示范園區",
        "本项目(2021)已完成",
        "冲一杯咖啡(café)",  # accented, but not a pinyin syllable
        "(guān) at the start of a line follows no CJK character",
    ],
)
def test_strip_pinyin_leaves_other_brackets(text):
    assert strip_pinyin(text) == (text, False)


# --------------------------------------------------------------------------- script

@pytest.mark.parametrize(
    "text, lang",
    [
        ("滬蘇同城是上海和蘇州兩市落實長三角一體化國家戰略的重要舉措。", "zh-Hant"),
        ("风起长三角,潮涌嘉昆太。今年是贯彻落实习近平总书记在深入推进长三角一体化发展座谈会上重要讲话精神的开局之年", "zh-Hans"),
        ("The content is the author's independent opinion, does not represent the position of Matchexpo", "en"),
        ("Meritxell Budó指出,加泰罗尼亚在智慧城市建设上同样积累了丰富经验。", "zh-Hans"),
        ("3,311 70 0", "und"),
    ],
)
def test_detect_lang(text, lang):
    assert detect_lang(text) == lang


def test_detect_lang_uses_default_when_script_is_undecided():
    # 中 and 上 are the same in both scripts
    assert detect_lang("中上", default="zh-Hant") == "zh-Hant"
    assert detect_lang("中上") == "zh-Hans"


def test_to_simplified():
    assert to_simplified("投資金額達536億!又有92個項目落戶蘇州高新區") == "投资金额达536亿!又有92个项目落户苏州高新区"
    assert to_simplified("") == ""


# --------------------------------------------------------------------------- mojibake

@pytest.mark.parametrize(
    "text",
    [
        "推介會在上海浦東舉行。??傆嬘?2個項目簽約、投資金額達536億。",
        "與來自日本、意大利、法國等駐上??傤I事館總領事",
        "文件名为锟斤拷锟斤拷",
        "损坏的字符\ufffd在这里",
        "æ–°åŠ å¡æ–°é—»",  # UTF-8 read as cp1252
    ],
)
def test_has_mojibake_true(text):
    assert has_mojibake(text) is True


@pytest.mark.parametrize(
    "text",
    [
        "有投资者在互动平台向璞泰来提问:请问贵公司子公司江苏高远可以生产超低轮廓铜箔(HVLP)吗?   公司回答表示",
        "What?",
        "真的吗??我不信",
        "Meritxell Budó在会上详细介绍了加泰罗尼亚城市联盟协会",
        "海斯坦普集团作为全球领先的汽车零部件供应商,其昆山工厂不仅获评省级智能制造工厂",
    ],
)
def test_has_mojibake_false(text):
    assert has_mojibake(text) is False


# --------------------------------------------------------------------------- the chain

SEED_002_BODY = """關(guān)注民生 服務社會 發(fā)掘真相 傳播價值 感謝您瀏覽江蘇蘇訊網(wǎng)。 歡迎投稿:郵箱724922822@qq.com 客服電話:025-86163400 18061633398

渺渺江波里,最是滬蘇情。5月26日下午,“海納百川,匯聚高新”蘇州高新區(qū)融入滬蘇同城發(fā)展推介會在上海浦東舉行??傆嬘?2個項目簽約、投資金額達536億。

蘇州高新區(qū)是全國首批國家級高新區(qū)。

原文地址:http://jsnews.jschina.com.cn/sz/a/202105/t20210527_2788810.shtml
江蘇蘇訊網(wǎng)客服:025-86163400
【責任編輯:陸超】

江蘇蘇訊網(wǎng)版權(quán)及免責聲明:凡本網(wǎng)注明“來源:XXX(非江蘇蘇訊網(wǎng))”的作品,均轉(zhuǎn)載自其它媒體。

圖片新聞
熱點資訊
熱點聚焦"""


def test_clean_text_traditional_seed_002():
    result = clean_text(SEED_002_BODY, SITE_JSSUXUN)
    assert isinstance(result, CleanResult)
    assert result.text == (
        "渺渺江波里,最是滬蘇情。5月26日下午,“海納百川,匯聚高新”蘇州高新區融入滬蘇同城發展推介會在上海浦東舉行"
        "??傆嬘?2個項目簽約、投資金額達536億。\n"
        "蘇州高新區是全國首批國家級高新區。"
    )
    assert result.flags == ["pinyin_stripped", "mojibake"]
    assert result.lang == "zh-Hant"
    assert result.text_hans.endswith("苏州高新区是全国首批国家级高新区。")


SEED_003_TAIL = """会前,与会领导考察了太仓航空航天产业展示中心、中德双元制职业教育产业园、太仓阿尔卑斯国际度假区。

张建华作为重要嘉宾代表在致辞时表示,在苏州成立了全国头部家专门从事国防工业科技成果转化的服务机构。长三角一体化发展始终是我们必须抓牢的蕞大机遇。

重点推荐园区厂房
更多厂房土地 请点击【园区产业招商】


葛毅明微信号
产业招商/厂房土地租售:400 0123 021
或微信/手机:135246785151356468684613391219793 
请说明您的需求、用途、税收、公司、联系人、手机号,以便快速帮您对接资源。 
长按/扫一扫加葛毅明的微信号

扫一扫关注公众号

扫描二维码推送至手机访问。

版权声明:本文由嘉定厂房网发布,如需转载请注明出处。

本文链接:http://suzhou.021cf.cn/index.php/post/532.html

分享给朋友:

“2024年嘉昆太协同创新核心圈轮值会议在太仓举行” 的相关文章

苏州园区-招商臻和璟园项目详情-户型-价格-位置-售楼处电话-什么时候开盘

速看!苏州吴中3月蕞新房价出炉涉及12个板块!"""


def test_clean_text_021cf_seed_003():
    result = clean_text(SEED_003_TAIL, SITE_021CF)
    assert result.text == (
        "会前,与会领导考察了太仓航空航天产业展示中心、中德双元制职业教育产业园、太仓阿尔卑斯国际度假区。\n"
        "张建华作为重要嘉宾代表在致辞时表示,在苏州成立了全国第一家专门从事国防工业科技成果转化的服务机构。"
        "长三角一体化发展始终是我们必须抓牢的最大机遇。"
    )
    assert result.flags == ["adlaw_restored"]
    assert result.lang == "zh-Hans"
    assert result.text_hans is None


def test_clean_text_without_site_applies_no_adlaw_rule():
    result = clean_text("长三角一体化发展始终是我们必须抓牢的蕞大机遇。")
    assert result.text == "长三角一体化发展始终是我们必须抓牢的蕞大机遇。"
    assert result.flags == []


def test_clean_text_promotion_line_and_site_extra_pattern():
    text = ("开发区招商引资指定载体,优质项目可享当地开发区政策,具体一事一议, 欢迎来访考察 13391219793\n"
            "\u3000\u30007月5日,西班牙加泰罗尼亚城市联盟(ACM)代表团一行到访江苏昆山。\n"
            "江蘇蘇訊網客服:025-86163400")
    # the promotion line and the 客服 line are shared boilerplate
    assert clean_text(text, SITE_021CF).text == "7月5日,西班牙加泰罗尼亚城市联盟(ACM)代表团一行到访江苏昆山。"
    # jssuxun's own extra pattern (registry) removes its slogan line
    assert clean_text("關注民生 服務社會\n蘇州高新區是全國首批國家級高新區。", SITE_JSSUXUN).text == "蘇州高新區是全國首批國家級高新區。"


def test_clean_text_is_idempotent_on_seed_text():
    once = clean_text(SEED_002_BODY, SITE_JSSUXUN)
    twice = clean_text(once.text, SITE_JSSUXUN)
    assert twice.text == once.text
