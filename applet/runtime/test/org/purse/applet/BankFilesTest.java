package org.purse.applet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import javacard.framework.ISOException;
import org.junit.jupiter.api.Test;

/** BankFiles on its own (protocol.md 12.8): the 1 200-entry BAD_CARD list, range, rate, pages. */
class BankFilesTest {

    /** 16-digit account: issuer (6 digits) | serial (9 digits) | Luhn. */
    static byte[] account(String issuer, long serial) {
        String d15 = issuer + String.format("%09d", serial);
        int sum = 0;
        boolean dbl = true;
        for (int i = 14; i >= 0; i--) {
            int v = d15.charAt(i) - '0';
            if (dbl) {
                v *= 2;
                if (v > 9) {
                    v -= 9;
                }
            }
            sum += v;
            dbl = !dbl;
        }
        return PurseCardTestSupport.hex(d15 + (10 - sum % 10) % 10);
    }

    static short sw(Runnable r) {
        ISOException e = assertThrows(ISOException.class, r::run);
        return e.getReason();
    }

    static final byte[] OWN = account("100000", 0);

    BankFiles fresh() {
        BankFiles b = new BankFiles();
        assertFalse(b.allocated());
        b.allocate();
        b.initDefaults(OWN, (short) 0);
        return b;
    }

    @Test
    void defaultsServeTheIssuersBlock() {
        BankFiles b = fresh();
        byte[] page = new byte[Constants.RBC_HEADER_LEN];
        b.readPage((short) 0, (byte) 0, (byte) 0, page, (short) 0);
        byte[] r = java.util.Arrays.copyOfRange(page, Constants.RBC_LOW, Constants.RBC_LOW + 16);
        assertEquals("10000000000000001000000099999999", PurseCardTestSupport.hex(r));
        assertTrue(b.inRange(account("100000", 1), (short) 0));
        // the prefix (digits 1-8) covers serials 000000000 .. 009999999
        assertTrue(b.inRange(account("100000", 9999999), (short) 0));
        assertFalse(b.inRange(account("100000", 10000000), (short) 0));
        assertFalse(b.inRange(account("200000", 1), (short) 0));
        byte[] rate = new byte[4];
        b.rate(rate, (short) 0);
        assertArrayEquals(new byte[4], rate);
        assertEquals(0, b.count());
    }

    @Test
    void nonBankCardHasNothing() {
        BankFiles b = new BankFiles();
        assertFalse(b.inRange(OWN, (short) 0));
        assertEquals(-1, b.find(OWN, (short) 0));
        assertEquals(Constants.SW_WRONG_ROLE, sw(() -> b.add(OWN, (short) 0, (byte) 0)));
    }

    @Test
    void twelveHundredBadCards() {
        BankFiles b = fresh();
        byte[][] acc = new byte[1200][];
        for (int i = 0; i < 1200; i++) {
            acc[i] = account("100000", 1000 + 7L * i);
            assertEquals(Constants.RESULT_DONE, b.add(acc[i], (short) 0, (byte) (i % 5)));
        }
        assertEquals(1200, b.count());
        for (int i = 0; i < 1200; i++) {
            assertEquals(i, b.find(acc[i], (short) 0));
        }
        assertEquals(-1, b.find(account("100000", 999), (short) 0));
        // listed again: no change; full: 9D23; out of range first: 9D21
        assertEquals(Constants.RESULT_NO_CHANGE, b.add(acc[600], (short) 0, (byte) 0));
        assertEquals(Constants.SW_BAD_CARD_LIST_FULL, sw(() -> b.add(account("100000", 5), (short) 0, (byte) 0)));
        assertEquals(Constants.SW_ACCOUNT_OUT_OF_RANGE, sw(() -> b.add(account("300000", 5), (short) 0, (byte) 0)));
        assertEquals(1200, b.count());
        // 30 pages of 40 entries, 224 bytes each
        byte[] out = new byte[256];
        for (int page = 0; page < 30; page++) {
            short n = b.readPage((short) page, (byte) 2, (byte) 9, out, (short) 0);
            assertEquals(224, n);
            assertEquals(1200, ((out[0] & 0xFF) << 8) | (out[1] & 0xFF));
            assertEquals(2, out[Constants.RBC_ARCH]);
            assertEquals(9, out[Constants.RBC_CURRENT]);
            for (int j = 0; j < 40; j++) {
                int i = page * 40 + j;
                int o = 24 + 5 * j;
                assertArrayEquals(Arrays.copyOfRange(acc[i], 4, 8), Arrays.copyOfRange(out, o, o + 4));
                assertEquals(i % 5, out[o + 4]);
            }
        }
    }

    @Test
    void removeOnlyAfterExpiryMovesLastIntoHole() {
        BankFiles b = fresh();
        byte[] a = account("100000", 11);
        byte[] c = account("100000", 22);
        byte[] d = account("100000", 33);
        b.add(a, (short) 0, (byte) 250);
        b.add(c, (short) 0, (byte) 250);
        b.add(d, (short) 0, (byte) 251);
        // (current - keynum) mod 256 < 7: refused
        for (int cur = 250; cur != 1; cur = (cur + 1) & 0xFF) {
            byte cc = (byte) cur;
            assertEquals(Constants.SW_NOT_LISTED, sw(() -> b.remove(a, (short) 0, cc)));
        }
        assertEquals(Constants.SW_NOT_LISTED, sw(() -> b.remove(account("100000", 44), (short) 0, (byte) 100)));
        // 1 - 250 = 7 mod 256: expired (wrap-around)
        assertEquals(Constants.RESULT_DONE, b.remove(a, (short) 0, (byte) 1));
        assertEquals(2, b.count());
        assertEquals(-1, b.find(a, (short) 0));
        assertEquals(0, b.find(d, (short) 0)); // the last entry moved into the hole
        assertEquals(251, b.keynumAt((short) 0) & 0xFF);
        assertEquals(1, b.find(c, (short) 0));
        assertEquals(Constants.SW_NOT_LISTED, sw(() -> b.remove(d, (short) 0, (byte) 1)));
        assertEquals(Constants.RESULT_DONE, b.remove(c, (short) 0, (byte) 1));
        assertEquals(Constants.RESULT_DONE, b.remove(d, (short) 0, (byte) 2));
        assertEquals(0, b.count());
    }

    @Test
    void rateAndRange() {
        BankFiles b = fresh();
        byte[] rate = PurseCardTestSupport.hex("00068DB9");
        assertEquals(Constants.RESULT_DONE, b.setRate(rate, (short) 0));
        assertEquals(Constants.RESULT_NO_CHANGE, b.setRate(rate, (short) 0));
        byte[] r = new byte[4];
        b.rate(r, (short) 0);
        assertArrayEquals(rate, r);
        byte[] narrow = PurseCardTestSupport.hex("10000000000010001000000000099999");
        assertEquals(Constants.RESULT_DONE, b.setRange(narrow, (short) 0));
        assertEquals(Constants.RESULT_NO_CHANGE, b.setRange(narrow, (short) 0));
        assertFalse(b.inRange(account("100000", 99), (short) 0));
        assertTrue(b.inRange(account("100000", 100), (short) 0));
        b.add(account("100000", 100), (short) 0, (byte) 0);
        // another prefix while the list is not empty: 6985; same prefix: fine
        byte[] other = PurseCardTestSupport.hex("20000000000000002000000099999999");
        assertEquals(Constants.SW_CONDITIONS, sw(() -> b.setRange(other, (short) 0)));
        byte[] wide = PurseCardTestSupport.hex("10000000000000001000000099999999");
        assertEquals(Constants.RESULT_DONE, b.setRange(wide, (short) 0));
        b.remove(account("100000", 100), (short) 0, (byte) 7);
        assertEquals(Constants.RESULT_DONE, b.setRange(other, (short) 0));
    }

    @Test
    void pagesBeyondCountAreEmpty() {
        BankFiles b = fresh();
        for (int i = 0; i < 45; i++) {
            b.add(account("100000", 1 + i), (short) 0, (byte) 0);
        }
        byte[] out = new byte[256];
        assertEquals(224, b.readPage((short) 0, (byte) 0, (byte) 0, out, (short) 0));
        assertEquals(24 + 25, b.readPage((short) 1, (byte) 0, (byte) 0, out, (short) 0));
        assertEquals(24, b.readPage((short) 29, (byte) 0, (byte) 0, out, (short) 0));
    }
}
