"""CloudWatch Logs filter patterns, as the emulator's metric filters evaluate them.

Written apart from trailhead's own engine (crates/alarms) on purpose: the emulator must not agree
with trailhead because it shares its code. Covers JSON patterns (selectors with `.`, `[n]`,
`[*]`, `$.*` and `['key']`; `=` `!=` with quoted or bare values, leading or trailing `*`,
`%regex%`; `<` `<=` `>` `>=` on numbers; `IS NULL`, `NOT EXISTS`, `IS TRUE`, `IS FALSE`;
`&&` binding tighter than `||`; parentheses) and text patterns (terms, quoted phrases, `?term`,
`-term`, `%regex%`). Space-delimited patterns (`[a, b]`) are not used by any metric filter
trailhead writes: they raise Unsupported rather than answer wrong.
Source: docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html
"""

import json
import re


class Unsupported(Exception):
    pass


class Invalid(Exception):
    pass


_TOKEN = re.compile(
    r"""\s*(?:
      (?P<and>&&) | (?P<or>\|\|) | (?P<open>\() | (?P<close>\)) |
      (?P<op>!=|>=|<=|=|>|<) |
      (?P<is>IS\s+NULL|NOT\s+EXISTS|IS\s+TRUE|IS\s+FALSE)\b |
      (?P<selector>\$(?:\.\*|\.\[\s*'[^']*'\s*\]|\.[A-Za-z0-9_@\-]+|\[\s*(?:\d+|\*)\s*\])*) |
      (?P<string>"(?:[^"\\]|\\.)*") |
      (?P<regex>%(?:[^%\\]|\\.)*%) |
      (?P<bare>[^\s()&|"]+)
    )""",
    re.VERBOSE,
)


def _tokens(text):
    pos, out = 0, []
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise Invalid(f"cannot read the pattern at {text[pos:pos + 20]!r}")
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def _steps(selector):
    """`$.a[0].*` → [("key","a"), ("index",0), ("any",None)]."""
    steps, rest = [], selector[1:]
    for m in re.finditer(r"\.\*|\.\[\s*'([^']*)'\s*\]|\.([A-Za-z0-9_@\-]+)|\[\s*(\d+|\*)\s*\]", rest):
        if m.group(0) == ".*":
            steps.append(("any", None))
        elif m.group(1) is not None:
            steps.append(("key", m.group(1)))
        elif m.group(2) is not None:
            steps.append(("key", m.group(2)))
        elif m.group(3) == "*":
            steps.append(("any", None))
        else:
            steps.append(("index", int(m.group(3))))
    return steps


_MISSING = object()


def _resolve(value, steps):
    """Every node the selector reaches (wildcards reach several)."""
    nodes = [value]
    for kind, arg in steps:
        nxt = []
        for node in nodes:
            if kind == "key" and isinstance(node, dict) and arg in node:
                nxt.append(node[arg])
            elif kind == "index" and isinstance(node, list) and arg < len(node):
                nxt.append(node[arg])
            elif kind == "any":
                if isinstance(node, dict):
                    nxt.extend(node.values())
                elif isinstance(node, list):
                    nxt.extend(node)
        nodes = nxt
    return nodes


def _number(text):
    try:
        return float(text)
    except ValueError:
        return None


def _is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _scalar_text(v):
    if isinstance(v, str):
        return v
    if isinstance(v, bool) or v is None:
        return None
    return str(v)


def _equals(node, kind, literal):
    if isinstance(node, (dict, list)) or isinstance(node, bool) or node is None:
        return False
    if kind == "regex":
        return re.search(literal[1:-1], _scalar_text(node) or "") is not None
    text = json.loads(literal) if kind == "string" else literal
    if text == "*":
        return True
    number = _number(text)
    if _is_number(node) and number is not None:
        return float(node) == number
    actual = _scalar_text(node)
    if text.startswith("*") and len(text) > 1:
        return actual.endswith(text[1:])
    if text.endswith("*") and len(text) > 1:
        return actual.startswith(text[:-1])
    return actual == text


def _compare(nodes, op, kind, literal):
    if op in ("=", "!="):
        scalars = [n for n in nodes if not isinstance(n, (dict, list))]
        if not scalars:
            return False
        hits = [_equals(n, kind, literal) for n in scalars]
        return any(hits) if op == "=" else not all(hits)
    number = _number(literal) if kind == "bare" else None
    if number is None:
        raise Invalid(f"{op} needs a number, got {literal}")
    checks = {">": lambda a: a > number, "<": lambda a: a < number,
              ">=": lambda a: a >= number, "<=": lambda a: a <= number}[op]
    return any(_is_number(n) and checks(float(n)) for n in nodes)


class _Json:
    def __init__(self, tokens):
        self.tokens, self.pos = tokens, 0

    def peek(self):
        return self.tokens[self.pos] if self.pos < len(self.tokens) else (None, None)

    def take(self, kind=None):
        token = self.peek()
        if token[0] is None or (kind and token[0] != kind):
            raise Invalid(f"expected {kind or 'more'} in the pattern, found {token[1]}")
        self.pos += 1
        return token

    def expression(self):
        terms = [self.conjunction()]
        while self.peek()[0] == "or":
            self.take()
            terms.append(self.conjunction())
        return lambda event: any(t(event) for t in terms)

    def conjunction(self):
        terms = [self.primary()]
        while self.peek()[0] == "and":
            self.take()
            terms.append(self.primary())
        return lambda event: all(t(event) for t in terms)

    def primary(self):
        if self.peek()[0] == "open":
            self.take()
            inner = self.expression()
            self.take("close")
            return inner
        steps = _steps(self.take("selector")[1])
        kind, text = self.take()
        if kind == "is":
            test = " ".join(text.split())
            return lambda event: _test(_resolve(event, steps), test)
        if kind != "op":
            raise Invalid(f"expected an operator after the selector, found {text}")
        vkind, value = self.take()
        if vkind not in ("string", "regex", "bare"):
            raise Invalid(f"expected a value after {text}, found {value}")
        return lambda event: _compare(_resolve(event, steps), text, vkind, value)


def _test(nodes, test):
    if test == "NOT EXISTS":
        return not nodes
    if test == "IS NULL":
        return any(n is None for n in nodes)
    wanted = test == "IS TRUE"
    return any(n is wanted for n in nodes)


def _text_matcher(pattern):
    terms = re.findall(r'[?-]?"[^"]*"|[?-]?%(?:[^%\\]|\\.)*%|\S+', pattern)
    required, optional, excluded = [], [], []
    for term in terms:
        bucket = required
        if term[0] in "?-" and len(term) > 1:
            bucket = optional if term[0] == "?" else excluded
            term = term[1:]
        if term.startswith('"') and term.endswith('"') and len(term) >= 2:
            term = term[1:-1]
            if term.strip() == "":
                continue
        bucket.append(term)

    def contains(message, term):
        if len(term) >= 2 and term.startswith("%") and term.endswith("%"):
            return re.search(term[1:-1], message) is not None
        return term in message

    def matches(message, parsed=None):
        if required:
            ok = all(contains(message, t) for t in required)
        elif optional:
            ok = any(contains(message, t) for t in optional)
        else:
            ok = True
        return ok and not any(contains(message, t) for t in excluded)

    return matches


def compile_pattern(pattern):
    """A function of a log event's message (and, optionally, the message already parsed as
    JSON) that says whether the pattern matches it."""
    text = (pattern or "").strip()
    if text.startswith("["):
        raise Unsupported("space-delimited patterns are not supported by the emulator")
    if text.startswith("{"):
        if not text.endswith("}"):
            raise Invalid("a JSON pattern ends with }")
        parser = _Json(_tokens(text[1:-1]))
        test = parser.expression()
        if parser.pos != len(parser.tokens):
            raise Invalid(f"unexpected {parser.peek()[1]} in the pattern")

        def json_matches(message, parsed=None):
            event = parsed
            if event is None:
                try:
                    event = json.loads(message)
                except ValueError:
                    return False
            return isinstance(event, (dict, list)) and test(event)

        return json_matches
    return _text_matcher(text)
