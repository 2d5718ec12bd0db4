package org.purse.applet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.purse.applet.PurseCardTestSupport.*;

import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.purse.jc.PowerLoss;

/** Administration card to card (protocol.md 12.8): packets relayed in Java exactly as the host does. */
class AdminCardTest {
    @TempDir
    Path dir;

    PCard center;
    PCard admin;
    PCard region;
    PCard user;

    @BeforeEach
    void world() throws Exception {
        center = center(dir, "center", 1, 0, 1_000_000, 0);
        admin = issueNew(center, dir, "admin", Constants.ROLE_ADMIN, 0, 1_000_000);
        region = issueNew(center, dir, "region", Constants.ROLE_REGION, 0, 1_000_000);
        user = issueNew(center, dir, "alice", Constants.ROLE_USER, 100, 10_000);
    }

    static byte[] params(byte[] a, byte[] b) {
        return cat(a, b == null ? new byte[8] : b);
    }

    /** Result of one admin op: sw of the first failing step (0x9000 if all passed) and the 88 answer. */
    static final class Op {
        int sw;
        int step;
        byte[] result;
        byte[] a1;
        byte[] a2;
        byte[] a4;
    }

    /** The six steps of 12.8 (VERIFY PIN, 82 admin, 82 bank, 84, 86, 88). */
    static Op adminOp(PCard admin, PCard bank, int op, byte[] params16) {
        Op o = new Op();
        admin.verify(1, PIN);
        byte[][] steps = new byte[1][];
        byte[] r = admin.send(0x82, 0, 0, cat(new byte[] {(byte) op}, params16, u16(DATE)));
        if (fail(o, r, 2)) {
            return o;
        }
        r = bank.send(0x82, 1, 0, data(r));
        if (fail(o, r, 3)) {
            return o;
        }
        o.a1 = data(r);
        r = admin.send(0x84, 0, 0, o.a1);
        if (fail(o, r, 4)) {
            return o;
        }
        o.a2 = data(r);
        r = bank.send(0x86, 0, 0, o.a2);
        if (fail(o, r, 5)) {
            return o;
        }
        o.a4 = data(r);
        r = admin.send(0x88, 0, 0, o.a4);
        if (fail(o, r, 6)) {
            return o;
        }
        o.sw = 0x9000;
        o.result = data(r);
        return o;
    }

    private static boolean fail(Op o, byte[] r, int step) {
        if (sw(r) != 0x9000) {
            o.sw = sw(r);
            o.step = step;
            return true;
        }
        return false;
    }

    static byte[] ok(PCard admin, PCard bank, int op, byte[] params16) {
        Op o = adminOp(admin, bank, op, params16);
        assertEquals(0x9000, o.sw, String.format("admin op %02X failed at step %d: %04X", op, o.step, o.sw));
        assertArrayEquals(bank.account, Arrays.copyOfRange(o.result, 3, 11));
        return o.result;
    }

    static int count(byte[] result) {
        return ((result[1] & 0xFF) << 8) | (result[2] & 0xFF);
    }

    static int pageCount(byte[] page) {
        return ((page[0] & 0xFF) << 8) | (page[1] & 0xFF);
    }

    static byte[] page(PCard bank, int p) {
        return bank.ok(0x8A, p, 0, null);
    }

    static byte[] acc(long serial) {
        return BankFilesTest.account("100000", serial);
    }

    static void advance(PCard center, int date, byte[] rate) {
        center.verify(4, APPROVAL);
        center.ok(0x80, 0, 0, cat(u16(date), new byte[] {(byte) (rate == null ? 0 : 1)}, rate == null ? new byte[4] : rate));
    }

    @Test
    void addListRemoveThroughTheCards() {
        byte[] stolen = acc(4711);
        byte[] r = ok(admin, region, Constants.OP_BAD_CARD_ADD, params(stolen, null));
        assertEquals(Constants.RESULT_DONE, r[0]);
        assertEquals(1, count(r));
        byte[] pg = page(region, 0);
        assertEquals(24 + 5, pg.length);
        assertEquals(1, ((pg[0] & 0xFF) << 8) | (pg[1] & 0xFF));
        assertArrayEquals(Arrays.copyOfRange(stolen, 4, 8), Arrays.copyOfRange(pg, 24, 28));
        assertEquals(region.status()[Constants.ST_CURRENT_KEY], pg[28]);
        assertEquals(region.status()[Constants.ST_CURRENT_KEY], pg[Constants.RBC_CURRENT]);
        // idempotent: listed again -> RESULT 01, same count
        r = ok(admin, region, Constants.OP_BAD_CARD_ADD, params(stolen, null));
        assertEquals(Constants.RESULT_NO_CHANGE, r[0]);
        assertEquals(1, count(r));
        // remove before 7 epochs: 9D24 at ADMIN_APPLY, nothing changed
        Op o = adminOp(admin, region, Constants.OP_BAD_CARD_REMOVE, params(stolen, null));
        assertEquals(0x9D24, o.sw);
        assertEquals(5, o.step);
        assertEquals(1, pageCount(page(region, 0)));
        // not listed at all: 9D24 too
        o = adminOp(admin, region, Constants.OP_BAD_CARD_REMOVE, params(acc(4712), null));
        assertEquals(0x9D24, o.sw);
        // out of the bank's VALID_ACCOUNT range: 9D21
        o = adminOp(admin, region, Constants.OP_BAD_CARD_ADD, params(BankFilesTest.account("200000", 1), null));
        assertEquals(0x9D21, o.sw);
        assertEquals(5, o.step);
    }

    @Test
    void removeOnlyAfterExpiry() throws Exception {
        byte[] stolen = acc(77);
        ok(admin, center, Constants.OP_BAD_CARD_ADD, params(stolen, null));
        int date = DATE;
        for (int e = 1; e <= 7; e++) {
            // the admin card keeps up by being re-issued here (sync is not needed for this figure)
            advance(center, ++date, null);
            if (e < 7) {
                PCard a = issueNew(center, dir, "adm" + e, Constants.ROLE_ADMIN, 0, 1);
                Op o = adminOp(a, center, Constants.OP_BAD_CARD_REMOVE, params(stolen, null));
                assertEquals(0x9D24, o.sw, "epoch " + e);
            }
        }
        PCard a = issueNew(center, dir, "adm7", Constants.ROLE_ADMIN, 0, 1);
        byte[] r = ok(a, center, Constants.OP_BAD_CARD_REMOVE, params(stolen, null));
        assertEquals(Constants.RESULT_DONE, r[0]);
        assertEquals(0, count(r));
        byte[] pg = page(center, 0);
        assertEquals(24, pg.length);
        assertEquals(Math.min(4, 7), pg[Constants.RBC_ARCH]);
    }

    @Test
    void rateAndRange() {
        byte[] rate = hex("00068DB9");
        byte[] r = ok(admin, region, Constants.OP_SET_RATE, cat(rate, new byte[12]));
        assertEquals(Constants.RESULT_DONE, r[0]);
        assertArrayEquals(rate, Arrays.copyOfRange(page(region, 0), Constants.RBC_RATE, Constants.RBC_RATE + 4));
        assertEquals(Constants.RESULT_NO_CHANGE, ok(admin, region, Constants.OP_SET_RATE, cat(rate, new byte[12]))[0]);
        // default range: own prefix 00000000 .. 99999999
        byte[] pg = page(region, 0);
        assertEquals("10000000000000001000000099999999",
                hex(Arrays.copyOfRange(pg, Constants.RBC_LOW, Constants.RBC_LOW + 16)));
        byte[] narrow = hex("10000000000010001000000000099999");
        assertEquals(Constants.RESULT_DONE, ok(admin, region, Constants.OP_SET_RANGE, narrow)[0]);
        assertArrayEquals(narrow, Arrays.copyOfRange(page(region, 0), Constants.RBC_LOW, Constants.RBC_LOW + 16));
        assertEquals(0x9D21, adminOp(admin, region, Constants.OP_BAD_CARD_ADD, params(acc(99), null)).sw);
        ok(admin, region, Constants.OP_BAD_CARD_ADD, params(acc(100), null));
        // another prefix while the list is not empty: 6985
        assertEquals(0x6985, adminOp(admin, region, Constants.OP_SET_RANGE, hex("20000000000000002000000099999999")).sw);
        // malformed params at the admin card (6A80): LOW > HIGH, prefixes differ, bad Luhn, padding
        assertEquals(0x6A80, adminOp(admin, region, Constants.OP_SET_RANGE, hex("10000000000099991000000000001000")).sw);
        assertEquals(0x6A80, adminOp(admin, region, Constants.OP_SET_RANGE, hex("10000000000000001000000100000000")).sw);
        byte[] badLuhn = acc(5);
        badLuhn[7] ^= 0x01;
        assertEquals(0x6A80, adminOp(admin, region, Constants.OP_BAD_CARD_ADD, params(badLuhn, null)).sw);
        assertEquals(0x6A80, adminOp(admin, region, Constants.OP_BAD_CARD_ADD, params(acc(5), hex("0000000000000001"))).sw);
        assertEquals(0x6A80, adminOp(admin, region, Constants.OP_SET_RATE, cat(rate, new byte[11], new byte[] {1})).sw);
        assertEquals(0x6A80, adminOp(admin, region, 5, new byte[16]).sw);
    }

    @Test
    void adminNeedsPinRoleAndOrder() {
        byte[] req = cat(new byte[] {Constants.OP_SET_RATE}, new byte[16], u16(DATE));
        // no PIN
        assertEquals(0x9D13, admin.swOf(0x82, 0, 0, req));
        // not an admin card / not a bank card
        region.verify(1, PIN);
        assertEquals(0x9D12, region.swOf(0x82, 0, 0, req));
        assertEquals(0x9D12, user.swOf(0x82, 1, 0, cat(new byte[] {1, 0}, new byte[8])));
        assertEquals(0x9D12, admin.swOf(0x82, 1, 0, cat(new byte[] {1, 0}, new byte[8])));
        // lengths, P1
        admin.verify(1, PIN);
        assertEquals(0x6700, admin.swOf(0x82, 0, 0, Arrays.copyOf(req, 18)));
        assertEquals(0x6A86, admin.swOf(0x82, 2, 0, req));
        // out of order: 84 / 88 without 82, 86 without 82
        assertEquals(0x6985, admin.swOf(0x84, 0, 0, new byte[64]));
        assertEquals(0x6985, admin.swOf(0x88, 0, 0, new byte[64]));
        assertEquals(0x6985, region.swOf(0x86, 0, 0, new byte[128]));
        // the PIN is consumed by the op: a second op needs it again
        ok(admin, region, Constants.OP_SET_RATE, new byte[16]);
        assertEquals(0x9D13, admin.swOf(0x82, 0, 0, req));
        // PIN reset between 82 and 84 -> 9D13 at 84
        admin.verify(1, PIN);
        byte[] sm = admin.ok(0x82, 0, 0, req);
        byte[] a1 = region.ok(0x82, 1, 0, sm);
        admin.reinsert(); // the session is gone with the PIN
        assertEquals(0x6985, admin.swOf(0x84, 0, 0, a1));
        // wrong suite / no pair on the bank: 9D02 and BAD_KEY + 1
        int bk = region.status()[Constants.ST_BAD_KEY];
        assertEquals(0x9D02, region.swOf(0x82, 1, 0, cat(new byte[] {2, sm[1]}, new byte[8])));
        assertEquals(bk + 1, region.status()[Constants.ST_BAD_KEY]);
    }

    @Test
    void replayAdminOpRefused() {
        Op o = adminOp(admin, region, Constants.OP_BAD_CARD_ADD, params(acc(31), null));
        assertEquals(0x9000, o.sw);
        // the same A2 into a new bank session (fresh R1): 9D03 + BAD_KEY, no change
        admin.verify(1, PIN);
        byte[] sm = admin.ok(0x82, 0, 0, cat(new byte[] {Constants.OP_BAD_CARD_ADD}, params(acc(32), null), u16(DATE)));
        region.ok(0x82, 1, 0, sm);
        int bk = region.status()[Constants.ST_BAD_KEY];
        assertEquals(0x9D03, region.swOf(0x86, 0, 0, o.a2));
        assertEquals(bk + 1, region.status()[Constants.ST_BAD_KEY]);
        assertEquals(1, pageCount(page(region, 0)));
        // the old A4 after the admin session ended: 6985; in a new admin session: 9D03
        assertEquals(0x6985, admin.swOf(0x88, 0, 0, o.a4));
        // a flipped bit in A2's request (its PARAMS): 9D03
        Op p = new Op();
        admin.verify(1, PIN);
        sm = admin.ok(0x82, 0, 0, cat(new byte[] {Constants.OP_BAD_CARD_ADD}, params(acc(33), null), u16(DATE)));
        byte[] a1 = region.ok(0x82, 1, 0, sm);
        byte[] a2 = admin.ok(0x84, 0, 0, a1);
        a2[Constants.HDR_LEN + Constants.A2_PARAMS + 2] ^= 0x01;
        assertEquals(0x9D03, region.swOf(0x86, 0, 0, a2));
        assertEquals(1, pageCount(page(region, 0)));
        // reflected A1 back to the bank as if it were A2: 9D03
        region.ok(0x82, 1, 0, sm);
        assertEquals(0x6700, region.swOf(0x86, 0, 0, a1));
    }

    @Test
    void readBadCardsPagesAndRoles() {
        assertEquals(0x9D12, user.swOf(0x8A, 0, 0, null));
        assertEquals(0x9D12, admin.swOf(0x8A, 0, 0, null));
        assertEquals(0x6A86, region.swOf(0x8A, 30, 0, null));
        assertEquals(0x6A86, region.swOf(0x8A, 0, 1, null));
        for (int p = 0; p < 30; p++) {
            assertEquals(24, page(region, p).length);
        }
    }

    /** A bank card's SELECT ends with 8A's header (the same bytes, as they change); others' do not. */
    @Test
    void selectAnswersTheBankFilesHeaderOnBankCardsOnly() {
        assertEquals(Constants.SELECT_RESP_LEN, user.select().length);
        assertEquals(Constants.SELECT_RESP_LEN, admin.select().length);
        for (PCard bank : new PCard[] {center, region}) {
            byte[] sel = bank.select();
            assertEquals(Constants.SELECT_BANK_RESP_LEN, sel.length);
            assertArrayEquals(page(bank, 0),
                    Arrays.copyOfRange(sel, Constants.SEL_BANK_FILES, Constants.SELECT_BANK_RESP_LEN));
        }
        ok(admin, region, Constants.OP_BAD_CARD_ADD, params(acc(41), null));
        byte[] sel = region.select();
        byte[] head = Arrays.copyOf(page(region, 0), Constants.RBC_HEADER_LEN);
        assertEquals(1, pageCount(head));
        assertArrayEquals(head, Arrays.copyOfRange(sel, Constants.SEL_BANK_FILES, Constants.SELECT_BANK_RESP_LEN));
    }

    /** The figure of the issue: 1 200 entries through real admin ops, 9D23 at 1 201, 30 pages. */
    @Test
    void badCard1200Entries() {
        long t0 = System.nanoTime();
        for (int i = 0; i < 1200; i++) {
            byte[] r = ok(admin, region, Constants.OP_BAD_CARD_ADD, params(acc(10 + i), null));
            assertEquals(i + 1, count(r));
        }
        Op o = adminOp(admin, region, Constants.OP_BAD_CARD_ADD, params(acc(5), null));
        assertEquals(0x9D23, o.sw);
        // already listed still answers RESULT 01 when full
        assertEquals(Constants.RESULT_NO_CHANGE, ok(admin, region, Constants.OP_BAD_CARD_ADD, params(acc(10), null))[0]);
        int seen = 0;
        for (int p = 0; p < 30; p++) {
            byte[] pg = page(region, p);
            assertEquals(224, pg.length);
            for (int j = 0; j < 40; j++) {
                assertArrayEquals(Arrays.copyOfRange(acc(10 + p * 40 + j), 4, 8),
                        Arrays.copyOfRange(pg, 24 + 5 * j, 28 + 5 * j));
                seen++;
            }
        }
        assertEquals(1200, seen);
        System.out.printf("badCard1200Entries: %d admin ops in %d ms%n", 1202, (System.nanoTime() - t0) / 1_000_000);
        assertTrue(seen == 1200);
    }

    /** A tear at every persistent write of ADMIN_APPLY on the bank: the op happened once or not at all. */
    @Test
    void applyTearEveryWrite() {
        int torn = 0;
        int listed = 0;
        for (int k = 1; k < 60; k++) {
            byte[] a = acc(500 + k);
            admin.verify(1, PIN);
            byte[] sm = admin.ok(0x82, 0, 0, cat(new byte[] {Constants.OP_BAD_CARD_ADD}, params(a, null), u16(DATE)));
            byte[] a1 = region.ok(0x82, 1, 0, sm);
            byte[] a2 = admin.ok(0x84, 0, 0, a1);
            region.card.armTear(k);
            boolean t;
            try {
                byte[] r = region.raw(apdu(0x86, 0, 0, a2));
                assertEquals(0x9000, sw(r));
                admin.ok(0x88, 0, 0, data(r));
                t = false;
            } catch (PowerLoss pl) {
                t = true;
                torn++;
                region.reinsert();
            }
            byte[] pg = page(region, 0);
            int n = pageCount(pg);
            assertTrue(n == listed || n == listed + 1, "k=" + k);
            BankFilesTest.assertIndexExact(bankOf(region));
            if (n == listed + 1) {
                assertArrayEquals(Arrays.copyOfRange(a, 4, 8), Arrays.copyOfRange(pg, 24 + 5 * listed, 28 + 5 * listed));
                listed++;
            }
            if (!t) {
                break;
            }
        }
        assertTrue(torn > 0);
        assertEquals(0, region.status()[Constants.ST_BAD_KEY]);
    }

    /** The bank's BankFiles, read out of the card image (the card's class loader: reflection only). */
    static Object bankOf(PCard c) {
        try {
            return BankFilesTest.field(BankFilesTest.field(BankFilesTest.field(applet(c), "issuer"), "admin"), "bank");
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    /** BankFiles.find on the card's object: the index of the entry, or -1. */
    static int find(Object bank, byte[] account) {
        try {
            return (short) bank.getClass().getMethod("find", byte[].class, short.class).invoke(bank, account, (short) 0);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    /**
     * A tear at every persistent write of a batch's 86 P1 01 (12 accounts, one already listed, one
     * twice): the list and its duplicate index unchanged, then the whole batch; the index exact and
     * every listed account found after each.
     */
    @Test
    void batchApplyTearEveryWrite() {
        for (int i = 0; i < 40; i++) {
            ok(admin, region, Constants.OP_BAD_CARD_ADD, params(acc(2000 + 3 * i), null));
        }
        int listed = 40;
        int torn = 0;
        for (int k = 1; k < 30; k++) {
            byte[] first = acc(3000 + 100 * k);
            admin.verify(1, PIN);
            byte[] sm = admin.ok(0x82, 0, 0, cat(new byte[] {Constants.OP_BAD_CARD_ADD}, params(first, null), u16(DATE)));
            byte[] a1 = region.ok(0x82, 1, 0, sm);
            byte[] a4 = region.ok(0x86, 0, 0, admin.ok(0x84, 0, 0, a1));
            listed++;
            int n = 12;
            byte[] lows = Arrays.copyOf(first, 4);
            for (int j = 0; j < n; j++) {
                long serial = j == 4 ? 2000 + 3 * k : j == 9 ? 3001 + 100 * k : 3001 + 100 * k + j;
                lows = cat(lows, Arrays.copyOfRange(acc(serial), 4, 8));
            }
            byte[] r = admin.ok(0x84, 1, n, cat(a4, lows));
            byte[] a5 = Arrays.copyOfRange(r, Constants.BATCH_ACK_LEN, r.length);
            region.card.armTear(k);
            boolean t;
            try {
                assertEquals(0x9000, sw(region.raw(apdu(0x86, 1, n, a5))));
                t = false;
            } catch (PowerLoss pl) {
                t = true;
                torn++;
                region.reinsert();
            }
            Object b = bankOf(region);
            if (!t) {
                listed += n - 2; // one already listed, one twice
            }
            assertEquals(listed, pageCount(page(region, 0)), "k=" + k);
            BankFilesTest.assertIndexExact(b);
            for (int j = 0; j < n; j++) {
                byte[] a = acc(3001 + 100 * k + j);
                assertEquals(!t && j != 4 && j != 9 ? 1 : 0, find(b, a) >= 0 ? 1 : 0, "k=" + k + " j=" + j);
            }
            assertTrue(find(b, first) >= 0);
            if (!t) {
                break;
            }
        }
        assertTrue(torn >= 4, "tear points " + torn);
    }

    /** One ADD session of first's op and 255 batches of one account each: {last A6, batch 1's A5, its A6}. */
    private byte[][] session255(byte[] first, byte[] low) {
        byte[] prefix = Arrays.copyOf(first, 4);
        admin.verify(1, PIN);
        byte[] sm = admin.ok(0x82, 0, 0, cat(new byte[] {Constants.OP_BAD_CARD_ADD}, params(first, null), u16(DATE)));
        byte[] a1 = region.ok(0x82, 1, 0, sm);
        byte[] prev = region.ok(0x86, 0, 0, admin.ok(0x84, 0, 0, a1));
        byte[] a5First = null;
        byte[] a6First = null;
        for (int seq = 1; seq <= 255; seq++) {
            byte[] r = admin.ok(0x84, 1, 1, cat(prev, prefix, low));
            byte[] a5 = Arrays.copyOfRange(r, Constants.BATCH_ACK_LEN, r.length);
            prev = region.ok(0x86, 1, 1, a5);
            if (seq == 1) {
                a5First = a5;
                a6First = prev;
            }
        }
        return new byte[][] {prev, a5First, a6First};
    }

    /**
     * SEQ never wraps: one ADD session takes 255 batches; then both cards refuse the next (6985) and
     * end the session, so batch 1's A5 and A6, recorded, never carry an expected SEQ again. The
     * 255th batch's A6 still closes the session (88 P1 01), which is how the host ends it.
     */
    @Test
    void batchSessionEndsBeforeSeqWraps() {
        byte[] first = acc(7000);
        byte[] low = Arrays.copyOfRange(acc(7001), 4, 8);
        byte[] prefix = Arrays.copyOf(first, 4);
        byte[][] s = session255(first, low);
        // the 256th batch: refused on the admin card, and the bank's session is over too
        assertEquals(0x6985, admin.swOf(0x84, 1, 1, cat(s[0], prefix, low)));
        assertEquals(0x6985, region.swOf(0x86, 1, 1, s[1]));
        assertEquals(0x6985, admin.swOf(0x84, 1, 1, cat(s[2], prefix, low)));
        assertEquals(0x6985, region.swOf(0x86, 1, 1, s[1]), "the bank's session ended");
        assertEquals(2, pageCount(page(region, 0)));
        // a second session of 255: its last A6 is acknowledged (N 1, COUNT 3; the account was listed
        // by the session's first batch, so its bit is clear)
        byte[] low2 = Arrays.copyOfRange(acc(7002), 4, 8);
        s = session255(acc(7000), low2);
        byte[] ack = admin.ok(0x88, 1, 0, s[0]);
        assertEquals(Constants.BATCH_ACK_LEN, ack.length);
        assertEquals(1, ack[0]);
        assertEquals(3, ((ack[1] & 0xFF) << 8) | (ack[2] & 0xFF));
        assertEquals(0, ack[3] & 0x80);
        assertEquals(3, pageCount(page(region, 0)));
    }

    /** Persistent memory per role, as the saved card images show it (figures for the closing note). */
    @Test
    void memoryPerRole() throws Exception {
        PCard branch = issueNew(center, dir, "branch", Constants.ROLE_BRANCH, 0, 1);
        long[] sz = new long[5];
        PCard[] cs = {center, region, branch, user, admin};
        for (int i = 0; i < cs.length; i++) {
            cs[i].card.save();
            sz[i] = java.nio.file.Files.size(cs[i].path);
        }
        System.out.printf("image bytes: center %d, region %d, branch %d, user %d, admin %d%n", sz[0], sz[1], sz[2],
                sz[3], sz[4]);
        assertTrue(sz[1] - sz[3] >= 6000 + 2464, "bank cards carry the 6 000-byte BAD_CARD file and its 2 464-byte index");
        assertTrue(Math.abs(sz[3] - sz[4]) < 200, "user and admin cards are the same size");
    }

    /** The same flow in a 3-key TDES system (A1 56 bytes, A2 88 (96 in AES), A4 64 as in AES). */
    @Test
    void tdesSystem() throws Exception {
        PCard tc = center(dir, "tcenter", 2, 0, 1_000_000, 254);
        PCard ta = issueNew(tc, dir, "tadmin", Constants.ROLE_ADMIN, 0, 1);
        PCard tr = issueNew(tc, dir, "tregion", Constants.ROLE_REGION, 0, 1);
        Op o = adminOp(ta, tr, Constants.OP_BAD_CARD_ADD, params(acc(9), null));
        assertEquals(0x9000, o.sw);
        assertEquals(56, o.a1.length);
        assertEquals(88, o.a2.length);
        assertEquals(64, o.a4.length);
        assertEquals(1, count(o.result));
        assertEquals(Constants.RESULT_DONE, ok(ta, tc, Constants.OP_SET_RATE, cat(hex("00000001"), new byte[12]))[0]);
        advance(tc, DATE + 1, null);
        assertEquals(1, page(tc, 0)[Constants.RBC_ARCH]);
    }

    /** Fuzzed APDUs on 80-8C: never 6F00, only documented status words. */
    @Test
    void fuzzNo6F00() {
        java.util.Random rnd = new java.util.Random(4);
        int[] lens = {0, 1, 2, 6, 7, 8, 18, 19, 20, 56, 63, 64, 65, 127, 128, 129, 200, 255};
        java.util.Set<Integer> known = new java.util.HashSet<>(java.util.Arrays.asList(0x9000, 0x6700, 0x6A80, 0x6A86,
                0x6985, 0x9D01, 0x9D02, 0x9D03, 0x9D04, 0x9D0D, 0x9D0E, 0x9D0F, 0x9D12, 0x9D13, 0x9D15, 0x9D22));
        for (PCard c : new PCard[] {center, admin, region, user}) {
            for (int ins = 0x80; ins <= 0x8C; ins += 2) {
                for (int p1 = 0; p1 < 3; p1++) {
                    for (int len : lens) {
                        byte[] d = new byte[len];
                        rnd.nextBytes(d);
                        if (ins == 0x82 && p1 == 1 && len == 2) {
                            d[0] = 1; // a real pair request: A1 then garbage at 86
                        }
                        int sw = c.swOf(ins, p1, 0, d);
                        assertTrue(known.contains(sw), String.format("%s INS %02X P1 %d len %d -> %04X", c.label, ins, p1, len, sw));
                        if (ins == 0x82 && sw == 0x9000) {
                            int sw2 = c.swOf(p1 == 0 ? 0x84 : 0x86, 0, 0, d);
                            assertTrue(known.contains(sw2), String.format("%s after 82 -> %04X", c.label, sw2));
                        }
                    }
                }
            }
        }
    }
}
