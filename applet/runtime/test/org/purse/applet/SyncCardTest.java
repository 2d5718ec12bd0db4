package org.purse.applet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.purse.applet.PurseCardTestSupport.*;

import java.math.BigInteger;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.purse.jc.Counters;

/**
 * Bank sync (protocol.md 12.4-12.7) on two JVM cards, relayed as the host does: interest, new keys,
 * BAD_KEY reset, passbook digest + CLEAR, exception handover, unblock, invalidate, range, replays.
 * Value (Σ balances + in-flight + exception entries) is checked across every sync.
 */
class SyncCardTest {
    static final byte[] RATE = hex("00068DB9"); // ≈ 0.01 %/day
    static final int FEED = 0;
    static final int NO_STORE = 1;
    static final int WRONG_FEED = 2;
    /** The right entries, digested with another session's SID (a D' observed in an earlier sync). */
    static final int OTHER_SID = 3;

    @TempDir
    Path dir;
    PCard center;
    PCard region;
    PCard branch;
    PCard alice;
    PCard bob;
    PCard[] all;

    @BeforeEach
    void world() throws Exception {
        center = center(dir, "center", 1, 0, 1_000_000, 0);
        region = issueNew(center, dir, "region", Constants.ROLE_REGION, 0, 1_000_000);
        branch = issueNew(center, dir, "branch", Constants.ROLE_BRANCH, 0, 1_000_000);
        alice = issueNew(center, dir, "alice", Constants.ROLE_USER, 100, 10_000);
        bob = issueNew(center, dir, "bob", Constants.ROLE_USER, 100, 10_000);
        mint(center, 1_000_000);
        transfer(center, region, 200_000);
        transfer(region, branch, 100_000);
        transfer(branch, alice, 20_000);
        transfer(alice, bob, 50);
        all = new PCard[] {center, region, branch, alice, bob};
    }

    // ------------------------------------------------------------------ host side of a sync

    /** What one sync did (for assertions and replays). */
    static final class SyncRun {
        int sw = 0x9000;
        int step;
        byte[] s1;
        byte[] p5;
        byte[] p6;
        byte[] sack;
        byte[] sid;
        List<byte[]> ledger = new ArrayList<>();
        byte[] exceptions;
        /** D', the host's digest of what it stored (00 x 8: nothing collected). */
        byte[] digest = new byte[Constants.MAC_LEN];
        Counters bankC = new Counters();
        Counters cardC = new Counters();
        boolean invalidated;
    }

    /**
     * The host's D' (protocol.md 12.5.3): the first 8 bytes of SHA-256(entries | exceptions | N' |
     * X' | 7C | SID) over what it stored, by the JDK's SHA-256; 00 x 8 when it stored nothing.
     */
    static byte[] hostDigest(byte[] sid, List<byte[]> entries, byte[] exceptions) {
        if (entries.isEmpty() && exceptions.length == 0) {
            return new byte[Constants.MAC_LEN];
        }
        try {
            java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
            for (byte[] e : entries) {
                md.update(e);
            }
            md.update(exceptions);
            md.update(new byte[] {(byte) entries.size(), (byte) (exceptions.length / Constants.EXC_ENTRY_LEN),
                Constants.DIGEST_TAG});
            md.update(sid);
            return Arrays.copyOf(md.digest(), Constants.MAC_LEN);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static boolean failed(SyncRun r, byte[] resp, int step) {
        if (sw(resp) != 0x9000) {
            r.sw = sw(resp);
            r.step = step;
            return true;
        }
        return false;
    }

    /** The FIG. 5 flow of 12.4 with the ledger as a list; mode FEED / NO_STORE / WRONG_FEED. */
    static SyncRun sync(PCard bank, PCard card, int mode, boolean unblock) {
        return sync(bank, card, mode, unblock, true);
    }

    static SyncRun sync(PCard bank, PCard card, int mode, boolean unblock, boolean verifyBank) {
        return sync(bank, card, mode, unblock, verifyBank, false);
    }

    /** split: step 3 as 74's two halves (P1 01 -> nothing, then P1 02 -> P5) instead of P1 00. */
    static SyncRun sync(PCard bank, PCard card, int mode, boolean unblock, boolean verifyBank, boolean split) {
        SyncRun r = new SyncRun();
        bank.meas = new Counters();
        card.meas = new Counters();
        try {
            // FIG. 5 blocks 501/502: the operator's PIN on the bank card, the holder's on the card
            // (an unblock sync runs without it: 70 P1 01)
            if (verifyBank) {
                bank.send(0x20, 0, 1, PIN.getBytes());
            }
            if (!unblock) {
                card.send(0x20, 0, 1, PIN.getBytes());
            }
            byte[] resp = card.send(0x70, unblock ? 1 : 0, 0, u16(DATE));
            if (failed(r, resp, 1)) {
                return r;
            }
            resp = bank.send(0x72, unblock ? 1 : 0, 0, cat(data(resp), u16(DATE)));
            if (failed(r, resp, 2)) {
                return r;
            }
            r.s1 = data(resp);
            r.sid = Arrays.copyOfRange(r.s1, 2, 8);
            if (split) {
                resp = card.send(0x74, Constants.S1_DIGEST, 0, r.s1);
                if (failed(r, resp, 3)) {
                    return r;
                }
                assertEquals(0, data(resp).length, "the first half answers nothing");
                assertEquals(0, card.pending()[Constants.PD_IN_STATE], "nothing persisted by the first half");
                resp = card.send(0x74, Constants.S1_P5, 0, null);
                if (failed(r, resp, 3)) {
                    return r;
                }
                r.p5 = data(resp);
            } else {
                resp = card.send(0x74, 0, 0, r.s1);
                if (failed(r, resp, 3)) {
                    return r;
                }
                r.p5 = data(resp);
            }
            byte[] st = card.status();
            boolean priv = (st[Constants.ST_FLAGS] & Constants.FLAG_PRIVATE) != 0;
            int n = st[Constants.ST_PB_COUNT] & 0xFF;
            if (mode != NO_STORE) {
                // 4: read (no PIN while IN = SYNC), 5: ledger, 6: the digest of what was stored
                if (!priv) {
                    for (int f = 0; f < n; f += 5) {
                        int c = Math.min(5, n - f);
                        byte[] e = card.ok(0x34, f, c, null);
                        for (int i = 0; i < c; i++) {
                            r.ledger.add(Arrays.copyOfRange(e, 42 * i, 42 * i + 42));
                        }
                    }
                }
                r.exceptions = card.ok(0x36, 0, 0, null);
                List<byte[]> fed = new ArrayList<>(r.ledger);
                if (mode == WRONG_FEED && !fed.isEmpty()) {
                    byte[] e = fed.get(0).clone();
                    e[27] ^= 1; // the amount of the oldest entry
                    fed.set(0, e);
                }
                byte[] sid = r.sid.clone();
                if (mode == OTHER_SID) {
                    sid[5] ^= 1;
                }
                r.digest = hostDigest(sid, fed, r.exceptions);
            }
            resp = bank.send(0x76, 0, 0, cat(r.p5, r.digest));
            if (failed(r, resp, 7)) {
                return r;
            }
            r.p6 = data(resp);
            r.invalidated = r.p6[0] == Constants.PT_INVALIDATE;
            resp = card.send(0x78, 0, 0, r.p6);
            if (failed(r, resp, 8)) {
                return r;
            }
            if (r.invalidated) {
                assertEquals(0, data(resp).length);
                return r;
            }
            // SACK | the card's STATUS after the command (12.4 step 8)
            assertEquals(Constants.PKT_SHORT + Constants.STATUS_LEN, data(resp).length);
            r.sack = Arrays.copyOf(data(resp), Constants.PKT_SHORT);
            resp = bank.send(0x7A, 0, 0, r.sack);
            failed(r, resp, 9);
            return r;
        } finally {
            r.bankC = bank.meas;
            r.cardC = card.meas;
        }
    }

    /** 70 after the holder's VERIFY (FIG. 5 block 502). */
    static byte[] init70(PCard c) {
        c.send(0x20, 0, 1, PIN.getBytes());
        return c.ok(0x70, 0, 0, u16(DATE));
    }

    static SyncRun syncOk(PCard bank, PCard card) {
        SyncRun r = sync(bank, card, FEED, false);
        assertEquals(0x9000, r.sw, String.format("sync failed at step %d: %04X", r.step, r.sw));
        return r;
    }

    /**
     * Σ balances + OUT amounts (transfer or sync) not credited per any card's OUTCOMES + exception
     * entries (protocol.md 6.4 invariant, 12.11 for OUT = SYNC).
     */
    static long value(PCard... cards) {
        long v = 0;
        for (PCard c : cards) {
            byte[] st = c.status();
            v += u32(st, Constants.ST_BALANCE);
            byte[] p = c.pending();
            int os = p[Constants.PD_OUT_STATE];
            if (os == 1 || os == 2) {
                byte[] t = Arrays.copyOfRange(p, Constants.PD_OUT_TID, Constants.PD_OUT_TID + 6);
                boolean credited = false;
                for (PCard o : cards) {
                    if (o.status()[Constants.ST_LIFE] != Constants.LIFE_BLANK && outcomeKind(o.pending(), t) == 1) {
                        credited = true;
                    }
                }
                if (!credited) {
                    v += u32(p, Constants.PD_OUT_AMOUNT);
                }
            }
            byte[] ex = c.ok(0x36, 0, 0, null);
            for (int i = 0; i + 24 <= ex.length; i += 24) {
                v += u32(ex, i + 6);
            }
        }
        return v;
    }

    static long interest(long bal, byte[] rate, int days) {
        BigInteger p = BigInteger.valueOf(bal).multiply(BigInteger.valueOf(u32(rate, 0))).multiply(BigInteger.valueOf(days));
        return p.shiftRight(32).longValueExact();
    }

    static int d16(byte[] b, int o) {
        return ((b[o] & 0xFF) << 8) | (b[o + 1] & 0xFF);
    }

    static void advance(PCard center, int date, byte[] rate) {
        center.verify(4, APPROVAL);
        center.ok(0x80, 0, 0, cat(u16(date), new byte[] {(byte) (rate == null ? 0 : 1)}, rate == null ? new byte[4] : rate));
    }

    static int pbCount(PCard c) {
        return c.status()[Constants.ST_PB_COUNT] & 0xFF;
    }

    static void report(String what, SyncRun r) {
        System.out.println("sync " + what + ": bank " + r.bankC + " card " + r.cardC);
    }

    // ------------------------------------------------------------------ tests

    @Test
    void centerToRegionPaysInterestDeliversKeyClearsPassbook() {
        long v0 = value(all);
        advance(center, DATE + 30, RATE);
        byte[] cst = center.status();
        byte[] rst = region.status();
        long rb = u32(rst, Constants.ST_BALANCE);
        long cb = u32(cst, Constants.ST_BALANCE);
        int n = pbCount(region);
        assertTrue(n >= 2);
        assertEquals((byte) (cst[Constants.ST_CURRENT_KEY] - 1), rst[Constants.ST_CURRENT_KEY]);
        SyncRun r = syncOk(center, region);
        report("center->region NK=1 N=" + n, r);
        long i = interest(rb, RATE, 30);
        assertTrue(i > 0);
        byte[] after = region.status();
        assertEquals(rb + i, u32(after, Constants.ST_BALANCE));
        assertEquals(cb - i, center.balance());
        assertEquals(v0, value(all), "value conserved");
        assertEquals(cst[Constants.ST_CURRENT_KEY], after[Constants.ST_CURRENT_KEY], "new key delivered");
        assertEquals(DATE + 30, d16(after, Constants.ST_KEY_DATE));
        assertEquals(DATE + 30, d16(after, Constants.ST_INTEREST_DATE));
        assertArrayEquals(RATE, Arrays.copyOfRange(after, Constants.ST_RATE, Constants.ST_RATE + 4));
        assertEquals(n, r.ledger.size());
        assertEquals(1, pbCount(region), "cleared, then INTEREST_IN");
        region.verify(1, PIN);
        byte[] e = region.ok(0x34, 0, 1, null);
        assertEquals(Constants.PB_TYPE_INTEREST_IN, e[Constants.PB_TYPE]);
        assertEquals(i, u32(e, Constants.PB_AMOUNT));
        assertArrayEquals(center.account, Arrays.copyOf(e, 8));
        assertArrayEquals(r.sid, Arrays.copyOfRange(e, Constants.PB_TID, Constants.PB_TID + 6));
        // bank: INTEREST_OUT, OUT none; card: SACK outcome, IN none
        center.verify(1, PIN);
        int cn = pbCount(center);
        byte[] ce = center.ok(0x34, cn - 1, 1, null);
        assertEquals(Constants.PB_TYPE_INTEREST_OUT, ce[Constants.PB_TYPE]);
        assertEquals(i, u32(ce, Constants.PB_AMOUNT));
        assertEquals(0, center.pending()[Constants.PD_OUT_STATE]);
        assertEquals(0, region.pending()[Constants.PD_IN_STATE]);
        assertEquals(1, outcomeKind(region.pending(), r.sid));
        // the region now pays a branch with the new key pair
        transfer(region, branch, 10);
        assertEquals(v0, value(all));
        // a second sync the same day: no interest, no key, nothing to clear but the INTEREST_IN entry
        SyncRun r2 = syncOk(center, region);
        report("center->region NK=0 N=2", r2);
        assertEquals(rb + i - 10, region.balance());
        assertEquals(v0, value(all));
    }

    @Test
    void replayedP6AndSackRefusedWithoutChange() {
        advance(center, DATE + 5, RATE);
        SyncRun r = syncOk(center, region);
        String rs = region.snapshot();
        String cs = center.snapshot();
        assertEquals(0x9D0C, region.swOf(0x78, 0, 0, r.p6));
        assertEquals(0x9D0B, center.swOf(0x7A, 0, 0, r.sack));
        assertEquals(0x9D0B, center.swOf(0x50, 0, 0, r.sid));
        assertEquals(rs, region.snapshot());
        assertEquals(cs, center.snapshot());
        // an old S1 into a new card session: MAC under a key set the card derives afresh -> no P5 secret leaks;
        // old P5 into a new bank session: wrong R1 -> 9D03
        byte[] sm = init70(region);
        center.verify(1, PIN); // FIG. 5 block 501
        center.ok(0x72, 0, 0, cat(sm, u16(DATE)));
        assertEquals(0x9D03, center.swOf(0x76, 0, 0, cat(r.p5, r.digest)));
    }

    @Test
    void passbookClearedOnlyWithTheRightDigest() {
        long v0 = value(all);
        int n = pbCount(branch);
        SyncRun r = sync(region, branch, NO_STORE, false);
        assertEquals(0x9000, r.sw);
        assertEquals(n, pbCount(branch), "nothing stored, no clear (no interest: rate 0)");
        assertEquals(0, r.p6[0] == Constants.PT_P6 ? 0 : 1);
        r = sync(region, branch, WRONG_FEED, false);
        assertEquals(0x9000, r.sw);
        assertEquals(n, pbCount(branch), "wrong entry fed, no clear");
        r = sync(region, branch, OTHER_SID, false);
        assertEquals(0x9000, r.sw);
        assertEquals(n, pbCount(branch), "the right entries under another session's SID, no clear");
        r = sync(region, branch, FEED, false);
        assertEquals(0x9000, r.sw);
        assertEquals(0, pbCount(branch), "stored and digested, cleared");
        assertEquals(v0, value(all));
        // no feed command any more (6D00, the session goes on); 76 takes P5 | D' exactly
        byte[] sm = init70(alice);
        branch.verify(1, PIN); // FIG. 5 block 501
        byte[] s1 = branch.ok(0x72, 0, 0, cat(sm, u16(DATE)));
        byte[] p5 = alice.ok(0x74, 0, 0, s1);
        assertEquals(0x6D00, branch.swOf(0x7C, 0, 0, new byte[42]));
        assertEquals(0x6700, branch.swOf(0x76, 0, 0, p5), "P5 without D'");
        assertEquals(0x6985, branch.swOf(0x76, 0, 0, cat(p5, new byte[8])), "session ended by the error");
        // alice now holds IN = SYNC for the first SID: 4C 01 aborts it with a SNACK (value-neutral)
        byte[] p = alice.pending();
        assertEquals(Constants.SLOT_SYNC, p[Constants.PD_IN_STATE]);
        byte[] t = Arrays.copyOfRange(p, Constants.PD_IN_TID, Constants.PD_IN_TID + 6);
        byte[] snack = alice.ok(0x4C, 1, 0, t);
        assertEquals(Constants.PT_SNACK, snack[0]);
        assertEquals(2, outcomeKind(alice.pending(), t));
        assertEquals(v0, value(all));
    }

    @Test
    void cardInSyncRefusesMoneyButReadsWithoutPin() {
        byte[] sm = init70(alice);
        branch.verify(1, PIN); // FIG. 5 block 501
        byte[] s1 = branch.ok(0x72, 0, 0, cat(sm, u16(DATE)));
        alice.ok(0x74, 0, 0, s1);
        alice.reinsert(); // PIN not validated
        assertEquals(0x9000, sw(alice.send(0x34, 0, 1, null)));
        assertEquals(0x9D0A, alice.payeeSw(10));
        alice.verify(1, PIN);
        assertEquals(0x9D0A, alice.swOf(0x42, 0, 0, cat(u32(10), u16(DATE), cat(new byte[] {1, 0}, new byte[8]))));
        assertEquals(0x9D0A, alice.swOf(0x70, 0, 0, u16(DATE)));
        // a P4 for the sync SID is refused by state (12.10 item 2), no BAD_KEY
        byte[] t = Arrays.copyOfRange(alice.pending(), Constants.PD_IN_TID, Constants.PD_IN_TID + 6);
        byte[] fake = new byte[48];
        fake[0] = 0x44;
        System.arraycopy(t, 0, fake, 2, 6);
        assertEquals(0x9D0B, alice.swOf(0x48, 0, 0, fake));
        assertEquals(0, alice.status()[Constants.ST_BAD_KEY]);
    }

    @Test
    void lockedCardStillSyncsAndBadKeyIsReset() {
        alice.verify(1, PIN);
        for (int i = 0; i < 10; i++) {
            // peer announces an oldest key far ahead: no pair, 9D25 (alice is the older card), BAD_KEY + 1
            int sw = alice.swOf(0x42, 0, 0, cat(u32(10), u16(DATE), cat(new byte[] {1, (byte) 100}, new byte[8])));
            assertEquals(0x9D25, sw);
        }
        assertEquals(0x9D01, alice.payeeSw(10));
        long v0 = value(all);
        SyncRun r = syncOk(branch, alice);
        report("branch->alice NK=0 locked", r);

        assertEquals(0, alice.status()[Constants.ST_BAD_KEY]);
        assertEquals(v0, value(all));
        transfer(alice, bob, 20);
        // a bank card is not lockable by announcements: 9D25 / 9D02 at 72 count nothing
        byte bk0 = region.status()[Constants.ST_BAD_KEY];
        region.verify(1, PIN); // FIG. 5 block 501
        assertEquals(0x9D02, region.swOf(0x72, 0, 0, cat(new byte[] {1, (byte) 100}, new byte[8], u16(DATE))));
        region.verify(1, PIN); // FIG. 5 block 501
        assertEquals(0x9D25, region.swOf(0x72, 0, 0, cat(new byte[] {1, (byte) 200}, new byte[8], u16(DATE))));
        region.verify(1, PIN); // FIG. 5 block 501
        assertEquals(0x9D02, region.swOf(0x72, 0, 0, cat(new byte[] {2, 0}, new byte[8], u16(DATE))));
        assertEquals(bk0, region.status()[Constants.ST_BAD_KEY]);
    }

    /**
     * A sync writes no byte it would leave unchanged (a card pays for every persistent write): with
     * an empty passbook, no exceptions and no bad keys, the clear and the BAD_KEY reset write
     * nothing; one bad key costs exactly its reset, one passbook entry its count.
     */
    @Test
    void syncWritesOnlyWhatChanges() {
        // the transfers' entries cleared, and OUTCOMES full (4), so its count is no longer written
        for (int i = 0; i < Constants.OUTCOMES; i++) {
            syncOk(branch, alice);
        }
        assertEquals(0, pbCount(alice));
        long w0 = syncOk(branch, alice).cardC.persistentWrites;
        alice.verify(1, PIN);
        assertEquals(0x9D25, alice.swOf(0x42, 0, 0, cat(u32(10), u16(DATE), cat(new byte[] {1, (byte) 100}, new byte[8]))));
        assertEquals(1, alice.status()[Constants.ST_BAD_KEY]);
        assertEquals(w0 + 1, syncOk(branch, alice).cardC.persistentWrites, "BAD_KEY 1 -> 0: one write");
        assertEquals(0, alice.status()[Constants.ST_BAD_KEY]);
        transfer(alice, bob, 5);
        assertEquals(1, pbCount(alice));
        assertEquals(w0 + 1, syncOk(branch, alice).cardC.persistentWrites, "count 1 -> 0: one write");
        assertEquals(0, pbCount(alice));
        assertEquals(w0, syncOk(branch, alice).cardC.persistentWrites);
    }

    @Test
    void exceptionLogHandedOverAndCleared() {
        // alice debits, then gives up (54): exception entry of 300
        alice.verify(1, PIN);
        byte[] sm = bob.hello(300);
        byte[] p1 = alice.ok(0x42, 0, 0, cat(u32(300), u16(DATE), sm));
        byte[] t = Arrays.copyOfRange(p1, 2, 8);
        alice.ok(0x46, 0, 0, bob.ok(0x44, 0, 0, bob.ad(p1)));
        bob.ok(0x4C, 1, 0, t);
        alice.verify(1, PIN); // the payment used up the PIN entry
        alice.ok(0x54, 0, 0, t);
        long v0 = value(all);
        assertEquals(1, alice.status()[Constants.ST_EXC_COUNT]);
        SyncRun r = syncOk(branch, alice);
        assertEquals(24, r.exceptions.length);
        assertEquals(300, u32(r.exceptions, 6));
        assertEquals(0, alice.status()[Constants.ST_EXC_COUNT]);
        assertEquals(0, pbCount(alice));
        // the claim now lives in the ledger only: value on cards drops by exactly the exception amount
        assertEquals(v0 - 300, value(all));
    }

    /**
     * Issue 7 section 2 (FIG. 5 blocks 501/502): a sync needs the holder's PIN on the card and the
     * operator's on the bank card. A host that skips the card's check (70 P1 01) gets the bank's
     * refusal at 76, from the card's own authenticated P5: no clear, no interest, no bank change.
     */
    @Test
    void syncNeedsHolderAndOperatorPins() {
        alice.reinsert();
        branch.reinsert();
        String sa = alice.snapshot();
        String sb = branch.snapshot();
        assertEquals(0x9D13, alice.swOf(0x70, 0, 0, u16(DATE)), "holder PIN");
        alice.verify(1, PIN);
        byte[] sm = alice.ok(0x70, 0, 0, u16(DATE));
        assertEquals(0x9D13, branch.swOf(0x72, 0, 0, cat(sm, u16(DATE))), "operator PIN");
        assertEquals(sb, branch.snapshot());
        // hostile host: 70 P1 01 without the holder's PIN, plain 72; the bank reads HOLDER = 00 in P5
        alice.reinsert();
        int n = pbCount(alice);
        assertTrue(n > 0);
        sm = alice.ok(0x70, 1, 0, u16(DATE));
        branch.verify(1, PIN);
        byte[] s1 = branch.ok(0x72, 0, 0, cat(sm, u16(DATE)));
        byte[] p5 = alice.ok(0x74, 0, 0, s1);
        List<byte[]> entries = new ArrayList<>();
        for (int f = 0; f < n; f += 5) {
            int c = Math.min(5, n - f);
            byte[] e = alice.ok(0x34, f, c, null);
            for (int i = 0; i < c; i++) {
                entries.add(Arrays.copyOfRange(e, 42 * i, 42 * i + 42));
            }
        }
        byte[] d = hostDigest(Arrays.copyOfRange(s1, 2, 8), entries, alice.ok(0x36, 0, 0, null));
        assertEquals(0x9D13, branch.swOf(0x76, 0, 0, cat(p5, d)), "holder not proven, even with the right digest");
        assertEquals(sb, branch.snapshot());
        byte[] t = Arrays.copyOfRange(s1, 2, 8);
        alice.ok(0x4C, 1, 0, t);
        assertEquals(n, pbCount(alice), "passbook not cleared");
        // an unblock sync of a holder who did not prove the PIN: unblock only (no clear, no interest)
        for (int i = 0; i < 3; i++) {
            alice.send(0x20, 0, 1, "0000".getBytes());
        }
        long bal = alice.balance();
        SyncRun r = sync(branch, alice, FEED, true);
        assertEquals(0x9000, r.sw);
        assertEquals(n, pbCount(alice), "unblock-only sync: passbook kept");
        assertEquals(bal, alice.balance(), "no interest");
        alice.ok(0x7E, 0, 1, secret("4321"));
        // the normal sync with the new PIN clears
        alice.verify(1, "4321");
        branch.verify(1, PIN);
        assertEquals(0x9000, sw(alice.send(0x70, 0, 0, u16(DATE))));
        alice.send(0x4C, 0, 0, null);
    }

    /** A bank terminal: the operator enters the bank card's PIN once, then serves many syncs. */
    @Test
    void operatorPinServesManySyncsOfOneCardSession() {
        branch.reinsert();
        branch.verify(1, PIN);
        for (PCard c : new PCard[] {alice, bob, alice}) {
            SyncRun r = sync(branch, c, FEED, false, false);
            assertEquals(0x9000, r.sw, c.label + String.format(": step %d %04X", r.step, r.sw));
            assertEquals(0x63C3, sw(c.send(0x20, 0, 1, null)), "the holder's PIN entry served one sync");
        }
        branch.reinsert();
        SyncRun r = sync(branch, bob, FEED, false, false);
        assertEquals(0x9D13, r.sw, "a new card session needs the operator again");
        assertEquals(2, r.step);
        bob.send(0x4C, 0, 0, null);
    }

    @Test
    void unblockPinAtBranchOnly() {
        for (int i = 0; i < 3; i++) {
            alice.send(0x20, 0, 1, "0000".getBytes());
        }
        assertEquals(0x6983, alice.swOf(0x20, 0, 1, PIN.getBytes()));
        assertEquals(0x6982, alice.swOf(0x7E, 0, 1, secret("4321")));
        // region cannot unblock (12.6 SB), branch needs its own PIN
        byte[] sm = branch.ok(0x70, 1, 0, u16(DATE));
        region.verify(1, PIN);
        assertEquals(0x9D12, region.swOf(0x72, 1, 0, cat(sm, u16(DATE))));
        branch.reinsert();
        sm = alice.ok(0x70, 1, 0, u16(DATE));
        assertEquals(0x9D13, branch.swOf(0x72, 1, 0, cat(sm, u16(DATE))));
        SyncRun r = sync(branch, alice, FEED, true);
        assertEquals(0x9000, r.sw);
        assertEquals(0x6A80, alice.swOf(0x7E, 0, 1, secret("12")));
        alice.ok(0x7E, 0, 1, secret("4321"));
        assertEquals(0x6982, alice.swOf(0x7E, 0, 1, secret("5555")), "one unblock per P6");
        assertEquals(0x9D13, branch.swOf(0x72, 1, 0, cat(alice.ok(0x70, 1, 0, u16(DATE)), u16(DATE))),
                "branch PIN reset after the P6");
        alice.verify(1, "4321");
        assertEquals(3, alice.status()[Constants.ST_PIN_TRIES]);
    }

    @Test
    void wrongPairsRefused() {
        byte[] sm = init70(alice);
        region.verify(1, PIN); // FIG. 5 block 501
        byte[] s1 = region.ok(0x72, 0, 0, cat(sm, u16(DATE)));
        assertEquals(0x9D04, alice.swOf(0x74, 0, 0, s1));
        assertEquals(0x9D04, center.swOf(0x70, 0, 0, u16(DATE)));
        assertEquals(0x9D12, alice.swOf(0x72, 0, 0, cat(sm, u16(DATE))));
        assertEquals(0x6985, alice.swOf(0x74, 0, 0, s1), "session ended");
    }

    @Test
    void outOfRangeRefusedValueNeutral() throws Exception {
        PCard admin = issueNew(center, dir, "admin", Constants.ROLE_ADMIN, 0, 1_000_000);
        PCard carol = issueNew(admin, dir, "carol", Constants.ROLE_USER, 100, 10_000);
        assertFalse(Arrays.equals(Arrays.copyOf(carol.account, 4), Arrays.copyOf(branch.account, 4)));
        long v0 = value(all);
        SyncRun r = sync(branch, carol, FEED, false);
        assertEquals(0x9D21, r.sw);
        assertEquals(7, r.step);
        // the card holds IN = SYNC: the host aborts it (12.11 last row)
        byte[] t = Arrays.copyOfRange(carol.pending(), Constants.PD_IN_TID, Constants.PD_IN_TID + 6);
        carol.ok(0x4C, 1, 0, t);
        assertEquals(0, carol.pending()[Constants.PD_IN_STATE]);
        assertEquals(v0, value(all));
    }

    @Test
    void listedCardInvalidated() throws Exception {
        PCard admin = issueNew(center, dir, "admin", Constants.ROLE_ADMIN, 0, 1_000_000);
        // the admin card needs no keys beyond issuance here: same epoch
        byte[] res = AdminCardTest.ok(admin, branch, Constants.OP_BAD_CARD_ADD, AdminCardTest.params(alice.account, null));
        assertEquals(Constants.RESULT_DONE, res[0]);
        long v0 = value(all);
        long ab = alice.balance();
        SyncRun r = sync(branch, alice, FEED, false);
        assertEquals(0x9000, r.sw);
        assertTrue(r.invalidated);
        assertEquals(Constants.PT_INVALIDATE, r.p6[0]);
        assertEquals(0, branch.pending()[Constants.PD_OUT_STATE], "no persistent change on the bank");
        byte[] st = alice.status();
        assertEquals(Constants.LIFE_INVALIDATED, st[Constants.ST_LIFE]);
        assertEquals(ab, u32(st, Constants.ST_BALANCE), "balance frozen, still counted");
        assertEquals(0x9D19, alice.payeeSw(10));
        assertEquals(0x9D19, alice.swOf(0x70, 0, 0, u16(DATE)));
        assertEquals(0x9D19, alice.swOf(0x78, 0, 0, r.p6));
        alice.reinsert();
        alice.verify(1, PIN);
        assertEquals(0x9000, sw(alice.send(0x34, 0, 1, null)), "passbook readable (PIN) on an invalidated card");
        assertEquals(0x9D19, alice.swOf(0x20, 0, 2, TXKEY.getBytes()));
        assertEquals(v0, value(all));
        // a forged INVALIDATE (bit flipped) is refused by the next card, counted as a bad packet
        SyncRun rb = sync(branch, bob, NO_STORE, false);
        assertEquals(0x9000, rb.sw);
    }

    @Test
    void forgedInvalidateRefused() {
        byte[] sm = init70(bob);
        branch.verify(1, PIN); // FIG. 5 block 501
        byte[] s1 = branch.ok(0x72, 0, 0, cat(sm, u16(DATE)));
        byte[] p5 = bob.ok(0x74, 0, 0, s1);
        byte[] sid = Arrays.copyOfRange(s1, 2, 8);
        byte[] fake = new byte[64];
        fake[0] = Constants.PT_INVALIDATE;
        fake[1] = s1[1];
        System.arraycopy(sid, 0, fake, 2, 6);
        assertEquals(0x9D03, bob.swOf(0x78, 0, 0, fake));
        assertEquals(Constants.LIFE_ACTIVE, bob.status()[Constants.ST_LIFE]);
        assertEquals(1, bob.status()[Constants.ST_BAD_KEY]);
        byte[] p6 = branch.ok(0x76, 0, 0, cat(p5, new byte[8])); // nothing collected
        for (int i = 0; i < p6.length; i += 7) {
            byte[] x = p6.clone();
            x[i] ^= 0x10;
            int sw = bob.swOf(0x78, 0, 0, x);
            assertTrue(sw == 0x9D03 || sw == 0x9D0B || sw == 0x6700, "flip " + i + " " + Integer.toHexString(sw));
        }
        byte[] applied = bob.ok(0x78, 0, 0, p6);
        byte[] sack = Arrays.copyOf(applied, Constants.PKT_SHORT);
        // the STATUS after the SACK is the card's as GET_STATUS reads it now
        byte[] after = bob.status();
        assertArrayEquals(after, Arrays.copyOfRange(applied, Constants.PKT_SHORT, applied.length));
        assertEquals(0, after[Constants.ST_BAD_KEY]);
        branch.ok(0x7A, 0, 0, sack);
    }

    @Test
    void interestVectors() {
        assertEquals(300, interest(100000, RATE, 30));
        assertEquals(382, interest(123456, RATE, 31));
        byte[] out = new byte[4];
        assertTrue(BankSync.interest(u32(100000), (short) 0, RATE, (short) 0, (short) 30, out, (short) 0));
        assertEquals(300, u32(out, 0));
        assertTrue(BankSync.interest(u32(123456), (short) 0, RATE, (short) 0, (short) 31, out, (short) 0));
        assertEquals(382, u32(out, 0));
        assertFalse(BankSync.interest(u32(0xFFFFFFFFL), (short) 0, hex("FFFFFFFF"), (short) 0, (short) 65535, out,
                (short) 0));
    }

    @Test
    void interestExactOverManyDaysAndDeferredWhenBankShort() {
        advance(center, DATE + 365, RATE);
        long rb = region.balance();
        long v0 = value(all);
        SyncRun r = syncOk(center, region);
        assertEquals(rb + interest(rb, RATE, 365), region.balance());
        assertEquals(v0, value(all));
        // huge rate: interest above the center's balance -> deferred, date unchanged
        advance(center, DATE + 400, hex("40000000"));
        long rb2 = region.balance();
        long cb = center.balance();
        assertTrue(interest(rb2, hex("40000000"), 35) > cb);
        SyncRun r2 = syncOk(center, region);
        assertEquals(rb2, region.balance());
        assertEquals(DATE + 365, d16(region.status(), Constants.ST_INTEREST_DATE));
        assertEquals(DATE + 400, d16(region.status(), Constants.ST_KEY_DATE));
        assertEquals(v0, value(all));
        assertNotNull(r2.sack);
    }

    @Test
    void tdesSyncDeliversSixKeys() throws Exception {
        java.nio.file.Files.createDirectories(dir.resolve("t"));
        PCard c = center(dir.resolve("t"), "tcenter", 2, 0, 1_000_000, 250);
        PCard reg = issueNew(c, dir.resolve("t"), "tregion", Constants.ROLE_REGION, 0, 1_000_000);
        mint(c, 10_000);
        transfer(c, reg, 5_000);
        for (int d = 1; d <= 6; d++) {
            advance(c, DATE + d, RATE);
        }
        long v0 = value(c, reg);
        SyncRun r = syncOk(c, reg);
        report("TDES center->region NK=6", r);
        assertEquals(216, r.p6.length);
        assertEquals(c.status()[Constants.ST_CURRENT_KEY], reg.status()[Constants.ST_CURRENT_KEY]);
        assertEquals(v0, value(c, reg));
        transfer(reg, c, 1);
    }

    @Test
    void branchPaysUserInterestAtAdminRateAndPrivateCardEarnsNone() throws Exception {
        PCard admin = issueNew(center, dir, "admin", Constants.ROLE_ADMIN, 0, 1_000_000);
        AdminCardTest.ok(admin, branch, Constants.OP_SET_RATE, cat(RATE, new byte[12]));
        // branch date moves with the epoch: center -> region -> branch
        advance(center, DATE + 40, RATE);
        syncOk(center, region);
        syncOk(region, branch);
        // bob goes private right after a sync (empty passbook)
        syncOk(branch, bob);
        bob.verify(1, PIN);
        bob.ok(0x8C, 1, 0, null);
        long v0 = value(all);
        long ab = alice.balance();
        long bb = bob.balance();
        SyncRun ra = syncOk(branch, alice);
        report("branch->alice NK=1 interest", ra);
        assertEquals(ab + interest(ab, RATE, 40), alice.balance());
        SyncRun rb = syncOk(branch, bob);
        assertEquals(0, rb.ledger.size(), "private: passbook not handed over");
        assertEquals(bb, bob.balance(), "private: no interest");
        assertEquals(DATE + 40, d16(bob.status(), Constants.ST_INTEREST_DATE), "private: date advanced");
        assertEquals(0, pbCount(bob));
        assertEquals(v0, value(all));
    }

    @Test
    void centerSyncsAdminCardWithKeys() throws Exception {
        PCard admin = issueNew(center, dir, "admin", Constants.ROLE_ADMIN, 0, 1_000_000);
        advance(center, DATE + 3, RATE);
        advance(center, DATE + 4, RATE);
        SyncRun r = syncOk(center, admin);
        report("center->admin NK=2", r);
        assertEquals(center.status()[Constants.ST_CURRENT_KEY], admin.status()[Constants.ST_CURRENT_KEY]);
        assertEquals(0, admin.balance());
        assertEquals(0x9D04, sync(region, admin, FEED, false).sw);
    }

    @Test
    void snackRefundsTheBankExactlyOnce() {
        advance(center, DATE + 30, RATE);
        long cb = center.balance();
        long rb = region.balance();
        long v0 = value(all);
        byte[] sm = init70(region);
        center.verify(1, PIN); // FIG. 5 block 501
        byte[] s1 = center.ok(0x72, 0, 0, cat(sm, u16(DATE)));
        byte[] sid = Arrays.copyOfRange(s1, 2, 8);
        byte[] p6 = center.ok(0x76, 0, 0, cat(region.ok(0x74, 0, 0, s1), new byte[8])); // nothing collected
        long i = interest(rb, RATE, 30);
        assertEquals(cb - i, center.balance());
        assertEquals(Constants.SLOT_SYNC, center.pending()[Constants.PD_OUT_STATE]);
        assertEquals(v0, value(all), "in flight: counted on the bank's OUT");
        assertArrayEquals(p6, center.ok(0x50, 0, 0, sid), "RESUME_GET_P4 returns the stored P6");
        // the P6 is lost; the holder abandons: the card answers a SNACK
        byte[] snack = region.ok(0x4C, 1, 0, sid);
        assertEquals(0x9D0B, region.swOf(0x78, 0, 0, p6), "P6 after SNACK");
        assertArrayEquals(snack, region.ok(0x52, 0, 0, sid));
        center.ok(0x7A, 0, 0, snack);
        assertEquals(cb, center.balance(), "refunded");
        assertEquals(rb, region.balance());
        assertEquals(0x9D0B, center.swOf(0x7A, 0, 0, snack), "refund once");
        assertEquals(v0, value(all));
        center.verify(1, PIN);
        byte[] e = center.ok(0x34, pbCount(center) - 1, 1, null);
        assertEquals(Constants.PB_TYPE_DEBIT_REFUNDED, e[Constants.PB_TYPE]);
        assertEquals(i, u32(e, Constants.PB_AMOUNT));
    }

    @Test
    void fiftyEntriesThenSyncDefersInterestUntilFed() throws Exception {
        PCard admin = issueNew(center, dir, "admin", Constants.ROLE_ADMIN, 0, 1_000_000);
        AdminCardTest.ok(admin, branch, Constants.OP_SET_RATE, cat(RATE, new byte[12]));
        while (pbCount(alice) < 50) {
            transfer(alice, bob, 1);
        }
        assertEquals(0x9D08, alice.payeeSw(10));
        advance(center, DATE + 20, RATE);
        syncOk(center, region);
        syncOk(region, branch);
        long ab = alice.balance();
        long v0 = value(all);
        SyncRun r = sync(branch, alice, NO_STORE, false);
        assertEquals(0x9000, r.sw);
        assertEquals(ab, alice.balance(), "deferred: passbook full and not fed");
        assertEquals(DATE, d16(alice.status(), Constants.ST_INTEREST_DATE), "date not advanced");
        assertEquals(DATE + 20, d16(alice.status(), Constants.ST_KEY_DATE), "keys still delivered");
        assertEquals(50, pbCount(alice));
        r = syncOk(branch, alice);
        report("branch->alice N=50 fed", r);
        assertEquals(50, r.ledger.size());
        assertEquals(ab + interest(ab, RATE, 20), alice.balance());
        assertEquals(1, pbCount(alice));
        assertEquals(v0, value(all));
    }

    @Test
    void flippedP5RefusedAndBankUnlocksByItsOwnUpwardSync() {
        long v0 = value(all);
        long rb = region.balance();
        int flips = 0;
        for (int i = 0; i < Constants.PKT_P5; i += 3) {
            byte[] sm = init70(branch);
            region.verify(1, PIN); // FIG. 5 block 501
            byte[] r72 = region.send(0x72, 0, 0, cat(sm, u16(DATE)));
            if (sw(r72) == 0x9D01) {
                // T29: locked by a hostile host; its own sync with the center unlocks it
                syncOk(center, region);
                assertEquals(0, region.status()[Constants.ST_BAD_KEY]);
                sm = init70(branch);
                region.verify(1, PIN); // FIG. 5 block 501
                r72 = region.send(0x72, 0, 0, cat(sm, u16(DATE)));
            }
            assertEquals(0x9000, sw(r72));
            byte[] s1 = data(r72);
            byte[] p5 = branch.ok(0x74, 0, 0, s1);
            byte[] x = p5.clone();
            x[i] ^= 0x01;
            int sw = region.swOf(0x76, 0, 0, cat(x, new byte[8]));
            assertTrue(sw == 0x9D03 || sw == 0x9D0E || sw == 0x9D0F || sw == 0x9D0D || sw == 0x9D04,
                    "flip " + i + ": " + Integer.toHexString(sw));
            assertEquals(rb + 0, region.balance());
            assertEquals(0, region.pending()[Constants.PD_OUT_STATE]);
            byte[] t = Arrays.copyOfRange(s1, 2, 8);
            branch.ok(0x4C, 1, 0, t); // value-neutral SNACK
            flips++;
        }
        assertEquals((Constants.PKT_P5 + 2) / 3, flips, "every third byte of P5 flipped");
        assertEquals(v0, value(all));
    }

    // ------------------------------------------------------------------ 74 in two halves

    /** The same sync, whole and split, from two copies of the same cards: the same end state. */
    @Test
    void splitS1SyncsLikeTheWholeStep() throws Exception {
        advance(center, DATE + 30, RATE);
        long v0 = value(all);
        int n = pbCount(region);
        assertTrue(n >= 2);
        PCard c2 = copy(center, dir.resolve("c2"), "center2");
        PCard r2 = copy(region, dir.resolve("r2"), "region2");
        SyncRun whole = syncOk(center, region);
        SyncRun split = sync(c2, r2, FEED, false, true, true);
        assertEquals(0x9000, split.sw, String.format("split sync failed at step %d: %04X", split.step, split.sw));
        assertEquals(whole.p5.length, split.p5.length);
        assertEquals(n, split.ledger.size());
        for (int i = 0; i < n; i++) {
            assertArrayEquals(whole.ledger.get(i), split.ledger.get(i));
        }
        // balances, keys, dates, rate, the clear and the one INTEREST_IN entry: as the whole step's
        assertArrayEquals(region.status(), r2.status(), "region status");
        assertArrayEquals(center.status(), c2.status(), "center status");
        assertEquals(1, pbCount(r2), "cleared, then INTEREST_IN");
        assertEquals(region.balance(), r2.balance());
        assertEquals(center.balance(), c2.balance());
        assertEquals(v0, value(all));
        assertEquals(0, r2.pending()[Constants.PD_IN_STATE]);
        assertEquals(1, outcomeKind(r2.pending(), split.sid));
        // the split S1 of a settled SID: refused before anything is opened (no BAD_KEY)
        String snap = r2.snapshot();
        init70(r2);
        assertEquals(0x9D0C, r2.swOf(0x74, Constants.S1_DIGEST, 0, split.s1));
        r2.reinsert();
        assertEquals(snap, r2.snapshot(), "a settled S1 changed the card");
    }

    /** 74 P1 02 only right after 74 P1 01 of the same session; everything else 6985, nothing persisted. */
    @Test
    void splitS1OutOfOrderRefusedWithoutChange() throws Exception {
        String a0 = alice.snapshot();
        // 02 without 01 (no session, then in W_S1)
        assertEquals(0x6985, alice.swOf(0x74, Constants.S1_P5, 0, null));
        byte[] s1 = s1For(alice);
        assertEquals(0x6985, alice.swOf(0x74, Constants.S1_P5, 0, null));
        assertEquals(0x6985, alice.swOf(0x74, Constants.S1_DIGEST, 0, s1), "the 6985 ended the session");
        // P1 / P2 outside the table
        s1 = s1For(alice);
        assertEquals(0x6A86, alice.swOf(0x74, 3, 0, s1));
        s1 = s1For(alice);
        assertEquals(0x6A86, alice.swOf(0x74, Constants.S1_DIGEST, 1, s1));
        // 01 twice; 00 after 01; 02 with the session ended by those refusals
        for (int second : new int[] {Constants.S1_DIGEST, Constants.S1_WHOLE}) {
            s1 = s1For(alice);
            assertEquals(0x9000, sw(alice.send(0x74, Constants.S1_DIGEST, 0, s1)));
            assertEquals(0x6985, alice.swOf(0x74, second, 0, s1), "P1 " + second + " after 01");
            assertEquals(0x6985, alice.swOf(0x74, Constants.S1_P5, 0, null));
        }
        // a command between the halves that ends or replaces the session: SELECT, 70, 4C 00, 44
        for (int between = 0; between < 4; between++) {
            s1 = s1For(alice);
            alice.ok(0x74, Constants.S1_DIGEST, 0, s1);
            if (between == 0) {
                alice.select();
            } else if (between == 1) {
                alice.ok(0x70, 0, 0, u16(DATE));
            } else if (between == 2) {
                alice.ok(0x4C, 0, 0, null);
            } else {
                assertEquals(0x6985, alice.swOf(0x44, 0, 0, new byte[6 + 70]));
            }
            assertEquals(0x6985, alice.swOf(0x74, Constants.S1_P5, 0, null), "after " + between);
        }
        assertEquals(0, alice.pending()[Constants.PD_IN_STATE]);
        alice.reinsert();
        assertEquals(a0, alice.snapshot(), "out-of-order halves changed the card");
        // a read between the halves does not end the session: the sync completes (branch -> alice)
        s1 = s1For(alice);
        alice.ok(0x74, Constants.S1_DIGEST, 0, s1);
        alice.status();
        byte[] p5 = alice.ok(0x74, Constants.S1_P5, 0, null);
        assertEquals(Constants.PT_P5, p5[0]);
        assertEquals(Constants.SLOT_SYNC, alice.pending()[Constants.PD_IN_STATE]);
        assertEquals(0x6985, alice.swOf(0x74, Constants.S1_P5, 0, null), "P5 once");
    }

    /** 70 on the card, 72 on its branch: the S1 for the card's 74. */
    private byte[] s1For(PCard c) {
        byte[] sm = init70(c);
        branch.verify(1, PIN);
        return branch.ok(0x72, 0, 0, cat(sm, u16(DATE)));
    }

    /** Many entries through the split: the digest of the first half clears them at 78. */
    @Test
    void splitS1ClearsAFullPassbook() {
        long v0 = value(all);
        for (int i = 0; pbCount(alice) < 40; i++) {
            transfer(alice, bob, 1);
        }
        int n = pbCount(alice);
        SyncRun r = sync(branch, alice, FEED, false, true, true);
        assertEquals(0x9000, r.sw, String.format("split sync failed at step %d: %04X", r.step, r.sw));
        assertEquals(n, r.ledger.size());
        assertEquals(0, pbCount(alice), "fed, cleared (rate 0: no INTEREST_IN)");
        assertEquals(v0, value(all));
        // a wrong feed after a split 74 does not clear
        for (int i = 0; i < 8; i++) {
            transfer(alice, bob, 1);
        }
        r = sync(branch, alice, WRONG_FEED, false, true, true);
        assertEquals(0x9000, r.sw);
        assertEquals(8, pbCount(alice), "wrong entry fed, no clear");
        assertEquals(v0, value(all));
    }
}
