
/*
 * kubengx: the per-request metrics' zone (ngx_http_k8s_metrics.h): its
 * size, its layout, and the counters carried over from the previous
 * configuration.
 *
 * Each configuration gets a new zone (noreuse), so a route's place in it
 * never changes under a worker that still counts into it.  When the
 * master loads a configuration it still maps the previous one's zone;
 * for every route with the same labels there, it adds the counters into
 * the new zone.  Requests that the previous configuration's workers
 * finish after that are not carried over (they count into the old zone,
 * which nobody reads any more).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_k8s_module.h"
#include "ngx_http_k8s_metrics.h"


static size_t ngx_http_k8s_metrics_data_size(ngx_uint_t nroutes,
    ngx_uint_t cells);
static void ngx_http_k8s_metrics_layout(ngx_http_k8s_metrics_t *m);
static void ngx_http_k8s_metrics_carry(ngx_http_k8s_metrics_t *m,
    ngx_http_k8s_metrics_t *old);
static void ngx_http_k8s_metrics_add(ngx_http_k8s_mcell_t *dst,
    ngx_http_k8s_mcell_t *src);


/* the index of all routes, then the cells (cache line aligned) */

static size_t
ngx_http_k8s_metrics_data_size(ngx_uint_t nroutes, ngx_uint_t cells)
{
    size_t  index, per;

    per = (cells + NGX_HTTP_K8S_METRICS_CLASSES)
          * sizeof(ngx_http_k8s_mcell_t)
          + (1 + cells) * sizeof(ngx_atomic_t);

    if (nroutes > (NGX_MAX_SIZE_T_VALUE / 4) / per) {
        return 0;
    }

    index = nroutes * (1 + cells) * sizeof(ngx_atomic_t);

    return ngx_align(sizeof(ngx_http_k8s_metrics_sh_t) + index, 64)
           + nroutes * (cells + NGX_HTTP_K8S_METRICS_CLASSES)
             * sizeof(ngx_http_k8s_mcell_t);
}


/*
 * The zone's size: the data in whole pages, plus what nginx's slab pool
 * takes (its header and a descriptor per page, ngx_slab_init()); 0 when
 * it would not fit in a size_t.
 */

size_t
ngx_http_k8s_metrics_zone_size(ngx_uint_t nroutes, ngx_uint_t cells)
{
    size_t  data, pages;

    data = ngx_http_k8s_metrics_data_size(nroutes, cells);

    if (data == 0) {
        return 0;
    }

    pages = (data + ngx_pagesize - 1) / ngx_pagesize;

    return (pages + 8) * (ngx_pagesize + sizeof(ngx_slab_page_t));
}


ngx_int_t
ngx_http_k8s_metrics_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_k8s_metrics_t *m = shm_zone->data;

    size_t                      size;
    ngx_slab_pool_t            *shpool;
    ngx_http_k8s_metrics_t     *old;
    ngx_http_k8s_metrics_sh_t  *sh;

    /* data is NULL: the zone is never reused (noreuse) */

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    size = ngx_http_k8s_metrics_data_size(m->routes.nelts, m->cells);

    sh = ngx_slab_alloc(shpool, size);

    if (sh == NULL) {
        ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                      "k8s_metrics: %uz bytes for %ui routes do not fit "
                      "in the zone \"%V\"", size, m->routes.nelts,
                      &shm_zone->shm.name);
        return NGX_ERROR;
    }

    /*
     * The pages of a new zone are zero (an anonymous mapping), and they
     * stay out of memory until a worker writes to them: the cells are
     * not cleared here, which would make the whole zone resident.
     */

#if (NGX_DEBUG_MALLOC)
    ngx_memzero(sh, size);
#endif

    sh->magic = NGX_HTTP_K8S_METRICS_MAGIC;
    sh->nroutes = m->routes.nelts;
    sh->cells = m->cells;
    sh->carried = 0;

    shpool->data = sh;
    m->sh = sh;

    ngx_http_k8s_metrics_layout(m);

    old = m->old;
    m->old = NULL;

    if (old && old->sh && old->sh->magic == NGX_HTTP_K8S_METRICS_MAGIC) {
        ngx_http_k8s_metrics_carry(m, old);
    }

    return NGX_OK;
}


static void
ngx_http_k8s_metrics_layout(ngx_http_k8s_metrics_t *m)
{
    ngx_uint_t               i, n, cells;
    ngx_atomic_t            *index;
    ngx_http_k8s_mcell_t    *cell;
    ngx_http_k8s_mroute_t  **routes;

    n = m->routes.nelts;
    cells = m->cells;
    routes = m->routes.elts;

    index = (ngx_atomic_t *) (m->sh + 1);
    cell = (ngx_http_k8s_mcell_t *) ngx_align_ptr(index + n * (1 + cells),
                                                  64);

    for (i = 0; i < n; i++) {
        routes[i]->index = index + i * (1 + cells);
        routes[i]->cell = cell + i * (cells + NGX_HTTP_K8S_METRICS_CLASSES);
    }
}


/*
 * In the master, before the new workers exist: the routes of the new
 * configuration that the previous one had (same labels) get its
 * counters.  A pair that finds no free cell any more (k8s_metrics_cells
 * was lowered) goes to its status class, as a request would.
 */

static void
ngx_http_k8s_metrics_carry(ngx_http_k8s_metrics_t *m,
    ngx_http_k8s_metrics_t *old)
{
    ngx_uint_t               i, j, c, carried;
    ngx_str_node_t          *sn;
    ngx_atomic_uint_t        key, classes;
    ngx_http_k8s_mcell_t    *cell;
    ngx_http_k8s_mroute_t   *route, *o, **routes;

    routes = m->routes.elts;
    carried = 0;

    for (i = 0; i < m->routes.nelts; i++) {
        route = routes[i];

        sn = ngx_str_rbtree_lookup(&old->tree, &route->labels,
                                   route->sn.node.key);
        if (sn == NULL) {
            continue;
        }

        o = (ngx_http_k8s_mroute_t *) sn;

        if (o->index == NULL || (o->index[0] == 0 && o->index[1] == 0)) {
            continue;
        }

        for (j = 0; j < old->cells; j++) {
            key = o->index[1 + j];

            if (key == 0) {
                break;
            }

            cell = ngx_http_k8s_metrics_cell(route, m->cells, key);
            ngx_http_k8s_metrics_add(cell, &o->cell[j]);
        }

        classes = o->index[0];

        for (c = 0; c < NGX_HTTP_K8S_METRICS_CLASSES; c++) {
            if (classes & ((ngx_atomic_uint_t) 1 << c)) {
                route->index[0] |= (ngx_atomic_uint_t) 1 << c;
                ngx_http_k8s_metrics_add(&route->cell[m->cells + c],
                                         &o->cell[old->cells + c]);
            }
        }

        carried++;
    }

    m->sh->carried = carried;
}


/* no worker uses the new zone yet: plain additions */

static void
ngx_http_k8s_metrics_add(ngx_http_k8s_mcell_t *dst,
    ngx_http_k8s_mcell_t *src)
{
    ngx_uint_t     i;
    ngx_atomic_t  *d, *s;

    d = (ngx_atomic_t *) dst;
    s = (ngx_atomic_t *) src;

    for (i = 0; i < sizeof(ngx_http_k8s_mcell_t) / sizeof(ngx_atomic_t); i++)
    {
        d[i] += s[i];
    }
}
