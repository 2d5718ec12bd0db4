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
import org.purse.jc.Counters;

/** Two (or more) cards, packets relayed in Java exactly as the host does (protocol.md 6). */
class TransferCardTest {
    @TempDir
    Path dir;

    PCard center;
    PCard region;
    PCard branch;
    PCard u1;
    PCard u2;

    /** center mints 1 000 000 and pays it down: region 500 000, branch 200 000, u1 50 000. */
    @BeforeEach
    void world() throws Exception {
        center = center(dir, "center", 1, 0, 1_000_000, 0);
        region = issueNew(center, dir, "region", Constants.ROLE_REGION, 0, 1_000_000);
        branch = issueNew(center, dir, "branch", Constants.ROLE_BRANCH, 0, 1_000_000);
        u1 = issueNew(center, dir, "alice", Constants.ROLE_USER, 100, 10_000);
        u2 = issueNew(center, dir, "bob", Constants.ROLE_USER, 100, 10_000);
        mint(center, 1_000_000);
        transfer(center, region, 500_000);
        transfer(region, branch, 200_000);
        transfer(branch, u1, 50_000);
    }

    private long total() {
        return value(center, region, branch, u1, u2);
    }

    @Test
    void chainMovesValueAndWritesPassbooks() {
        assertEquals(500_000, center.balance());
        assertEquals(300_000, region.balance());
        assertEquals(150_000, branch.balance());
        assertEquals(50_000, u1.balance());
        Wire w = transfer(u1, u2, 1234);
        assertEquals(50_000 - 1234, u1.balance());
        assertEquals(1234, u2.balance());
        assertEquals(1_000_000, total());
        u1.verify(1, PIN);
        byte[] e = u1.ok(0x34, 1, 1, null); // entry 0: CREDIT from branch, entry 1: DEBIT to bob
        assertEquals(Constants.PB_TYPE_DEBIT, e[Constants.PB_TYPE]);
        assertArrayEquals(u2.account, Arrays.copyOf(e, 8));
        assertEquals("bob     ", new String(e, 8, 8));
        assertEquals(1234, u32(e, Constants.PB_AMOUNT));
        assertEquals(50_000 - 1234, u32(e, Constants.PB_NEW_BALANCE));
        assertArrayEquals(w.tid, Arrays.copyOfRange(e, Constants.PB_TID, Constants.PB_TID + 6));
        u2.verify(1, PIN);
        byte[] c = u2.ok(0x34, 0, 1, null);
        assertEquals(Constants.PB_TYPE_CREDIT, c[Constants.PB_TYPE]);
        assertArrayEquals(u1.account, Arrays.copyOf(c, 8));
        assertEquals(1234, u32(c, Constants.PB_NEW_BALANCE));
        // payer and payee randoms are crossed: payer keeps R2, payee keeps R1
        assertEquals(e[Constants.PB_KEYNUM], c[Constants.PB_KEYNUM]);
        // nothing pending, payee remembers the ACK
        assertEquals(0, u1.pending()[Constants.PD_OUT_STATE]);
        byte[] pd = u2.pending();
        assertEquals(0, pd[Constants.PD_IN_STATE]);
        assertEquals(1, outcomeKind(pd, w.tid));
        // deposit and withdrawal are transfers with the branch
        transfer(u1, branch, 1000);
        transfer(branch, u2, 500);
        assertEquals(1_000_000, total());
    }

    /** Figures for docs/benchmarks.md: per card per transfer, from the engine counters. */
    @Test
    void transferCostsTwoTransactionsPerCard() {
        u1.meas = new Counters();
        u2.meas = new Counters();
        transfer(u1, u2, 50); // below MIN_TRANS: no VERIFY in the count
        System.out.println("FIGURES payer: " + u1.meas + " payee: " + u2.meas);
        assertEquals(2, u1.meas.transactions);
        assertEquals(2, u2.meas.transactions);
        assertEquals(4, u1.meas.apdus); // GET_STATUS (host) + 42, 46, 4A
        assertEquals(3, u2.meas.apdus); // 40, 44, 48
        // block-cipher passes (14 and 13 without the RAM copy of the balance record): a check that
        // finds the record as this selection last checked or sealed it skips the MAC; the payer's
        // two at 46, the payee's second at 48, and this payer's 42 (its selection sealed a credit)
        assertEquals(11, u1.meas.op("cipher.doFinal.AES_CBC"));
        assertEquals(12, u2.meas.op("cipher.doFinal.AES_CBC"));
    }

    @Test
    void replayedP4AndAckRefusedWithoutStateChange() {
        Wire w = transfer(u1, u2, 500 - 1 + 1);
        String s1 = u1.snapshot();
        String s2 = u2.snapshot();
        assertEquals(0x9D0C, u2.swOf(0x48, 0, 0, w.p4));
        assertEquals(0x9D0B, u1.swOf(0x4A, 0, 0, w.ack));
        assertEquals(0x9D0B, u1.swOf(0x50, 0, 0, w.tid));
        assertEquals(0x6985, u2.swOf(0x44, 0, 0, u2.ad(w.p1)));
        assertEquals(0x6985, u1.swOf(0x46, 0, 0, w.p2p3));
        assertEquals(s1, u1.snapshot());
        assertEquals(s2, u2.snapshot());
        // old P2 into a new payer session: R1 differs -> bad packet (+BK)
        u1.verify(1, PIN);
        byte[] sm = u2.hello(500);
        u1.ok(0x42, 0, 0, cat(u32(500), u16(DATE), sm));
        assertEquals(0x9D03, u1.swOf(0x46, 0, 0, w.p2p3));
        assertEquals(1, u1.status()[Constants.ST_BAD_KEY]);
        // an old P1 replayed into a new payee session: its TID is settled -> 9D0C, nothing persisted, no BK
        s2 = u2.snapshot();
        u2.hello(500);
        assertEquals(0x9D0C, u2.swOf(0x44, 0, 0, u2.ad(w.p1)));
        assertEquals(0x9D0C, u2.swOf(0x4C, 1, 0, w.tid), "no second outcome for a settled TID");
        assertEquals(s2, u2.snapshot());
        assertEquals("none", resume(u1, u2));
        assertEquals(1_000_000, total());
    }

    /**
     * Issue 7 section 1: ACK dropped, then every recorded packet replayed into fresh sessions of both
     * cards (P1 into 40/44, 4C 01 on its TID, P2 into 42/46, P4 into 48); resume then finishes
     * exactly once with the first outcome, and no card counted a BAD_KEY through resume.
     */
    @Test
    void replayedP1NeverReopensASettledTransfer() {
        u1.verify(1, PIN);
        byte[] sm = u2.hello(700);
        byte[] p1 = u1.ok(0x42, 0, 0, cat(u32(700), u16(DATE), sm));
        byte[] tid = Arrays.copyOfRange(p1, 2, 8);
        byte[] p2p3 = u2.ok(0x44, 0, 0, u2.ad(p1));
        byte[] p4 = u1.ok(0x46, 0, 0, p2p3);
        byte[] ack = u2.ok(0x48, 0, 0, p4); // ACK dropped: u1 stays PENDING(T)
        String s2 = u2.snapshot();
        u2.reinsert();
        u2.hello(700);
        assertEquals(0x9D0C, u2.swOf(0x44, 0, 0, u2.ad(p1)), "P1 of a settled TID");
        assertEquals(0x9D0C, u2.swOf(0x4C, 1, 0, tid), "abort of a settled TID");
        assertEquals(0x9D0C, u2.swOf(0x48, 0, 0, p4));
        assertEquals(s2, u2.snapshot());
        assertEquals(0, u2.status()[Constants.ST_BAD_KEY]);
        assertEquals(1, outcomeKind(u2.pending(), tid));
        assertEquals("ack", resume(u1, u2));
        assertArrayEquals(ack, u2.ok(0x52, 0, 0, tid), "the first outcome, unchanged");
        assertEquals(0, u1.status()[Constants.ST_BAD_KEY]);
        assertEquals(0, u2.status()[Constants.ST_BAD_KEY]);
        assertEquals(50_000 - 700, u1.balance());
        assertEquals(700, u2.balance());
        assertEquals("none", resume(u1, u2));
        // beyond the 4-entry OUTCOMES ring: the old P1 is bound to the RP of the session it was made
        // for, so it opens in no later payee session (9D03, nothing persisted)
        for (int i = 0; i < 4; i++) {
            transfer(branch, u2, 10);
        }
        assertEquals(0, outcomeKind(u2.pending(), tid), "rolled out of the ring");
        u2.hello(700);
        assertEquals(0x9D03, u2.swOf(0x44, 0, 0, u2.ad(p1)));
        assertEquals(0, u2.pending()[Constants.PD_IN_STATE]);
        assertEquals(1_000_000, total());
    }

    /** F12 (issue 7 section 3): one PIN entry authorises one payment above MIN_TRANS, as EMV. */
    /**
     * The payee session comes with SELECT (protocol.md 6.1 step 1): its answer is the status then
     * m | RP; one SELECT, one 44 (a refused one ends the session); a P1 made for the RP of an
     * earlier SELECT fails its MAC in the next session; row E refuses before the P1 is opened.
     */
    @Test
    void selectArmsOnePayeeSessionPerRp() {
        byte[] sel = u2.select();
        assertArrayEquals(u2.status(), Arrays.copyOf(sel, Constants.STATUS_LEN), "SELECT answers the status");
        String s1 = u1.snapshot();
        assertEquals(0, u2.status()[Constants.ST_BAD_KEY]);
        byte[] sm = u2.hello(60);
        byte[] p1 = u1.ok(0x42, 0, 0, cat(u32(60), u16(DATE), sm));
        byte[] bad = p1.clone();
        bad[bad.length - 1] ^= 1;
        assertEquals(0x9D03, u2.swOf(0x44, 0, 0, u2.ad(bad)));
        assertEquals(0x6985, u2.swOf(0x44, 0, 0, u2.ad(p1)), "the refused 44 ended the session");
        u2.select(); // a new session, a new RP: the P1 sealed for the old one does not open
        assertEquals(0x9D03, u2.swOf(0x44, 0, 0, u2.ad(p1)));
        assertEquals(2, u2.status()[Constants.ST_BAD_KEY], "the two forged 44s");
        // row E first: amount 0 and an overflowing amount are refused before the P1 (no BAD_KEY)
        assertEquals(0x6A80, u2.payeeSw(0));
        assertEquals(2, u2.status()[Constants.ST_BAD_KEY]);
        assertEquals(s1, u1.snapshot(), "the payer persisted nothing");
        assertEquals(0x9D06, u1.payeeSw(0xFFFF_FFFFL)); // u1 holds 50 000
        assertEquals(s1, u1.snapshot(), "row E refused before the P1: no BAD_KEY");
        assertEquals(0, u2.pending()[Constants.PD_IN_STATE]);
        assertEquals(1_000_000, total());
    }

    @Test
    void onePinEntryAuthorisesOnePayment() {
        u1.verify(1, PIN);
        u1.verify(2, TXKEY);
        byte[] sm = u2.hello(10_001);
        byte[] p1 = u1.ok(0x42, 0, 0, cat(u32(10_001), u16(DATE), sm));
        u1.ok(0x4A, 0, 0, u2.ok(0x48, 0, 0, u1.ok(0x46, 0, 0, u2.ok(0x44, 0, 0, u2.ad(p1)))));
        assertEquals(0x63C3, sw(u1.send(0x20, 0, 1, null)), "PIN no longer validated");
        sm = u2.hello(101);
        assertEquals(0x9D13, u1.swOf(0x42, 0, 0, cat(u32(101), u16(DATE), sm)));
        u1.verify(1, PIN);
        sm = u2.hello(10_001);
        assertEquals(0x9D14, u1.swOf(0x42, 0, 0, cat(u32(10_001), u16(DATE), sm)), "transaction key used up too");
        // at or below MIN_TRANS the PIN is not needed, and not used up
        transfer(u1, u2, 100);
        sm = u2.hello(101);
        u1.ok(0x42, 0, 0, cat(u32(101), u16(DATE), sm));
        assertEquals(50_000 - 10_001 - 100, u1.balance());
        assertEquals(1_000_000, total());
    }

    @Test
    void flipEveryBitOfP4LeavesBalancesThenResumeCompletes() {
        long a = u1.balance();
        u1.verify(1, PIN);
        byte[] sm = u2.hello(700);
        byte[] p1 = u1.ok(0x42, 0, 0, cat(u32(700), u16(DATE), sm));
        byte[] p2p3 = u2.ok(0x44, 0, 0, u2.ad(p1));
        byte[] p4 = u1.ok(0x46, 0, 0, p2p3);
        // HDR (TYPE, KEYNUM, SID), C (first, inner and last block) and T (first and last byte);
        // 9 refused with BAD_KEY: one below the limit (10). P4 = HDR 8 | C 32 | T 8 bytes
        int bk = 0;
        for (int bit : new int[] {0, 9, 16, 40, 63, 64, 127, 191, 319, 320, 351, 383}) {
            int sw = u2.swOf(0x48, 0, 0, flip(p4, bit));
            if (bit >= 16 && bit < 64) {
                assertEquals(0x9D0B, sw, "SID bit " + bit); // unknown TID: refused by state, no BK
            } else {
                assertEquals(0x9D03, sw, "bit " + bit);
                bk++;
                assertEquals(bk, u2.status()[Constants.ST_BAD_KEY], "bit " + bit + ": one BAD_KEY");
            }
        }
        assertEquals(9, bk);
        assertEquals(0, u2.balance());
        assertEquals(a - 700, u1.balance());
        assertEquals(1_000_000, total());
        assertEquals("p4", resume(u1, u2));
        assertEquals(700, u2.balance());
        assertEquals(1_000_000, total());
        // one more bad packet locks the payee: money commands answer 9D01, reads still work
        assertEquals(0x9D0C, u2.swOf(0x48, 0, 0, flip(p4, 40 * 8))); // credited TID: refused by state, no BK
        u2.hello(1);
        assertEquals(0x9D03, u2.swOf(0x44, 0, 0, u2.ad(flip(p1, 2 * 8)))); // another SID: MAC fails (+BK)
        assertEquals(0x9D01, u2.payeeSw(1));
        assertEquals(10, u2.status()[Constants.ST_BAD_KEY]);
    }

    private static byte[] flip(byte[] p, int bit) {
        byte[] f = p.clone();
        f[bit / 8] ^= (byte) (1 << (bit % 8));
        return f;
    }

    @Test
    void holderChecksAndPairMatrix() {
        // PIN above MIN_TRANS (100), TXKEY above MAX_TRANS (10 000)
        byte[] sm = u2.hello(101);
        assertEquals(0x9D13, u1.swOf(0x42, 0, 0, cat(u32(101), u16(DATE), sm)));
        u1.verify(1, PIN);
        sm = u2.hello(10_001);
        assertEquals(0x9D14, u1.swOf(0x42, 0, 0, cat(u32(10_001), u16(DATE), sm)));
        assertEquals(0x9D05, u1.swOf(0x42, 0, 0, cat(u32(60_000), u16(DATE), sm)));
        assertEquals(0x6A80, u1.swOf(0x42, 0, 0, cat(u32(0), u16(DATE), sm)));
        // other suite / no common keys: +BK
        assertEquals(0x9D02, u1.swOf(0x42, 0, 0, cat(u32(50), u16(DATE), cat(new byte[] {2, sm[1]}, new byte[8]))));
        assertEquals(0x9D02, u1.swOf(0x42, 0, 0, cat(u32(50), u16(DATE), cat(new byte[] {1, (byte) (sm[1] + 3)}, new byte[8]))));
        assertEquals(2, u1.status()[Constants.ST_BAD_KEY]);
        // center pays only with approval, and only a region
        sm = branch.hello(5);
        center.verify(1, PIN); // the set-up's payouts used up the center's PIN entry
        assertEquals(0x9D15, center.swOf(0x42, 0, 0, cat(u32(5), u16(DATE), sm)));
        // disallowed pairs: both cards check (payee at P1, payer at P2)
        int[][] bad = {{0, 2}, {0, 3}, {1, 3}, {1, 4}, {3, 1}, {3, 0}, {2, 0}};
        PCard[] cs = {center, region, branch, u1, u2};
        for (int[] pr : bad) {
            PCard payer = cs[pr[0]];
            PCard payee = cs[pr[1]];
            String s1 = payer.snapshot();
            String s2 = payee.snapshot();
            if (payer == center) {
                payer.verify(4, APPROVAL);
            }
            payer.verify(1, PIN);
            sm = payee.hello(5);
            byte[] p1 = payer.ok(0x42, 0, 0, cat(u32(5), u16(DATE), sm));
            assertEquals(0x9D04, payee.swOf(0x44, 0, 0, payee.ad(p1)), payer.label + "->" + payee.label);
            assertEquals(s1, payer.snapshot());
            assertEquals(s2, payee.snapshot());
        }
        // amount mismatch: payee asks 60, payer's holder confirmed 50
        sm = u2.hello(60);
        byte[] p1 = u1.ok(0x42, 0, 0, cat(u32(50), u16(DATE), sm));
        byte[] p2p3 = u2.ok(0x44, 0, 0, u2.ad(p1));
        assertEquals(0x9D07, u1.swOf(0x46, 0, 0, p2p3));
        // the payer never debited: resume aborts the payee's expectation (NACK, value-neutral)
        assertEquals("abort", resume(u1, u2));
        assertEquals(0, u2.pending()[Constants.PD_IN_STATE]);
        assertEquals(1_000_000, total());
    }

    @Test
    void abandonedExpectationRefundsThePayerByNack() {
        u1.verify(1, PIN);
        byte[] sm = u2.hello(300);
        byte[] p1 = u1.ok(0x42, 0, 0, cat(u32(300), u16(DATE), sm));
        byte[] p2p3 = u2.ok(0x44, 0, 0, u2.ad(p1));
        byte[] p4 = u1.ok(0x46, 0, 0, p2p3);
        byte[] tid = Arrays.copyOfRange(p1, 2, 8);
        assertEquals(1_000_000, total());
        // the payee's holder abandons the expectation (--abandon-expected)
        byte[] nack = u2.ok(0x4C, 1, 0, tid);
        assertEquals(0x46, nack[0]);
        assertEquals(0x9D0B, u2.swOf(0x48, 0, 0, p4)); // P4 of an abandoned TID
        assertEquals(1_000_000, total()); // the payer's pending 300 is still counted (not ACKed)
        assertEquals("nack", resume(u1, u2));
        assertEquals(50_000, u1.balance());
        assertEquals(0, u2.balance());
        u1.verify(1, PIN);
        assertEquals(Constants.PB_TYPE_DEBIT_REFUNDED, u1.ok(0x34, 1, 1, null)[Constants.PB_TYPE]);
        assertEquals(0x9D0B, u1.swOf(0x4A, 0, 0, nack)); // refund exactly once
        assertEquals(1_000_000, total());
    }

    @Test
    void giveUpMovesPendingToExceptionLog() {
        u1.verify(1, PIN);
        byte[] sm = u2.hello(300);
        byte[] p1 = u1.ok(0x42, 0, 0, cat(u32(300), u16(DATE), sm));
        u1.ok(0x46, 0, 0, u2.ok(0x44, 0, 0, u2.ad(p1)));
        byte[] tid = Arrays.copyOfRange(p1, 2, 8);
        assertEquals(0x9D09, u1.swOf(0x42, 0, 0, cat(u32(5), u16(DATE), sm))); // pending refuses new payments
        u1.reinsert();
        assertEquals(0x9D13, u1.swOf(0x54, 0, 0, tid));
        u1.verify(1, PIN);
        u1.ok(0x54, 0, 0, tid);
        byte[] ex = u1.ok(0x36, 0, 0, null);
        assertEquals(24, ex.length);
        assertArrayEquals(tid, Arrays.copyOf(ex, 6));
        assertEquals(300, u32(ex, 6));
        assertArrayEquals(u2.account, Arrays.copyOfRange(ex, 10, 18));
        assertEquals(1, ex[20]);
        assertEquals(Constants.PB_TYPE_EXCEPTION, u1.ok(0x34, 1, 1, null)[Constants.PB_TYPE]);
        assertEquals(1, u1.status()[Constants.ST_EXC_COUNT]);
        assertEquals(0, u1.pending()[Constants.PD_OUT_STATE]);
        // the CLI aborts the payee's expectation first in real use; value is accounted either way
        assertEquals("abort", resume(u1, u2));
        assertEquals(1_000_000, total());
    }

    @Test
    void passbookFullStopsPayments() {
        // u1 has 1 entry (credit from branch): 49 payments of 1 fill it
        for (int i = 0; i < 49; i++) {
            transfer(u1, u2, 1);
        }
        assertEquals(50, u1.status()[Constants.ST_PB_COUNT]);
        byte[] sm = u2.hello(1);
        assertEquals(0x9D08, u1.swOf(0x42, 0, 0, cat(u32(1), u16(DATE), sm)));
        assertEquals(0x9D08, u1.payeeSw(1));
        assertEquals(1_000_000, total());
    }

    @Test
    void tdesSystemTransfers() throws Exception {
        PCard c = center(dir, "c3", 2, 0, 1_000_000, 254);
        PCard r = issueNew(c, dir, "r3", Constants.ROLE_REGION, 0, 1_000_000);
        mint(c, 5000);
        transfer(c, r, 4000);
        assertEquals(1000, c.balance());
        assertEquals(4000, r.balance());
        // AES and TDES cards never transact
        byte[] sm = r.hello(5);
        center.verify(4, APPROVAL);
        center.verify(1, PIN); // used up by the payout of the set-up
        assertEquals(0x9D02, center.swOf(0x42, 0, 0, cat(u32(5), u16(DATE), sm)));
    }

    /** T7: without its PIN a stolen card pays at most 50 x MIN_TRANS (each payment takes a passbook entry). */
    @Test
    void stolenCardBoundIsFiftyTimesMinTrans() {
        u1.reinsert(); // the thief has no PIN
        long before = u1.balance();
        byte[] sm = u2.hello(101);
        assertEquals(0x9D13, u1.swOf(0x42, 0, 0, cat(u32(101), u16(DATE), sm)));
        int paid = 0;
        while (true) {
            sm = u2.hello(100);
            byte[] r = u1.send(0x42, 0, 0, cat(u32(100), u16(DATE), sm));
            if (sw(r) != 0x9000) {
                assertEquals(0x9D08, sw(r));
                break;
            }
            u1.ok(0x4A, 0, 0, u2.ok(0x48, 0, 0, u1.ok(0x46, 0, 0, u2.ok(0x44, 0, 0, u2.ad(data(r))))));
            paid++;
        }
        assertEquals(49, paid); // one entry was the branch's credit
        assertTrue(before - u1.balance() <= 50 * 100);
        assertEquals(1_000_000, total());
    }
}
