package org.purse.applet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.purse.applet.PurseCardTestSupport.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.purse.jc.PowerLoss;

/**
 * B1 under power loss (protocol.md 6.4): for every step of a transfer, every persistent write k of the
 * card running it (armTear(k) until the command completes untorn; the untorn run is "response lost"),
 * then both cards are reinserted and the host resumes. Asserted at every point: balances + pending +
 * exceptions constant; after resume: nothing pending, the transfer happened exactly once or not at all,
 * and replayed P4 / ACK / NACK are refused with no state change. Then the same with a second tear inside
 * the first resume command.
 */
class TearTest {
    static final long AMOUNT = 700;

    @TempDir
    static Path base;
    static PCard payer0;
    static PCard payee0;
    static long a0;
    static long b0;
    static int caseNo;

    @BeforeAll
    static void world() throws Exception {
        setup(1);
    }

    static void setup(int suite) throws Exception {
        caseNo = 0;
        PCard center = center(base, "center", suite, 0, 1_000_000, suite == 2 ? 254 : 0);
        PCard branch = issueNew(center, base, "branch", Constants.ROLE_BRANCH, 0, 1_000_000);
        PCard region = issueNew(center, base, "region", Constants.ROLE_REGION, 0, 1_000_000);
        payer0 = issueNew(center, base, "alice", Constants.ROLE_USER, 100, 10_000);
        payee0 = issueNew(center, base, "bob", Constants.ROLE_USER, 100, 10_000);
        mint(center, 100_000);
        transfer(center, region, 100_000);
        transfer(region, branch, 100_000);
        transfer(branch, payer0, 50_000);
        transfer(branch, payee0, 3_000);
        assertEquals(suite, payer0.status()[Constants.ST_SUITE]);
        a0 = payer0.balance();
        b0 = payee0.balance();
    }

    /** A fresh pair of cards, copies of the saved images. */
    private static PCard[] pair() throws IOException {
        int n = caseNo++;
        Path d = base.resolve("case" + n);
        Files.createDirectories(d);
        PCard a = copy(payer0, d, "payer");
        PCard b = copy(payee0, d, "payee");
        a.label = "payer";
        b.label = "payee";
        return new PCard[] {a, b};
    }

    /** The six commands of 6.1 (the payee's SELECT, then 42-4A) built from earlier answers. */
    private static final class Run {
        final PCard[] c;
        byte[] sm;
        byte[] p1;
        byte[] p2p3;
        byte[] p4;
        byte[] ack;

        Run(PCard[] c) {
            this.c = c;
        }

        PCard card(int step) {
            return step % 2 == 1 ? c[1] : c[0]; // odd steps payee, even steps payer
        }

        byte[] command(int step) {
            switch (step) {
                case 1: return selectApdu(); // the payee's hello (6.1)
                case 2: return apdu(0x42, 0, 0, cat(u32(AMOUNT), u16(DATE), sm));
                case 3: return apdu(0x44, 0, 0, cat(u32(AMOUNT), u16(DATE), p1));
                case 4: return apdu(0x46, 0, 0, p2p3);
                case 5: return apdu(0x48, 0, 0, p4);
                default: return apdu(0x4A, 0, 0, ack);
            }
        }

        void answer(int step, byte[] r) {
            assertEquals(0x9000, sw(r), "step " + step);
            byte[] d = data(r);
            switch (step) {
                case 1: sm = helloOf(d); break;
                case 2: p1 = d; break;
                case 3: p2p3 = d; break;
                case 4: p4 = d; break;
                case 5: ack = d; break;
                default: break;
            }
        }

        /** Runs a step; returns true if it was torn. Arms the tear first if k > 0. */
        boolean step(int step, int k) {
            PCard x = card(step);
            if (k > 0) {
                x.card.armTear(k);
            }
            try {
                answer(step, x.raw(command(step)));
                return false;
            } catch (PowerLoss pl) {
                return true;
            }
        }
    }

    private static long total(PCard[] c) {
        return value(c[0], c[1]);
    }

    /** After resume: nothing pending; exactly once or not at all; replays refused with no state change. */
    private static void checkFinal(PCard[] c, List<byte[]> wire, String what) {
        PCard a = c[0];
        PCard b = c[1];
        assertEquals(a0 + b0, total(c), what + ": value");
        assertEquals(0, a.pending()[Constants.PD_OUT_STATE], what + ": payer still pending");
        assertEquals(0, b.pending()[Constants.PD_IN_STATE], what + ": payee still expecting");
        long a1 = a.balance();
        long b1 = b.balance();
        boolean done = a1 == a0 - AMOUNT && b1 == b0 + AMOUNT;
        boolean none = a1 == a0 && b1 == b0;
        assertTrue(done || none, what + ": balances " + a1 + "/" + b1);
        assertEquals("none", resume(a, b), what + ": second resume");
        String sa = a.snapshot();
        String sb = b.snapshot();
        for (byte[] pkt : wire) {
            if (pkt == null) {
                continue;
            }
            int type = pkt[0] & 0xFF;
            if (type == 0x44) {
                int sw = b.swOf(0x48, 0, 0, pkt);
                assertTrue(sw == 0x9D0C || sw == 0x9D0B, what + ": P4 replay " + Integer.toHexString(sw));
            } else if (type == 0x45 || type == 0x46) {
                assertEquals(0x9D0B, a.swOf(0x4A, 0, 0, pkt), what + ": ACK/NACK replay");
            }
        }
        assertEquals(sa, a.snapshot(), what + ": payer changed by a replay");
        assertEquals(sb, b.snapshot(), what + ": payee changed by a replay");
    }

    /** Resume of 6.4 that also records the packets it moved (for the replay checks). */
    private static String resumeRecording(PCard a, PCard b, List<byte[]> wire) {
        byte[] pa = a.pending();
        byte[] pb = b.pending();
        byte[] t = Arrays.copyOfRange(pa, Constants.PD_OUT_TID, Constants.PD_OUT_TID + 6);
        if (pa[Constants.PD_OUT_STATE] == 1) {
            wire.add(a.ok(0x50, 0, 0, t));
            if (outcomeKind(pb, t) != 0) {
                wire.add(b.ok(0x52, 0, 0, t));
            }
        }
        byte[] ti = Arrays.copyOfRange(pb, Constants.PD_IN_TID, Constants.PD_IN_TID + 6);
        String r = resume(a, b);
        if (r.equals("abort")) {
            wire.add(b.ok(0x52, 0, 0, ti)); // the NACK it stored
        }
        return r;
    }

    @Test
    void tearEveryWriteOfEveryStepThenResume() throws Exception {
        int cases = 0;
        StringBuilder seen = new StringBuilder();
        for (int step = 1; step <= 6; step++) {
            for (int k = 1; ; k++) {
                PCard[] c = pair();
                c[0].verify(1, PIN);
                Run run = new Run(c);
                for (int s = 1; s < step; s++) {
                    assertTrue(!run.step(s, 0));
                }
                boolean torn = run.step(step, k);
                String what = "step " + step + " k " + k + (torn ? " torn" : " response lost");
                c[0].reinsert();
                c[1].reinsert();
                assertEquals(a0 + b0, total(c), what + ": value before resume");
                slotKeysKept(c[0], what);
                slotKeysKept(c[1], what);
                List<byte[]> wire = new ArrayList<>(Arrays.asList(run.p4, run.ack));
                String r = resumeRecording(c[0], c[1], wire);
                seen.append(step).append('/').append(k).append(':').append(r).append(' ');
                checkFinal(c, wire, what);
                slotKeysKept(c[0], what + ", resumed");
                slotKeysKept(c[1], what + ", resumed");
                cases++;
                if (!torn) {
                    break;
                }
            }
        }
        System.out.println("TEAR cases " + cases + ": " + seen);
        assertTrue(cases > 12);
    }

    /** A first tear at every write of steps 3-6, then a second tear at every write of the first resume command. */
    @Test
    void tearInsideResumeToo() throws Exception {
        int cases = 0;
        for (int step = 3; step <= 6; step++) {
            for (int k = 1; ; k++) {
                PCard[] probe = pair();
                probe[0].verify(1, PIN);
                Run run = new Run(probe);
                for (int s = 1; s < step; s++) {
                    assertTrue(!run.step(s, 0));
                }
                boolean torn = run.step(step, k);
                // now tear the first resume command at every k2
                for (int k2 = 1; ; k2++) {
                    PCard[] c = {copy(probe[0], base.resolve("r" + caseNo), "a"), null};
                    c[1] = copy(probe[1], base.resolve("r" + caseNo), "b");
                    caseNo++;
                    c[0].label = "payer";
                    c[1].label = "payee";
                    boolean torn2 = firstResumeCommandTorn(c, k2);
                    c[0].reinsert();
                    c[1].reinsert();
                    String what = "step " + step + " k " + k + " resume k2 " + k2;
                    assertEquals(a0 + b0, total(c), what + ": value before 2nd resume");
                    List<byte[]> wire = new ArrayList<>(Arrays.asList(run.p4, run.ack));
                    slotKeysKept(c[0], what);
                    slotKeysKept(c[1], what);
                    resumeRecording(c[0], c[1], wire);
                    checkFinal(c, wire, what);
                    slotKeysKept(c[0], what + ", resumed");
                    slotKeysKept(c[1], what + ", resumed");
                    cases++;
                    if (!torn2) {
                        break;
                    }
                }
                if (!torn) {
                    break;
                }
            }
        }
        System.out.println("TEAR-IN-RESUME cases " + cases);
    }

    /** The first state-changing command resume would send, with a tear armed at k (true if torn). */
    private static boolean firstResumeCommandTorn(PCard[] c, int k) {
        c[0].reinsert();
        c[1].reinsert();
        byte[] pa = c[0].pending();
        byte[] pb = c[1].pending();
        byte[] t = Arrays.copyOfRange(pa, Constants.PD_OUT_TID, Constants.PD_OUT_TID + 6);
        PCard target;
        byte[] cmd;
        if (pa[Constants.PD_OUT_STATE] == 1 && pb[Constants.PD_IN_STATE] == 1) {
            target = c[1];
            cmd = apdu(0x48, 0, 0, c[0].ok(0x50, 0, 0, t));
        } else if (pa[Constants.PD_OUT_STATE] == 1 && outcomeKind(pb, t) != 0) {
            target = c[0];
            cmd = apdu(0x4A, 0, 0, c[1].ok(0x52, 0, 0, t));
        } else if (pb[Constants.PD_IN_STATE] == 1) {
            target = c[1];
            cmd = apdu(0x4C, 1, 0, Arrays.copyOfRange(pb, Constants.PD_IN_TID, Constants.PD_IN_TID + 6));
        } else {
            return false;
        }
        target.card.armTear(k);
        try {
            assertEquals(0x9000, sw(target.raw(cmd)));
            return false;
        } catch (PowerLoss pl) {
            return true;
        }
    }
}
