#!/usr/bin/python3
"""Write the hand-made seeds under tests/fuzz/seeds/TARGET/ (committed;
re-run after changing this file).  Binary layouts are those documented at
the top of each fuzz_TARGET.c."""

import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def put(target, name, data):
    d = os.path.join(HERE, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


def slice_obj(name='web-abc', svc='web', rv='7', addrs=('10.0.0.1',),
              family='IPv4', port=8080, pname='http'):
    return {
        'apiVersion': 'discovery.k8s.io/v1', 'kind': 'EndpointSlice',
        'metadata': {
            'name': name, 'namespace': 'shop', 'resourceVersion': rv,
            'labels': {'kubernetes.io/service-name': svc},
            'annotations': {'endpoints.kubernetes.io/last-change-trigger-time':
                            '2026-03-01T10:05:12Z'}},
        'addressType': family,
        'ports': [{'name': pname, 'port': port, 'protocol': 'TCP'}],
        'endpoints': [{'addresses': [a],
                       'conditions': {'ready': i % 2 == 0, 'serving': True,
                                      'terminating': i % 2 == 1},
                       'nodeName': 'n1', 'zone': 'z1',
                       'targetRef': {'kind': 'Pod', 'name': 'p%d' % i},
                       'hints': {'forZones': [{'name': 'z1'}]}}
                      for i, a in enumerate(addrs)]}


def main():
    # --- endpointslice: one slice, or two separated by \n---\n
    a = slice_obj(addrs=('10.0.0.1', '10.0.0.2', '10.0.0.1'))
    b = slice_obj(name='web-def', addrs=('fd00::1', 'fd00::2'),
                  family='IPv6')
    put('endpointslice', 'v4', json.dumps(a))
    put('endpointslice', 'v6', json.dumps(b))
    put('endpointslice', 'two', json.dumps(a) + '\n---\n' + json.dumps(b))
    c = slice_obj(name='x', addrs=('1.2.3.4',), pname='')
    c['ports'].append({'port': None})
    c['endpoints'].append({'addresses': []})
    c['endpoints'].append({'addresses': ['999.1.1.1']})
    put('endpointslice', 'odd', json.dumps(c))

    # --- watch_event: one line each
    for t in ('ADDED', 'MODIFIED', 'DELETED'):
        put('watch_event', t.lower(),
            json.dumps({'type': t, 'object': a}))
    put('watch_event', 'bookmark', json.dumps({
        'type': 'BOOKMARK', 'object': {
            'kind': 'EndpointSlice', 'apiVersion': 'discovery.k8s.io/v1',
            'metadata': {'resourceVersion': '12',
                         'annotations': {'k8s.io/initial-events-end':
                                         'true'}}}}))
    put('watch_event', 'error', json.dumps({
        'type': 'ERROR', 'object': {
            'kind': 'Status', 'apiVersion': 'v1', 'status': 'Failure',
            'message': 'too old resource version: 1 (5)', 'reason':
            'Expired', 'code': 410,
            'details': {'retryAfterSeconds': 3}}}))

    # --- framer: mode byte, chunk seed byte, stream
    lines = b''.join(json.dumps({'type': 'ADDED', 'object': a}).encode()
                     + b'\n' for _ in range(3))
    put('framer', 'events', b'\x06\x11' + lines)
    put('framer', 'crlf', b'\x05\x07' + b'{"a":1}\r\n\r\n\n{"b":2}\r\n{"c"')
    put('framer', 'overmax', b'\x04\x03' + b'x' * 100 + b'\nshort\n')
    put('framer', 'feed', b'\x0e\x21' + lines + b'tail')
    put('framer', 'bigchunks', b'\x37\x05' + lines * 4)

    # --- listwatch: ops (see fuzz_listwatch.c)
    def body(data):
        data = data.encode() if isinstance(data, str) else data
        out = b''
        while data:
            chunk, data = data[:2000], data[2000:]
            if len(chunk) >= 255:
                out += b'\x03\xff' + struct.pack('<H', len(chunk)) + chunk
            else:
                out += b'\x03' + bytes([len(chunk)]) + chunk
        return out

    def header(h):
        return b'\x01' + bytes([len(h)]) + h.encode()

    NEXT, OK = b'\x00', b'\x04\x00'
    st = {200: 0, 401: 5, 403: 6, 410: 8, 429: 9, 500: 10, 503: 11}

    def status(code):
        return b'\x02' + bytes([st[code]])

    s1 = slice_obj(name='a', rv='5')
    s2 = slice_obj(name='b', rv='6')
    page1 = json.dumps({'kind': 'EndpointSliceList', 'apiVersion':
                        'discovery.k8s.io/v1', 'metadata': {
                            'resourceVersion': '10', 'continue': 'tok1'},
                        'items': [s1, s2]})
    page2 = json.dumps({'kind': 'EndpointSliceList', 'apiVersion':
                        'discovery.k8s.io/v1',
                        'metadata': {'resourceVersion': '10'},
                        'items': [slice_obj(name='c', rv='9')]})
    ev = ''.join(json.dumps({'type': t, 'object': slice_obj(rv=str(11 + i))})
                 + '\n' for i, t in enumerate(('ADDED', 'MODIFIED',
                                               'DELETED')))
    bm = json.dumps({'type': 'BOOKMARK', 'object': {
        'kind': 'EndpointSlice', 'metadata': {'resourceVersion': '20'}}}) + '\n'
    gone = json.dumps({'type': 'ERROR', 'object': {
        'kind': 'Status', 'code': 410, 'reason': 'Expired',
        'message': 'too old'}}) + '\n'
    status_obj = json.dumps({'kind': 'Status', 'code': 429, 'reason':
                             'TooManyRequests', 'details':
                             {'retryAfterSeconds': 2}})

    happy = (NEXT + status(200) + body(page1) + OK
             + NEXT + status(200) + body(page2) + OK
             + NEXT + status(200) + body(ev) + body(bm) + OK
             + NEXT + status(200) + body(gone) + OK
             + b'\x05\x20' + NEXT + status(200) + body(page2) + OK + NEXT)
    put('listwatch', 'happy', happy)
    put('listwatch', 'split', NEXT + status(200)
        + b''.join(b'\x03\x01' + bytes([c]) for c in page2.encode()) + OK
        + NEXT + status(200)
        + b''.join(b'\x03\x03' + ev.encode()[i:i + 3]
                   for i in range(0, len(ev), 3)) + OK + NEXT)
    put('listwatch', 'errors', NEXT + header('Retry-After: 3') + status(429)
        + body(status_obj) + OK + NEXT + b'\x05\x40' + NEXT + status(401)
        + OK + b'\x07' + b'\x05\xff' + NEXT + status(403) + OK
        + b'\x05\xff' + NEXT + status(500) + b'\x04\x02' + b'\x05\xff'
        + NEXT + status(200) + body(page1) + status(503) + OK
        + b'\x05\xff' + NEXT + b'\x04\x01' + b'\x06' + NEXT + b'\x09')
    put('listwatch', 'reject', b'\x08\x01' + NEXT + status(200) + body(page2)
        + OK + b'\x05\xff' + NEXT + status(200) + body(page2) + OK
        + NEXT + b'\x08\x01' + status(200) + body(ev) + OK + b'\x05\xff'
        + NEXT)
    put('listwatch', 'truncated', NEXT + status(200) + body(page1[:50])
        + OK + b'\x05\xff' + NEXT + status(200) + body(page1)
        + status(410) + OK)

    # --- kubeconfig: mode byte (1: base dir, 2: context "dev"), text
    kc = ('apiVersion: v1\nkind: Config\ncurrent-context: kind-kind\n'
          'clusters:\n- name: kind-kind\n  cluster:\n'
          '    server: https://127.0.0.1:6443\n'
          '    certificate-authority-data: TFMwdExTMUNSVWQ=\n'
          'contexts:\n- name: kind-kind\n  context:\n'
          '    cluster: kind-kind\n    user: kind-kind\n    namespace: shop\n'
          '- name: dev\n  context: {cluster: kind-kind, user: tok}\n'
          'users:\n- name: kind-kind\n  user:\n'
          '    client-certificate: certs/c.pem\n'
          '    client-key-data: TFMwdExTMUNSVWQ=\n'
          '- name: tok\n  user:\n    tokenFile: ../token\n'
          '    token: abc\n')
    put('kubeconfig', 'yaml', b'\x00' + kc.encode())
    put('kubeconfig', 'yaml-ctx', b'\x03' + kc.encode())
    put('kubeconfig', 'json', b'\x01' + json.dumps({
        'kind': 'Config', 'apiVersion': 'v1', 'current-context': 'dev',
        'clusters': [{'name': 'c', 'cluster': {
            'server': 'https://[::1]:6443', 'insecure-skip-tls-verify': True,
            'tls-server-name': 'k', 'proxy-url': 'http://p:3128'}}],
        'contexts': [{'name': 'dev', 'context': {'cluster': 'c',
                                                 'user': 'u'}}],
        'users': [{'name': 'u', 'user': {'username': 'a',
                                         'password': 'b'}}]}).encode())

    # --- render: options byte + manifest (hand-made shapes of the
    # injection advisories: the renderer must refuse or quote them)
    ing = ('apiVersion: networking.k8s.io/v1\nkind: Ingress\n'
           'metadata:\n  name: {name}\n  namespace: shop\n'
           '  annotations: {{nginx.ingress.kubernetes.io/configuration-'
           'snippet: "return 200;"}}\n'
           'spec:\n  ingressClassName: kubengx\n'
           '  tls: [{{hosts: ["{host}"], secretName: tls}}]\n'
           '  rules:\n  - host: "{host}"\n    http:\n      paths:\n'
           '      - path: "{path}"\n        pathType: {ptype}\n'
           '        backend: {{service: {{name: web, port: {{name: http}}}}}}\n'
           '---\napiVersion: v1\nkind: Service\nmetadata: {{name: web, '
           'namespace: shop}}\nspec:\n  ports: [{{name: http, port: 80, '
           'targetPort: 8080}}]\n  clusterIP: 10.96.0.9\n'
           '---\napiVersion: v1\nkind: Secret\nmetadata: {{name: tls, '
           'namespace: shop}}\ntype: kubernetes.io/tls\n'
           'data: {{tls.crt: TFMwdExTMUNSVWQ=, tls.key: TFMwdExTMUNSVWQ=}}\n'
           '---\n')
    cases = [
        ('plain', 'a.example.com', '/api', 'Prefix'),
        ('semicolon', 'a.example.com', '/x;return 200 pwned;', 'Prefix'),
        ('brace', 'a.example.com', '/x}location /y{', 'Exact'),
        ('quote', 'a.example.com', '/x\\" ; root /etc; \\"', 'Prefix'),
        ('newline', 'a.example.com', '/x\\nproxy_pass http://evil;',
         'ImplementationSpecific'),
        ('dollar', 'a.example.com', '/${host}$request_uri', 'Exact'),
        ('hostinj', 'a.example.com;} server {', '/', 'Prefix'),
        ('wildcard', '*.example.com', '/', 'Prefix'),
        ('lua', 'a.example.com', '/content_by_lua_block{os.execute()}',
         'Prefix'),
    ]
    for i, (name, host, path, ptype) in enumerate(cases):
        text = ing.format(name=name, host=host, path=path,
                          ptype=ptype) + yaml_slice()
        put('render', name, bytes([(0, 1, 2, 0x1a, 0x64)[i % 5]])
            + text.encode())
    routing_shapes()


# The most common Service (one unnamed port, targetPort != port) behind an
# Ingress without class or namespace (issue 12's example), and Exact paths
# ending in "/" beside a Prefix "/": shapes the routing harness
# (tests/integration/test_routing_differential.py) found mishandled.
COMMON_SHAPES = """\
apiVersion: v1
kind: Service
metadata:
  name: api-svc
spec:
  selector:
    app: api
  ports:
    - port: 80
      targetPort: 8080
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: api-svc-x7k2p
  labels: {kubernetes.io/service-name: api-svc}
addressType: IPv4
ports: [{name: "", port: 8080, protocol: TCP}]
endpoints:
- addresses: ["10.0.0.7"]
  conditions: {ready: true, serving: true, terminating: false}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: routes
spec:
  rules:
    - host: api.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: api-svc
                port:
                  number: 80
          - path: /bar/
            pathType: Exact
            backend:
              service:
                name: api-svc
                port:
                  number: 80
"""


# The settings ConfigMap (fuzz_render.c reads default/kubengx-settings)
# and one Ingress per annotation family, so that the fuzzer starts from
# everything tests/fuzz/conf_check.h knows.
A = 'nginx.ingress.kubernetes.io/'
FAMILY_SHAPES = [
    {'rewrite-target': '/$2', 'use-regex': 'true'},
    {'app-root': '/app', 'enable-cors': 'true',
     'cors-allow-origin': 'https://a.example.com'},
    {'permanent-redirect': 'https://new.example.com/x'},
    {'from-to-www-redirect': 'true', 'force-ssl-redirect': 'true'},
    {'auth-url': 'http://auth.example.com/check',
     'auth-signin': 'https://login.example.com/start',
     'auth-response-headers': 'X-User'},
    {'whitelist-source-range': '10.0.0.0/8', 'limit-rps': '5',
     'limit-connections': '3', 'limit-whitelist': '10.1.0.0/16'},
    {'backend-protocol': 'GRPC', 'mirror-target':
     'http://m.example.com$request_uri'},
    {'affinity': 'cookie', 'upstream-hash-by': '$request_uri',
     'proxy-redirect-from': 'off', 'proxy-cookie-path': '/ /app'},
    {'canary': 'true', 'canary-by-header': 'X-Canary',
     'canary-weight': '20'},
]
SETTINGS = {'hsts': 'true', 'hsts-preload': 'true', 'use-gzip': 'true',
            'use-forwarded-headers': 'true', 'enable-real-ip': 'true',
            'proxy-real-ip-cidr': '10.0.0.0/8', 'block-cidrs': '192.0.2.1',
            'block-user-agents': '~*bot', 'log-format-escape-json': 'true',
            'custom-http-errors': '404,503', 'proxy-body-size': '8m',
            'ssl-protocols': 'TLSv1.3', 'load-balance': 'ewma'}


def families_text():
    docs = [{'apiVersion': 'v1', 'kind': 'ConfigMap',
             'metadata': {'name': 'kubengx-settings',
                          'namespace': 'default'}, 'data': SETTINGS}]
    for i, ann in enumerate(FAMILY_SHAPES):
        host = 'canary.example.com' if 'canary' in ann else \
            'www.f%d.example.com' % i
        docs.append({
            'apiVersion': 'networking.k8s.io/v1', 'kind': 'Ingress',
            'metadata': {'name': 'f%d' % i, 'namespace': 'default',
                         'annotations': {A + k: v for k, v in ann.items()}},
            'spec': {'ingressClassName': 'kubengx',
                     'rules': [{'host': host, 'http': {'paths': [
                         {'path': '/', 'pathType': 'Prefix', 'backend': {
                             'service': {'name': 'api-svc', 'port': {
                                 'number': 80}}}}]}}]}})
    docs.append({'apiVersion': 'networking.k8s.io/v1', 'kind': 'Ingress',
                 'metadata': {'name': 'main', 'namespace': 'default'},
                 'spec': {'ingressClassName': 'kubengx', 'rules': [{
                     'host': 'canary.example.com', 'http': {'paths': [{
                         'path': '/', 'pathType': 'Prefix', 'backend': {
                             'service': {'name': 'api-svc', 'port': {
                                 'number': 80}}}}]}}]}})
    return '\n---\n'.join(json.dumps(d) for d in docs)


def routing_shapes():
    # options: watch Ingresses without a class; module, then static
    put('render', 'common-module', b'\x04' + COMMON_SHAPES.encode())
    put('render', 'common-static', b'\x06' + COMMON_SHAPES.encode())
    # module; static with the 8080/8443/8082 ports
    fam = COMMON_SHAPES + '---\n' + families_text()
    put('render', 'families-module', b'\x00' + fam.encode())
    put('render', 'families-static', b'\x26' + fam.encode())


def yaml_slice():
    return ('apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n'
            'metadata:\n  name: web-1\n  namespace: shop\n'
            '  labels: {kubernetes.io/service-name: web}\n'
            'addressType: IPv4\nports: [{name: http, port: 8080}]\n'
            'endpoints:\n- addresses: ["10.0.0.1"]\n'
            '  conditions: {ready: true}\n'
            '- addresses: ["10.0.0.2"]\n'
            '  conditions: {ready: false, serving: true, terminating: true}\n')


if __name__ == '__main__':
    main()
