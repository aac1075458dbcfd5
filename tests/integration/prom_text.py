"""A strict reader of the Prometheus text exposition format (0.0.4), for
the tests: what Prometheus' own parser accepts, and a little less (no
trailing comma in a label set, no untyped families mixed with typed ones
of the same name).

    fams = parse(text)          # raises ExpositionError on any fault
    fams["x"].type              # "counter", "histogram", ...
    fams["x"].samples           # [(name, {label: value}, float), ...]
    value(fams, "x", a="1")     # the one sample of x with those labels

Checks, besides the syntax of every line: a family's # TYPE and # HELP
come at most once each and before its samples; a family's samples are
contiguous; no sample appears twice; sample names belong to their family
(a histogram's X_bucket, X_sum, X_count); label values are valid escapes
(\\\\, \\", \\n only) of UTF-8; per histogram series, the `le` buckets are
in increasing order, end with +Inf, are cumulative, and +Inf equals
_count."""

import math
import re

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")
FLOAT = re.compile(r"[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?"
                   r"|Inf|inf|NaN)")


class ExpositionError(AssertionError):
    pass


class Family:
    def __init__(self, name):
        self.name = name
        self.type = None
        self.help = None
        self.samples = []

    def __repr__(self):
        return "<Family %s %s %d samples>" % (self.name, self.type,
                                              len(self.samples))


def _fail(lineno, line, why):
    raise ExpositionError("line %d: %s: %r" % (lineno, why, line[:300]))


def _labels(s, lineno, line):
    """'{a="x",b="y"}' rest -> (dict, rest)."""
    labels = {}
    i = 1
    if s[i:i + 1] == "}":
        return labels, s[i + 1:]
    while True:
        m = LABEL.match(s, i)
        if not m:
            _fail(lineno, line, "bad label name")
        name = m.group(0)
        if name.startswith("__"):
            _fail(lineno, line, "reserved label name %s" % name)
        i = m.end()
        if s[i:i + 2] != '="':
            _fail(lineno, line, "expected =\" after %s" % name)
        i += 2
        out = []
        while True:
            if i >= len(s):
                _fail(lineno, line, "unterminated label value")
            ch = s[i]
            if ch == "\\":
                nxt = s[i + 1:i + 2]
                if nxt not in ("\\", '"', "n"):
                    _fail(lineno, line, "bad escape \\%s" % nxt)
                out.append("\n" if nxt == "n" else nxt)
                i += 2
                continue
            if ch == '"':
                i += 1
                break
            out.append(ch)
            i += 1
        if name in labels:
            _fail(lineno, line, "label %s twice" % name)
        labels[name] = "".join(out)
        if s[i:i + 1] == ",":
            i += 1
            if s[i:i + 1] == "}":
                _fail(lineno, line, "trailing comma in the label set")
            continue
        if s[i:i + 1] == "}":
            return labels, s[i + 1:]
        _fail(lineno, line, "expected , or } after a label")


def _value(v, lineno, line):
    if not FLOAT.fullmatch(v):
        _fail(lineno, line, "bad value %r" % v)
    return float(v)


def _family_of(name, fams):
    """The family a sample name belongs to (histogram/summary suffixes)."""
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix):
            base = name[:-len(suffix)]
            f = fams.get(base)
            if f is not None and f.type in ("histogram", "summary"):
                if suffix == "_bucket" and f.type != "histogram":
                    continue
                return base
    return name


def parse(text):
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ExpositionError("not UTF-8: %s" % e)
    if text and not text.endswith("\n"):
        raise ExpositionError("the text does not end with a newline")
    fams = {}
    done = set()            # families whose samples are over
    current = None
    seen = set()
    for lineno, line in enumerate(text.split("\n")[:-1], 1):
        if line == "":
            continue
        if line.startswith("#"):
            w = line.split(" ", 3)
            if len(w) >= 3 and w[1] in ("HELP", "TYPE"):
                name = w[2]
                if not NAME.fullmatch(name):
                    _fail(lineno, line, "bad metric name")
                f = fams.setdefault(name, Family(name))
                if name in done or f.samples:
                    _fail(lineno, line, "%s after the samples of %s"
                          % (w[1], name))
                if w[1] == "TYPE":
                    if f.type is not None:
                        _fail(lineno, line, "second TYPE")
                    if len(w) != 4 or w[3] not in TYPES:
                        _fail(lineno, line, "bad type")
                    f.type = w[3]
                else:
                    if f.help is not None:
                        _fail(lineno, line, "second HELP")
                    doc = w[3] if len(w) == 4 else ""
                    if re.search(r"\\[^\\n]", doc.replace("\\\\", "")):
                        _fail(lineno, line, "bad escape in HELP")
                    f.help = doc
            continue
        m = NAME.match(line)
        if not m:
            _fail(lineno, line, "bad metric name")
        name = m.group(0)
        rest = line[m.end():]
        labels = {}
        if rest.startswith("{"):
            labels, rest = _labels(rest, lineno, line)
        if not rest.startswith(" "):
            _fail(lineno, line, "expected a blank before the value")
        parts = rest[1:].split(" ")
        if len(parts) not in (1, 2) or "" in parts:
            _fail(lineno, line, "expected VALUE [TIMESTAMP]")
        value = _value(parts[0], lineno, line)
        if len(parts) == 2 and not re.fullmatch(r"-?\d+", parts[1]):
            _fail(lineno, line, "bad timestamp")
        base = _family_of(name, fams)
        f = fams.setdefault(base, Family(base))
        if f.type is None:
            f.type = "untyped"
        if base != current:
            if base in done:
                _fail(lineno, line, "samples of %s are not contiguous" % base)
            if current is not None:
                done.add(current)
            current = base
        key = (name, tuple(sorted(labels.items())))
        if key in seen:
            _fail(lineno, line, "duplicate sample")
        seen.add(key)
        if f.type == "histogram" and name == base:
            _fail(lineno, line, "histogram sample without a suffix")
        if f.type in ("counter", "gauge", "untyped") and name != base:
            _fail(lineno, line, "sample name does not match its family")
        f.samples.append((name, labels, value))
    for f in fams.values():
        if f.type == "histogram":
            _check_histogram(f)
    return fams


def _le(v):
    return math.inf if v == "+Inf" else float(v)


def _check_histogram(f):
    series = {}
    for name, labels, value in f.samples:
        rest = dict(labels)
        le = rest.pop("le", None)
        key = tuple(sorted(rest.items()))
        s = series.setdefault(key, {"buckets": [], "sum": None,
                                    "count": None})
        if name == f.name + "_bucket":
            if le is None:
                raise ExpositionError("%s: bucket without le" % f.name)
            s["buckets"].append((_le(le), value))
        elif le is not None:
            raise ExpositionError("%s: le on %s" % (f.name, name))
        elif name == f.name + "_sum":
            s["sum"] = value
        else:
            s["count"] = value
    for key, s in series.items():
        b = s["buckets"]
        where = "%s%s" % (f.name, dict(key))
        if not b or b[-1][0] != math.inf:
            raise ExpositionError("%s: no +Inf bucket" % where)
        if any(b[i][0] >= b[i + 1][0] for i in range(len(b) - 1)):
            raise ExpositionError("%s: le not increasing" % where)
        if any(b[i][1] > b[i + 1][1] for i in range(len(b) - 1)):
            raise ExpositionError("%s: buckets not cumulative" % where)
        if s["sum"] is None or s["count"] is None:
            raise ExpositionError("%s: _sum or _count missing" % where)
        if s["count"] != b[-1][1]:
            raise ExpositionError("%s: _count %s != +Inf bucket %s"
                                  % (where, s["count"], b[-1][1]))


def samples(fams, name, **labels):
    """Samples named `name` (a family or X_bucket/_sum/_count) whose labels
    include `labels`: [(labels, value)]."""
    base = _family_of(name, fams)
    f = fams.get(base)
    if f is None:
        return []
    return [(lb, v) for n, lb, v in f.samples
            if n == name and all(lb.get(k) == x for k, x in labels.items())]


def value(fams, name, **labels):
    """The value of the one sample of `name` with these labels (exactly
    one must match)."""
    found = samples(fams, name, **labels)
    if len(found) != 1:
        raise AssertionError("%d samples of %s%s: %s" % (
            len(found), name, labels, [lb for lb, _ in found][:5]))
    return found[0][1]


def buckets(fams, name, **labels):
    """{le: cumulative count} of one histogram series."""
    return {lb["le"]: v for lb, v in samples(fams, name + "_bucket",
                                             **labels)}
