"""The query language: words, "phrases", OR, NOT / -, parentheses, title: and issuer:.

Parsing never raises: broken syntax (an unclosed quote or parenthesis, a lone OR, a NOT
with nothing after it) is repaired and each repair is reported as a message for the user,
because a search box should answer what the user most likely meant.

Queries are read as people type them with a Chinese IME, before tokenising:

* “ ” ‘ ’ 「 」 『 』 ＂ and " are quotes (leniently paired: “巡察整改" is a phrase); what is
  inside quotes is kept as typed;
* outside quotes, full-width forms are their ASCII twins (： （ ） － ＋ ｜ ＆, full-width
  letters and digits) and the ideographic space is a space;
* ， 、 ； ; , 。 ！ ？ ! ? + & separate terms like a space (AND); a comma between two digits
  stays (1,000);
* operators are standalone tokens, in any case and in Chinese: OR/或/|, AND/和/且/&,
  NOT/非; inside a run-on literal (和平区, 或者) they are plain text;
* a parenthesis glued to a word with no space inside (办法（试行）) is part of the word, as in
  a pasted title; parentheses that stand apart group;
* field names: title/标题/题目, issuer/发文机关/发布机关/机关/发文单位, 文号/发文字号/doc_number;
* a document number in any written form (国办发〔2019〕3号, 国办发（2019）3号,
  国办发2019年3号, ...) is searched in all of its written forms (an Or of quoted leaves of
  kind "docnum").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from indexer.analysis import collapse_letter_spacing, has_searchable, normalize

MAX_QUERY_CHARS = 1000
MAX_LEAVES = 64
MAX_DEPTH = 32  # parentheses nested deeper than this are read as one level
# Field names (looked up after normalize(): case-insensitive, traditional = simplified).
FIELDS = {
    "title": "title", "标题": "title", "题目": "title",
    "issuer": "issuer", "发文机关": "issuer", "发布机关": "issuer", "机关": "issuer", "发文单位": "issuer",
    "文号": "docnum", "发文字号": "docnum", "doc_number": "docnum", "docnum": "docnum",
}
# How display() writes each field.
FIELD_PREFIX = {"title": "标题:", "issuer": "发文机关:", "docnum": "文号:"}

OR_WORDS = {"or", "或", "|"}
AND_WORDS = {"and", "和", "且", "&"}
NOT_WORDS = {"not", "非"}


@dataclass
class Leaf:
    text: str  # normalised literal
    field: str | None = None  # None = title or body
    raw: str = ""
    quoted: bool = False  # a phrase (or a document-number form): never split into words
    kind: str = ""  # "docnum" for the written forms of a document number


@dataclass
class Not:
    child: "Node"


@dataclass
class And:
    children: list["Node"] = field(default_factory=list)


@dataclass
class Or:
    children: list["Node"] = field(default_factory=list)


Node = Leaf | Not | And | Or


@dataclass
class ParsedQuery:
    root: Node | None
    messages: list[str]

    def positive_leaves(self) -> list[Leaf]:
        """Leaves that a hit must or may contain (not under a NOT): what gets highlighted."""
        out: list[Leaf] = []

        def walk(node: Node | None, negated: bool) -> None:
            if node is None:
                return
            if isinstance(node, Leaf):
                if not negated:
                    out.append(node)
            elif isinstance(node, Not):
                walk(node.child, not negated)
            else:
                for c in node.children:
                    walk(c, negated)

        walk(self.root, False)
        return out


# -- before tokenising: quotes, full-width forms --------------------------------------------

# Opening quote -> the characters that close it (lenient: IMEs alternate “ and ”, and
# people mix quote styles).
_DQ = '"＂“”'
QUOTES = {
    '"': _DQ, "＂": _DQ, "“": _DQ, "”": _DQ,
    "‘": "‘’\"＂", "’": "‘’\"＂",
    "「": "」\"＂", "『": "』\"＂",
}
_STRAY_CLOSERS = "」』"
PHRASE = "\ue000"  # placeholder for a quoted phrase in the scanned text
DOCNUM = "\ue001"  # placeholder for a document number
_EXTRA = {"\u3000": " ", "\u2212": "-", "\ufe63": "-", "\uff61": "。", "\uff64": "、"}


def _ascii(ch: str) -> str:
    """Full-width ASCII forms (U+FF01..FF5E) as ASCII; a few more spaces and dashes."""
    o = ord(ch)
    if 0xFF01 <= o <= 0xFF5E:
        return chr(o - 0xFEE0)
    return _EXTRA.get(ch, ch)


def _scan(q: str, messages: list[str]) -> tuple[str, str, list[str]]:
    """The query with each quoted phrase replaced by PHRASE and, outside quotes,
    full-width forms as ASCII; the same text as typed (same length, for raw forms); the
    phrases' contents as typed."""
    out: list[str] = []
    orig: list[str] = []
    phrases: list[str] = []
    i, n = 0, len(q)
    while i < n:
        ch = q[i]
        if ch in (PHRASE, DOCNUM):  # private-use characters cannot be typed usefully
            out.append(" ")
            orig.append(" ")
            i += 1
            continue
        closers = QUOTES.get(ch)
        if closers is None:
            mapped = " " if ch in _STRAY_CLOSERS else _ascii(ch)
            out.append(mapped)
            orig.append(ch if mapped != " " else " ")
            i += 1
            continue
        j = i + 1
        while j < n and q[j] not in closers:
            j += 1
        if j >= n:
            messages.append("引号未闭合，已按短语处理到末尾")
        phrases.append(q[i + 1 : j])
        out.append(PHRASE)
        orig.append(PHRASE)
        i = j + 1
    return "".join(out), "".join(orig), phrases


# -- document numbers ------------------------------------------------------------------------

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_SEPS = ",;!?、。+&|"
_BEFORE = r"(?<![^\s():\-" + re.escape(_SEPS) + PHRASE + DOCNUM + r"])"
_AFTER = r"(?![^\s()" + re.escape(_SEPS) + PHRASE + DOCNUM + r"])"
_YEAR = r"(?:19|20)\d\d"
_DOCNUM_BODY = (
    rf"(?P<abbr>[{_CJK}]+)\s*"
    rf"(?:[〔﹝\[【(〖{{]\s*(?P<y1>{_YEAR})\s*[〕﹞\]】)〗}}]|(?P<y2>{_YEAR})\s*年|(?P<y3>{_YEAR})(?=\s))"
    r"\s*(?P<di>第?)\s*(?P<n>\d{1,6})\s*[号號]"
)
_DOCNUM_SEARCH = re.compile(_BEFORE + _DOCNUM_BODY + _AFTER)
_DOCNUM_FULL = re.compile(r"\s*" + _DOCNUM_BODY + r"\s*")
# When a number is typed with spaces between its parts, the issuer abbreviation must end
# like one (国办发 2019 3号), so that 整改 2019 3号 stays three words.
_ABBR_ENDS = "发字函办令电告复报呈示通"
# The written forms, in normalised text (normalize(): （） -> (), ［］ -> []; 〔〕 【】 stay).
_FORMS = ("{a}〔{y}〕{d}{n}号", "{a}[{y}]{d}{n}号", "{a}({y}){d}{n}号", "{a}【{y}】{d}{n}号", "{a}{y}年{d}{n}号")


def docnum_forms(text: str) -> list[str] | None:
    """The normalised written forms of a document number, or None if `text` is not one."""
    m = _DOCNUM_FULL.fullmatch(_fold(text))
    return _forms(m) if m else None


def _fold(text: str) -> str:
    return "".join(_ascii(c) for c in text)


def _forms(m: re.Match[str]) -> list[str] | None:
    spaced = any(c.isspace() for c in m.group(0).strip())
    abbr = normalize(m.group("abbr"))
    if spaced and abbr[-1] not in _ABBR_ENDS:
        return None
    year = m.group("y1") or m.group("y2") or m.group("y3")
    # Numbers are printed with and without leading zeros (5号, 05号, 005号).
    bare = m.group("n").lstrip("0") or "0"
    nums = list(dict.fromkeys([bare, bare.zfill(2), bare.zfill(3)]))
    out: list[str] = []
    for num in nums:
        for d in ("", "第"):  # 〔2019〕3号 and 2019年第3号 are both common
            for form in _FORMS:
                text = normalize(form.format(a=abbr, y=year, d=d, n=num))
                if text not in out:
                    out.append(text)
    return out


# -- tokens -------------------------------------------------------------------------------

_WCH = r"(?:[^\s()" + re.escape(_SEPS) + PHRASE + DOCNUM + r"]|(?<=\d),(?=\d))"
_GROUP = r"\(" + _WCH + r"+\)"  # glued to a word with no space inside: part of the word
_SEP = "[" + re.escape(_SEPS.replace("|", "")) + "]"
# Separators split terms like a space, wherever they are (巡视整改， is 巡视整改); only a
# comma between two digits stays (1,000).
_TOKEN = re.compile(
    r"\s*(?:(?P<word>(?:" + _GROUP + r")*" + _WCH + r"(?:" + _WCH + r"|" + _GROUP + r")*)"
    r"|(?P<lp>\()|(?P<rp>\))|(?P<phrase>" + PHRASE + r")|(?P<docnum>" + DOCNUM + r")"
    r"|(?P<bar>\|)|(?P<sep>" + _SEP + r"+))"
)
_FIELD = re.compile(r"\s*(?P<field>[A-Za-z_" + _CJK + r"]+):\s*")
_MINUS = re.compile(r"\s*-(?=[^\s\-" + re.escape(_SEPS) + r"])")


@dataclass
class _Tok:
    kind: str  # ( ) field word phrase docnum or and not
    value: str = ""
    raw: str = ""
    forms: list[str] | None = None


def _tokens(q: str, messages: list[str]) -> list[_Tok]:
    s, orig, phrases = _scan(q, messages)
    docnums: list[tuple[list[str], str]] = []

    def repl(m: re.Match[str]) -> str:
        forms = _forms(m)
        if forms is None:
            return m.group(0)
        docnums.append((forms, " ".join(orig[m.start() : m.end()].split())))
        return DOCNUM.ljust(len(m.group(0)))

    s = _DOCNUM_SEARCH.sub(repl, s)  # same length: `orig` stays aligned
    toks: list[_Tok] = []
    phrase_i = docnum_i = 0
    pos = 0
    while pos < len(s):
        m = _MINUS.match(s, pos)
        if m:
            toks.append(_Tok("not", "-"))
            pos = m.end()
            continue
        m = _FIELD.match(s, pos)
        if m and normalize(m.group("field")) in FIELDS:
            name_end = m.end("field") + 1
            toks.append(_Tok("field", FIELDS[normalize(m.group("field"))], orig[m.start("field") : name_end]))
            pos = m.end()
            continue
        # (an unknown name: the name, the colon and what follows are one word)
        m = _TOKEN.match(s, pos)
        if not m or m.end() == pos:
            pos += 1
            continue
        pos = m.end()
        if m.group("lp"):
            toks.append(_Tok("("))
        elif m.group("rp"):
            toks.append(_Tok(")"))
        elif m.group("phrase"):
            text = phrases[phrase_i]
            phrase_i += 1
            toks.append(_Tok("phrase", text, text))
        elif m.group("docnum"):
            forms, raw = docnums[docnum_i]
            docnum_i += 1
            toks.append(_Tok("docnum", raw, raw, forms))
        elif m.group("bar"):
            toks.append(_Tok("or", "|"))
        elif m.group("sep"):
            continue
        else:
            word = m.group("word")
            raw = orig[m.start("word") : m.end("word")]
            op = normalize(word)
            if op in OR_WORDS:
                toks.append(_Tok("or", word))
            elif op in AND_WORDS:
                toks.append(_Tok("and", word))
            elif op in NOT_WORDS:
                toks.append(_Tok("not", word))
            else:
                toks.append(_Tok("word", word, raw))
    return toks


def literal(value: str, fieldname: str | None = None, quoted: bool = True, raw: str = "") -> Leaf | None:
    """`value` as one literal, normalised as the index is, or None when it holds nothing
    searchable. Letter-spaced text (巡 察 公 告) is indexed collapsed; a phrase typed that
    way too. For callers that hold a literal, not a query (no syntax is read in it)."""
    text = collapse_letter_spacing(" ".join(normalize(value).split()))
    if not text or not has_searchable(text):
        return None
    return Leaf(text, fieldname, raw or value, quoted)


class _Parser:
    def __init__(self, toks: list[_Tok], messages: list[str]):
        self.toks = toks
        self.i = 0
        self.messages = messages
        self.leaves = 0
        self.depth = 0
        self.ignored: list[str] = []

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def parse(self) -> Node | None:
        node = self.or_expr()
        while self.peek() is not None:  # stray ')' or trailing operators
            tok = self.take()
            if tok.kind == ")":
                self.messages.append("多余的右括号已忽略")
            more = self.or_expr()
            if more is not None:
                node = more if node is None else And([node, more])
        return node

    def or_expr(self) -> Node | None:
        parts: list[Node] = []
        first = self.and_expr()
        if first is not None:
            parts.append(first)
        while self.peek() and self.peek().kind == "or":
            self.take()
            nxt = self.and_expr()
            if nxt is None or not parts:
                self.messages.append("OR 两侧需要检索词，已忽略多余的 OR")
            if nxt is not None:
                parts.append(nxt)
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else Or(parts)

    def and_expr(self) -> Node | None:
        parts: list[Node] = []
        while True:
            tok = self.peek()
            if tok is None or tok.kind in ("or", ")"):
                break
            if tok.kind == "and":
                self.take()
                continue
            node = self.unary()
            if node is not None:
                parts.append(node)
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else And(parts)

    def unary(self) -> Node | None:
        nots = 0
        while self.peek() and self.peek().kind == "not":
            self.take()
            nots += 1
        node = self.primary()
        if nots and node is None:
            self.messages.append("NOT 后缺少检索词，已忽略")
            return None
        for _ in range((nots - 1) % 2 + 1 if nots else 0):  # NOT NOT NOT x = NOT x
            node = Not(node)
        return node

    def primary(self) -> Node | None:
        if self.peek() is None:
            return None
        tok = self.take()
        if tok.kind == "(":
            if self.depth >= MAX_DEPTH:  # read as no parenthesis (no deep recursion)
                return None
            self.depth += 1
            node = self.or_expr()
            self.depth -= 1
            if self.peek() and self.peek().kind == ")":
                self.take()
            else:
                self.messages.append("括号未闭合，已自动补全")
            return node
        if tok.kind == "field":
            nxt = self.peek()
            if nxt is None or nxt.kind not in ("word", "phrase", "docnum", "(", "not", "field"):
                self.messages.append(f"{tok.raw} 后缺少检索词，已忽略")
                return None
            if tok.value != "docnum":
                return _with_field(self.unary(), tok.value)
            if nxt.kind not in ("word", "phrase"):
                return self.unary()  # document numbers are recognised anywhere
            self.take()
            forms = docnum_forms(nxt.value)
            if forms:
                return self.docnum(forms, " ".join(nxt.value.split()), None)
            return self.leaf(nxt.value, None, nxt.kind == "phrase", nxt.raw)
        if tok.kind == "docnum":
            return self.docnum(tok.forms or [], tok.raw, None)
        if tok.kind in ("word", "phrase"):
            return self.leaf(tok.value, None, tok.kind == "phrase", tok.raw)
        return None

    def leaf(self, value: str, fieldname: str | None, quoted: bool = False, raw: str = "") -> Leaf | None:
        leaf = literal(value, fieldname, quoted, raw)
        if leaf is None:
            if value.strip():
                self.ignored.append(value)
            return None
        self.leaves += 1
        if self.leaves > MAX_LEAVES:
            return None
        return leaf

    def docnum(self, forms: list[str], raw: str, fieldname: str | None) -> Node | None:
        self.leaves += len(forms)
        if not forms or self.leaves > MAX_LEAVES:
            return None
        return Or([Leaf(f, fieldname, raw, True, "docnum") for f in forms])


def _with_field(node: Node | None, fieldname: str) -> Node | None:
    """`标题:(巡视 OR 巡察)`: the field applies to every literal that has none."""
    if isinstance(node, Leaf):
        if node.field is None:
            node.field = fieldname
    elif isinstance(node, Not):
        _with_field(node.child, fieldname)
    elif node is not None:
        for c in node.children:
            _with_field(c, fieldname)
    return node


def parse(q: str) -> ParsedQuery:
    """Parse a user query; never raises. Messages describe every repair made."""
    messages: list[str] = []
    q = q or ""
    if len(q) > MAX_QUERY_CHARS:
        q = q[:MAX_QUERY_CHARS]
        messages.append(f"查询过长，只使用了前 {MAX_QUERY_CHARS} 个字符")
    parser = _Parser(_tokens(q, messages), messages)
    root = parser.parse()
    if parser.leaves > MAX_LEAVES:
        messages.append(f"检索词过多，只使用了前 {MAX_LEAVES} 个")
    if parser.ignored:
        shown = "、".join(parser.ignored[:5])
        messages.append(f"以下内容不含可检索的文字，已忽略：{shown}")
    return ParsedQuery(root, list(dict.fromkeys(messages)))


# -- display ------------------------------------------------------------------------------


def _is_docnum(node: Node) -> bool:
    return (isinstance(node, Or) and bool(node.children)
            and all(isinstance(c, Leaf) and c.kind == "docnum" for c in node.children))


def _quote(text: str) -> str:
    for left, right in (('"', '"'), ("「", "」"), ("『", "』")):
        if not any(c in QUOTES.get(left, "") for c in text):
            return left + text + right
    return '"' + "".join(" " if c in _DQ else c for c in text) + '"'


def _plain_word(text: str) -> bool:
    """Would `text`, typed bare, read back as this one plain word?"""
    if not text or any(c in QUOTES or c in _STRAY_CLOSERS for c in text):
        return False
    toks = _tokens(text, [])
    return len(toks) == 1 and toks[0].kind == "word" and toks[0].value == _fold(text)


def _leaf_text(leaf: Leaf) -> str:
    prefix = FIELD_PREFIX.get(leaf.field or "", "")
    raw = leaf.raw or leaf.text
    if leaf.quoted or not _plain_word(raw):
        return prefix + _quote(raw)
    return prefix + raw


def display(node: Node | None) -> str:
    """A parsed tree as a query in the archive's canonical syntax: parse(display(t)) gives
    the tree t back. Phrases in quotes, OR, - for NOT, 标题:/发文机关: for fields, a
    document number as it was typed."""
    return "" if node is None else _show(node)


def _show(node: Node) -> str:
    if isinstance(node, Leaf):
        return _leaf_text(node)
    if _is_docnum(node):
        first = node.children[0]
        assert isinstance(first, Leaf)
        prefix = FIELD_PREFIX.get(first.field or "", "")
        raw = first.raw or first.text
        toks = _tokens(raw, [])
        if len(toks) == 1 and toks[0].kind == "docnum":
            return prefix + raw
        return prefix + FIELD_PREFIX["docnum"] + _quote(raw)
    if isinstance(node, Not):
        inner = _show(node.child)
        if (isinstance(node.child, Leaf) or _is_docnum(node.child)) and not _fold(inner).startswith("-"):
            return "-" + inner
        return "-(" + _show(node.child) + ")"
    if isinstance(node, (And, Or)):
        parts = []
        for c in node.children:
            if isinstance(c, (And, Or)) and not _is_docnum(c) and (isinstance(node, And) or isinstance(c, Or)):
                parts.append("(" + _show(c) + ")")
            else:
                parts.append(_show(c))
        return (" OR " if isinstance(node, Or) else " ").join(parts)
    raise TypeError(f"not a query node: {node!r}")
