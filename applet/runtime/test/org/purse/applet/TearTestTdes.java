package org.purse.applet;

import org.junit.jupiter.api.BeforeAll;

/** TearTest in a 3-key TDES system (8-byte blocks, 24-byte keys, key numbers wrapping 254 -> 1). */
final class TearTestTdes {
    private TearTestTdes() {
    }

    /** Nested so the class name matches JUnit's default scan pattern (".+[.$]Test.*"). */
    static class TestTdes extends TearTest {
        @BeforeAll
        static void world() throws Exception {
            setup(2);
        }
    }
}
