#!/bin/sh
# tests/fuzz/run.sh: the old name of tests/fuzz/fuzz.sh, kept until the
# Makefile's "make fuzz" names fuzz.sh.
exec sh "$(dirname "$0")/fuzz.sh" "$@"
