# conformance/conformance.mk - the conformance targets (docs/conformance.md):
#
#   make demo      the scenario library against curl: the verdict table
#   make matrix    every installed client profile against the library;
#                  writes docs/conformance-matrix.md (conformance/matrix.py)
#   make bench-conformance
#                  the library's wall time against curl with --jobs 2
#                  (bench/conformance.py; part of make bench)
#
# Included by the top-level Makefile; the client drivers come from
# conformance/clients/drivers/drivers.mk.

include conformance/clients/drivers/drivers.mk

CONFORMANCE_JOBS ?= 2
MATRIX_ARGS      ?=

.PHONY: demo matrix bench-conformance

# mailrig run exits 1 when a scenario did not pass, which is the demo's
# point (curl has known failures): only 2 and above stop make.
demo: build/mailrig
	@build/mailrig run --client curl --jobs $(CONFORMANCE_JOBS) --out build/demo \
	  conformance/scenarios; rc=$$?; \
	 echo "(mailrig run exited $$rc; the report is build/demo/report.md)"; test $$rc -le 1

matrix: build/mailrig drivers
	$(PYTHON) conformance/matrix.py --jobs $(CONFORMANCE_JOBS) $(MATRIX_ARGS)

bench-conformance: build/mailrig
	$(PYTHON) bench/conformance.py --jobs 2 --results bench/results-conformance.md
