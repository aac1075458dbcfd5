"""PATCH bodies: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and
strategic merge patch for the kinds the stand-in serves.

Strategic merge (apimachinery pkg/util/strategicpatch) differs from a merge
patch only for lists that carry a patch strategy in the Go types. For our
kinds those are Service `spec.ports` (merge key `port`), `metadata.ownerReferences`
(merge key `uid`) and `metadata.finalizers` (merged primitive list); every
other list is atomic and replaced, as in a merge patch. The directives
`$patch` (replace/delete/merge), `$setElementOrder/<list>`,
`$deleteFromPrimitiveList/<list>` and `$retainKeys` are understood.
"""

import copy
import json


class PatchError(ValueError):
    """A patch that cannot be applied; `code` is the HTTP status to answer."""

    def __init__(self, message, code=422):
        super().__init__(message)
        self.code = code


def merge_patch(target, patch):
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


# ---------------------------------------------------------------- JSON patch
def _pointer(path):
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError('doc is missing path: "%s": missing value' % path)
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _walk(doc, parts, path):
    cur = doc
    for part in parts:
        if isinstance(cur, dict) and part in cur:
            cur = cur[part]
        elif isinstance(cur, list) and part.isdigit() and int(part) < len(cur):
            cur = cur[int(part)]
        else:
            raise PatchError('doc is missing path: "%s": missing value' % path)
    return cur


def _add(doc, parts, value, path):
    parent = _walk(doc, parts[:-1], path)
    last = parts[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        if last == "-":
            parent.append(value)
        elif last.isdigit() and int(last) <= len(parent):
            parent.insert(int(last), value)
        else:
            raise PatchError('add operation does not apply: doc is missing path: "%s"' % path)
    else:
        raise PatchError('add operation does not apply: doc is missing path: "%s"' % path)


def _remove(doc, parts, path):
    parent = _walk(doc, parts[:-1], path)
    last = parts[-1]
    if isinstance(parent, dict) and last in parent:
        return parent.pop(last)
    if isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        return parent.pop(int(last))
    raise PatchError('remove operation does not apply: doc is missing path: "%s": '
                     "missing value" % path)


def json_patch(target, ops):
    """RFC 6902 JSON patch: add, remove, replace, move, copy, test."""
    if not isinstance(ops, list):
        raise PatchError("json: cannot unmarshal object into Go value of type jsonpatch.Patch",
                         code=400)
    doc = copy.deepcopy(target)
    for op in ops:
        kind, path = op.get("op"), op.get("path", "")
        parts = _pointer(path)
        if kind == "add":
            if not parts:
                doc = copy.deepcopy(op.get("value"))
            else:
                _add(doc, parts, copy.deepcopy(op.get("value")), path)
        elif kind == "remove":
            _remove(doc, parts, path)
        elif kind == "replace":
            if not parts:
                doc = copy.deepcopy(op.get("value"))
                continue
            _walk(doc, parts, path)
            _remove(doc, parts, path)
            _add(doc, parts, copy.deepcopy(op.get("value")), path)
        elif kind in ("move", "copy"):
            src = op.get("from", "")
            value = copy.deepcopy(_walk(doc, _pointer(src), src))
            if kind == "move":
                _remove(doc, _pointer(src), src)
            _add(doc, parts, value, path)
        elif kind == "test":
            if _walk(doc, parts, path) != op.get("value"):
                raise PatchError("testing value %s failed: test failed" % path)
        else:
            raise PatchError("Unexpected kind: %s" % kind)
    return doc


# ---------------------------------------------------------------- strategic merge
# (kind, dotted path) -> merge key, or "" for a merged list of primitives.
_MERGE_LISTS = {
    ("*", "metadata.ownerReferences"): "uid",
    ("*", "metadata.finalizers"): "",
    ("Service", "spec.ports"): "port",
}


def _list_strategy(kind, path):
    return _MERGE_LISTS.get((kind, path), _MERGE_LISTS.get(("*", path)))


def strategic_merge_patch(target, patch, kind):
    """Strategic merge patch for an object of `kind`."""
    if not isinstance(patch, dict):
        raise PatchError("json: cannot unmarshal into map[string]interface{}", code=400)
    return _smp_map(copy.deepcopy(target) if isinstance(target, dict) else {}, patch, kind, "")


def _smp_map(out, patch, kind, path):
    directive = patch.get("$patch")
    if directive == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if directive == "delete":
        return None
    retain = patch.get("$retainKeys")
    for key, value in patch.items():
        if key in ("$patch", "$retainKeys") or key.startswith("$setElementOrder/"):
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            if isinstance(out.get(field), list):
                out[field] = [v for v in out[field] if v not in value]
            continue
        sub = path + "." + key if path else key
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict):
            merged = _smp_map(out.get(key) if isinstance(out.get(key), dict) else {},
                              value, kind, sub)
            if merged is None:
                out.pop(key, None)
            else:
                out[key] = merged
        elif isinstance(value, list) and _list_strategy(kind, sub) is not None:
            out[key] = _smp_list(out.get(key) or [], value, _list_strategy(kind, sub),
                                 patch.get("$setElementOrder/" + key), kind, sub)
        else:
            out[key] = copy.deepcopy(value)
    if retain is not None:
        for key in list(out):
            if key not in retain:
                del out[key]
    return out


def _smp_list(current, patch, merge_key, order, kind, path):
    if merge_key == "":
        result = list(current) + [v for v in patch if v not in current]
    else:
        if any(isinstance(p, dict) and p.get("$patch") == "replace" for p in patch):
            return [p for p in copy.deepcopy(patch) if p.get("$patch") != "replace"]
        result = copy.deepcopy(current)
        for item in patch:
            if not isinstance(item, dict) or merge_key not in item:
                raise PatchError("map: %s does not contain declared merge key: %s"
                                 % (json.dumps(item), merge_key), code=400)
            idx = next((i for i, cur in enumerate(result)
                        if cur.get(merge_key) == item[merge_key]), None)
            if item.get("$patch") == "delete":
                if idx is not None:
                    del result[idx]
            elif idx is None:
                result.append(_smp_map({}, item, kind, path))
            else:
                result[idx] = _smp_map(result[idx], item, kind, path)
    if order:
        def rank(item):
            probe = item if merge_key == "" else {merge_key: item.get(merge_key)}
            for i, wanted in enumerate(order):
                if (wanted == probe if merge_key == "" else
                        wanted.get(merge_key) == probe[merge_key]):
                    return i
            return len(order)
        result.sort(key=rank)
    return result
