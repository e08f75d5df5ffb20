"""The query parser as people type queries with a Chinese IME (issue 11): quotes, full-width
operators, separators, operators in any case and in Chinese, field names in Chinese,
document numbers in any written form; display() renders a tree back as a query."""

from __future__ import annotations

import pytest

from indexer.analysis import normalize
from indexer.query import MAX_LEAVES, MAX_QUERY_CHARS, And, Leaf, Not, Or, display, docnum_forms, parse


def root(q: str):
    return parse(q).root


def L(text: str, field: str | None = None, quoted: bool = False) -> Leaf:  # noqa: N802
    return Leaf(text, field, text, quoted)


def texts(node) -> set[str]:
    """The normalised texts of a tree's leaves."""
    if isinstance(node, Leaf):
        return {node.text}
    if isinstance(node, Not):
        return texts(node.child)
    return set().union(*(texts(c) for c in node.children))


def shape(node):
    """A tree without the raw forms (what was typed): texts, fields, quoting, kinds."""
    if node is None or isinstance(node, Leaf):
        return node and (node.text, node.field, node.quoted, node.kind)
    if isinstance(node, Not):
        return ("NOT", shape(node.child))
    return (type(node).__name__, tuple(shape(c) for c in node.children))


# -- the new Leaf attributes keep old constructor calls working ------------------------------


def test_leaf_defaults_and_positional_quoted() -> None:
    leaf = Leaf("巡察", None, "巡察")
    assert leaf.quoted is False and leaf.kind == ""
    assert Leaf("巡察", "title", "巡察", True).quoted is True


# -- quotes -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "q",
    ['"巡察整改"', "“巡察整改”", "「巡察整改」", "『巡察整改』", "‘巡察整改’", "＂巡察整改＂",
     "“巡察整改\"", "\"巡察整改”", "“巡察整改“", "”巡察整改”"],
)
def test_ime_quotes_are_phrases(q: str) -> None:
    parsed = parse(q)
    assert parsed.root == Leaf("巡察整改", None, "巡察整改", True)
    assert parsed.messages == []


def test_inside_quotes_is_kept_as_typed() -> None:
    # operators, full-width parentheses and separators inside quotes are text, not syntax
    leaf = root("“巡察（整改）， OR －进展”")
    assert isinstance(leaf, Leaf) and leaf.quoted
    assert leaf.raw == "巡察（整改）， OR －进展"
    assert leaf.text == normalize("巡察（整改）， OR －进展")


def test_unclosed_ime_quote_is_repaired_and_reported() -> None:
    parsed = parse("“巡视整改")
    assert parsed.root == Leaf("巡视整改", None, "巡视整改", True)
    assert any("引号" in m for m in parsed.messages)


def test_quoted_phrase_next_to_words() -> None:
    assert root("整改“巡察 进展”通报") == And([L("整改"), L("巡察 进展", quoted=True), L("通报")])
    assert root("-「巡察 整改」 进展") == And([Not(L("巡察 整改", quoted=True)), L("进展")])


# -- full-width forms -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed, ascii_form",
    [
        ("标题：整改", "标题:整改"),
        ("title：整改", "title:整改"),
        ("（巡视 OR 巡察） 整改", "(巡视 OR 巡察) 整改"),
        ("（巡视 ＯＲ 巡察）　整改", "(巡视 OR 巡察) 整改"),
        ("巡察 －巡视", "巡察 -巡视"),
        ("巡察　整改", "巡察 整改"),
        ("巡察 ｜ 巡视", "巡察 | 巡视"),
        ("巡察 ＆ 整改", "巡察 & 整改"),
        ("巡察＋整改", "巡察+整改"),
    ],
)
def test_fullwidth_forms_are_their_ascii_twins(typed: str, ascii_form: str) -> None:
    assert shape(root(typed)) == shape(root(ascii_form))


def test_fullwidth_forms_as_operators() -> None:
    assert root("（巡视 OR 巡察） 整改") == And([Or([L("巡视"), L("巡察")]), L("整改")])
    assert root("巡察 －巡视") == And([L("巡察"), Not(L("巡视"))])
    assert root("标题：整改") == L("整改", "title")


def test_minus_inside_a_term_is_text() -> None:
    # only a leading - / － means NOT, as before
    assert shape(root("巡察－巡视")) == shape(root("巡察-巡视")) == ("巡察-巡视", None, False, "")
    assert root("COVID-19") == Leaf("covid-19", None, "COVID-19")


def test_glued_parentheses_are_part_of_a_word() -> None:
    # a pasted title: 办法（试行） is one literal, as it was before （） became parentheses
    assert shape(root("管理办法（试行）")) == ("管理办法(试行)", None, False, "")
    assert shape(root("管理办法(试行)")) == ("管理办法(试行)", None, False, "")


# -- separators -------------------------------------------------------------------------------


@pytest.mark.parametrize("sep", ["，", "、", "；", ";", ",", "。", "！", "？", "+", " ", "　", "， ", ", ", " 、 "])
def test_separators_between_terms_are_and(sep: str) -> None:
    assert shape(root(f"巡察{sep}整改")) == shape(And([L("巡察"), L("整改")]))


def test_plus_before_a_term_is_and() -> None:
    assert shape(root("+整改")) == shape(L("整改"))
    assert shape(root("巡察 +整改")) == shape(And([L("巡察"), L("整改")]))


def test_separators_at_the_edges_are_dropped() -> None:
    # like a space; a comma between digits stays part of the number
    assert shape(root("巡视整改，")) == shape(root("，巡视整改。")) == ("巡视整改", None, False, "")
    assert shape(root("互联网+")) == ("互联网", None, False, "")
    assert shape(root("1,000万元")) == ("1,000万元", None, False, "")
    assert parse("？").root is None


# -- operators --------------------------------------------------------------------------------


@pytest.mark.parametrize("op", ["OR", "or", "Or", "ＯＲ", "ｏｒ", "或", "|", "｜"])
def test_or_operators(op: str) -> None:
    assert shape(root(f"巡察 {op} 巡视")) == shape(Or([L("巡察"), L("巡视")]))


@pytest.mark.parametrize("op", ["AND", "and", "And", "ＡＮＤ", "&", "＆", "和", "且"])
def test_and_operators(op: str) -> None:
    assert shape(root(f"巡察 {op} 整改")) == shape(And([L("巡察"), L("整改")]))


@pytest.mark.parametrize("op", ["NOT", "not", "Not", "ＮＯＴ", "非"])
def test_not_operators(op: str) -> None:
    assert shape(root(f"巡察 {op} 巡视")) == shape(And([L("巡察"), Not(L("巡视"))]))


@pytest.mark.parametrize("q", ["和平区", "或者", "非法", "巡察或巡视", "整改且落实", "巡察和整改", "orange", "notice", "android"])
def test_operator_words_inside_a_literal_are_text(q: str) -> None:
    assert shape(root(q)) == (normalize(q), None, False, "")


def test_operators_and_literals_mixed() -> None:
    assert shape(root("和平区 或 或者")) == shape(Or([L("和平区"), L("或者")]))
    assert shape(root("（巡视 或 巡察） 非 和平区")) == shape(And([Or([L("巡视"), L("巡察")]), Not(L("和平区"))]))


# -- fields -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["title", "TITLE", "Title", "标题", "題目", "题目", "ｔｉｔｌｅ"])
@pytest.mark.parametrize("colon", [":", "："])
def test_title_field_names(name: str, colon: str) -> None:
    assert shape(root(f"{name}{colon}整改")) == ("整改", "title", False, "")


@pytest.mark.parametrize("name", ["issuer", "ISSUER", "发文机关", "发布机关", "机关", "发文单位", "發文機關"])
@pytest.mark.parametrize("colon", [":", "："])
def test_issuer_field_names(name: str, colon: str) -> None:
    assert shape(root(f"{name}{colon}莲湖")) == ("莲湖", "issuer", False, "")


def test_field_with_phrase_group_and_negation() -> None:
    assert root("标题：“巡察 整改”") == L("巡察 整改", "title", quoted=True)
    assert shape(root("标题：（巡视 OR 巡察）")) == shape(Or([L("巡视", "title"), L("巡察", "title")]))
    assert shape(root("巡察 -标题：整改")) == shape(And([L("巡察"), Not(L("整改", "title"))]))


def test_unknown_names_with_a_colon_are_text() -> None:
    assert shape(root("附件：关于")) == ("附件:关于", None, False, "")
    assert shape(root("时间:2019")) == ("时间:2019", None, False, "")


def test_field_without_a_term_is_reported() -> None:
    parsed = parse("标题：")
    assert parsed.root is None and parsed.messages


# -- document numbers -------------------------------------------------------------------------

DOCNUM_FORMS = [
    "国办发〔2019〕3号",
    "国办发（2019）3号",
    "国办发(2019)3号",
    "国办发[2019]3号",
    "国办发［2019］3号",
    "国办发【2019】3号",
    "国办发﹝2019﹞3号",
    "国办发2019年3号",
    "国办发2019年第3号",
    "国办发〔2019〕第3号",
    "国办发 2019 3号",
    "国办发〔２０１９〕３号",
    "國辦發〔2019〕3號",
    "文号：国办发〔2019〕3号",
    "文号:国办发(2019)3号",
    "发文字号：国办发2019年3号",
    "DOC_NUMBER:国办发【2019】3号",
    "docnum：国办发[2019]3号",
    "文号：“国办发〔2019〕3号”",
]


def test_document_number_variants() -> None:
    node = root("国办发〔2019〕3号")
    assert isinstance(node, Or)
    assert all(isinstance(c, Leaf) and c.quoted and c.kind == "docnum" and c.field is None for c in node.children)
    got = [c.text for c in node.children]
    assert len(got) == len(set(got))
    for form in ["国办发〔2019〕3号", "国办发[2019]3号", "国办发(2019)3号", "国办发【2019】3号", "国办发2019年3号",
                 "国办发2019年第3号"]:
        assert form in got
        assert normalize(form) == form  # variants are in normalised form


@pytest.mark.parametrize("q", DOCNUM_FORMS)
def test_document_number_forms_match_each_other(q: str) -> None:
    assert texts(root(q)) == texts(root("国办发〔2019〕3号"))


def test_document_number_in_a_query() -> None:
    node = root("（国办发（2019）3号 OR 中发〔2018〕5号） 整改")
    assert isinstance(node, And) and isinstance(node.children[0], Or)
    first, second = node.children[0].children
    assert texts(first) == texts(root("国办发〔2019〕3号")) and "中发(2018)5号" in texts(second)
    assert node.children[1] == L("整改")
    excluded = root("整改 -国办发（2019）3号")
    assert isinstance(excluded, And) and isinstance(excluded.children[1], Not)
    assert texts(excluded.children[1]) == texts(root("国办发〔2019〕3号"))
    assert "国家税务总局公告2019年第3号" in texts(root("国家税务总局公告2019年第3号"))


@pytest.mark.parametrize("q", ["文号：abc", "文号：国办发3号", "文号：整改"])
def test_docnum_field_with_something_else_is_a_literal(q: str) -> None:
    value = q.split("：", 1)[1]
    assert root(q) == Leaf(normalize(value), None, value)


def test_not_document_numbers() -> None:
    # a quoted number is searched exactly as typed; spaced numbers need an issuer-like end
    assert root('"国办发（2019）3号"') == Leaf("国办发(2019)3号", None, "国办发（2019）3号", True)
    assert shape(root("整改 2019 3号")) == shape(And([L("整改"), L("2019"), L("3号")]))
    assert shape(root("国办发〔2019〕3号文件")) == ("国办发〔2019〕3号文件", None, False, "")


def test_document_numbers_count_towards_max_leaves() -> None:
    parsed = parse(" ".join(f"国办发〔2019〕{i}号" for i in range(1, 30)))
    assert sum(1 for _ in parsed.positive_leaves()) <= MAX_LEAVES
    assert any("过多" in m for m in parsed.messages)


# -- repairs and limits are kept --------------------------------------------------------------


@pytest.mark.parametrize(
    "q, message",
    [
        ('"巡视整改', "引号"), ("（巡视", "括号"), ("巡视）", "右括号"), ("巡视 或", "OR"), ("巡视 非", "NOT"),
        ("*", "不含可检索"),
    ],
)
def test_repairs_are_reported_in_chinese(q: str, message: str) -> None:
    parsed = parse(q)
    assert any(message in m for m in parsed.messages), parsed.messages


@pytest.mark.parametrize("q", ["(" * 1000, "（" * 1000, "非 " * 400 + "巡察", "“" * 999, "国办发〔2019〕3号" * 100, "：" * 1000])
def test_pathological_queries_never_raise(q: str) -> None:
    parsed = parse(q)
    assert isinstance(parsed.messages, list)
    display(parsed.root)


def test_limits() -> None:
    assert any("过长" in m for m in parse("巡" * (MAX_QUERY_CHARS + 5)).messages)
    parsed = parse(" OR ".join(f"词{i}" for i in range(MAX_LEAVES + 10)))
    assert len(parsed.positive_leaves()) == MAX_LEAVES and any("过多" in m for m in parsed.messages)


# -- display ----------------------------------------------------------------------------------

ROUND_TRIP = [
    "巡察 整改", '"巡视整改 进展"', "“巡察整改”", "巡视 OR 巡察", "整改 -巡视", "整改 NOT 巡视", "(巡视 OR 巡察) 整改",
    "title:整改", "issuer:莲湖", "标题：整改", "发文机关：莲湖 巡察", "（巡视 或 巡察） 非 整改", "巡察，巡视、整改",
    "巡察+整改", "和平区 或者", "国办发（2019）3号", "文号：国办发〔2019〕3号", "整改 -国办发2019年第3号",
    "标题：（巡视 OR 巡察）", "巡视 OR (巡察 整改) OR 督查", "a OR (b OR c)", "(a b) c", "NOT NOT 巡察", "-(巡察 OR 巡视)",
    "「他说“好”」", "管理办法（试行）", "巡视整改，", "ＣＯＶＩＤ-19", "--巡察", "文号：abc", "附件：关于", "5G 1,000",
    "国办发 2019 3号", '"" 整改', "((巡视", "巡视)", "巡视 OR", "巡视 AND AND 整改", "title:",
    "(巡视整改，) 巡察", "巡察 (督查 OR 巡视整改，) 进展", "-巡视整改， 巡察", "互联网+ 政务", "巡察、整改。",
]


@pytest.mark.parametrize("q", ROUND_TRIP)
def test_display_round_trips(q: str) -> None:
    tree = parse(q).root
    shown = display(tree)
    again = parse(shown)
    assert again.root == tree, shown
    assert display(again.root) == shown


@pytest.mark.parametrize(
    "q, shown",
    [
        ("“巡察整改”", '"巡察整改"'),
        ("“巡察 整改” ＯＲ 标题：巡视", '"巡察 整改" OR 标题:巡视'),
        ("（巡视 或 巡察） 非 整改", "(巡视 OR 巡察) -整改"),
        ("issuer:莲湖 title:巡察", "发文机关:莲湖 标题:巡察"),
        ("巡察，巡视", "巡察 巡视"),
        ("国办发（2019）3号", "国办发（2019）3号"),
        ("文号：国办发2019年3号 整改", "国办发2019年3号 整改"),
        ("巡视 OR (巡察 OR 督查)", "巡视 OR (巡察 OR 督查)"),
        ("-(巡察 整改)", "-(巡察 整改)"),
        ("", ""),
    ],
)
def test_display_canonical_form(q: str, shown: str) -> None:
    assert display(parse(q).root) == shown


def test_display_of_built_trees() -> None:
    # trees built by other code (relaxation): quoted leaves and alternatives
    tree = And([Or([Leaf("巡视", None, "巡视", True), Leaf("巡察", None, "巡察", True)]), Leaf("整改", "title", "")])
    assert display(tree) == '("巡视" OR "巡察") 标题:整改'
    assert parse(display(tree)).root == And([Or([L("巡视", quoted=True), L("巡察", quoted=True)]), L("整改", "title")])


# -- end to end: the archive answers the same ----------------------------------------------------


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory):
    from indexer.index import build
    from indexer.search import Archive

    src = tmp_path_factory.mktemp("query_src")
    (src / "a.txt").write_text(
        "西安市莲湖区关于巡察整改进展情况的通报\n莲政办发〔2021〕7号\n"
        "根据《国务院办公厅关于印发全国一体化在线政务服务平台建设方案的通知》（国办发〔2019〕3号）要求，"
        "区委第二巡察组反馈意见后，巡察整改工作按期推进，现将进展通报如下。\n",
        encoding="utf-8",
    )
    (src / "b.txt").write_text(
        "关于巡视工作和平区整改落实情况的公告\n"
        "和平区根据巡视反馈意见开展整改，整改任务已全部完成。巡察 整改分开写的一句话，不是连着的词。\n",
        encoding="utf-8",
    )
    (src / "c.txt").write_text(
        "关于2020年度督查工作的通知\n各单位要按照国办发〔2018〕5号文件做好督查工作，不涉及其他内容。\n",
        encoding="utf-8",
    )
    ix = tmp_path_factory.mktemp("query_ix")
    report = build([str(src)], ix, workers=1, progress=False)
    assert report.added == 3 and not report.failed
    return Archive(ix)


def hits(archive, q: str) -> set[str]:
    from indexer.search import SearchRequest

    res = archive.search(SearchRequest(q=q, per_page=50, exact=True))
    return {h.title for h in res.hits}


def test_ime_quotes_search_like_ascii_quotes(archive) -> None:
    ascii_hits = hits(archive, '"巡察整改"')
    assert ascii_hits == {"西安市莲湖区关于巡察整改进展情况的通报"}
    for q in ["“巡察整改”", "「巡察整改」", "＂巡察整改＂", "“巡察整改\""]:
        assert hits(archive, q) == ascii_hits, q


def test_document_number_in_another_form_finds_the_notice(archive) -> None:
    expected = {"西安市莲湖区关于巡察整改进展情况的通报"}
    for q in ["国办发（2019）3号", "国办发(2019)3号", "国办发[2019]3号", "国办发2019年3号", "文号：国办发【2019】3号",
              "国办发〔2019〕3号"]:
        assert hits(archive, q) == expected, q
    assert hits(archive, "国办发（2018）5号") == {"关于2020年度督查工作的通知"}
    assert hits(archive, "国办发（2019）5号") == set()


def test_fullwidth_syntax_searches_like_ascii(archive) -> None:
    assert hits(archive, "（巡视 OR 巡察） 整改") == hits(archive, "(巡视 OR 巡察) 整改") != set()
    assert hits(archive, "巡察 －巡视") == hits(archive, "巡察 -巡视") != set()
    assert hits(archive, "标题：整改") == hits(archive, "title:整改") != set()
    assert hits(archive, "巡察，整改") == hits(archive, "巡察 整改") == hits(archive, "巡察+整改") != set()
    assert hits(archive, "和平区") == {"关于巡视工作和平区整改落实情况的公告"}


def test_document_number_forms_ignore_leading_zeros() -> None:
    forms = docnum_forms("昌政征启公告2024年5号")
    assert forms is not None and "昌政征启公告〔2024〕05号" in forms and "昌政征启公告2024年5号" in forms
    assert "昌政征启公告〔2024〕5号" in docnum_forms("昌政征启公告〔2024〕005号")


def test_a_letter_spaced_phrase_is_matched_collapsed() -> None:
    leaf = parse('"巡 察 公 告"').root
    assert isinstance(leaf, Leaf) and leaf.text == "巡察公告"
    # ordinary spaced words inside a phrase keep their space
    assert parse('"巡视整改 进展"').root.text == "巡视整改 进展"
