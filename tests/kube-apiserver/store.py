"""The object store: one global resourceVersion, an event log, watchers.

Like etcd behind kube-apiserver, every write to any kind takes the next
value of one global revision counter, so list RVs are >= every item's RV and
RVs seen by one watch have gaps. Every write is appended to an event log that
keeps the last `window` events (and can be compacted on demand); watches
from an RV older than the log, and continue tokens and exact-RV lists older
than it, expire with 410.

Stored objects are immutable dicts without kind/apiVersion; every write
replaces the dict. Callers must deep-copy before changing a returned object.
"""

import base64
import collections
import copy
import datetime
import json
import random
import threading
import uuid

import apierrors
import patch as patching
import resources

# a PATCH admitted by webhooks is applied again when the object changed
# during the call (Store.patch)
PATCH_TRIES = 5


def now_rfc3339():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def key_string(key):
    """`ns/name` (or `name` when cluster-scoped): the etcd key order lists use."""
    ns, name = key
    return ns + "/" + name if ns else name


CRDS = "customresourcedefinitions.apiextensions.k8s.io"

Event = collections.namedtuple("Event", "rv type storage key obj prev")
"""One committed change. `obj` is the new state (for DELETED: the last state
with the deletion RV); `prev` is the state before (None for ADDED)."""


class Subscription:
    """A watcher's private queue of events, filled by every commit."""

    def __init__(self):
        self.queue = collections.deque()


def encode_continue(rv, last_key):
    """The continue token format of apiserver storage (base64 of JSON)."""
    raw = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": last_key + "\u0000"},
                     separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_continue(token):
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if data.get("v") != "meta.k8s.io/v1":
            raise ValueError
        return int(data["rv"]), data["start"]
    except (ValueError, KeyError, TypeError):
        raise apierrors.bad_request("continue key is not valid: incorrect encoded start "
                                    "resourceVersion (version meta.k8s.io/v1)")


class Store:
    """All objects of all kinds, guarded by one lock/condition."""

    def __init__(self, window=1000, first_rv=1000):
        self.cond = threading.Condition()
        self.rv = first_rv
        self.window = window
        self.floor = first_rv
        self.log = collections.deque()
        self.objects = collections.defaultdict(dict)  # storage -> {(ns, name): obj}
        self.subscriptions = set()
        self.allocator = resources.Allocator()
        for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
            self.create(resources.find("", "v1", "namespaces"), None,
                        {"metadata": {"name": ns}})

    # ------------------------------------------------------------ log
    def _commit(self, etype, storage, key, obj, prev):
        """Record a change under the lock; returns the stored object."""
        self.rv += 1
        obj = copy.deepcopy(obj)
        obj["metadata"]["resourceVersion"] = str(self.rv)
        if etype == "DELETED":
            self.objects[storage].pop(key, None)
        else:
            self.objects[storage][key] = obj
        event = Event(self.rv, etype, storage, key, obj, prev)
        self.log.append(event)
        while len(self.log) > self.window:
            self.floor = self.log.popleft().rv
        for sub in self.subscriptions:
            sub.queue.append(event)
        self.cond.notify_all()
        if storage == CRDS:
            self._crd_changed(etype, obj)
        return obj

    def _crd_changed(self, etype, crd):
        """Serve a CRD's kinds once it is stored; a deleted CRD takes its
        custom resources with it (apiextensions-apiserver's finalizer)."""
        if etype != "DELETED":
            resources.register_crd(crd)
            return
        resources.unregister_crd(crd["metadata"]["name"])
        storage = crd["metadata"]["name"]
        for key, obj in sorted(self.objects[storage].items()):
            self._commit("DELETED", storage, key, obj, obj)

    def compact(self):
        """Forget all history (like an etcd compaction at the current revision)."""
        with self.cond:
            self.log.clear()
            self.floor = self.rv
            return self.rv

    def set_window(self, window):
        with self.cond:
            self.window = max(1, int(window))
            while len(self.log) > self.window:
                self.floor = self.log.popleft().rv

    def too_old(self, rv):
        """The 410 message for a watch from `rv`, or None if history covers it."""
        if rv < self.floor:
            return "too old resource version: %d (%d)" % (rv, self.floor)
        return None

    def subscribe(self, storage, since):
        """Register a watcher; returns (subscription, initial events, current RV).

        since=None: the current objects of `storage` as synthetic ADDED events.
        since=RV: the logged events after RV (ApiError 410 when compacted).
        """
        with self.cond:
            if since is None:
                objs = self.objects[storage]
                initial = [Event(int(objs[k]["metadata"]["resourceVersion"]), "ADDED", storage,
                                 k, objs[k], None)
                           for k in sorted(objs, key=key_string)]
            else:
                message = self.too_old(since)
                if message:
                    raise apierrors.expired(message)
                initial = [e for e in self.log if e.rv > since]
            sub = Subscription()
            self.subscriptions.add(sub)
            return sub, initial, self.rv

    def unsubscribe(self, sub):
        with self.cond:
            self.subscriptions.discard(sub)

    def wait_for_rv(self, rv, timeout):
        """Wait until the store has reached `rv`; False on timeout."""
        with self.cond:
            return self.cond.wait_for(lambda: self.rv >= rv, timeout)

    # ------------------------------------------------------------ reads
    def get(self, res, ns, name):
        with self.cond:
            obj = self.objects[res.storage].get((ns or "", name))
        if obj is None:
            raise apierrors.not_found(res, name)
        return obj

    def _snapshot(self, storage, rv):
        """The objects of `storage` as they were at revision `rv` (under lock)."""
        if rv < self.floor:
            return None
        state = dict(self.objects[storage])
        for event in reversed(self.log):
            if event.rv <= rv:
                break
            if event.storage != storage:
                continue
            if event.prev is None:
                state.pop(event.key, None)
            else:
                state[event.key] = event.prev
        return state

    def list(self, res, ns, match, limit=0, token=None, exact_rv=None):
        """List objects of `res` in `ns` (None = all) for which match(obj) holds.

        Returns (items, list RV, continue token, remaining count or None).
        `token` continues a paged list; `exact_rv` lists the state at that RV.
        """
        with self.cond:
            start = ""
            if token:
                snap_rv, start = decode_continue(token)
                if snap_rv < 0:        # token from an expired list: current state
                    snap_rv = self.rv
            elif exact_rv is not None:
                snap_rv = exact_rv
            else:
                snap_rv = self.rv
            state = self._snapshot(res.storage, snap_rv)
            if state is None and token:
                raise apierrors.expired(
                    "The provided continue parameter is too old to display a consistent list "
                    "result. You can start a new list without the continue parameter, or use "
                    "the continue token in this response to retrieve the remainder of the "
                    "results. Continuing with the provided token results in an inconsistent "
                    "list - objects that were created, modified, or deleted between the time "
                    "the first chunk was returned and now may show up in the list.",
                    {"continue": encode_continue(-1, start.rstrip("\u0000"))})
            if state is None:
                raise apierrors.expired("The resourceVersion for the provided list is too old.")
        keys = sorted((k for k in state if (ns is None or k[0] == ns) and key_string(k) >= start),
                      key=key_string)
        keys = [k for k in keys if match(state[k])]
        if limit and len(keys) > limit:
            cont = encode_continue(snap_rv, key_string(keys[limit - 1]))
            return [state[k] for k in keys[:limit]], snap_rv, cont, len(keys) - limit
        return [state[k] for k in keys], snap_rv, "", None

    # ------------------------------------------------------------ writes
    def create(self, res, ns, body, dry_run=False):
        """POST: returns the stored object (without kind/apiVersion)."""
        obj = resources.to_stored(res, copy.deepcopy(body))
        obj.pop("kind", None)
        obj.pop("apiVersion", None)
        meta = obj.setdefault("metadata", {})
        if meta.get("resourceVersion"):
            raise apierrors.bad_request("resourceVersion should not be set on objects to be created")
        if res.namespaced:
            if meta.get("namespace") not in (None, "", ns):
                raise apierrors.bad_request("the namespace of the provided object does not match "
                                            "the namespace sent on the request")
            meta["namespace"] = ns
        else:
            meta.pop("namespace", None)
        if not meta.get("name"):
            if not meta.get("generateName"):
                raise apierrors.invalid(res, "", [("metadata.name", "FieldValueRequired",
                                                   "Required value: name or generateName is required")])
            meta["name"] = meta["generateName"] + "".join(
                random.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(5))
        with self.cond:
            if res.namespaced and ("", ns) not in self.objects["namespaces"]:
                raise apierrors.not_found(resources.find("", "v1", "namespaces"), ns)
            key = (ns or "", meta["name"])
            if key in self.objects[res.storage]:
                raise apierrors.already_exists(res, meta["name"])
            resources.apply_defaults(res, obj, self.allocator, self.list_storage_locked)
            causes = resources.validate(res, obj)
            if causes:
                raise apierrors.invalid(res, meta["name"], causes)
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = now_rfc3339()
            if res.generation_fields:
                meta["generation"] = 1
            for field in ("deletionTimestamp", "deletionGracePeriodSeconds"):
                meta.pop(field, None)
            if dry_run:
                return obj
            return self._commit("ADDED", res.storage, key, obj, None)

    def list_storage_locked(self, storage):
        return list(self.objects[storage].values())

    def update(self, res, ns, name, body, subresource=None, dry_run=False):
        """PUT (also the second half of PATCH): returns (object, created)."""
        obj = resources.to_stored(res, copy.deepcopy(body))
        obj.pop("kind", None)
        obj.pop("apiVersion", None)
        meta = obj.setdefault("metadata", {})
        if meta.get("name", name) != name:
            raise apierrors.bad_request("the name of the object (%s) does not match the name on "
                                        "the URL (%s)" % (meta.get("name"), name))
        if res.namespaced and meta.get("namespace") not in (None, "", ns):
            raise apierrors.bad_request("the namespace of the provided object does not match "
                                        "the namespace sent on the request")
        meta["name"] = name
        with self.cond:
            old = self.objects[res.storage].get((ns or "", name))
            if old is None:
                if res.create_on_update and not subresource:
                    meta.pop("resourceVersion", None)
                    return self.create(res, ns, obj, dry_run), True
                raise apierrors.not_found(res, name)
            want = meta.get("resourceVersion")
            if want and want != old["metadata"]["resourceVersion"]:
                raise apierrors.stale(res, name)
            if not want and not res.unconditional_update:
                raise apierrors.invalid(res, name, [(
                    "metadata.resourceVersion", "FieldValueInvalid",
                    "Invalid value: 0x0: must be specified for an update")])
            if subresource != "status":
                resources.apply_defaults(res, obj, self.allocator, self.list_storage_locked, old)
            new = resources.prepare_update(res, old, obj, subresource)
            new["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
            causes = resources.validate(res, new, old)
            if causes:
                raise apierrors.invalid(res, name, causes)
            if new == old:
                return old, False
            if dry_run:
                return new, False
            key = (ns or "", name)
            meta = new["metadata"]
            if meta.get("deletionTimestamp") and not meta.get("finalizers"):
                return self._commit("DELETED", res.storage, key, new, old), False
            return self._commit("MODIFIED", res.storage, key, new, old), False

    def _patched(self, res, ns, name, content_type, body, decode):
        """(current object, the patch applied to it), under the lock."""
        current = resources.from_stored(res, self.get(res, ns, name))
        if content_type == "application/json-patch+json":
            patched = patching.json_patch(current, body)
        elif content_type == "application/merge-patch+json":
            patched = patching.merge_patch(current, body)
        else:
            patched = patching.strategic_merge_patch(current, body, res.kind)
        if not isinstance(patched, dict):
            raise apierrors.bad_request("the patch did not produce an object")
        if decode is not None:
            patched = decode(patched)
        patched.setdefault("metadata", {})
        return current, patched

    def patch(self, res, ns, name, content_type, body, subresource=None, dry_run=False,
              decode=None, admit=None):
        """PATCH with a merge, JSON or strategic merge patch; returns the object.

        `decode(obj)` (field validation) sees the patched object first.
        `admit(patched, current)` (validating webhooks, admission.py) is
        called outside the lock, as kube-apiserver's GuaranteedUpdate calls
        it between its read and its compare-and-swap: when the object
        changed meanwhile, the patch is applied to the new one and admitted
        again (at most PATCH_TRIES times, then 409 Conflict)."""
        for _ in range(PATCH_TRIES):
            with self.cond:
                current, patched = self._patched(res, ns, name, content_type, body,
                                                  decode)
                if admit is None:
                    return self.update(res, ns, name, patched, subresource, dry_run)[0]
                seen = current["metadata"].get("resourceVersion")
            admit(patched, current)
            with self.cond:
                now = self.get(res, ns, name)
                if now["metadata"].get("resourceVersion") != seen:
                    continue
                return self.update(res, ns, name, patched, subresource, dry_run)[0]
        raise apierrors.stale(res, name)

    def delete(self, res, ns, name, options=None, dry_run=False):
        """DELETE: returns (object, deleted now?)."""
        pre = (options or {}).get("preconditions") or {}
        with self.cond:
            old = self.get(res, ns, name)
            meta = old["metadata"]
            if pre.get("uid") and pre["uid"] != meta["uid"]:
                raise apierrors.conflict(res, name, "Precondition failed: UID in precondition: %s, "
                                         "UID in object meta: %s" % (pre["uid"], meta["uid"]))
            if pre.get("resourceVersion") and pre["resourceVersion"] != meta["resourceVersion"]:
                raise apierrors.conflict(res, name, "Precondition failed: ResourceVersion in "
                                         "precondition: %s, ResourceVersion in object meta: %s"
                                         % (pre["resourceVersion"], meta["resourceVersion"]))
            if dry_run:
                return old, True
            key = (ns or "", name)
            if res.kind == "Namespace":
                return self._delete_namespace(res, old), False
            if meta.get("finalizers"):
                if meta.get("deletionTimestamp"):
                    return old, False
                new = copy.deepcopy(old)
                new["metadata"]["deletionTimestamp"] = now_rfc3339()
                new["metadata"]["deletionGracePeriodSeconds"] = 0
                return self._commit("MODIFIED", res.storage, key, new, old), False
            return self._commit("DELETED", res.storage, key, old, old), True

    def _delete_namespace(self, res, old):
        """Namespace deletion: Terminating, contents deleted, then the namespace.

        The namespace controller's work happens synchronously here; the
        response is the Terminating namespace, as from a real server.
        """
        name = old["metadata"]["name"]
        terminating = copy.deepcopy(old)
        terminating["metadata"]["deletionTimestamp"] = now_rfc3339()
        terminating["status"] = {"phase": "Terminating"}
        terminating = self._commit("MODIFIED", res.storage, ("", name), terminating, old)
        for storage, objs in list(self.objects.items()):
            for key in sorted(k for k in objs if k[0] == name and storage != "namespaces"):
                self._commit("DELETED", storage, key, objs[key], objs[key])
        self._commit("DELETED", res.storage, ("", name), terminating, terminating)
        return terminating
