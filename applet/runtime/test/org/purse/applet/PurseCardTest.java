package org.purse.applet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.purse.applet.PurseCardTestSupport.*;

import java.nio.file.Path;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One card at a time: install, SELECT, GET_STATUS, genesis, VERIFY/CHANGE, mint, issuance (protocol.md 4, 5). */
class PurseCardTest {
    @TempDir
    Path dir;

    /** The test support's host crypto against tests/vectors/protocol.json (docs/protocol.md 9). */
    @Test
    void hostCryptoMatchesSpecVectors() {
        Map<String, Object> aes = CryptoSuiteTest.AES_V;
        Map<String, Object> tdes = CryptoSuiteTest.TDES_V;
        Map<String, Object> tk = Vectors.find(aes, "derivations", "name", "transport");
        assertEquals("purse-dev-transp", new String(DEV_TK_AES, StandardCharsets.US_ASCII));
        byte[] ks = kdf(DEV_TK_AES, Vectors.str(tk, "label"), hex(Vectors.str(tk, "context")));
        assertEquals(Vectors.str(tk, "k_enc") + Vectors.str(tk, "k_mac"), hex(ks));
        Map<String, Object> hs = Vectors.find(aes, "derivations", "name", "transfer");
        assertEquals("cbc", Vectors.str(hs, "kdf"));
        byte[] kTx = sessionKeys(hex(Vectors.str(aes, "ak1")), hex(Vectors.str(hs, "label"))[0],
                hex(Vectors.str(hs, "context")));
        assertEquals(Vectors.str(hs, "k_enc") + Vectors.str(hs, "k_mac"), hex(kTx));
        Map<String, Object> hs3 = Vectors.find(tdes, "derivations", "name", "sync");
        assertEquals(Vectors.str(hs3, "k_enc") + Vectors.str(hs3, "k_mac"), hex(sessionKeys(
                hex(Vectors.str(tdes, "ak1")), hex(Vectors.str(hs3, "label"))[0], hex(Vectors.str(hs3, "context")))));
        Map<String, Object> p1v = Vectors.find(aes, "packets", "name", "P1");
        byte[] p1 = seal(0x41, 0x33, hex(Vectors.str(aes, "tid")), kTx, hex(Vectors.str(p1v, "body")));
        assertEquals(Vectors.str(p1v, "packet"), hex(p1));
        Map<String, Object> tk3 = Vectors.find(tdes, "derivations", "name", "transport");
        assertEquals("purse-dev-transport-3des", new String(DEV_TK_TDES, StandardCharsets.US_ASCII));
        byte[] tks = kdf(DEV_TK_TDES, Vectors.str(tk3, "label"), hex(Vectors.str(tk3, "context")));
        String rhrc = Vectors.str(tdes, "rh") + Vectors.str(tdes, "rc");
        assertEquals(Vectors.str(tdes, "cc"), hex(mac8(Arrays.copyOfRange(tks, 24, 48), hex("01" + rhrc))));
    }

    @Test
    void blankCardSelectAndStatus() throws Exception {
        PCard c = create(dir, "blank", new byte[0]);
        byte[] sel = c.select();
        assertEquals(77, sel.length); // STATUS | oldest | RP (4.1)
        assertArrayEquals(hex("07000101"), Arrays.copyOf(sel, 4));
        byte[] st = c.status();
        assertEquals(68, st.length);
        assertArrayEquals(st, Arrays.copyOf(sel, 68), "SELECT answers the status");
        assertFalse(Arrays.equals(Arrays.copyOfRange(sel, 69, 77), Arrays.copyOfRange(c.select(), 69, 77)),
                "a fresh RP per SELECT");
        assertEquals(1, st[Constants.ST_LIFE]);
        assertEquals(15, st[Constants.ST_TK_TRIES]);
        assertEquals(0x9D1C, c.swOf(0x32, 0, 0, null));
        assertEquals(0x9D1C, c.payeeSw(1));
        assertEquals(0x6D00, c.swOf(0x60, 0, 0, null));
        assertEquals(0x6E00, sw(c.raw(new byte[] {0x00, 0x30, 0, 0, 0})));
        PCard t = create(dir, "blank3des", new byte[] {0});
        assertArrayEquals(hex("07000102"), Arrays.copyOf(t.select(), 4));
    }

    @Test
    void genesisAesAndTdes() throws Exception {
        for (int suite = 1; suite <= 2; suite++) {
            PCard c = center(dir, "center" + suite, suite, 0, 100000, 30);
            assertEquals("1000000000000008", hex(c.account));
            byte[] st = c.status();
            assertEquals(2, st[Constants.ST_LIFE]);
            assertEquals(suite, st[Constants.ST_SUITE]);
            assertEquals(Constants.ROLE_CENTER, st[Constants.ST_ROLE]);
            assertEquals(33, st[Constants.ST_CURRENT_KEY]);
            assertEquals(0, st[Constants.ST_TK_TRIES]);
            assertEquals((byte) 0xFF & 3, st[Constants.ST_PIN_TRIES]);
            assertEquals(0, c.balance());
            byte[] sel = c.select();
            assertArrayEquals(hex("070002" + "0" + suite), Arrays.copyOf(sel, 4));
            // the payee hello: oldest key number (current - 3) after the status
            assertEquals((byte) (st[Constants.ST_CURRENT_KEY] - 3), sel[Constants.SEL_OLDEST]);
            // a second genesis is refused: the card is personalised
            assertEquals(0x9D1D, c.swOf(0x10, 0, 0, rnd(8)));
        }
    }

    @Test
    void wrongTransportKeyCountsAndBlocks() throws Exception {
        PCard c = create(dir, "blank", new byte[0]);
        byte[] wrongTk = "0123456789abcdef".getBytes();
        for (int i = 1; i <= 15; i++) {
            byte[] rh = rnd(8);
            byte[] r = c.ok(0x10, 0, 0, rh);
            byte[] ks = kdf(wrongTk, "PURSE TK", cat(rh, Arrays.copyOf(r, 8)));
            byte[] hc = mac8(Arrays.copyOfRange(ks, 16, 32), cat(new byte[] {2}, rh, Arrays.copyOf(r, 8)));
            byte[] pkt = seal(0x11, 0, Arrays.copyOf(r, 6), ks, g1(1, "100000", "C", 0, 0, 10, 0));
            int sw = c.swOf(0x12, 0, 0, cat(hc, pkt));
            assertEquals(i < 15 ? 0x9D03 : 0x9D18, sw);
            assertEquals(15 - i, c.status()[Constants.ST_TK_TRIES]);
        }
        assertEquals(0x9D18, c.swOf(0x10, 0, 0, rnd(8)));
    }

    @Test
    void verifyAndChangePin() throws Exception {
        PCard c = center(dir, "center", 1, 0, 100000, 0);
        assertEquals(0x63C3, c.swOf(0x20, 0, 1, null));
        assertEquals(0x63C2, c.swOf(0x20, 0, 1, "9999".getBytes()));
        c.verify(1, PIN);
        assertEquals(0x9000, c.swOf(0x20, 0, 1, null));
        assertEquals(3, c.status()[Constants.ST_PIN_TRIES]);
        // change: old verified, new in force
        c.ok(0x24, 0, 1, cat(new byte[] {4}, PIN.getBytes(), new byte[] {5}, "54321".getBytes()));
        assertEquals(0x63C2, c.swOf(0x20, 0, 1, PIN.getBytes()));
        c.verify(1, "54321");
        assertEquals(0x6700, c.swOf(0x24, 0, 1, cat(new byte[] {5}, "54321".getBytes(), new byte[] {6}, "12".getBytes())));
        assertEquals(0x6A80, c.swOf(0x24, 0, 1, cat(new byte[] {5}, "54321".getBytes(), new byte[] {2}, "12".getBytes())));
        // block
        for (int i = 2; i >= 1; i--) {
            assertEquals(0x63C0 | i, c.swOf(0x20, 0, 1, "0000".getBytes()));
        }
        assertEquals(0x6983, c.swOf(0x20, 0, 1, "0000".getBytes()));
        assertEquals(0x6983, c.swOf(0x20, 0, 1, "54321".getBytes()));
        assertEquals(0x6A86, c.swOf(0x20, 0, 5, "0000".getBytes()));
    }

    @Test
    void mintNeedsCreationSecretOncePerMint() throws Exception {
        PCard c = center(dir, "center", 1, 0, 100000, 0);
        assertEquals(0x9D16, c.swOf(0x1A, 0, 0, cat(u32(100), u16(DATE))));
        assertEquals(1000, mint(c, 1000));
        assertEquals(0x9D16, c.swOf(0x1A, 0, 0, cat(u32(100), u16(DATE))));
        c.verify(3, CREATION);
        assertEquals(0x6A80, c.swOf(0x1A, 0, 0, cat(u32(0), u16(DATE))));
        c.verify(3, CREATION);
        assertEquals(0x9D06, c.swOf(0x1A, 0, 0, cat(u32(0xFFFFFFFFL), u16(DATE))));
        assertEquals(0x6700, c.swOf(0x1A, 0, 0, u32(5)));
        assertEquals(1000, c.balance());
        // passbook: PIN needed, one MINT entry
        assertEquals(0x9D13, c.swOf(0x34, 0, 1, null));
        c.verify(1, PIN);
        byte[] e = c.ok(0x34, 0, 1, null);
        assertEquals(42, e.length);
        assertEquals(Constants.PB_TYPE_MINT, e[Constants.PB_TYPE]);
        assertEquals(1000, u32(e, Constants.PB_AMOUNT));
        assertEquals(1000, u32(e, Constants.PB_NEW_BALANCE));
        assertArrayEquals(c.account, Arrays.copyOf(e, 8));
        assertEquals("MINT    ", new String(e, 8, 8));
        assertEquals(0x6A83, c.swOf(0x34, 0, 2, null));
        assertEquals(0x6A86, c.swOf(0x34, 0, Constants.PB_READ_MAX + 1, null));
    }

    @Test
    void issuanceAllocatesDistinctAccounts() throws Exception {
        PCard center = center(dir, "center", 1, 0, 100000, 0);
        PCard u1 = issueNew(center, dir, "user1", Constants.ROLE_USER, 500, 5000);
        PCard u2 = issueNew(center, dir, "user2", Constants.ROLE_USER, 500, 5000);
        assertEquals("1000000000000016", hex(u1.account));
        assertEquals("1000000000000024", hex(u2.account));
        byte[] st = u1.status();
        assertEquals(Constants.ROLE_USER, st[Constants.ST_ROLE]);
        assertEquals(center.status()[Constants.ST_CURRENT_KEY], st[Constants.ST_CURRENT_KEY]);
        assertArrayEquals(Arrays.copyOfRange(center.status(), Constants.ST_APP_ID, Constants.ST_APP_ID + 8),
                Arrays.copyOfRange(st, Constants.ST_APP_ID, Constants.ST_APP_ID + 8));
        assertEquals(500, u32(st, Constants.ST_MIN_TRANS));
        assertEquals(0, st[Constants.ST_TK_TRIES]);
        assertEquals(0x9D12, u1.swOf(0x1A, 0, 0, cat(u32(1), u16(DATE))));
        assertEquals(0x9D12, u1.swOf(0x20, 0, 3, CREATION.getBytes()));
        // users cannot issue; the center needs the approval secret
        u1.verify(1, PIN);
        assertEquals(0x9D12, u1.swOf(0x14, 0, 0, issueReq(DEV_TK_AES, 4, "x", 0, 0, PIN, null)));
        center.verify(1, PIN);
        assertEquals(0x9D15, center.swOf(0x14, 0, 0, issueReq(DEV_TK_AES, 4, "x", 0, 0, PIN, null)));
        // issuance steps out of order
        assertEquals(0x6982, center.swOf(0x16, 0, 0, rnd(16)));
    }

    @Test
    void adminCardIssuesUnderItsOwnIssuerId() throws Exception {
        PCard center = center(dir, "center", 1, 0, 100000, 0);
        PCard admin = issueNew(center, dir, "admin", Constants.ROLE_ADMIN, 0, 0);
        assertEquals("1000000000000016", hex(admin.account));
        PCard u = issueNew(admin, dir, "user", Constants.ROLE_USER, 0, 0);
        assertEquals("100001000000001", hex(u.account).substring(0, 15));
        admin.verify(1, PIN);
        assertEquals(0x9D12, admin.swOf(0x14, 0, 0, issueReq(DEV_TK_AES, 5, "x", 0, 0, PIN, null)));
        // admin cards never transfer
        assertEquals(0x9D04, admin.payeeSw(1));
    }

    @Test
    void issuanceIntoTdesTransportBlank() throws Exception {
        PCard center = center(dir, "center", 1, 0, 100000, 0);
        PCard b = create(dir, "b3", new byte[] {0});
        issue(center, b, DEV_TK_TDES, issueReq(DEV_TK_TDES, 4, "tdesuser", 0, 0, PIN, null));
        assertEquals(1, b.status()[Constants.ST_SUITE]);
        assertEquals((byte) 0xFF, b.status()[Constants.ST_TXKEY_TRIES]);
        // and a TDES system
        PCard c2 = center(dir, "center2", 2, 0, 100000, 250);
        PCard u = issueNew(c2, dir, "u2", 4, 0, 0);
        assertEquals(2, u.status()[Constants.ST_SUITE]);
        assertEquals(253 - 256, u.status()[Constants.ST_CURRENT_KEY]);
        assertNotEquals(0, u.account[0]);
    }

    /** T17: random APDUs on blank, center and user cards: never 6F00, no state change on any error. */
    @Test
    void fuzzedApdusNo6F00NoStateChange() throws Exception {
        PCard blank = create(dir, "blank", new byte[0]);
        PCard center = center(dir, "center", 1, 0, 100000, 0);
        PCard user = issueNew(center, dir, "user", Constants.ROLE_USER, 10, 100);
        mint(center, 5000);
        int[] lens = {0, 1, 2, 6, 7, 8, 16, 17, 48, 56, 64, 72, 112, 120, 176, 216, 255};
        java.util.Random r = new java.util.Random(42);
        for (PCard c : new PCard[] {blank, center, user}) {
            for (int ins = 0; ins < 256; ins += 2) {
                for (int i = 0; i < 12; i++) {
                    int p1 = i < 4 ? 0 : r.nextInt(4) == 0 ? r.nextInt(256) : r.nextInt(3);
                    int p2 = i < 6 ? (i & 1) : r.nextInt(6);
                    byte[] d = new byte[lens[r.nextInt(lens.length)]];
                    r.nextBytes(d);
                    if (i % 3 == 0 && d.length > 8) {
                        d[0] = (byte) (0x41 + r.nextInt(6)); // plausible packet types
                    }
                    String before = masked(c);
                    int sw = c.swOf(ins, p1, p2, d);
                    assertNotEquals(0x6F00, sw, String.format("%s INS %02X P1 %02X P2 %02X Lc %d", c.label, ins, p1, p2, d.length));
                    if (sw != 0x9000) {
                        assertEquals(before, masked(c), String.format("%s INS %02X -> %04X changed state", c.label, ins, sw));
                    }
                    if (c.status()[Constants.ST_BAD_KEY] > 5) {
                        c.card.powerOff(); // keep testing past the lock: reset transient state only
                        c.select();
                    }
                }
            }
        }
    }

    /** Status + pending + exceptions with the counters an error may move (BAD_KEY, tries) masked. */
    private static String masked(PCard c) {
        byte[] st = c.status();
        st[Constants.ST_BAD_KEY] = 0;
        st[Constants.ST_PIN_TRIES] = 0;
        st[Constants.ST_TXKEY_TRIES] = 0;
        st[Constants.ST_TK_TRIES] = 0;
        if (st[Constants.ST_LIFE] == 1) {
            return hex(st);
        }
        return hex(st) + "/" + hex(c.pending()) + "/" + hex(c.ok(0x36, 0, 0, null));
    }
}
