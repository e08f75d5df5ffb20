"""The query language: words, "phrases", OR, NOT / -, parentheses, title: and issuer:.

Parsing never raises: broken syntax (an unclosed quote or parenthesis, a lone OR, a NOT
with nothing after it) is repaired and each repair is reported as a message for the user,
because a search box should answer what the user most likely meant.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from indexer.analysis import has_searchable, normalize

MAX_QUERY_CHARS = 1000
MAX_LEAVES = 64
FIELDS = {"title": "title", "标题": "title", "issuer": "issuer", "发布机关": "issuer", "机关": "issuer"}


@dataclass
class Leaf:
    text: str  # normalised literal
    field: str | None = None  # None = title or body
    raw: str = ""


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


_TOKEN = re.compile(
    r'\s*(?:(?P<lp>\()|(?P<rp>\))|(?P<field>[A-Za-z\u4e00-\u9fff]+):(?=["\S])'
    r'|"(?P<phrase>[^"]*)(?P<close>"?)|(?P<minus>-)(?=[^\s\-])|(?P<word>[^\s()"]+))'
)


def _tokens(q: str, messages: list[str]) -> list[tuple[str, str]]:
    toks: list[tuple[str, str]] = []
    pos = 0
    while pos < len(q):
        m = _TOKEN.match(q, pos)
        if not m or m.end() == pos:
            pos += 1
            continue
        pos = m.end()
        if m.group("lp"):
            toks.append(("(", "("))
        elif m.group("rp"):
            toks.append((")", ")"))
        elif m.group("field") is not None:
            name = m.group("field")
            if name in FIELDS:
                toks.append(("field", FIELDS[name]))
            else:
                toks.append(("word", name + ":"))
        elif m.group("phrase") is not None:
            if not m.group("close"):
                messages.append("引号未闭合，已按短语处理到末尾")
            toks.append(("phrase", m.group("phrase")))
        elif m.group("minus"):
            toks.append(("not", "-"))
        else:
            word = m.group("word")
            if word in ("OR", "|", "或"):
                toks.append(("or", word))
            elif word in ("AND", "&", "且"):
                toks.append(("and", word))
            elif word in ("NOT", "非"):
                toks.append(("not", word))
            else:
                toks.append(("word", word))
    return toks


class _Parser:
    def __init__(self, toks: list[tuple[str, str]], messages: list[str]):
        self.toks = toks
        self.i = 0
        self.messages = messages
        self.leaves = 0
        self.ignored: list[str] = []

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> tuple[str, str]:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def parse(self) -> Node | None:
        node = self.or_expr()
        while self.peek() is not None:  # stray ')' or trailing operators
            kind, _ = self.take()
            if kind == ")":
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
        while self.peek() and self.peek()[0] == "or":
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
            if tok is None or tok[0] in ("or", ")"):
                break
            if tok[0] == "and":
                self.take()
                continue
            node = self.unary()
            if node is not None:
                parts.append(node)
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else And(parts)

    def unary(self) -> Node | None:
        tok = self.peek()
        if tok and tok[0] == "not":
            self.take()
            child = self.unary()
            if child is None:
                self.messages.append("NOT 后缺少检索词，已忽略")
                return None
            return Not(child)
        return self.primary()

    def primary(self) -> Node | None:
        if self.peek() is None:
            return None
        kind, value = self.take()
        if kind == "(":
            node = self.or_expr()
            if self.peek() and self.peek()[0] == ")":
                self.take()
            else:
                self.messages.append("括号未闭合，已自动补全")
            return node
        if kind == "field":
            nxt = self.peek()
            if nxt and nxt[0] in ("word", "phrase"):
                self.take()
                return self.leaf(nxt[1], value)
            return None
        if kind in ("word", "phrase"):
            return self.leaf(value, None)
        return None

    def leaf(self, raw: str, fieldname: str | None) -> Leaf | None:
        text = " ".join(normalize(raw).split())
        if not text or not has_searchable(text):
            if raw.strip():
                self.ignored.append(raw)
            return None
        self.leaves += 1
        if self.leaves > MAX_LEAVES:
            return None
        return Leaf(text, fieldname, raw)


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
    return ParsedQuery(root, messages)
