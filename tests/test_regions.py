"""Tests for indexer/regions.py: the division table and finding regions in text."""

from __future__ import annotations

import pytest

from indexer import regions as R


# --- data completeness ------------------------------------------------------------------


def test_counts_per_level_are_sane():
    levels = [r.level for r in R.all_regions()]
    assert levels.count(1) == 34
    assert levels.count(2) >= 330
    assert levels.count(3) >= 2800


def test_every_parent_exists_and_is_one_level_up_or_a_province():
    for r in R.all_regions():
        assert len(r.code) == 6 and r.code.isdigit(), r
        if r.level == 1:
            assert r.parent is None, r
            continue
        parent = R.get(r.parent)
        assert parent is not None, r
        # counties may hang directly off a province (municipalities, 省直辖 cities)
        assert parent.level < r.level, (r, parent)


def test_codes_are_unique_and_short_names_present():
    regions = R.all_regions()
    assert len({r.code for r in regions}) == len(regions)
    assert all(r.short for r in regions)


def test_no_statistics_only_units():
    names = {r.name for r in R.all_regions()}
    assert not any(n.endswith("开发区") for n in names)
    assert "市直辖行政区划" not in names and "省直辖行政区划" not in names


# --- lookups ------------------------------------------------------------------------------


def test_get_by_code():
    r = R.get("610104")
    assert r == R.Region("610104", "莲湖区", 3, "610100", "莲湖")
    assert R.get("999999") is None
    assert R.get("") is None


@pytest.mark.parametrize(
    "query, code",
    [
        ("610104", "610104"),
        ("莲湖区", "610104"),
        ("莲湖", "610104"),
        ("陕西省", "610000"),
        ("陕西", "610000"),
        ("西安", "610100"),  # the prefecture, not 辽源's 西安区
        ("西安市", "610100"),
        ("内蒙古", "150000"),
        ("广西", "450000"),
        ("恩施", "422800"),
        ("恩施土家族苗族自治州", "422800"),
        ("吉林", "220000"),  # the province over its namesake city
        ("陕西省西安市莲湖区", "610104"),
        ("南京市鼓楼区", "320106"),
        ("福州 鼓楼", "350102"),
        ("北京市海淀区", "110108"),
        ("海淀", "110108"),
    ],
)
def test_resolve(query, code):
    r = R.resolve(query)
    assert r is not None and r.code == code


@pytest.mark.parametrize("old, new", [("襄樊", "420600"), ("襄樊市", "420600"), ("神木县", "610881"), ("下城区", "330105"), ("玉环县", "331083")])
def test_old_names_stay_findable(old, new):
    assert R.resolve(old).code == new
    assert new in [r.code for r in R.candidates(old)]


@pytest.mark.parametrize("query", ["鼓楼区", "鼓楼", "朝阳区", "", "   ", "不存在的地方", "陕西省南京市", "12345", None, 610104])
def test_resolve_ambiguous_or_bad_input_is_none(query):
    assert R.resolve(query) is None


def test_candidates_lists_all_namesakes():
    codes = [r.code for r in R.candidates("鼓楼区")]
    assert set(codes) >= {"320106", "320302", "350102", "410204"}
    assert R.candidates("nowhere") == []


def test_municipalities():
    haidian = R.get("110108")
    assert haidian.parent == "110000"
    assert R.ancestors("110108") == ["110000", "110108"]
    assert R.names("110108") == ("北京市", "北京市", "海淀区")
    assert R.names("110000") == ("北京市", "北京市", None)
    assert R.names("500000")[1] == "重庆市"
    # no pseudo-city record 北京市 at level 2
    assert not [r for r in R.candidates("北京市") if r.level == 2]


def test_province_direct_county_cities_have_no_city():
    xiantao = R.resolve("仙桃市")
    assert xiantao.parent == "420000"
    assert R.names(xiantao.code) == ("湖北省", None, "仙桃市")


def test_ancestors_and_names():
    assert R.ancestors("610104") == ["610000", "610100", "610104"]
    assert R.ancestors("nope") == []
    assert R.names("610104") == ("陕西省", "西安市", "莲湖区")
    assert R.names("610100") == ("陕西省", "西安市", None)
    assert R.names(None) == (None, None, None)


def test_children():
    provinces = R.children(None)
    assert len(provinces) == 34 and all(p.level == 1 for p in provinces)
    xian = [r.name for r in R.children("610100")]
    assert "莲湖区" in xian and "雁塔区" in xian
    assert all(r.parent == "110000" for r in R.children("110000"))
    assert R.children("610104") == []


# --- find_in_text -------------------------------------------------------------------------


def _code(text):
    r = R.find_in_text(text)
    return r.code if r else None


@pytest.mark.parametrize(
    "text, code",
    [
        ("中共西安市莲湖区委", "610104"),
        ("根据省委统一部署,省委第二巡视组对西安市莲湖区开展了常规巡视。", "610104"),
        ("南京市鼓楼区人民政府办公室", "320106"),
        ("福建省福州市鼓楼区纪委监委", "350102"),
        ("中共恩施州委巡察组", "422800"),
        ("西安市新城区人民政府", "610102"),
        ("中共和县县委", "340523"),
        ("中共陕西省委办公厅", "610000"),
        ("内蒙古自治区纪委监委", "150000"),
        ("广西纪委监委", "450000"),
        ("北京市海淀区人民政府", "110108"),
        ("北京市朝阳区", "110105"),
        ("勐腊：开展沉浸体验式巡察", "532823"),
        ("中共神木县委关于巡察整改", "610881"),  # an old name still points at the division
    ],
)
def test_find_in_text_hits(text, code):
    assert _code(text) == code


@pytest.mark.parametrize(
    "text",
    [
        "中山大学党委关于巡视整改进展情况的通报",  # 中山 the university, not the city
        "新华社北京电",  # 新华 the agency; 北京 alone is fine but the dateline is short for it
        "城关镇政府",
        "世界和平与发展",
        "白云深处",
        "长安街沿线",
        "东方市场监管",
        "各区和县要落实",
        "江南区域协调发展",
        "覆盖所有地级及以上城市",  # 上城 + 市 is no 上城区: a real one matches as a full name
        "新城区改造工程",
        "鼓楼区委关于",  # ambiguous without a parent
        "中共中央办公厅 国务院办公厅",
        "",
    ],
)
def test_find_in_text_avoids_false_hits(text):
    r = R.find_in_text(text)
    if text.startswith("新华社北京"):
        # 北京 may be recognised as the province, but never a 新华区
        assert r is None or r.code == "110000"
    else:
        assert r is None, r


def test_find_in_text_stays_at_certain_level():
    # 鼓楼区 in two 鼓楼 cities of 江苏 (南京, 徐州): the province is certain, nothing below
    r = R.find_in_text("江苏省鼓楼区")
    assert r is not None and r.code == "320000"


def test_find_in_text_prefers_the_chain_most_mentioned():
    text = "陕西省西安市莲湖区召开会议，学习浙江经验。莲湖区委书记讲话。"
    assert _code(text) == "610104"


def test_find_in_text_national_roundup_is_none():
    text = "浙江省委原常委周江勇；广西壮族自治区政府原副主席；西藏自治区政府；福建省公安厅；山东省青岛市"
    assert R.find_in_text(text) is None


def test_find_in_text_bad_input():
    assert R.find_in_text(None) is None  # type: ignore[arg-type]
    assert R.find_in_text("x" * 100000) is None


def test_traditional_script_names():
    from indexer import regions as R

    assert R.find_in_text("廣西壯族自治區人民政府").code == "450000"
    assert R.find_in_text("中共福州市鼓樓區委").code == "350102"
    assert R.resolve("福州市鼓樓區").code == "350102"
    # 乾 is also a traditional form of 干: the name must survive folding either way
    assert R.find_in_text("乾县人民政府").code == "610424"
    assert R.find_in_text("干县人民政府").code == "610424"  # the pipeline's t2s copy


def test_short_name_before_shi_or_qu_needs_the_full_name():
    # the full names still count; the short names only in front of an organ
    assert _code("杭州市上城区人民政府") == "330102"
    assert _code("以上城市由上城区负责") == "330102"
    assert _code("鄂州市纪委监委") == "420700"
