package org.purse.applet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.purse.applet.PurseCardTestSupport.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.purse.jc.PowerLoss;

/**
 * B1 for sync (protocol.md 12.11, T27): every persistent write of every step of a center -> region
 * sync that pays interest and delivers a key is torn (and, untorn, its response lost); both cards are
 * reinserted, the host resumes per 12.11; value is constant at every point, nothing stays pending,
 * interest is paid exactly once or not at all, and a fresh sync afterwards completes.
 */
class SyncTearTest {
    @TempDir
    static Path base;
    static PCard bank0;
    static PCard card0;
    static long total0;
    static long interest;
    static int caseNo;

    @BeforeAll
    static void world() throws Exception {
        PCard center = center(base, "center", 1, 0, 1_000_000, 0);
        PCard region = issueNew(center, base, "region", Constants.ROLE_REGION, 0, 1_000_000);
        mint(center, 500_000);
        transfer(center, region, 200_000);
        SyncCardTest.advance(center, DATE + 30, SyncCardTest.RATE);
        bank0 = center;
        card0 = region;
        total0 = SyncCardTest.value(bank0, card0);
        interest = SyncCardTest.interest(200_000, SyncCardTest.RATE, 30);
        assertTrue(interest > 0);
    }

    private static PCard[] pair() throws Exception {
        Path d = base.resolve("case" + caseNo++);
        Files.createDirectories(d);
        PCard b = copy(bank0, d, "bank");
        PCard c = copy(card0, d, "card");
        b.label = "bank";
        c.label = "card";
        return new PCard[] {b, c};
    }

    /** The sync steps (0-based): 70 card, 72 bank, 74 card, 76 bank (nothing collected), 78 card, 7A bank. */
    private static final class Run {
        final PCard bank;
        final PCard card;
        byte[] last;
        byte[] p6;
        byte[] sack;

        Run(PCard[] c) {
            bank = c[0];
            card = c[1];
        }

        PCard who(int step) {
            return step == 1 || step == 3 || step == 5 ? bank : card;
        }

        byte[] command(int step) {
            switch (step) {
                case 0: return apdu(0x70, 0, 0, u16(DATE));
                case 1: return apdu(0x72, 0, 0, cat(last, u16(DATE)));
                // 76: P5 | D' = 00 x 8 (nothing collected: no clear)
                case 3: return apdu(0x76, 0, 0, cat(last, new byte[Constants.MAC_LEN]));
                default: return apdu(new int[] {0, 0, 0x74, 0x76, 0x78, 0x7A}[step], 0, 0, last);
            }
        }

        /** true if torn. */
        boolean step(int step, int k) {
            PCard x = who(step);
            if (step <= 1) {
                x.verify(1, PIN); // FIG. 5: both PINs (before arming: VERIFY writes a try counter)
            }
            if (k > 0) {
                x.card.armTear(k);
            }
            try {
                byte[] r = x.raw(command(step));
                assertEquals(0x9000, sw(r), "step " + step);
                last = data(r);
                if (step == 3) {
                    p6 = last;
                } else if (step == 4) {
                    last = Arrays.copyOf(last, Constants.PKT_SHORT); // SACK | STATUS: 7A takes the SACK
                    sack = last;
                }
                return false;
            } catch (PowerLoss pl) {
                return true;
            }
        }
    }

    /** protocol.md 12.11. */
    static String resume(PCard bank, PCard card) {
        byte[] pb = bank.pending();
        byte[] pc = card.pending();
        byte[] t = Arrays.copyOfRange(pb, Constants.PD_OUT_TID, Constants.PD_OUT_TID + 6);
        byte[] ti = Arrays.copyOfRange(pc, Constants.PD_IN_TID, Constants.PD_IN_TID + 6);
        if (pb[Constants.PD_OUT_STATE] == Constants.SLOT_SYNC) {
            if (pc[Constants.PD_IN_STATE] == Constants.SLOT_SYNC && Arrays.equals(t, ti)) {
                byte[] p6 = bank.ok(0x50, 0, 0, t);
                byte[] sack = Arrays.copyOf(card.ok(0x78, 0, 0, p6), Constants.PKT_SHORT);
                bank.ok(0x7A, 0, 0, sack);
                return "p6";
            }
            int kind = outcomeKind(pc, t);
            if (kind != 0) {
                bank.ok(0x7A, 0, 0, card.ok(0x52, 0, 0, t));
                return kind == 1 ? "sack" : "snack";
            }
            return "unknown";
        }
        if (pc[Constants.PD_IN_STATE] == Constants.SLOT_SYNC) {
            card.ok(0x4C, 1, 0, ti);
            return "abort";
        }
        return "none";
    }

    private static void checkFinal(PCard[] c, Run run, String what) throws ReflectiveOperationException {
        PCard bank = c[0];
        PCard card = c[1];
        slotKeysKept(bank, what + ", resumed");
        slotKeysKept(card, what + ", resumed");
        assertEquals(total0, SyncCardTest.value(bank, card), what + ": value");
        assertEquals(0, bank.pending()[Constants.PD_OUT_STATE], what + ": bank pending");
        assertEquals(0, card.pending()[Constants.PD_IN_STATE], what + ": card expecting");
        long cb = card.balance();
        assertTrue(cb == 200_000 || cb == 200_000 + interest, what + ": card balance " + cb);
        assertEquals("none", resume(bank, card), what + ": second resume");
        String sb = bank.snapshot();
        String sc = card.snapshot();
        if (run.p6 != null) {
            int sw = card.swOf(0x78, 0, 0, run.p6);
            assertTrue(sw == 0x9D0C || sw == 0x9D0B, what + ": P6 replay " + Integer.toHexString(sw));
        }
        if (run.sack != null) {
            assertEquals(0x9D0B, bank.swOf(0x7A, 0, 0, run.sack), what + ": SACK replay");
        }
        assertEquals(sb, bank.snapshot(), what + ": bank changed by a replay");
        assertEquals(sc, card.snapshot(), what + ": card changed by a replay");
        // a fresh sync completes and leaves the card on the bank's key
        SyncCardTest.SyncRun r = SyncCardTest.sync(bank, card, SyncCardTest.FEED, false);
        assertEquals(0x9000, r.sw, what + ": sync after resume, step " + r.step);
        assertEquals(bank.status()[Constants.ST_CURRENT_KEY], card.status()[Constants.ST_CURRENT_KEY], what + ": key");
        assertEquals(200_000 + interest, card.balance(), what + ": interest exactly once");
        assertEquals(total0, SyncCardTest.value(bank, card), what + ": value after re-sync");
    }

    @Test
    void tearEveryWriteOfEveryStepThenResume() throws Exception {
        StringBuilder seen = new StringBuilder();
        int cases = 0;
        for (int step = 0; step <= 5; step++) {
            for (int k = 1; ; k++) {
                PCard[] c = pair();
                Run run = new Run(c);
                for (int s = 0; s < step; s++) {
                    assertTrue(!run.step(s, 0));
                }
                boolean torn = run.step(step, k);
                String what = "step " + step + " k " + k + (torn ? " torn" : " response lost");
                c[0].reinsert();
                c[1].reinsert();
                assertEquals(total0, SyncCardTest.value(c[0], c[1]), what + ": value before resume");
                slotKeysKept(c[0], what);
                slotKeysKept(c[1], what);
                String r = resume(c[0], c[1]);
                seen.append(step).append('/').append(k).append(':').append(r).append(' ');
                checkFinal(c, run, what);
                cases++;
                if (!torn) {
                    break;
                }
            }
        }
        System.out.println("sync tear cases " + cases + ": " + seen);
        assertTrue(cases > 20);
    }

    @Test
    void tearInsideResumeToo() throws Exception {
        // torn at 78 (after the key install), then torn again inside the resumed 78
        for (int k2 = 1; ; k2++) {
            PCard[] c = pair();
            Run run = new Run(c);
            for (int s = 0; s < 4; s++) {
                assertTrue(!run.step(s, 0));
            }
            assertTrue(run.step(4, 3));
            c[0].reinsert();
            c[1].reinsert();
            byte[] t = Arrays.copyOfRange(c[0].pending(), Constants.PD_OUT_TID, Constants.PD_OUT_TID + 6);
            byte[] p6 = c[0].ok(0x50, 0, 0, t);
            c[1].card.armTear(k2);
            boolean torn;
            try {
                c[1].raw(apdu(0x78, 0, 0, p6));
                torn = false;
            } catch (PowerLoss pl) {
                torn = true;
            }
            c[0].reinsert();
            c[1].reinsert();
            assertEquals(total0, SyncCardTest.value(c[0], c[1]));
            resume(c[0], c[1]);
            checkFinal(c, run, "resume k2 " + k2);
            if (!torn) {
                break;
            }
        }
    }

    /**
     * 74 in two halves (P1 01, P1 02): a power loss at every write of either half, or after either
     * (between the halves, or the P5 lost), leaves the card as before the sync or with IN = SYNC
     * that resume aborts (12.11): value constant, nothing pending, the next sync pays once.
     */
    @Test
    void splitS1TornAtEveryWriteOfEitherHalfThenResume() throws Exception {
        StringBuilder seen = new StringBuilder();
        for (int half = 1; half <= 2; half++) {
            for (int k = 1; ; k++) {
                PCard[] c = pair();
                Run run = new Run(c);
                assertTrue(!run.step(0, 0));
                assertTrue(!run.step(1, 0));
                PCard card = c[1];
                byte[] s1 = run.last;
                byte[] before = card.pending();
                if (half == 2) {
                    card.ok(0x74, Constants.S1_DIGEST, 0, s1);
                }
                card.card.armTear(k);
                boolean torn;
                try {
                    byte[] r = card.raw(half == 1 ? apdu(0x74, Constants.S1_DIGEST, 0, s1) : apdu(0x74, Constants.S1_P5, 0, null));
                    assertEquals(0x9000, sw(r));
                    torn = false;
                } catch (PowerLoss pl) {
                    torn = true;
                }
                String what = "74 half " + half + " k " + k + (torn ? " torn" : " response lost");
                c[0].reinsert();
                card.reinsert();
                assertEquals(total0, SyncCardTest.value(c[0], card), what + ": value before resume");
                byte[] pc = card.pending();
                boolean synced = pc[Constants.PD_IN_STATE] == Constants.SLOT_SYNC;
                assertEquals(half == 2 && !torn, synced, what + ": IN = SYNC only after a whole second half");
                if (!synced) {
                    assertTrue(Arrays.equals(before, pc), what + ": card as before the sync");
                }
                String r = resume(c[0], card);
                assertEquals(synced ? "abort" : "none", r, what);
                seen.append(half).append('/').append(k).append(':').append(r).append(' ');
                checkFinal(c, run, what);
                if (!torn) {
                    break;
                }
            }
        }
        System.out.println("split 74 tear cases: " + seen);
    }
}
