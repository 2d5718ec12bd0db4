package org.purse.jc;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The desk's card log hides secret APDU data, keeping header and length (docs/desk.md). */
class RedactTest {
    private static byte[] h(String s) {
        return VpcdClient.Hex.parse(s);
    }

    @Test
    void secretCommandsKeepOnlyTheirHeader() {
        // VERIFY PIN "2223"
        assertEquals("8020000104[5 bytes redacted]", Redact.command(h("80200001043232323300")));
        assertEquals("8024000108[8 bytes redacted]", Redact.command(h("80240001080102030405060708")));
        assertEquals("80140000020102".length(), Redact.command(h("80300000020102")).length());
        assertEquals("80300000020102", Redact.command(h("80300000020102")));
        assertEquals("80200001", Redact.command(h("80200001")));
        // ISSUE_AUTH's answer (HC | I1) is secret, other answers are not
        assertEquals("[3 bytes redacted]9000", Redact.response(h("8016000010"), h("0102039000")));
        assertEquals("0102039000", Redact.response(h("8030000000"), h("0102039000")));
    }
}
