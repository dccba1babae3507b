"""Rental-ad extraction: a corpus of ad texts and news paragraphs, and the seed pages.

tests/data/ads_seed_NNN.txt are copies of the project's seed texts (text extracted from real pages).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kspider.extract.ads import AD_FIELDS, ad_fingerprint, extract_ad, find_inline_ads, is_ad, normalize_ad_text
from kspider.extract.gazetteer import find_places

DATA = Path(__file__).parent / "data"
CORPUS: list[dict[str, Any]] = json.loads((DATA / "ads_corpus.json").read_text(encoding="utf-8"))
ADS = [case for case in CORPUS if case["expected"] is not None]
NEWS = [case for case in CORPUS if case["expected"] is None]
LIST_FIELDS = {"features", "transport", "contact_phones"}

SEED003_AD = (
    "太仓事达产业园,位于昆山嘉定太仓交界,嘉昆泰一体化核心区\n"
    "标准厂房1100平起 现房 嘉定安亭车程10分钟\n"
    "欢迎来访考察 400-0123-021 或 133-91219-793"
)


def _expected_record(case: dict[str, Any]) -> dict[str, Any]:
    """The corpus lists the fields present in the text; every other field must be null / []."""
    record = {name: ([] if name in LIST_FIELDS else None) for name in AD_FIELDS}
    record.update(case["expected"])
    record["title"] = case["title"]
    record["raw_text"] = case["text"]
    return record


def test_corpus_size() -> None:
    assert len(ADS) >= 40 and len(NEWS) >= 15


@pytest.mark.parametrize("case", ADS, ids=[c["id"] for c in ADS])
def test_extract_ad_corpus(case: dict[str, Any]) -> None:
    ad = extract_ad(case["text"], case["title"])
    assert ad is not None, "not recognised as an ad"
    assert set(ad) == set(AD_FIELDS)
    expected = _expected_record(case)
    wrong = {k: (ad[k], expected[k]) for k in AD_FIELDS if ad[k] != expected[k]}
    assert not wrong, wrong


@pytest.mark.parametrize("case", NEWS, ids=[c["id"] for c in NEWS])
def test_news_is_not_an_ad(case: dict[str, Any]) -> None:
    assert is_ad(case["text"], case["title"]) is False
    assert extract_ad(case["text"], case["title"]) is None


@pytest.mark.parametrize("case", ADS, ids=[c["id"] for c in ADS])
def test_is_ad_agrees(case: dict[str, Any]) -> None:
    assert is_ad(case["text"], case["title"]) is True


def test_seed003_inline_ad_fields() -> None:
    ad = extract_ad(SEED003_AD)
    assert ad == {
        "title": None, "deal_type": None, "property_type": "标准厂房", "park_name": "太仓事达产业园",
        "city": "太仓", "district": None, "location_text": "昆山嘉定太仓交界",
        "area_sqm_min": 1100, "area_sqm_max": None, "land_area_mu": None,
        "price_value": None, "price_unit": None, "floor_height_m": None, "floor_load_t_per_sqm": None,
        "power_kva": None, "availability": "现房", "features": [], "transport": ["嘉定安亭车程10分钟"],
        "contact_name": None, "contact_phones": ["+864000123021", "+8613391219793"], "wechat": None,
        "raw_text": SEED003_AD,
    }


def test_find_inline_ads_in_seed003() -> None:
    text = (DATA / "ads_seed_003.txt").read_text(encoding="utf-8")
    blocks = find_inline_ads(text)
    assert len(blocks) == 1
    assert blocks[0].split("\n")[0] == "太仓事达产业园,位于昆山嘉定太仓交界,嘉昆泰一体化核心区"
    assert blocks[0].split("\n")[-1].startswith("欢迎来访考察 400-0123-021")
    assert ad_fingerprint(blocks[0]) == ad_fingerprint(SEED003_AD)


@pytest.mark.parametrize(
    "seed", ["ads_seed_000.txt", "ads_seed_001.txt", "ads_seed_002.txt", "ads_seed_004.txt"]
)
def test_no_inline_ads_in_news_seeds(seed: str) -> None:
    # seed 000 carries the agency's promotion line and contact block: neither is an ad
    assert find_inline_ads((DATA / seed).read_text(encoding="utf-8")) == []


def test_find_inline_ads_two_blocks_in_a_post() -> None:
    post = "\n".join(
        [
            "7月5日,代表团一行到访江苏昆山,围绕产业合作、城市治理等议题展开深度交流。",
            "会前,与会领导考察了太仓航空航天产业展示中心、中德双元制职业教育产业园。",
            *SEED003_AD.split("\n"),
            "重点推荐园区厂房",
            "更多厂房土地 请点击【园区产业招商】",
            "葛毅明微信号",
            "产业招商/厂房土地租售:400 0123 021",
            "或微信/手机:135246785151356468684613391219793",
            "嘉定马陆 钢结构厂房出租 1600平 檐高8米",
            "联系 13524678515",
        ]
    )
    assert find_inline_ads(post) == [SEED003_AD, "嘉定马陆 钢结构厂房出租 1600平 檐高8米\n联系 13524678515"]


def test_normalize_ad_text_ignores_spacing_punctuation_and_script() -> None:
    a = "标准厂房1100平起 现房\n欢迎来访考察 400-0123-021 或 133-91219-793"
    b = "标准厂房1100平起，现房　欢迎来访考察：400 0123 021或13391219793"
    c = "標準廠房1100平起 現房 歡迎來訪考察 400-0123-021 或 133-91219-793"
    assert normalize_ad_text(a) == "标准厂房1100平起现房欢迎来访考察4000123021或13391219793"
    assert normalize_ad_text(a) == normalize_ad_text(b) == normalize_ad_text(c)
    assert ad_fingerprint(a) == ad_fingerprint(c)
    assert ad_fingerprint(a) != ad_fingerprint(a.replace("1100", "1200"))


def test_units_are_normalized() -> None:
    cases = {
        "昆山厂房出租 2000平 租金0.9元/平/天 13391219793": (0.9, "元/㎡/天"),
        "昆山厂房出租 2000平 租金22元/平米/月 13391219793": (22, "元/㎡/月"),
        "昆山厂房出租 2000平 25元/㎡·月 13391219793": (25, "元/㎡/月"),
        "昆山厂房出售 2000平 售价3500元/平 13391219793": (3500, "元/㎡"),
        "昆山厂房出售 2000平 总价1200万 13391219793": (1200, "万元"),
        "昆山厂房出租 2000平 80万元/年 13391219793": (80, "万元/年"),
        "昆山厂房出租 2000平 0.8~1.2元/平方米/天 13391219793": (0.8, "元/㎡/天"),
    }
    for text, (value, unit) in cases.items():
        ad = extract_ad(text)
        assert ad is not None and (ad["price_value"], ad["price_unit"]) == (value, unit), text


def test_specs() -> None:
    ad = extract_ad("太仓单层厂房出租 3000平 层高9.5m 承重2T/㎡ 配电800千伏安 13391219793")
    assert ad is not None
    assert (ad["floor_height_m"], ad["floor_load_t_per_sqm"], ad["power_kva"]) == (9.5, 2, 800)
    ad = extract_ad("太仓仓库出租 3000平 檐高8米 承重1.5吨/平方 变压器315kva 13391219793")
    assert ad is not None
    assert (ad["floor_height_m"], ad["floor_load_t_per_sqm"], ad["power_kva"]) == (8, 1.5, 315)


@pytest.mark.parametrize("bad", ["", "   ", "13391219793", "厂房", "\x00\x01"])
def test_bad_input_is_not_an_ad(bad: str) -> None:
    assert extract_ad(bad) is None
    assert is_ad(bad) is False
    assert find_inline_ads(bad) == []


_AD_ALPHABET = st.one_of(
    st.sampled_from(list("0123456789 -~/.·,，。:\n平米㎡亩元万天月年吨米起厂房仓库出租售昆山周市园区层高承重kvaKVA")),
    st.characters(codec="utf-8"),
)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=_AD_ALPHABET, max_size=300), st.one_of(st.none(), st.text(max_size=40)))
def test_extract_ad_never_raises(text: str, title: str | None) -> None:
    ad = extract_ad(text, title)
    assert ad is None or (set(ad) == set(AD_FIELDS) and ad["raw_text"] == text)
    assert is_ad(text, title) is (ad is not None)
    lines = set(text.split("\n"))
    for block in find_inline_ads(text):
        assert set(block.split("\n")) <= {line.strip() for line in lines}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("昆山市周市镇青阳北路", [("昆山市", "昆山", None), ("周市镇", "昆山", "周市")]),
        # a Shanghai district is a city of its own; its towns are its districts
        ("嘉定安亭", [("嘉定", "嘉定", None), ("安亭", "嘉定", "安亭")]),
        ("上海市嘉定区外冈镇", [("上海市", "上海", None), ("嘉定区", "嘉定", None), ("外冈镇", "嘉定", "外冈")]),
        ("昆山高新区", [("昆山高新区", "昆山", "昆山高新区")]),
        ("浦东陆家嘴", [("浦东", "浦东", None), ("陆家嘴", "浦东", "陆家嘴")]),
        # Suzhou's urban districts stay districts of 苏州
        ("苏州工业园区唯亭", [("苏州工业园区", "苏州", "工业园区"), ("唯亭", "苏州", "工业园区")]),
        ("吴中木渎", [("吴中", "苏州", "吴中"), ("木渎", "苏州", "吴中")]),
        # a town kept with 镇 in the gazetteer (bare 凤凰 is ambiguous) is reported without it
        ("张家港凤凰镇", [("张家港", "张家港", None), ("凤凰镇", "张家港", "凤凰")]),
        ("没有地名的一句话", []),
    ],
)
def test_gazetteer_places(text: str, expected: list[tuple[str, str, str | None]]) -> None:
    assert [(p.surface, p.city, p.district) for p in find_places(text)] == expected


def test_gazetteer_parents() -> None:
    assert [(p.city, p.parent) for p in find_places("上海嘉定 苏州昆山 苏州吴中")] == [
        ("上海", None), ("嘉定", "上海"), ("苏州", None), ("昆山", "苏州"), ("苏州", None), ("苏州", None),
    ]


@pytest.mark.parametrize(
    "text, city, district",
    [
        ("上海嘉定 厂房出租 2000平 13391219793", "嘉定", None),
        ("上海市嘉定区安亭镇 厂房出租 2000平 13391219793", "嘉定", "安亭"),
        ("苏州昆山周市 厂房出租 2000平 13391219793", "昆山", "周市"),
        ("苏州吴中 厂房出租 2000平 13391219793", "苏州", "吴中"),
        ("苏州 厂房出租 2000平 13391219793", "苏州", None),
        ("上海 厂房出租 2000平 13391219793", "上海", None),
        ("太仓浏河镇 仓库出租 2000平 13391219793", "太仓", "浏河"),
    ],
)
def test_city_is_the_county_level_unit(text: str, city: str, district: str | None) -> None:
    ad = extract_ad(text)
    assert ad is not None and (ad["city"], ad["district"]) == (city, district)


def test_labelled_lines_replace_phrase_matches() -> None:
    text = (
        "嘉定安亭 仓库出租 3000平 带卸货平台 可环评 距离安亭镇中心3公里\n"
        "特色：带卸货平台、可分租；24小时安保\n"
        "交通：距G15沈海高速安亭出口3公里，地铁11号线安亭站车程10分钟\n"
        "联系人：吴经理 电话：135-6468-6846"
    )
    ad = extract_ad(text)
    assert ad is not None
    assert ad["features"] == ["带卸货平台", "可分租", "24小时安保"]
    assert ad["transport"] == ["距G15沈海高速安亭出口3公里", "地铁11号线安亭站车程10分钟"]
    # without the labelled lines, the phrases found anywhere
    plain = extract_ad(text.split("\n")[0] + "\n" + text.split("\n")[-1])
    assert plain is not None
    assert plain["features"] == ["带卸货平台", "可环评"]
    assert plain["transport"] == ["距离安亭镇中心3公里"]


def test_labelled_line_ends_at_the_next_label() -> None:
    ad = extract_ad("昆山周市 厂房出租 2000平 特色:带行车 可环评 交通:距高速口5分钟 电话:13391219793")
    assert ad is not None
    assert ad["features"] == ["带行车", "可环评"]
    assert ad["transport"] == ["距高速口5分钟"]


@pytest.mark.parametrize(
    "text, transport",
    [
        ("安亭 仓库出租 3000平 地铁11号线安亭站车程10分钟 13564686846", ["地铁11号线安亭站车程10分钟"]),
        ("花桥 厂房出租 3000平 11号线花桥站车程10分钟 13564686846", ["11号线花桥站车程10分钟"]),
        ("花桥 厂房出租 3000平,距离花桥站车程10分钟 13564686846", ["距离花桥站车程10分钟"]),
    ],
)
def test_transport_phrase_keeps_metro_line(text: str, transport: list[str]) -> None:
    ad = extract_ad(text)
    assert ad is not None and ad["transport"] == transport


def test_park_name_with_yuanqu() -> None:
    ad = extract_ad("仓库出租 6000㎡ 0.75元/平/天 仓库位于浏河镇物流园区内 电话:133-9121-9793")
    assert ad is not None and ad["park_name"] == "浏河镇物流园区"
    assert ad["city"] == "太仓" and ad["district"] == "浏河"


# --- labelled fields, road codes and land/building vocabulary (listings of the 021cf sites) ---

def test_labelled_type_wins_over_title_words() -> None:
    land = extract_ad("【类型】工业用地\n【位置】昆山市千灯镇\n【面积】35亩\n【价格】85万元/亩\n【联系】陈经理 13524678515",
                      "昆山千灯 工业土地出售 35亩 三通一平")
    assert land["property_type"] == "工业用地" and land["land_area_mu"] == 35
    assert land["price_value"] == 85 and land["price_unit"] == "万元/亩" and land["deal_type"] == "sale"
    factory = extract_ad("类型：独栋厂房\n位置：昆山市周市镇\n面积：3200平方米\n售价：680万元\n联系人：葛经理 电话：133-9121-9793",
                         "昆山周市 独栋厂房出售 3200平 可按揭")
    assert factory["property_type"] == "独栋厂房" and factory["price_unit"] == "万元"
    office = extract_ad("【类型】研发办公楼\n【面积】300-1500平方米\n【租金】1.2元/平/天\n【联系】葛经理 13391219793",
                        "太仓沙溪 办公楼出租 300-1500平 拎包入驻")
    assert office["property_type"] == "研发办公楼"
    # a 类型 value that names no property (出租) does not win
    assert extract_ad("类型：出租\n单层厂房2800平方米，0.9元/平/天，联系人：葛经理 13391219793")["property_type"] == "单层厂房"


def test_bracket_labels_give_features_and_transport_as_written() -> None:
    ad = extract_ad("【类型】工业用地\n【面积】20亩\n【特色】七通一平、独门独院、可环评\n"
                    "【交通】近G15沈海高速浮桥出口，距太仓港集装箱码头8公里\n【联系】葛经理 13391219793",
                    "太仓浮桥 工业用地出租出售 20亩 七通一平")
    assert ad["features"] == ["七通一平", "独门独院", "可环评"]
    assert ad["transport"] == ["近G15沈海高速浮桥出口", "距太仓港集装箱码头8公里"]
    assert ad["deal_type"] == "rent_or_sale" and ad["city"] == "太仓" and ad["district"] == "浮桥"


def test_labelled_transport_line_keeps_road_and_metro_codes() -> None:
    ad = extract_ad("物业类型：单层仓库\n出租面积：5000平方米\n租金：1.1元/平/天\n"
                    "交通：近地铁11号线花桥站，G2京沪高速花桥出口5分钟\n联系人：葛经理 电话：133-9121-9793")
    assert ad["transport"] == ["近地铁11号线花桥站", "G2京沪高速花桥出口5分钟"]
    ad = extract_ad("【类型】工业用地\n【面积】35亩\n【交通】距S17苏昆太高速千灯出口3公里，G15沈海高速10分钟\n【联系】陈经理 13524678515")
    assert ad["transport"] == ["距S17苏昆太高速千灯出口3公里", "G15沈海高速10分钟"]


def test_unlabelled_transport_phrases_keep_road_codes() -> None:
    ad = extract_ad("昆山周市单层厂房出租2800平方米，距S17苏昆太高速周市出口5分钟，近G15沈海高速浮桥出口，"
                    "租金0.9元/平/天，联系人葛经理13391219793")
    assert "距S17苏昆太高速周市出口5分钟" in ad["transport"]
    assert "近G15沈海高速浮桥出口" in ad["transport"]


@pytest.mark.parametrize("term", ["三通一平", "五通一平", "七通一平", "九通一平", "独门独院", "可按揭", "消防丙类", "丙二类",
                                  "国有出让", "50年产权", "双回路", "高台库", "带卸货平台", "可分租", "独立产证", "精装修"])
def test_feature_vocabulary(term: str) -> None:
    ad = extract_ad(f"昆山千灯工业厂房出售3200平方米，{term}，售价680万元，联系人陈经理13524678515")
    assert ad is not None and term in ad["features"], (term, ad and ad["features"])


def test_table_rows_label_then_value() -> None:
    ad = extract_ad("类型\n高台仓库\n位置\n太仓港区\n面积\n8000平方米\n租金\n1.0元/平/天\n特色\n高台库、消防丙二类、可分租\n联系\n葛经理 13391219793",
                    "太仓港区 仓库出租 8000平 高台库")
    assert ad["property_type"] == "高台仓库"
    assert ad["features"] == ["高台库", "消防丙二类", "可分租"]
    assert ad["area_sqm_min"] == 8000 and ad["price_unit"] == "元/㎡/天"


def test_rent_or_sale_land_with_bracket_labels() -> None:
    ad = extract_ad("【地块类型】工业用地\n【土地面积】50亩\n【租售价格】面议\n【地块优势】五通一平、独门独院、可环评\n"
                    "【周边交通】紧邻S17苏昆太高速千灯出口，距上海虹桥机场45分钟\n【联系方式】陈经理 13524678515",
                    "千灯镇工业用地可租可售 50亩 五通一平")
    assert ad["property_type"] == "工业用地" and ad["land_area_mu"] == 50 and ad["deal_type"] == "rent_or_sale"
    assert ad["features"] == ["五通一平", "独门独院", "可环评"]
    assert ad["transport"] == ["紧邻S17苏昆太高速千灯出口", "距上海虹桥机场45分钟"]
    assert ad["price_value"] is None


def test_bracketed_heading_is_not_the_property() -> None:
    ad = extract_ad("【厂房推荐】花桥高标仓5000平出租 消防丙二类\n咨询电话：400-0123-021")
    assert ad["property_type"] == "高标仓" and ad["features"] == ["消防丙二类"]
