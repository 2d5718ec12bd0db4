#!/bin/sh
# Compiles applet/runtime/src plus the crypto tests (test/org/purse/jc/CryptoTest*.java) into a
# private temporary directory and runs them with the JUnit 5 console launcher.
#
# Usage: applet/runtime/test-crypto.sh [extra junit console args]
# Env:   JUNIT_JAR        (default /usr/share/java/junit-platform-console-standalone.jar)
#        PURSE_JC_STUBS   optional source dir consulted (via -sourcepath, after src) only for
#                         classes that applet/runtime/src does not define yet (e.g. a throwaway
#                         org.purse.jc.Mem while the engine is being written).
#        CRYPTO_ONLY=1    compile only the crypto sources explicitly (javacard/security,
#                         javacardx/crypto, org/purse/jc/crypto, org/purse/jc/CryptoConfig.java);
#                         whatever they need is pulled in through -sourcepath, so unrelated
#                         half-written engine files do not break the build.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
junit=${JUNIT_JAR:-/usr/share/java/junit-platform-console-standalone.jar}
out=$(mktemp -d "${TMPDIR:-/tmp}/purse-crypto-test.XXXXXX")
trap 'rm -rf "$out"' EXIT INT TERM

if [ "${CRYPTO_ONLY:-0}" = 1 ]; then
    find "$here/src/javacard/security" "$here/src/javacardx/crypto" "$here/src/org/purse/jc/crypto" \
        "$here/src/org/purse/jc/CryptoConfig.java" -name '*.java' > "$out/sources"
else
    find "$here/src" -name '*.java' > "$out/sources"
fi
find "$here/test/org/purse/jc" -name 'CryptoTest*.java' >> "$out/sources"

sp="-sourcepath $here/src"
if [ -n "${PURSE_JC_STUBS:-}" ]; then
    sp="$sp:$PURSE_JC_STUBS"
fi
# shellcheck disable=SC2086
javac -nowarn -encoding UTF-8 -d "$out/classes" -cp "$junit" $sp @"$out/sources"

java -jar "$junit" --disable-banner --fail-if-no-tests \
    -cp "$out/classes" --include-classname '^org\.purse\.jc\.CryptoTest.*$' --scan-classpath "$out/classes" "$@"
