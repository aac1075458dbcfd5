
/*
 * kubengx: k8s_snapshot, shared by ngx_http_k8s_snapshot.c (writing, and
 * the format) and ngx_http_k8s_snapshot_load.c (loading).
 */


#ifndef _NGX_HTTP_K8S_SNAPSHOT_H_INCLUDED_
#define _NGX_HTTP_K8S_SNAPSHOT_H_INCLUDED_


#define NGX_HTTP_K8S_SNAPSHOT_MAGIC     "kubengx-snapshot 1"

/* a larger file is rejected: about 400,000 endpoints with the longest
 * names (the zone cannot hold much more at its sizes) */
#define NGX_HTTP_K8S_SNAPSHOT_MAX       (256 * 1024 * 1024)


#endif /* _NGX_HTTP_K8S_SNAPSHOT_H_INCLUDED_ */
