"""Phone extraction: real strings from the seed pages, and things that are not phones."""
from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kspider.extract.phones import extract_phones, normalize_phone

AGENCY_400 = "+864000123021"
GE_MOBILES = ["+8613524678515", "+8613564686846", "+8613391219793"]


@pytest.mark.parametrize(
    "text, expected",
    [
        # seed 003, the inline ad's contact line
        ("欢迎来访考察 400-0123-021 或 133-91219-793", [AGENCY_400, "+8613391219793"]),
        # seed 000/003, the agency's contact block: three mobiles glued together
        (
            "产业招商/厂房土地租售:400 0123 021\n或微信/手机:135246785151356468684613391219793 ",
            [AGENCY_400, *GE_MOBILES],
        ),
        # seed 000, promotion line
        ("开发区招商引资指定载体,优质项目可享当地开发区政策,具体一事一议, 欢迎来访考察 13391219793", ["+8613391219793"]),
        # seed 000, 版权声明 line: same numbers in another spelling, de-duplicated by value
        (
            "版权声明:本文由昆山厂房出租网发布 400-0123-021 或 13391219793 … 400 0123 021 133 9121 9793",
            [AGENCY_400, "+8613391219793"],
        ),
        # seed 002 (Traditional), header line with an e-mail, a landline and a mobile
        (
            "歡迎投稿:郵箱724922822@qq.com 客服電話:025-86163400 18061633398",
            ["+862586163400", "+8618061633398"],
        ),
        ("江蘇蘇訊網(wǎng)客服:025-86163400", ["+862586163400"]),
        ("请致电025-86163400 ,联系邮箱:724922822@qq.com。", ["+862586163400"]),
        ("联系电话:0512-57771234 王经理", ["+8651257771234"]),
        ("电话(0512)5777 1234转8001", ["+8651257771234"]),
        ("tel:0512-57771234-8001", ["+8651257771234"]),
        ("手机 133 9121 9793(微信同号)", ["+8613391219793"]),
        ("手机:133-91219-793", ["+8613391219793"]),
        ("全角:１３３９１２１９７９３", ["+8613391219793"]),
        ("免费热线800-830-1880", ["+868008301880"]),
        ("嘉定 021-59991234", ["+862159991234"]),
        ("13391219793/13564686846", ["+8613391219793", "+8613564686846"]),
        ("Singapore office +65 6123 4567", ["+6561234567"]),
    ],
)
def test_extract_phones_finds_real_numbers(text: str, expected: list[str]) -> None:
    assert extract_phones(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "2021-05-28 10:14 來源: 編輯:中國江蘇網 瀏覽量:0",
        "t20210527 20210527",
        "兰亭栖云预计2023年交房。15800元/平方米。容积率2.4。物业费:2.49元/㎡·月。",
        "本文链接:http://kunshanmaigao.021cf.cn/index.php/post/2050.html",
        "原文地址:http://jsnews.jschina.com.cn/sz/a/202105/t20210527_2788810.shtml",
        "郵箱724922822@qq.com",
        "13391219793@163.com",
        "信息网络传播视听节目许可证0108263号",
        "京网文[2011]0283-097号",
        "苏ICP备05012345号-1",
        "2024年销售额同比增长超20%,2023年园区销售额突破32亿元",
        "总投资达980.6亿元的98个新兴产业项目",
        "身份证320583199001011234",
        "admin7个月前 (07-15)昆山产业新闻38",
        "标准厂房1100平起 总价1200万 0.9元/平/天",
        "12345678901 1339121979 133912197931",
    ],
)
def test_extract_phones_ignores_non_phones(text: str) -> None:
    assert extract_phones(text) == []


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("400-0123-021", AGENCY_400),
        ("400 0123 021", AGENCY_400),
        ("133-91219-793", "+8613391219793"),
        ("+86 133 9121 9793", "+8613391219793"),
        ("025-86163400", "+862586163400"),
        ("0512-57771234", "+8651257771234"),
        ("20210527", None),
        ("2021-05-28", None),
        ("abc13391219793", None),
        ("", None),
        ("12345678901", None),
    ],
)
def test_normalize_phone(raw: str, expected: str | None) -> None:
    assert normalize_phone(raw) == expected


_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        alphabet=st.one_of(
            st.sampled_from("0123456789 -()/+号元平米年月日@.:转"),
            st.characters(codec="utf-8"),
        ),
        max_size=200,
    )
)
def test_extract_phones_never_raises_and_returns_only_e164(text: str) -> None:
    phones = extract_phones(text)
    assert all(_E164.match(p) for p in phones), phones
    assert len(phones) == len(set(phones))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True), min_size=2, max_size=4))
def test_glued_mobiles_are_split(mobiles: list[str]) -> None:
    expected = []
    for m in mobiles:
        e164 = normalize_phone(m)
        if e164 and e164 not in expected:
            expected.append(e164)
    # only meaningful when every chunk is a valid mobile
    if len(expected) == len(set(mobiles)) and all(normalize_phone(m) for m in mobiles):
        assert extract_phones("手机:" + "".join(mobiles)) == expected


def test_numbers_between_ideographs_and_beside_latin_letters() -> None:
    # A contact line as the agency posts write it: a landline, a mobile and figures that are no phone
    # (a year, an area, a price) in one line of Chinese text.
    text = "2024年新建厂房1100平方米,租金25元/平方米/月。联系电话0512-57771234，手机13391219793。编号abc13564686846"
    assert extract_phones(text) == ["+8651257771234", "+8613391219793"]


def _whole_line_numbers(text: str) -> list[str]:
    """The matcher over the whole prepared line: what extract_phones answers line by line."""
    import unicodedata

    import phonenumbers
    from phonenumbers import Leniency, PhoneNumberFormat, PhoneNumberMatcher

    from kspider.extract.phones import _SEVEN_DIGITS, _prepare

    found: list[str] = []
    for line in text.split("\n"):
        if not _SEVEN_DIGITS.search(unicodedata.normalize("NFKC", line)):
            continue
        for match in PhoneNumberMatcher(_prepare(line), "CN", leniency=Leniency.VALID):
            e164 = phonenumbers.format_number(match.number, PhoneNumberFormat.E164)
            if e164 not in found:
                found.append(e164)
    return found


_NUMBERS = ["13391219793", "0512-57771234", "400-0123-021", "800-830-1880", "+86 21 6123 4567", "(021)61234567",
            "+43 1 234567", "021-61234567-8001", "+1 650 253 0000", "0086 13912345678", "13391219793转801"]
_FILLERS = ["电话", "联系人：", "，", "。", "年", "号", "a", "x", "%", "¥", " ", "/", "-", "、", ":", "（", "）", "厂房", "22"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(_NUMBERS), st.sampled_from(_FILLERS)), max_size=12))
def test_reading_between_ideographs_finds_what_the_whole_line_holds(parts: list[str]) -> None:
    # The matcher only sees the stretches between ideographs that hold enough digits; the numbers
    # must be exactly those it finds in the whole line.
    text = "".join(parts)
    assert extract_phones(text) == _whole_line_numbers(text)
