"""`Status` error objects as kube-apiserver writes them (apimachinery pkg/api/errors)."""


class ApiError(Exception):
    """An error answered as an HTTP status with a `Status` body."""

    def __init__(self, code, reason, message, details=None, headers=None, list_meta=None):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.headers = headers or {}
        self.list_meta = list_meta or {}

    def status(self):
        body = {"kind": "Status", "apiVersion": "v1", "metadata": dict(self.list_meta),
                "status": "Failure", "message": self.message}
        if self.reason:
            body["reason"] = self.reason
        if self.details:
            body["details"] = self.details
        body["code"] = self.code
        return body


def _details(res, name):
    details = {"name": name}
    if res.group:
        details["group"] = res.group
    details["kind"] = res.plural
    return details


def not_found(res, name):
    return ApiError(404, "NotFound", '%s "%s" not found' % (res.key, name), _details(res, name))


def already_exists(res, name):
    return ApiError(409, "AlreadyExists", '%s "%s" already exists' % (res.key, name),
                    _details(res, name))


def conflict(res, name, why):
    return ApiError(409, "Conflict", 'Operation cannot be fulfilled on %s "%s": %s'
                    % (res.key, name, why), _details(res, name))


def stale(res, name):
    return conflict(res, name, "the object has been modified; please apply your changes "
                               "to the latest version and try again")


def invalid(res, name, causes):
    """422 Invalid; `causes` = [(field, reason, message)]."""
    text = ", ".join("%s: %s" % (f, m) for f, _, m in causes)
    if len(causes) > 1:
        text = "[" + text + "]"
    details = _details(res, name)
    details["kind"] = res.kind
    details["causes"] = [{"reason": r, "message": m, "field": f} for f, r, m in causes]
    return ApiError(422, "Invalid", '%s "%s" is invalid: %s' % (res.kind, name, text), details)


def invalid_list_options(causes):
    """422 for bad ListOptions (apimachinery internalversion/validation)."""
    text = ", ".join("%s: Forbidden: %s" % (f, m) for f, m in causes)
    if len(causes) > 1:
        text = "[" + text + "]"
    return ApiError(422, "Invalid", 'ListOptions.meta.k8s.io "" is invalid: ' + text,
                    {"group": "meta.k8s.io", "kind": "ListOptions",
                     "causes": [{"reason": "FieldValueForbidden", "message": "Forbidden: " + m,
                                 "field": f} for f, m in causes]})


def bad_request(message):
    return ApiError(400, "BadRequest", message)


def expired(message, list_meta=None):
    return ApiError(410, "Expired", message, list_meta=list_meta)


def too_large_rv(rv, current):
    return ApiError(504, "Timeout", "Too large resource version: %s, current: %s" % (rv, current),
                    {"causes": [{"reason": "ResourceVersionTooLarge",
                                 "message": "Too large resource version"}],
                     "retryAfterSeconds": 1})


def method_not_allowed(method):
    return ApiError(405, "MethodNotAllowed", "the server does not allow this method on the "
                                             "requested resource")


def unauthorized():
    return ApiError(401, "Unauthorized", "Unauthorized")


def server_not_found():
    return ApiError(404, "NotFound", "the server could not find the requested resource",
                    {"causes": [{"reason": "UnexpectedServerResponse", "message": "404 page not found"}]})


def injected(code, retry_after=None, message=None):
    """A fault injected by /_admin/faults, shaped like the real server's."""
    reasons = {401: ("Unauthorized", "Unauthorized"),
               403: ("Forbidden", "forbidden: injected by the stand-in"),
               404: ("NotFound", "the server could not find the requested resource"),
               409: ("Conflict", "injected conflict"),
               410: ("Expired", "injected expiry"),
               429: ("TooManyRequests", "Too many requests, please try again later."),
               500: ("InternalError", "Internal error occurred: injected"),
               503: ("ServiceUnavailable", "the server is currently unable to handle the request"),
               504: ("Timeout", "the server was unable to return a response in the time allotted")}
    reason, default = reasons.get(code, ("", "injected status %d" % code))
    details, headers = None, {}
    if retry_after is not None:
        details = {"retryAfterSeconds": int(retry_after)}
        headers["Retry-After"] = str(int(retry_after))
    return ApiError(code, reason, message or default, details, headers)
