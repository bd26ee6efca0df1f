# conformance/clients/drivers/drivers.mk - the C client driver over libetpan
# (README.md here).  Standalone or included by the top-level Makefile:
#
#   make -f conformance/clients/drivers/drivers.mk     build/conformance/etpan-client
#
# Needs libetpan-dev and OpenSSL (libssl-dev: the certificate check).

CC             ?= cc
DRIVERS_DIR    := conformance/clients/drivers
DRIVERS_OUT    := build/conformance
DRIVERS_CFLAGS ?= -std=c11 -O2 -g -Wall -Wextra -Wshadow -Wno-unused-parameter
# pkg-config --libs libetpan adds dpkg's no-PIE specs file; plain -l is enough
ETPAN_CLIENT_CFLAGS := $(shell pkg-config --cflags libetpan 2>/dev/null)
ETPAN_CLIENT_LIBS   := -letpan $(shell pkg-config --libs libcrypto 2>/dev/null || echo -lcrypto)

.PHONY: drivers
drivers: $(DRIVERS_OUT)/etpan-client

$(DRIVERS_OUT)/etpan-client: $(DRIVERS_DIR)/etpan-client.c
	@mkdir -p $(dir $@)
	$(CC) $(DRIVERS_CFLAGS) $(ETPAN_CLIENT_CFLAGS) -o $@ $< $(ETPAN_CLIENT_LIBS)
