package org.purse.applet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.purse.applet.PurseCardTestSupport.*;

import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A step run from a persistent slot (here the payee's 48) loads the slot's K_S into the work key
 * a live session keeps its own K_S in, so it ends that session (protocol.md 6.2): the live
 * session's next step answers 6985 and counts no bad MAC, and a new session works.
 */
class SlotStepTest {
    @TempDir
    Path dir;

    @Test
    void slotStepEndsTheLiveSessionWithoutABadKeyCount() throws Exception {
        PCard center = center(dir, "center", 1, 0, 1_000_000, 0);
        PCard branch = branch(center);
        PCard alice = issueNew(center, dir, "alice", Constants.ROLE_USER, 100, 10_000);
        PCard bob = issueNew(center, dir, "bob", Constants.ROLE_USER, 100, 10_000);
        transfer(branch, bob, 5_000);
        byte[] p4 = pendingFifty(branch, bob);
        // T1: bob pays alice 60; between bob's 42 and 46, bob finishes T0 (48 from its IN slot)
        byte[] ha = alice.hello(60);
        byte[] q1 = bob.ok(0x42, 0, 0, cat(u32(60), u16(DATE), ha));
        byte[] q23 = alice.ok(0x44, 0, 0, alice.ad(q1));
        bob.ok(0x48, 0, 0, p4);
        assertEquals(5_050, bob.balance(), "T0 credited");
        assertEquals(0x6985, bob.swOf(0x46, 0, 0, q23), "T1's session ended with the slot step");
        assertEquals(0, bob.status()[Constants.ST_BAD_KEY], "no bad MAC counted");
        assertEquals(5_050, bob.balance(), "T1 moved nothing");
        // a new session goes through (alice still holds T1's IN: pay the branch)
        transfer(bob, branch, 60);
        assertEquals(4_990, bob.balance());
    }

    /**
     * protocol.md 2.4: a forger's tries at a slot step (here the payee's 48) each fail alike, count
     * a BAD_KEY (up to 255, the card locked from its limit on) and leave the slot and its K_S as they
     * were, so the real P4 still credits afterwards: the tries are not limited per session, each
     * costs an APDU and succeeds with 2^-64. T chosen as 00.. (which picked the keystream's first
     * input, L = E(0), before the IV was masked) fails like any other.
     */
    @Test
    void forgedPacketsAtASlotStepFailAlikeAndLeaveTheSlot() throws Exception {
        PCard center = center(dir, "center", 1, 0, 1_000_000, 0);
        PCard branch = branch(center);
        PCard bob = issueNew(center, dir, "bob", Constants.ROLE_USER, 100, 10_000);
        byte[] p4 = pendingFifty(branch, bob);
        int t = p4.length - 8;
        for (int i = 0; i < 300; i++) {
            byte[] f = p4.clone();
            if (i % 3 == 0) {
                Arrays.fill(f, t, f.length, (byte) 0); // T = 00..
            } else if (i % 3 == 1) {
                f[8 + i % (t - 8)] ^= (byte) 0x01; // one bit of C
            } else {
                f[t + i % 8] ^= (byte) (1 << (i % 8)); // one bit of T
            }
            assertEquals(0x9D03, bob.swOf(0x48, 0, 0, f), "try " + i);
        }
        assertEquals(255, bob.status()[Constants.ST_BAD_KEY] & 0xFF, "counted up to 255, no wrap");
        assertTrue((bob.status()[Constants.ST_BAD_KEY] & 0xFF) >= (bob.status()[Constants.ST_BAD_KEY_LIMIT] & 0xFF),
                "locked from its limit on");
        assertEquals(0, bob.balance(), "nothing credited by a forgery");
        bob.ok(0x48, 0, 0, p4);
        assertEquals(50, bob.balance(), "the slot and its K_S outlived every failed try");
    }

    /** A branch holding 200,000 minted by center and passed down through a region. */
    private PCard branch(PCard center) throws Exception {
        PCard region = issueNew(center, dir, "region", Constants.ROLE_REGION, 0, 1_000_000);
        PCard branch = issueNew(center, dir, "branch", Constants.ROLE_BRANCH, 0, 1_000_000);
        mint(center, 1_000_000);
        transfer(center, region, 500_000);
        transfer(region, branch, 200_000);
        return branch;
    }

    /** T0: branch pays bob 50, stopped after 46 (bob holds IN = EXPECTING(T0)); returns its P4. */
    private static byte[] pendingFifty(PCard branch, PCard bob) throws Exception {
        byte[] hb = bob.hello(50);
        branch.verify(1, PIN);
        byte[] p1 = branch.ok(0x42, 0, 0, cat(u32(50), u16(DATE), hb));
        byte[] p2p3 = bob.ok(0x44, 0, 0, bob.ad(p1));
        return branch.ok(0x46, 0, 0, p2p3);
    }
}
