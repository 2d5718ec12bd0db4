package org.purse.applet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
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

    /** A single BAD_CARD_ADD as the bank's 86 P1 00 does it: a batch of one (PREFIX | LOW = ACCOUNT). */
    static byte add(BankFiles b, byte[] a, short o, byte keynum) {
        byte[] w = new byte[9];
        return b.addBatch(a, o, (short) 1, keynum, w, (short) 0, new byte[261], w, (short) 8) != 0
                ? Constants.RESULT_DONE : Constants.RESULT_NO_CHANGE;
    }

    /** PurseCardTestSupport.field, a reflection failure as an AssertionError. */
    static Object field(Object o, String name) {
        try {
            return PurseCardTestSupport.field(o, name);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    static int u16(byte[] a, int o) {
        return ((a[o] & 0xFF) << 8) | (a[o + 1] & 0xFF);
    }

    /**
     * The duplicate index agrees with the plain list: every entry of [0, COUNT) in exactly one
     * chain, the one its 4 account bytes hash to; no link to an entry at or past COUNT; no cycle.
     */
    static void assertIndexExact(Object b) {
        byte[] bad = (byte[]) field(b, "bad");
        byte[] link = (byte[]) field(b, "link");
        assertEquals(BankFiles.LINK_LEN, link.length);
        int n = u16((byte[]) field(b, "meta"), BankFiles.M_COUNT);
        int[] chainOf = new int[n];
        Arrays.fill(chainOf, -1);
        for (int h = 0; h < BankFiles.CHAINS; h++) {
            int v = u16(link, BankFiles.L_HEADS + 2 * h);
            while (v != 0) {
                int i = v - 1;
                assertTrue(i < n, "chain " + h + " links entry " + i + " of " + n);
                assertEquals(-1, chainOf[i], "entry " + i + " reached twice (cycle or two chains)");
                chainOf[i] = h;
                assertEquals(h, BankFiles.hash(bad, (short) (5 * i)), "entry " + i + " in a foreign chain");
                v = u16(link, 2 * i);
            }
        }
        for (int i = 0; i < n; i++) {
            assertTrue(chainOf[i] >= 0, "entry " + i + " of " + n + " is in no chain");
        }
    }

    /** The list as READ_BAD_CARDS shows it: COUNT entries of 5 bytes, in order. */
    static List<String> listed(BankFiles b) {
        List<String> l = new ArrayList<>();
        byte[] out = new byte[256];
        for (int p = 0; p < Constants.BC_PAGES; p++) {
            short len = b.readPage((short) p, (byte) 0, (byte) 0, out, (short) 0);
            for (int o = Constants.RBC_HEADER_LEN; o < len; o += 5) {
                l.add(PurseCardTestSupport.hex(Arrays.copyOfRange(out, o, o + 5)));
            }
        }
        return l;
    }

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
        assertEquals(Constants.SW_WRONG_ROLE, sw(() -> add(b, OWN, (short) 0, (byte) 0)));
    }

    @Test
    void twelveHundredBadCards() {
        BankFiles b = fresh();
        byte[][] acc = new byte[1200][];
        for (int i = 0; i < 1200; i++) {
            acc[i] = account("100000", 1000 + 7L * i);
            assertEquals(Constants.RESULT_DONE, add(b, acc[i], (short) 0, (byte) (i % 5)));
        }
        assertEquals(1200, b.count());
        for (int i = 0; i < 1200; i++) {
            assertEquals(i, b.find(acc[i], (short) 0));
        }
        assertEquals(-1, b.find(account("100000", 999), (short) 0));
        // listed again: no change; full: 9D23; out of range first: 9D21
        assertEquals(Constants.RESULT_NO_CHANGE, add(b, acc[600], (short) 0, (byte) 0));
        assertEquals(Constants.SW_BAD_CARD_LIST_FULL, sw(() -> add(b, account("100000", 5), (short) 0, (byte) 0)));
        assertEquals(Constants.SW_ACCOUNT_OUT_OF_RANGE, sw(() -> add(b, account("300000", 5), (short) 0, (byte) 0)));
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
        add(b, a, (short) 0, (byte) 250);
        add(b, c, (short) 0, (byte) 250);
        add(b, d, (short) 0, (byte) 251);
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
        add(b, account("100000", 100), (short) 0, (byte) 0);
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
            add(b, account("100000", 1 + i), (short) 0, (byte) 0);
        }
        byte[] out = new byte[256];
        assertEquals(224, b.readPage((short) 0, (byte) 0, (byte) 0, out, (short) 0));
        assertEquals(24 + 25, b.readPage((short) 1, (byte) 0, (byte) 0, out, (short) 0));
        assertEquals(24, b.readPage((short) 29, (byte) 0, (byte) 0, out, (short) 0));
    }

    /**
     * Random adds, batches (with duplicates inside and already listed, refused whole at 9D21 and
     * 9D23), removals (expired or not) and range changes against a plain model of the list: after
     * every step the list reads the same, the index is exact, and find() answers as a linear scan.
     */
    @Test
    void indexAgreesWithTheListUnderRandomOps() {
        Random r = new Random(20261202);
        BankFiles b = fresh();
        List<String> model = new ArrayList<>(); // LOW(4) | KEYNUM, hex
        byte[] wide = PurseCardTestSupport.hex("10000000000000001000000099999999");
        byte[] narrow = PurseCardTestSupport.hex("10000000000000001000000000005000");
        boolean narrowed = false;
        int pool = 1600;
        int refusedFull = 0;
        int removed = 0;
        for (int step = 0; step < 1500; step++) {
            int op = r.nextInt(100);
            byte keynum = (byte) r.nextInt(3);
            if (op < 45) {
                // batch of 1..46 from the pool (serials 1 .. pool, some above the narrow HIGH)
                int n = 1 + r.nextInt(r.nextBoolean() ? 1 : Constants.BATCH_MAX);
                byte[] a = new byte[4 + 4 * n];
                System.arraycopy(account("100000", 1), 0, a, 0, 4);
                List<String> lows = new ArrayList<>();
                long[] serials = new long[n];
                boolean outOfRange = false;
                for (int i = 0; i < n; i++) {
                    // now and then one that is earlier in the same batch
                    long serial = i > 0 && r.nextInt(8) == 0 ? serials[r.nextInt(i)] : 1 + r.nextInt(pool);
                    serials[i] = serial;
                    byte[] acc = account("100000", serial);
                    System.arraycopy(acc, 4, a, 4 + 4 * i, 4);
                    lows.add(PurseCardTestSupport.hex(Arrays.copyOfRange(acc, 4, 8)));
                    outOfRange |= !b.inRange(acc, (short) 0);
                }
                List<String> want = new ArrayList<>(model);
                byte[] bits = new byte[6];
                boolean[] newly = new boolean[n];
                for (int i = 0; i < n; i++) {
                    String e = lows.get(i) + PurseCardTestSupport.hex(new byte[] {keynum});
                    boolean known = false;
                    for (String m : want) {
                        known |= m.startsWith(lows.get(i));
                    }
                    if (!known) {
                        want.add(e);
                        newly[i] = true;
                    }
                }
                short got;
                try {
                    got = b.addBatch(a, (short) 0, (short) n, keynum, new byte[8], (short) 0, new byte[261], bits,
                            (short) 0);
                } catch (ISOException e) {
                    short exp = outOfRange ? Constants.SW_ACCOUNT_OUT_OF_RANGE : Constants.SW_BAD_CARD_LIST_FULL;
                    assertEquals(exp, e.getReason(), "step " + step);
                    assertTrue(outOfRange || want.size() > Constants.BAD_CARD_MAX, "step " + step);
                    refusedFull += outOfRange ? 0 : 1;
                    want = model;
                    got = -1;
                }
                if (got >= 0) {
                    assertFalse(outOfRange, "step " + step);
                    assertEquals(want.size() - model.size(), got);
                    for (int i = 0; i < n; i++) {
                        assertEquals(newly[i], (bits[i >> 3] & (0x80 >> (i & 7))) != 0, "bit " + i);
                    }
                }
                model = want;
            } else if (op < 85) {
                long serial = 1 + r.nextInt(pool);
                byte[] acc = account("100000", serial);
                String low = PurseCardTestSupport.hex(Arrays.copyOfRange(acc, 4, 8));
                int at = -1;
                for (int i = 0; i < model.size(); i++) {
                    if (model.get(i).startsWith(low)) {
                        at = i;
                    }
                }
                if (at < 0 && !model.isEmpty() && r.nextBoolean()) { // mostly remove a listed one
                    at = r.nextInt(model.size());
                    acc = account("100000", 1);
                    System.arraycopy(PurseCardTestSupport.hex(model.get(at).substring(0, 8)), 0, acc, 4, 4);
                }
                byte current = (byte) (r.nextInt(4) == 0 ? 3 : 9); // 3: not yet expired for keynum 0..2
                byte[] fa = acc;
                if (at < 0 || current == 3) {
                    assertEquals(Constants.SW_NOT_LISTED, sw(() -> b.remove(fa, (short) 0, current)));
                } else {
                    assertEquals(Constants.RESULT_DONE, b.remove(acc, (short) 0, current));
                    String last = model.remove(model.size() - 1);
                    if (at < model.size()) {
                        model.set(at, last);
                    }
                    removed++;
                }
            } else {
                narrowed = !narrowed;
                if (narrowed) {
                    // only while nothing listed lies above the narrow HIGH (the card does not check it)
                    boolean above = false;
                    for (String m : model) {
                        above |= Long.parseLong(m.substring(0, 8)) > 5000;
                    }
                    if (above) {
                        narrowed = false;
                        continue;
                    }
                }
                assertEquals(Constants.RESULT_DONE, b.setRange(narrowed ? narrow : wide, (short) 0));
            }
            assertEquals(model.size(), b.count(), "step " + step);
            assertEquals(model, listed(b), "step " + step);
            assertIndexExact(b);
            // lookups: the index answers what a linear scan of the list answers
            for (int q = 0; q < 8; q++) {
                byte[] acc = account("100000", 1 + r.nextInt(pool + 100));
                String low = PurseCardTestSupport.hex(Arrays.copyOfRange(acc, 4, 8));
                int lin = -1;
                for (int i = 0; i < model.size() && lin < 0; i++) {
                    if (model.get(i).startsWith(low)) {
                        lin = i;
                    }
                }
                assertEquals(lin, b.find(acc, (short) 0), "step " + step + " " + low);
            }
        }
        assertTrue(refusedFull > 0 && removed > 100, "full " + refusedFull + ", removed " + removed);
    }

    /** The 32 chains share 1 200 sequential serials evenly (what the bank's batches list). */
    @Test
    void chainsSpreadSequentialSerials() {
        BankFiles b = fresh();
        for (int i = 0; i < 1200; i++) {
            add(b, account("100000", 5_000_000 + i), (short) 0, (byte) 0);
        }
        assertIndexExact(b);
        byte[] bad = (byte[]) field(b, "bad");
        int[] len = new int[BankFiles.CHAINS];
        for (int i = 0; i < 1200; i++) {
            len[BankFiles.hash(bad, (short) (5 * i))]++;
        }
        int max = Arrays.stream(len).max().getAsInt();
        assertTrue(max <= 50, "longest chain " + max + " of 1 200 / 32: " + Arrays.toString(len));
    }
}
