"""Label and field selectors (apimachinery pkg/labels, pkg/fields).

`parse_label_selector` and `parse_field_selector` turn the query-string forms
into predicates over stored objects; both raise `SelectorError` with the
real server's message text on bad input (served as 400 BadRequest).
"""

import re


class SelectorError(ValueError):
    """A selector the real server would refuse with 400 BadRequest."""


_KEY = re.compile(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
                  r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")
_TOKEN = re.compile(r"\s*(!=|==|=|\(|\)|,|!|[^\s!=(),]+)")


def _tokens(text):
    pos, out = 0, []
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            break
        out.append(m.group(1))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return out


def parse_label_selector(text):
    """Parse `a=b,c!=d,e in (f,g),h notin (i),j,!k` into a predicate on labels."""
    requirements = []
    toks = _tokens(text or "")
    i = 0

    def need(cond, what):
        if not cond:
            raise SelectorError("unable to parse requirement: %s" % what)

    while i < len(toks):
        negate = toks[i] == "!"
        if negate:
            i += 1
        need(i < len(toks), "found '', expected: identifier")
        key = toks[i]
        need(_KEY.match(key), "invalid label key %r" % key)
        i += 1
        op = toks[i] if i < len(toks) else ","
        if negate or op == ",":
            requirements.append(("!" if negate else "exists", key, None))
        elif op in ("=", "==", "!="):
            i += 1
            value = ""
            if i < len(toks) and toks[i] != ",":
                value = toks[i]
                i += 1
            need(_VALUE.match(value), "invalid label value: %r" % value)
            requirements.append(("!=" if op == "!=" else "=", key, value))
        elif op in ("in", "notin"):
            i += 1
            need(i < len(toks) and toks[i] == "(", "found '%s', expected: '('" % (
                toks[i] if i < len(toks) else ""))
            i += 1
            values = set()
            while i < len(toks) and toks[i] != ")":
                if toks[i] != ",":
                    need(_VALUE.match(toks[i]), "invalid label value: %r" % toks[i])
                    values.add(toks[i])
                i += 1
            need(i < len(toks), "found '', expected: ')'")
            i += 1
            requirements.append((op, key, values))
        else:
            raise SelectorError("unable to parse requirement: found '%s', expected: "
                                "'=', '!=', '==', 'in', notin'" % op)
        if i < len(toks):
            need(toks[i] == ",", "found '%s', expected: ',' or 'end of string'" % toks[i])
            i += 1

    def matches(labels):
        labels = labels or {}
        for op, key, value in requirements:
            present = key in labels
            if op == "exists" and not present:
                return False
            if op == "!" and present:
                return False
            if op == "=" and labels.get(key) != value:
                return False
            if op == "!=" and present and labels[key] == value:
                return False
            if op == "in" and labels.get(key) not in value:
                return False
            if op == "notin" and present and labels[key] in value:
                return False
        return True

    return matches


def _split_unescaped(text, sep):
    parts, cur, i = [], "", 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            cur += text[i:i + 2]
            i += 2
            continue
        if text[i] == sep:
            parts.append(cur)
            cur = ""
        else:
            cur += text[i]
        i += 1
    parts.append(cur)
    return parts


def _unescape(value):
    return re.sub(r"\\(.)", r"\1", value)


def field_value(obj, label):
    """The string value of a field label on a stored object ('' if unset)."""
    cur = obj
    for part in label.split("."):
        if not isinstance(cur, dict):
            return ""
        cur = cur.get(part)
    if label == "source" and isinstance(obj.get("source"), dict):
        cur = obj["source"].get("component", "")
    if cur is None:
        return ""
    return cur if isinstance(cur, str) else str(cur)


def parse_field_selector(text, allowed):
    """Parse `metadata.name=x,type!=y` into a predicate; `allowed` = field labels."""
    terms = []
    for part in _split_unescaped(text or "", ","):
        if not part:
            continue
        for op in ("!=", "==", "="):
            idx = part.find(op)
            if idx > 0:
                field, value = part[:idx], _unescape(part[idx + len(op):])
                break
        else:
            raise SelectorError("invalid selector: '%s'; can't understand '%s'" % (text, part))
        if field not in allowed:
            raise SelectorError('field label not supported: %s' % field)
        terms.append((field, op != "!=", value))

    def matches(obj):
        return all((field_value(obj, f) == v) == eq for f, eq, v in terms)

    return matches
