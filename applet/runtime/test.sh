#!/bin/sh
# Compiles the runtime (javacard.* + engine) and its JUnit tests into applet/build/rt-test and runs them.
# Usage: applet/runtime/test.sh [extra junit console options, e.g. --include-classname '.*EngineTest']
# Test applets (test/org/purse/testapplets) are built with --release 7 like real applets.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out="$here/../build/rt-test"
ASM=/usr/share/java/asm-all-9.4.jar
JUNIT=/usr/share/java/junit-platform-console-standalone.jar
rm -rf "$out"
mkdir -p "$out/runtime" "$out/applets" "$out/test"
cd "$here"

# 1. runtime: everything in src; if other parts do not compile yet, only the framework + engine core
if ! javac -nowarn -Xlint:-options --release 17 -encoding UTF-8 -cp "$ASM" -d "$out/runtime" \
        $(find src -name '*.java') 2>"$out/runtime-full.log"; then
    echo "test.sh: full runtime does not compile (see $out/runtime-full.log); testing the engine core only" >&2
    rm -rf "$out/runtime" && mkdir -p "$out/runtime"
    core=1
    javac -Xlint:-options --release 17 -encoding UTF-8 -cp "$ASM" -d "$out/runtime" src/javacard/framework/*.java \
        $(find src/org/purse/jc -maxdepth 1 -name '*.java' ! -name 'Desk*' ! -name 'Vpcd*' ! -name 'CryptoConfig.java')
else
    core=0
fi

# 2. test applets: JavaCard classic, class file version 51
# (plus the real applets of ../src, so desk tests can use org.purse.hello.Hello; skipped if they do not compile)
apps=$(find test -path '*/testapplets/*.java')
j7() { javac -nowarn -Xlint:-options --release 7 -encoding UTF-8 -cp "$out/runtime" -d "$out/applets" "$@"; }
if ! j7 $apps $(find ../src -name '*.java' 2>/dev/null) 2>"$out/applets.log"; then
    echo "test.sh: applet/src does not compile with the test applets (see $out/applets.log); hello + test applets only" >&2
    j7 $apps $(find ../src/org/purse/hello -name '*.java' 2>/dev/null) 2>>"$out/applets.log" || j7 $apps
fi

# 3. tests
if [ "$core" = 1 ]; then
    tests=$(find test/org/purse/jc -name '*.java' ! -name 'CryptoTest*' ! -name 'VpcdTest*' ! -name 'DeskTest*')
else
    tests=$(find test -name '*.java' ! -path '*/testapplets/*')
fi
javac -Xlint:-options --release 17 -encoding UTF-8 -cp "$out/runtime:$out/applets:$JUNIT:$ASM" -d "$out/test" $tests

# 4. run
exec java -jar "$JUNIT" --disable-banner --details=summary --fail-if-no-tests \
    --class-path "$out/runtime:$out/applets:$out/test:$ASM" --scan-class-path "$out/test" "$@"
