package org.purse.applet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;

import javacard.framework.APDU;
import javacard.framework.Applet;
import javacard.framework.ISO7816;
import javacard.framework.ISOException;
import javacard.framework.Util;
import javacard.security.Key;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.purse.jc.Card;
import org.purse.jc.PowerLoss;

class KeysTest {
    final CryptoSuite cs = new CryptoSuite();

    /** Keys numbered current-3..current whose value is 16/24 bytes of the key number. */
    Keys keysWith(byte suite, int current) {
        Keys k = new Keys(cs);
        k.allocate(suite, Keys.PHYSICAL);
        int kl = CryptoSuite.keyLen(suite);
        byte[] blob = new byte[4 * kl];
        for (int d = 0; d < 4; d++) {
            for (int i = 0; i < kl; i++) {
                blob[d * kl + i] = (byte) (current - 3 + d);
            }
        }
        k.install((byte) current, blob, (short) 0, new byte[] {0x25, 0x1C}, (short) 0);
        return k;
    }

    static int valueOf(CryptoSuite cs, Key key) {
        byte[] v = new byte[24];
        cs.getKey(key, v, (short) 0);
        return v[0] & 0xFF;
    }

    @Test
    void patentExamples49to52With51to54() {
        Keys payer = keysWith(Constants.SUITE_AES128, 52); // holds 49..52
        Keys payee = keysWith(Constants.SUITE_AES128, 54); // holds 51..54
        assertEquals(51, payee.oldest());
        assertEquals(51, payer.choosePair(payee.oldest()));
        assertTrue(payee.holds((byte) 51) && payee.holds((byte) 52));
        assertEquals(51, valueOf(cs, payer.get((byte) 51)));
        assertEquals(52, valueOf(cs, payer.get((byte) 52)));
    }

    @Test
    void patentExample51to54With54to57Refused() {
        Keys payer = keysWith(Constants.SUITE_AES128, 54); // 51..54
        Keys payee = keysWith(Constants.SUITE_AES128, 57); // 54..57
        assertEquals(-1, payer.choosePair(payee.oldest()));
    }

    @Test
    void newestPairPreferred() {
        Keys payer = keysWith(Constants.SUITE_TDES3, 20); // 17..20
        assertEquals(19, payer.choosePair((byte) 17));  // same keys: d = 2
        assertEquals(19, payer.choosePair((byte) 18));  // payee 18..21: d = 1
        assertEquals(19, payer.choosePair((byte) 19));  // payee 19..22: d = 0
        assertEquals(18, payer.choosePair((byte) 16));  // payee 16..19: d = 2 -> 18,19
        assertEquals(-1, payer.choosePair((byte) 20));  // one common key only
        assertEquals(-1, payer.choosePair((byte) 13));  // payee 13..16: none
        assertEquals(-1, payer.choosePair((byte) 14));  // payee 14..17: one common
    }

    @Test
    void wrapAround255to0() {
        Keys k = keysWith(Constants.SUITE_AES128, 1); // holds 254, 255, 0, 1
        assertEquals((byte) 254, k.oldest());
        for (int n = 0; n < 256; n++) {
            boolean want = n == 254 || n == 255 || n == 0 || n == 1;
            assertEquals(want, k.holds((byte) n), "n=" + n);
        }
        assertEquals(0, k.choosePair((byte) 254));   // pairs (0,1) newest
        assertEquals(255, k.choosePair((byte) 253)); // payee 253..0: (255, 0)
        assertEquals(254, valueOf(cs, k.get((byte) 254)));
        assertEquals(255, valueOf(cs, k.get((byte) 255)));
        assertEquals(0, valueOf(cs, k.get((byte) 0)));
        assertEquals(1, valueOf(cs, k.get((byte) 1)));
        Keys payer = keysWith(Constants.SUITE_AES128, 255); // 252..255
        assertEquals(254, payer.choosePair((byte) 254));    // payee 254..1
        assertEquals(-1, payer.choosePair((byte) 255));
    }

    /** The I1 export as Issuer.issueAuth writes it: the 4 keys oldest first, then the KEY_INFO date. */
    short export(Keys k, byte[] out, short off) {
        short kl = BankSync.exportKeys(cs, k, k.oldest(), Constants.NUM_APPKEYS, out, off);
        k.getDate(out, (short) (off + kl));
        return (short) (kl + Constants.DATE_LEN);
    }

    @Test
    void exportRoundTrip() {
        for (byte suite : new byte[] {Constants.SUITE_AES128, Constants.SUITE_TDES3}) {
            Keys a = new Keys(cs);
            a.allocate(suite, Keys.PHYSICAL);
            a.install((byte) (0xFE + 3), null, (short) 0, new byte[] {0x25, 0x1C}, (short) 0); // as genesis
            assertEquals((byte) 1, a.current());
            int kl = CryptoSuite.keyLen(suite);
            byte[] out = new byte[4 * kl + 2 + 1];
            assertEquals(4 * kl + 2, export(a, out, (short) 1));
            assertEquals(0x25, out[1 + 4 * kl]);
            assertEquals(0x1C, out[2 + 4 * kl]);
            Set<String> distinct = new HashSet<>();
            for (int d = 0; d < 4; d++) {
                distinct.add(CryptoSuiteTest.hex(out, 1 + d * kl, kl));
            }
            assertEquals(4, distinct.size(), "RNG keys differ");

            Keys b = new Keys(cs);
            b.allocate(suite, Keys.PHYSICAL);
            b.install((byte) 1, out, (short) 1, out, (short) (1 + 4 * kl));
            byte[] out2 = new byte[4 * kl + 2 + 1];
            export(b, out2, (short) 1);
            assertEquals(CryptoSuiteTest.hex(out), CryptoSuiteTest.hex(out2));
            byte[] date = new byte[2];
            b.getDate(date, (short) 0);
            assertEquals("251C", CryptoSuiteTest.hex(date));
            // same numbers -> same key values (through get)
            for (int n : new int[] {254, 255, 0, 1}) {
                byte[] x = new byte[kl], y = new byte[kl];
                cs.getKey(a.get((byte) n), x, (short) 0);
                cs.getKey(b.get((byte) n), y, (short) 0);
                assertEquals(CryptoSuiteTest.hex(x), CryptoSuiteTest.hex(y));
            }
        }
    }

    @Test
    void addNewestUsesSpare() {
        Keys k = keysWith(Constants.SUITE_AES128, 3); // 0..3, slots 0..3 -> objects 0..3
        Key old0 = k.get((byte) 0);
        Key k1 = k.get((byte) 1);
        byte[] nk = new byte[16];
        java.util.Arrays.fill(nk, (byte) 4);
        k.addNewest(nk, (short) 0, new byte[] {0x25, 0x1D}, (short) 0);
        assertEquals(4, k.current());
        assertFalse(k.holds((byte) 0));
        assertTrue(k.holds((byte) 4) && k.holds((byte) 1));
        assertNotSame(old0, k.get((byte) 4), "new key went into the spare object");
        assertSame(k1, k.get((byte) 1));
        assertEquals(4, valueOf(cs, k.get((byte) 4)));
        // the replaced object becomes the spare: next addNewest (number 5, slot 1) writes into old0
        java.util.Arrays.fill(nk, (byte) 5);
        k.addNewest(nk, (short) 0, new byte[] {0x25, 0x1E}, (short) 0);
        assertSame(old0, k.get((byte) 5));
        assertEquals(5, valueOf(cs, k.get((byte) 5)));
        assertEquals(4, valueOf(cs, k.get((byte) 4)));
        assertEquals(2, valueOf(cs, k.get((byte) 2)));
        byte[] date = new byte[2];
        k.getDate(date, (short) 0);
        assertEquals("251E", CryptoSuiteTest.hex(date));
    }

    // ------------------------------------------------------------------ on the engine (instrumented)

    /** Test subject: AES keys 0..3 (value = number), INS 02 addNewest, INS 04 state, INS 06 seal P4. */
    public static class KeysApplet extends Applet {
        final CryptoSuite cs;
        final Packets pk;
        final Keys keys;
        final byte[] work;

        KeysApplet() {
            cs = new CryptoSuite();
            pk = new Packets(cs);
            keys = new Keys(cs);
            keys.allocate(Constants.SUITE_AES128, Keys.PHYSICAL);
            work = new byte[128];
            for (short i = 0; i < (short) 64; i++) {
                work[i] = (byte) (i >> 4);
            }
            keys.install((byte) 3, work, (short) 0, work, (short) 0);
        }

        public static void install(byte[] bArray, short bOffset, byte bLength) {
            new KeysApplet().register(bArray, (short) (bOffset + 1), bArray[bOffset]);
        }

        public void process(APDU apdu) {
            if (selectingApplet()) {
                return;
            }
            byte[] buf = apdu.getBuffer();
            switch (buf[ISO7816.OFFSET_INS]) {
                case 0x02: {
                    byte n = (byte) (keys.current() + 1);
                    Util.arrayFillNonAtomic(buf, (short) 16, (short) 16, n);
                    buf[0] = (byte) 0x25;
                    buf[1] = n;
                    keys.addNewest(buf, (short) 16, buf, (short) 0);
                    return;
                }
                case 0x04: {
                    byte c = keys.current();
                    buf[0] = c;
                    for (short d = 0; d < (short) 4; d++) {
                        cs.getKey(keys.get((byte) (c - 3 + d)), buf, (short) 32);
                        buf[(short) (1 + d)] = buf[(short) 32];
                    }
                    keys.getDate(buf, (short) 5);
                    apdu.setOutgoingAndSend((short) 0, (short) 7);
                    return;
                }
                case 0x06: {
                    // P4 vector of protocol.md 9.3: K_S of AK1 = 10 11 .. 1F, tag 'T', TID | 33 | RP
                    for (short i = 0; i < (short) 16; i++) {
                        work[i] = (byte) (0x10 + i);
                    }
                    Key ak1 = cs.buildPersistentKey(Constants.SUITE_AES128);
                    cs.setKey(ak1, work, (short) 0);
                    for (short i = 0; i < (short) 6; i++) {
                        work[i] = (byte) (0xA1 + i);
                    }
                    work[6] = (byte) 0x33;
                    Util.arrayFillNonAtomic(work, (short) 7, (short) 8, (byte) 0x52);
                    Key e = cs.workKey(Constants.SUITE_AES128, (byte) 2);
                    Key m = e; // a session seals and opens under its one key K_S
                    cs.sessionKeys(ak1, Constants.KS_TX, work, (short) 0, work, (short) 16);
                    cs.setKey(e, work, (short) 16);
                    short bl = apdu.setIncomingAndReceive();
                    Util.arrayCopyNonAtomic(buf, ISO7816.OFFSET_CDATA, work, (short) 24, bl);
                    short n = pk.seal(Constants.PT_P4, (byte) 0x33, work, (short) 0, e, m, work, (short) 24, bl, buf, (short) 0);
                    // open spends the packet it decrypts (in place): open a copy, send the original
                    Util.arrayCopyNonAtomic(buf, (short) 0, work, (short) 64, n);
                    if (!pk.open(Constants.PT_P4, (byte) 0x33, work, (short) 0, e, m, work, (short) 64, n, bl, work, (short) 24)) {
                        ISOException.throwIt(Constants.SW_BAD_PACKET);
                    }
                    apdu.setOutgoingAndSend((short) 0, n);
                    return;
                }
                default:
                    ISOException.throwIt(ISO7816.SW_INS_NOT_SUPPORTED);
            }
        }
    }

    static final byte[] KAID = {(byte) 0xF0, 0x70, 0x75, 0x72, 0x73, 0x65, (byte) 0xEA};

    static byte[] ok(Card c, byte[] cmd) {
        byte[] r = c.transmit(cmd);
        assertEquals(0x9000, ((r[r.length - 2] & 0xFF) << 8) | (r[r.length - 1] & 0xFF), CryptoSuiteTest.hex(r));
        return java.util.Arrays.copyOf(r, r.length - 2);
    }

    static byte[] selectCmd() {
        byte[] c = new byte[5 + KAID.length];
        c[1] = (byte) 0xA4;
        c[2] = 0x04;
        c[4] = (byte) KAID.length;
        System.arraycopy(KAID, 0, c, 5, KAID.length);
        return c;
    }

    @TempDir
    java.nio.file.Path dir;

    @Test
    void onEngineSealMatchesVector() throws Exception {
        Card card = Card.create(dir.resolve("k.img"), KeysApplet.class.getName(), KAID, new byte[0]);
        card.powerOn();
        ok(card, selectCmd());
        // the AES P4 vector of tests/vectors/protocol.json (the test applet seals under K_S of its AK1 = 10 .. 1F, tag 'T')
        java.util.Map<String, Object> p4 = Vectors.find(CryptoSuiteTest.AES_V, "packets", "name", "P4");
        byte[] body = CryptoSuiteTest.hex(Vectors.str(p4, "body"));
        byte[] cmd = new byte[5 + body.length + 1];
        cmd[0] = (byte) 0x80;
        cmd[1] = 0x06;
        cmd[4] = (byte) body.length;
        System.arraycopy(body, 0, cmd, 5, body.length);
        assertEquals(Vectors.str(p4, "packet"), CryptoSuiteTest.hex(ok(card, cmd)));
    }

    /** protocol.md 12.2: a tear at any write of addNewest leaves the old or the new key set, never a mix. */
    @Test
    void tornAddNewest() throws Exception {
        byte[] add = {(byte) 0x80, 0x02, 0, 0};
        byte[] st = {(byte) 0x80, 0x04, 0, 0, 7};
        String before;
        boolean completed = false;
        int torn = 0;
        int tornToNew = 0;
        for (int k = 1; k < 200 && !completed; k++) {
            java.nio.file.Path sub = dir.resolve("t" + k);
            java.nio.file.Files.createDirectories(sub);
            Card card = Card.create(sub.resolve("k.img"), KeysApplet.class.getName(), KAID, new byte[0]);
            card.powerOn();
            ok(card, selectCmd());
            before = CryptoSuiteTest.hex(ok(card, st));
            assertEquals("03000102030000", before);
            card.armTear(k);
            try {
                ok(card, add);
                completed = true;
            } catch (PowerLoss expected) {
                assertFalse(card.isPowered());
                torn++;
            }
            Card again = Card.load(sub.resolve("k.img"));
            again.powerOn();
            ok(again, selectCmd());
            String after = CryptoSuiteTest.hex(ok(again, st));
            if (completed) {
                assertEquals("04010203042504", after, "k=" + k);
            } else {
                assertTrue(after.equals(before) || after.equals("04010203042504"), "k=" + k + ": " + after);
                if (!after.equals(before)) {
                    tornToNew++;
                }
            }
            // and the card keeps working: one more key
            ok(again, add);
            String next = CryptoSuiteTest.hex(ok(again, st));
            assertTrue(next.equals("04010203042504") || next.equals("05020304052505"), "k=" + k + ": " + next);
        }
        assertTrue(completed, "addNewest never completed");
        assertTrue(torn >= 3, "tears exercised: " + torn);
        assertEquals(0, tornToNew, "a tear inside the transaction rolls back");
    }
}
