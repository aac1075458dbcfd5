
/*
 * kubengx generator: which Ingresses are ours.
 *
 * Our class names: --class (default "kubengx"), whether or not an
 * IngressClass of that name is in the input (CI inputs rarely carry
 * cluster objects), plus every IngressClass in the input whose
 * spec.controller is --controller.  An Ingress is ours when
 * spec.ingressClassName, or else the legacy annotation
 * kubernetes.io/ingress.class, is one of them.  An Ingress with neither
 * is ours with --watch-without-class, or when one of our IngressClasses
 * is marked ingressclass.kubernetes.io/is-default-class: "true".
 * An IngressClass named like --class but with another controller is not
 * ours: the cluster says that class belongs to someone else.
 */

#include <stdio.h>
#include <string.h>

#include "model.h"


static int
kngx_class_ours(const kngx_model_t *m, const kngx_class_opts_t *o,
    const char *name)
{
    const kngx_ingress_class_t  *cls;

    cls = kngx_model_class(m, name);

    if (cls) {
        return strcmp(cls->controller, o->controller) == 0;
    }

    return strcmp(name, o->class_name) == 0;
}


static int
kngx_default_class_ours(const kngx_model_t *m, const kngx_class_opts_t *o)
{
    size_t  i;

    for (i = 0; i < m->nclasses; i++) {
        if (m->classes[i].is_default
            && strcmp(m->classes[i].controller, o->controller) == 0)
        {
            return 1;
        }
    }

    return 0;
}


int
kngx_ingress_is_ours(const kngx_model_t *m, const kngx_class_opts_t *o,
    const kngx_ingress_t *ing, const char **why)
{
    const char  *dummy;

    if (why == NULL) {
        why = &dummy;
    }

    if (ing->class_name) {
        if (kngx_class_ours(m, o, ing->class_name)) {
            *why = "spec.ingressClassName names our class";
            return 1;
        }

        *why = "spec.ingressClassName names a class kubengx does not serve";
        return 0;
    }

    if (ing->legacy_class) {
        if (kngx_class_ours(m, o, ing->legacy_class)) {
            *why = "annotation kubernetes.io/ingress.class names our class";
            return 1;
        }

        *why = "annotation kubernetes.io/ingress.class names a class "
               "kubengx does not serve";
        return 0;
    }

    if (o->watch_without_class) {
        *why = "no class; --watch-without-class";
        return 1;
    }

    if (kngx_default_class_ours(m, o)) {
        *why = "no class; our IngressClass is the default class";
        return 1;
    }

    *why = "no class, and no default IngressClass of ours";
    return 0;
}


const char *
kngx_ingress_class_hint(const kngx_model_t *m, const kngx_ingress_t *ing,
    char *buf, size_t size)
{
    const kngx_ingress_class_t  *cls;
    const char                  *name;

    name = ing->class_name ? ing->class_name : ing->legacy_class;

    if (name == NULL) {
        snprintf(buf, size, "--watch-without-class");
        return buf;
    }

    cls = kngx_model_class(m, name);

    if (cls && cls->controller[0]) {
        /* an IngressClass of another controller: only --controller */
        snprintf(buf, size, "--controller %s", cls->controller);

    } else {
        snprintf(buf, size, "--class %s", name);
    }

    return buf;
}
