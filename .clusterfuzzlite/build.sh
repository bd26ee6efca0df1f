#!/bin/bash -eu
# ClusterFuzzLite/OSS-Fuzz build script for mailrig.  fuzz/build.sh is the
# single source of truth: it reads $CC $CXX $CFLAGS $LIB_FUZZING_ENGINE
# $OUT $WORK as the base-builder image sets them and puts the targets,
# options, dictionaries and seed corpora in $OUT.
"$SRC/mailrig/fuzz/build.sh"
