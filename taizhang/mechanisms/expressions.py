"""The arithmetic of computed fields: a tiny language parsed here, evaluated with exact Decimals.

    expression := term (('+' | '-') term)*
    term       := factor (('*' | '/') factor)*
    factor     := NUMBER | NAME | '-' factor | '(' expression ')' | ('min' | 'max') '(' expression (',' expression)* ')'

Numbers are plain decimals (no exponent: `1e999999` is refused, and there is no power operator); names
are form fields. Nothing else exists: no attributes, no other calls, no strings — the text is never given
to `eval`. Multiplication, addition and subtraction of the field values are exact (a 60-digit context
never rounds a product of the short numbers a form holds); division rounds at the 60th digit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Context, Decimal, DivisionByZero, InvalidOperation

MAX_LENGTH = 300
MAX_DEPTH = 20
MAX_DIGITS = 20
FUNCTIONS = ("min", "max")
ARITHMETIC = Context(prec=60, traps=[InvalidOperation, DivisionByZero])

TOKEN = re.compile(r"\s*(?:(?P<number>\d+(?:\.\d+)?)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>[-+*/(),]))")


class ExpressionError(ValueError):
    """Text that is not an expression of the language; the message is Chinese, for the author."""


@dataclass(frozen=True)
class Num:
    value: Decimal


@dataclass(frozen=True)
class Ref:
    name: str


@dataclass(frozen=True)
class Neg:
    operand: Expr


@dataclass(frozen=True)
class BinOp:
    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Call:
    function: str
    args: tuple[Expr, ...]


Expr = Num | Ref | Neg | BinOp | Call


def tokenize(text: str) -> list[tuple[str, str]]:
    """(kind, text) pairs; anything outside the language is an error naming where it is."""
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"表达式过长（最多 {MAX_LENGTH} 个字符）")
    tokens, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise ExpressionError(f"表达式第 {pos + 1} 个字符处不能识别：{text[pos : pos + 10]!r}")
        kind = m.lastgroup or ""
        value = m.group(kind)
        if kind == "number" and len(value.replace(".", "")) > MAX_DIGITS:
            raise ExpressionError(f"数字 {value[:12]}… 位数过多（最多 {MAX_DIGITS} 位）")
        tokens.append((kind, value))
        pos = m.end()
    if not tokens:
        raise ExpressionError("表达式为空")
    return tokens


class Parser:
    """Recursive descent over the tokens, depth-limited so no text can exhaust the stack."""

    def __init__(self, text: str):
        self.tokens = tokenize(text)
        self.pos = 0
        self.depth = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, op: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise ExpressionError("表达式不完整" + (f"：缺少 '{op}'" if op else ""))
        if op is not None and token != ("op", op):
            raise ExpressionError(f"此处应为 '{op}'，不是 '{token[1]}'")
        self.pos += 1
        return token

    def parse(self) -> Expr:
        expr = self.expression()
        if self.peek() is not None:
            raise ExpressionError(f"多余的内容：'{self.peek()[1]}'")
        return expr

    def expression(self) -> Expr:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError(f"表达式嵌套过深（最多 {MAX_DEPTH} 层）")
        expr = self.term()
        while self.peek() in (("op", "+"), ("op", "-")):
            expr = BinOp(self.take()[1], expr, self.term())
        self.depth -= 1
        return expr

    def term(self) -> Expr:
        expr = self.factor()
        while self.peek() in (("op", "*"), ("op", "/")):
            op = self.take()[1]
            if self.peek() in (("op", "*"), ("op", "/")):
                raise ExpressionError("不支持乘方或连续的运算符")
            expr = BinOp(op, expr, self.factor())
        return expr

    def factor(self) -> Expr:
        kind, value = self.take()
        if kind == "number":
            return Num(Decimal(value))
        if (kind, value) == ("op", "-"):
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise ExpressionError(f"表达式嵌套过深（最多 {MAX_DEPTH} 层）")
            operand = self.factor()
            self.depth -= 1
            return Neg(operand)
        if (kind, value) == ("op", "("):
            expr = self.expression()
            self.take(")")
            return expr
        if kind == "name":
            if self.peek() == ("op", "("):
                if value not in FUNCTIONS:
                    raise ExpressionError(f"不支持的函数 '{value}'（可用：{'、'.join(FUNCTIONS)}）")
                self.take("(")
                args = [self.expression()]
                while self.peek() == ("op", ","):
                    self.take(",")
                    args.append(self.expression())
                self.take(")")
                return Call(value, tuple(args))
            if value in FUNCTIONS:
                raise ExpressionError(f"函数 '{value}' 后应有括号")
            return Ref(value)
        raise ExpressionError(f"此处不能出现 '{value}'")


def parse_expression(text: str) -> Expr:
    """The expression's tree; ExpressionError for anything outside the language."""
    if not isinstance(text, str):
        raise ExpressionError("表达式应为文本")
    return Parser(text).parse()


def names_in(expr: Expr) -> list[str]:
    """The field names an expression reads, in order of first appearance."""
    out: list[str] = []

    def walk(node: Expr) -> None:
        if isinstance(node, Ref):
            if node.name not in out:
                out.append(node.name)
        elif isinstance(node, Neg):
            walk(node.operand)
        elif isinstance(node, BinOp):
            walk(node.left)
            walk(node.right)
        elif isinstance(node, Call):
            for arg in node.args:
                walk(arg)

    walk(expr)
    return out


def evaluate(expr: Expr, values: dict[str, Decimal | None]) -> Decimal | None:
    """The exact value, or None when a field it reads is empty or it divides by zero."""
    try:
        return _eval(expr, values)
    except (_Empty, DivisionByZero, InvalidOperation):
        return None


class _Empty(Exception):
    pass


def _eval(node: Expr, values: dict[str, Decimal | None]) -> Decimal:
    if isinstance(node, Num):
        return node.value
    if isinstance(node, Ref):
        value = values.get(node.name)
        if value is None:
            raise _Empty
        return value
    if isinstance(node, Neg):
        return ARITHMETIC.minus(_eval(node.operand, values))
    if isinstance(node, Call):
        args = [_eval(a, values) for a in node.args]
        return min(args) if node.function == "min" else max(args)
    left, right = _eval(node.left, values), _eval(node.right, values)
    operation = {
        "+": ARITHMETIC.add,
        "-": ARITHMETIC.subtract,
        "*": ARITHMETIC.multiply,
        "/": ARITHMETIC.divide,
    }
    return operation[node.op](left, right)
