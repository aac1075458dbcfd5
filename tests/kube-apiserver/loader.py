"""Manifest loading for `--load`: files or directories of YAML/JSON.

Multi-document YAML (flow style included) needs PyYAML, which Debian's
python3-kubernetes pulls in; without it only JSON files load and YAML files
fail with a clear error. `kind: List` (and `*List`) documents are flattened.
"""

import json
import os

try:
    import yaml
except ImportError:      # JSON-only mode
    yaml = None


class LoadError(Exception):
    """A manifest that cannot be read; the message names file and document."""


def _files(path):
    if os.path.isdir(path):
        for name in sorted(os.listdir(path)):
            if name.endswith((".yaml", ".yml", ".json")):
                yield os.path.join(path, name)
    elif os.path.exists(path):
        yield path
    else:
        raise LoadError("%s: no such file or directory" % path)


def _documents(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if path.endswith(".json") or (yaml is None and text.lstrip().startswith(("{", "["))):
        try:
            return [json.loads(text)]
        except ValueError as e:
            raise LoadError("%s: invalid JSON: %s" % (path, e))
    if yaml is None:
        raise LoadError("%s: YAML needs the python3-yaml package (JSON files load without it)"
                        % path)
    try:
        return list(yaml.safe_load_all(text))
    except yaml.YAMLError as e:
        raise LoadError("%s: invalid YAML: %s" % (path, e))


def load(paths):
    """Yield (where, object) for every object in the given files/directories.

    `where` is "FILE document N" (1-based) for error messages.
    """
    for top in paths:
        for path in _files(top):
            for index, doc in enumerate(_documents(path), 1):
                if doc is None:
                    continue
                where = "%s document %d" % (path, index)
                if not isinstance(doc, dict):
                    raise LoadError("%s: not an object" % where)
                if doc.get("kind", "").endswith("List") and isinstance(doc.get("items"), list):
                    for item in doc["items"]:
                        yield where, item
                else:
                    yield where, doc
