package org.purse.applet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class BcdTest {

    static byte[] bcd(String digits) {
        return CryptoSuiteTest.hex(digits);
    }

    static String str(byte[] b) {
        return CryptoSuiteTest.hex(b);
    }

    @Test
    void luhnVectors() {
        // protocol.md 9.2, from tests/vectors/protocol.json
        java.util.List<java.util.Map<String, Object>> rows = Vectors.objs(CryptoSuiteTest.V, "luhn");
        assertEquals(4, rows.size());
        for (java.util.Map<String, Object> r : rows) {
            String[] row = {Vectors.str(r, "digits15"), Vectors.str(r, "check")};
            assertEquals(row[0] + row[1], Vectors.str(r, "account"));
            byte[] acc = bcd(row[0] + "0");
            assertEquals(Integer.parseInt(row[1]), Bcd.luhn(acc, (short) 0), row[0]);
            assertFalse(Bcd.isValidAccount(acc, (short) 0) && !row[1].equals("0"));
            Issuer.setLuhn(acc, (short) 0);
            assertEquals(row[0] + row[1], str(acc));
            assertTrue(Bcd.isValidAccount(acc, (short) 0));
        }
        // offset, and the classic 79927398713 (padded left with zeros to 15 digits)
        byte[] acc = bcd("FF" + "000007992739871" + "0" + "EE");
        Issuer.setLuhn(acc, (short) 1);
        assertEquals("FF" + "0000079927398713" + "EE", str(acc));
        assertTrue(Bcd.isValidAccount(acc, (short) 1));
        // every single-digit change is detected
        byte[] good = bcd("1234567890123452");
        for (int d = 0; d < 16; d++) {
            byte[] x = good.clone();
            int shift = d % 2 == 0 ? 4 : 0;
            int old = (x[d / 2] >> shift) & 0xF;
            x[d / 2] = (byte) ((x[d / 2] & ~(0xF << shift)) | (((old + 1) % 10) << shift));
            assertFalse(Bcd.isValidAccount(x, (short) 0), "digit " + d);
        }
        assertFalse(Bcd.isValidAccount(bcd("1A00000000000016"), (short) 0));
    }

    @Test
    void isBcdNibbles() {
        assertTrue(Bcd.isBcd(bcd("0123456789"), (short) 0, (short) 10));
        assertFalse(Bcd.isBcd(bcd("012345678A"), (short) 0, (short) 10));
        assertTrue(Bcd.isBcd(bcd("012345678A"), (short) 0, (short) 9));
        assertFalse(Bcd.isBcd(bcd("F0"), (short) 0, (short) 1));
    }

    @Test
    void incrementCarries() {
        // NEXT_SERIAL: digits 6..14 of an account
        byte[] acc = bcd("1000000000000016");
        assertTrue(Issuer.increment(acc, (short) 0, (short) 6, (short) 9));
        assertEquals("1000000000000026", str(acc));
        acc = bcd("1000000009999996");
        assertTrue(Issuer.increment(acc, (short) 0, (short) 6, (short) 9));
        assertEquals("1000000010000006", str(acc));
        acc = bcd("1000009999999996");
        assertFalse(Issuer.increment(acc, (short) 0, (short) 6, (short) 9));
        assertEquals("1000009999999996", str(acc));
        // issuer id (3 bytes, 6 digits)
        byte[] id = bcd("100009");
        assertTrue(Issuer.increment(id, (short) 0, (short) 0, (short) 6));
        assertEquals("100010", str(id));
        id = bcd("999999");
        assertFalse(Issuer.increment(id, (short) 0, (short) 0, (short) 6));
        assertEquals("999999", str(id));
        // odd first digit, offset
        byte[] b = bcd("AA1999AA");
        assertTrue(Issuer.increment(b, (short) 1, (short) 0, (short) 4));
        assertEquals("AA2000AA", str(b));
        b = bcd("A1999A");
        assertTrue(Issuer.increment(b, (short) 0, (short) 1, (short) 4));
        assertEquals("A2000A", str(b));
        assertFalse(Issuer.increment(bcd("A999"), (short) 0, (short) 1, (short) 3));
        // count up through a carry chain
        byte[] s = bcd("0000000000");
        for (int i = 0; i < 1000; i++) {
            assertTrue(Issuer.increment(s, (short) 0, (short) 1, (short) 9));
        }
        assertEquals("0000001000", str(s));
    }

    @Test
    void printable() {
        byte[] n = "ALICE   ".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        assertTrue(Bcd.isPrintable(n, (short) 0, (short) 8));
        assertTrue(Bcd.isPrintable(new byte[] {0x20, 0x7E}, (short) 0, (short) 2));
        assertFalse(Bcd.isPrintable(new byte[] {0x20, 0x7F}, (short) 0, (short) 2));
        assertFalse(Bcd.isPrintable(new byte[] {0x1F}, (short) 0, (short) 1));
        assertFalse(Bcd.isPrintable(new byte[] {(byte) 0x80}, (short) 0, (short) 1));
        assertFalse(Bcd.isPrintable(new byte[] {0}, (short) 0, (short) 1));
    }
}
