package org.purse.applet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.purse.applet.PurseCardTestSupport.*;

import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.purse.jc.PowerLoss;

/** CENTER_ADVANCE (protocol.md 12.3) and the bank passbook ring (12.2). */
class EpochTest {
    @TempDir
    Path dir;

    PCard center;
    PCard region;

    @BeforeEach
    void world() throws Exception {
        center = center(dir, "center", 1, 0, 1_000_000, 0);
        region = issueNew(center, dir, "region", Constants.ROLE_REGION, 0, 1_000_000);
    }

    static byte[] adv(int date, int flag, byte[] rate) {
        return cat(u16(date), new byte[] {(byte) flag}, rate == null ? new byte[4] : rate);
    }

    @Test
    void advanceNeedsApproval() {
        assertEquals(0x9D15, center.swOf(0x80, 0, 0, adv(DATE + 1, 0, null)));
        assertEquals(0x9D12, region.swOf(0x80, 0, 0, adv(DATE + 1, 0, null)));
        center.verify(4, APPROVAL);
        assertEquals(0x6700, center.swOf(0x80, 0, 0, Arrays.copyOf(adv(DATE + 1, 0, null), 6)));
        assertEquals(0x6A86, center.swOf(0x80, 1, 0, adv(DATE + 1, 0, null)));
        assertEquals(0x6A80, center.swOf(0x80, 0, 0, adv(DATE + 1, 2, null)));
        byte[] r = center.ok(0x80, 0, 0, adv(DATE + 1, 0, null));
        assertEquals(4, r[0]); // genesis keys 0..3, CURRENT 3 -> 4
        assertArrayEquals(u16(DATE + 1), Arrays.copyOfRange(r, 1, 3));
        byte[] st = center.status();
        assertEquals(4, st[Constants.ST_CURRENT_KEY]);
        assertArrayEquals(u16(DATE + 1), Arrays.copyOfRange(st, Constants.ST_KEY_DATE, Constants.ST_KEY_DATE + 2));
        // one approval per epoch
        assertEquals(0x9D15, center.swOf(0x80, 0, 0, adv(DATE + 2, 0, null)));
    }

    @Test
    void dateOnlyForward() {
        center.verify(4, APPROVAL);
        assertEquals(0x9D22, center.swOf(0x80, 0, 0, adv(DATE, 0, null)));      // equal: refused
        assertEquals(0x9D22, center.swOf(0x80, 0, 0, adv(DATE - 1, 0, null)));
        assertEquals(0x9D22, center.swOf(0x80, 0, 0, adv(0, 0, null)));
        center.ok(0x80, 0, 0, adv(0xFFFF, 0, null));                            // unsigned day numbers
        center.verify(4, APPROVAL);
        assertEquals(0x9D22, center.swOf(0x80, 0, 0, adv(0x8000, 0, null)));
        assertEquals(4, center.status()[Constants.ST_CURRENT_KEY]);
    }

    @Test
    void rateArchiveAndBadKeyReset() {
        // BAD_KEY of the center: a refused admin pair counts (12.8 BI)
        center.swOf(0x82, 1, 0, cat(new byte[] {2, 0}, new byte[8]));
        assertEquals(1, center.status()[Constants.ST_BAD_KEY]);
        byte[] rate = hex("00068DB9");
        center.verify(4, APPROVAL);
        center.ok(0x80, 0, 0, adv(DATE + 1, 1, rate));
        assertEquals(0, center.status()[Constants.ST_BAD_KEY]);
        byte[] pg = center.ok(0x8A, 0, 0, null);
        assertArrayEquals(rate, Arrays.copyOfRange(pg, Constants.RBC_RATE, Constants.RBC_RATE + 4));
        assertEquals(1, pg[Constants.RBC_ARCH]);
        assertEquals(4, pg[Constants.RBC_CURRENT]);
        // flag 00 keeps the rate
        for (int e = 2; e <= 6; e++) {
            center.verify(4, APPROVAL);
            center.ok(0x80, 0, 0, adv(DATE + e, 0, null));
        }
        pg = center.ok(0x8A, 0, 0, null);
        assertArrayEquals(rate, Arrays.copyOfRange(pg, Constants.RBC_RATE, Constants.RBC_RATE + 4));
        assertEquals(4, pg[Constants.RBC_ARCH]);
        assertEquals(9, pg[Constants.RBC_CURRENT]);
    }

    @Test
    void transfersKeepWorkingWithinTheWindow() {
        mint(center, 10_000);
        for (int e = 1; e <= 2; e++) {
            center.verify(4, APPROVAL);
            center.ok(0x80, 0, 0, adv(DATE + e, 0, null));
            transfer(center, region, 100);
        }
        assertEquals(200, region.balance());
        // a fresh card issued now gets the new keys
        assertEquals(5, center.status()[Constants.ST_CURRENT_KEY]);
    }

    /** Bank passbook = ring of 50: never full, except over the DEBIT of a pending OUT. */
    @Test
    void bankRingNeverFull() {
        for (int i = 1; i <= 60; i++) {
            mint(center, i);
        }
        byte[] st = center.status();
        assertEquals(50, st[Constants.ST_PB_COUNT]);
        center.verify(1, PIN);
        byte[] oldest = center.ok(0x34, 0, 1, null);
        assertEquals(11, u32(oldest, Constants.PB_AMOUNT));
        byte[] newest = center.ok(0x34, 49, 1, null);
        assertEquals(60, u32(newest, Constants.PB_AMOUNT));
        // five across the wrap point read in order
        byte[] five = center.ok(0x34, 45, 5, null);
        for (int j = 0; j < 5; j++) {
            assertEquals(56 + j, u32(five, j * 42 + Constants.PB_AMOUNT));
        }
        // center pays region up to the debit: OUT pending, its DEBIT is protected
        center.verify(4, APPROVAL);
        byte[] sm = region.hello(500);
        byte[] p1 = center.ok(0x42, 0, 0, cat(u32(500), u16(DATE), sm));
        byte[] p2p3 = region.ok(0x44, 0, 0, region.ad(p1));
        byte[] p4 = center.ok(0x46, 0, 0, p2p3);
        for (int i = 0; i < 49; i++) {
            mint(center, 1000 + i);
        }
        center.verify(3, CREATION);
        assertEquals(0x9D08, center.swOf(0x1A, 0, 0, cat(u32(1), u16(DATE))));
        center.verify(1, PIN);
        byte[] debit = center.ok(0x34, 0, 1, null);
        assertEquals(Constants.PB_TYPE_DEBIT, debit[Constants.PB_TYPE]);
        // finishing the transfer frees it
        byte[] ack = region.ok(0x48, 0, 0, p4);
        center.ok(0x4A, 0, 0, ack);
        mint(center, 7);
        center.verify(1, PIN);
        assertEquals(1000, u32(center.ok(0x34, 0, 1, null), Constants.PB_AMOUNT));
        assertEquals(7, u32(center.ok(0x34, 49, 1, null), Constants.PB_AMOUNT));
    }

    /** A NACK refund marks the protected DEBIT in the ring as 06 even after the ring wrapped. */
    @Test
    void ringRefundMarksTheRightEntry() {
        for (int i = 1; i <= 55; i++) {
            mint(center, i);
        }
        center.verify(4, APPROVAL);
        byte[] sm = region.hello(500);
        byte[] p1 = center.ok(0x42, 0, 0, cat(u32(500), u16(DATE), sm));
        byte[] p2p3 = region.ok(0x44, 0, 0, region.ad(p1));
        center.ok(0x46, 0, 0, p2p3);
        byte[] tid = Arrays.copyOfRange(p1, 2, 8);
        mint(center, 3);
        byte[] nack = region.ok(0x4C, 1, 0, tid);
        center.ok(0x4A, 0, 0, nack);
        center.verify(1, PIN);
        byte[] e = center.ok(0x34, 48, 1, null);
        assertEquals(Constants.PB_TYPE_DEBIT_REFUNDED, e[Constants.PB_TYPE]);
        assertArrayEquals(tid, Arrays.copyOfRange(e, Constants.PB_TID, Constants.PB_TID + 6));
    }

    /** A tear at every persistent write of CENTER_ADVANCE: all or nothing, keys stay usable. */
    @Test
    void advanceTearEveryWrite() throws Exception {
        mint(center, 100_000);
        byte[] rate = hex("00000100");
        int torn = 0;
        for (int k = 1; k < 100; k++) {
            PCard c = copy(center, dir.resolve("t" + k), "center");
            c.verify(4, APPROVAL);
            c.card.armTear(k);
            boolean t;
            try {
                byte[] r = c.raw(apdu(0x80, 0, 0, adv(DATE + 1, 1, rate)));
                assertEquals(0x9000, sw(r));
                t = false;
            } catch (PowerLoss pl) {
                t = true;
                torn++;
                c.reinsert();
            }
            byte[] st = c.status();
            byte[] pg = c.ok(0x8A, 0, 0, null);
            boolean advanced = st[Constants.ST_CURRENT_KEY] == 4;
            if (advanced) {
                assertArrayEquals(u16(DATE + 1), Arrays.copyOfRange(st, Constants.ST_KEY_DATE, Constants.ST_KEY_DATE + 2));
                assertArrayEquals(rate, Arrays.copyOfRange(pg, Constants.RBC_RATE, Constants.RBC_RATE + 4));
                assertEquals(1, pg[Constants.RBC_ARCH]);
            } else {
                assertEquals(3, st[Constants.ST_CURRENT_KEY], "k=" + k);
                assertArrayEquals(u16(DATE), Arrays.copyOfRange(st, Constants.ST_KEY_DATE, Constants.ST_KEY_DATE + 2));
                assertArrayEquals(new byte[4], Arrays.copyOfRange(pg, Constants.RBC_RATE, Constants.RBC_RATE + 4));
                assertEquals(0, pg[Constants.RBC_ARCH]);
                c.verify(4, APPROVAL);
                c.ok(0x80, 0, 0, adv(DATE + 1, 1, rate));
            }
            // the keys are consistent: a card issued now and the old region both transact with it
            PCard fresh = issueNew(c, dir.resolve("t" + k), "fresh", Constants.ROLE_REGION, 0, 1_000_000);
            transfer(c, fresh, 10);
            PCard r = copy(region, dir.resolve("t" + k), "region");
            transfer(c, r, 10);
            assertEquals(10, fresh.balance());
            if (!t) {
                break;
            }
        }
        assertEquals(true, torn > 0);
    }
}
