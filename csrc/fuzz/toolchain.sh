#!/bin/sh
# Make sure $CLANG can build a libFuzzer + AddressSanitizer binary; on Debian/Ubuntu as root,
# install clang and compiler-rt (libclang-rt-dev) when it cannot. Used by `make fuzz-native`.
set -eu
CLANG="${CLANG:-clang}"
probe() {
    tmp="$(mktemp -d)"
    printf '#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' >"$tmp/probe.c"
    "$CLANG" -fsanitize=fuzzer,address,undefined "$tmp/probe.c" -o "$tmp/probe" >/dev/null 2>&1
    status=$?
    rm -rf "$tmp"
    return $status
}
if probe; then
    exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "fuzz: $CLANG cannot build a libFuzzer binary; installing clang and libclang-rt-dev" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y clang libclang-rt-dev >&2 ||
        { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y clang libclang-rt-dev >&2; }
    probe && exit 0
fi
echo "fuzz: $CLANG cannot build with -fsanitize=fuzzer,address,undefined." >&2
echo "      Install clang and compiler-rt (Debian: sudo apt-get install clang libclang-rt-dev)," >&2
echo "      or point CLANG= at a clang that has them." >&2
exit 1
