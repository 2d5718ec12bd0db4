package org.purse.applet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.purse.applet.PurseCardTestSupport.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import javacard.security.Key;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.purse.jc.PowerLoss;

/**
 * Key epochs and the bank key archive (protocol.md 12.2, 12.3): archive rotation on addNewest, the
 * 8-key sync window, expiry after three missed epochs (9D25 on transfer), sync from 3 to 6 epochs
 * behind delivering every missing key, 9D25 at 7, and a torn CENTER_ADVANCE.
 */
class KeyArchiveTest {
    final CryptoSuite cs = new CryptoSuite();

    @TempDir
    Path dir;

    static int valueOf(CryptoSuite cs, Key key) {
        byte[] v = new byte[24];
        cs.getKey(key, v, (short) 0);
        return v[0] & 0xFF;
    }

    private Keys bankKeys(byte suite, int current) {
        Keys k = new Keys(cs);
        k.allocate(suite, Keys.PHYSICAL_BANK);
        int kl = CryptoSuite.keyLen(suite);
        byte[] blob = new byte[4 * kl];
        for (int d = 0; d < 4; d++) {
            Arrays.fill(blob, d * kl, d * kl + kl, (byte) (current - 3 + d));
        }
        k.install((byte) current, blob, (short) 0, new byte[] {0x25, 0x1C}, (short) 0);
        return k;
    }

    @Test
    void archiveAddNewest() {
        for (byte suite : new byte[] {Constants.SUITE_AES128, Constants.SUITE_TDES3}) {
            int c = 253; // wraps through 255 -> 0
            Keys k = bankKeys(suite, c);
            assertTrue(Issuer.hasArchive(k));
            assertEquals(0, k.info[Keys.I_ARCH]);
            assertFalse(BankSync.holdsSync(k, (byte) (c - 4)));
            int kl = CryptoSuite.keyLen(suite);
            for (int step = 1; step <= 7; step++) {
                byte[] v = new byte[kl];
                Arrays.fill(v, (byte) (c + step));
                k.addNewest(v, (short) 0, new byte[] {0x25, (byte) (0x1C + step)}, (short) 0);
                int cur = c + step;
                assertEquals((byte) cur, k.current());
                assertEquals(Math.min(step, 4), k.info[Keys.I_ARCH]);
                // window CURRENT-3-ARCH .. CURRENT, every value where it belongs
                for (int n = cur - 3 - k.info[Keys.I_ARCH]; n <= cur; n++) {
                    assertTrue(BankSync.holdsSync(k, (byte) n), "step " + step + " n " + n);
                    assertEquals(n & 0xFF, valueOf(cs, k.get((byte) n)), "step " + step + " n " + n);
                }
                assertFalse(BankSync.holdsSync(k, (byte) (cur - 4 - k.info[Keys.I_ARCH])));
                assertFalse(BankSync.holdsSync(k, (byte) (cur + 1)));
                assertTrue(k.holds((byte) (cur - 3)) && !k.holds((byte) (cur - 4)));
            }
            // 9 distinct objects: active 4 + archive 4 + spare
            java.util.Set<Key> objs = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
            int cur = c + 7;
            for (int n = cur - 7; n <= cur; n++) {
                objs.add(k.get((byte) n));
            }
            assertEquals(8, objs.size());
            // sync pair for a card whose oldest is m: newest pair first, inside the window
            assertEquals((cur - 5) & 0xFF, BankSync.chooseSyncPair(k, (byte) (cur - 7)));
            assertEquals((cur - 1) & 0xFF, BankSync.chooseSyncPair(k, (byte) (cur - 3)));
            assertEquals(-1, BankSync.chooseSyncPair(k, (byte) (cur - 10)));
            byte[] out = new byte[6 * kl];
            assertEquals(6 * kl, BankSync.exportKeys(cs, k, (byte) (cur - 5), (short) 6, out, (short) 0));
            for (int i = 0; i < 6; i++) {
                assertEquals((cur - 5 + i) & 0xFF, out[i * kl] & 0xFF);
            }
        }
    }

    @Test
    void nonBankCardHasNoArchive() {
        Keys k = new Keys(cs);
        k.allocate(Constants.SUITE_AES128, Keys.PHYSICAL);
        k.install((byte) 10, new byte[64], (short) 0, new byte[2], (short) 0);
        assertFalse(Issuer.hasArchive(k));
        k.addNewest(new byte[16], (short) 0, new byte[2], (short) 0);
        assertEquals(0, k.info[Keys.I_ARCH]);
        assertFalse(BankSync.holdsSync(k, (byte) 7));
        assertTrue(BankSync.holdsSync(k, (byte) 8));
    }

    @Test
    void expiryAfterThreeEpochsThenSyncFromThreeToSixBehind() throws Exception {
        PCard center = center(dir, "center", 1, 0, 1_000_000, 0);
        PCard region = issueNew(center, dir, "region", Constants.ROLE_REGION, 0, 1_000_000);
        PCard branch = issueNew(center, dir, "branch", Constants.ROLE_BRANCH, 0, 1_000_000);
        mint(center, 100_000);
        transfer(center, region, 50_000);
        int date = DATE;
        // two missed epochs: still two common keys
        SyncCardTest.advance(center, ++date, null);
        SyncCardTest.advance(center, ++date, null);
        transfer(region, center, 1);
        // three missed: one common key, 9D02 (12.10 item 4: 9D25 only once (m - CURRENT) mod 256 is in [1, 127])
        SyncCardTest.advance(center, ++date, null);
        region.verify(1, PIN);
        byte[] sm = center.hello(5);
        assertEquals(0x9D02, region.swOf(0x42, 0, 0, cat(u32(5), u16(DATE), sm)));
        // four missed: no common key; the older card (payer) says 9D25, the newer 9D02
        SyncCardTest.advance(center, ++date, null);
        sm = center.hello(5);
        assertEquals(0x9D25, region.swOf(0x42, 0, 0, cat(u32(5), u16(DATE), sm)));
        center.verify(4, APPROVAL);
        center.verify(1, PIN);
        sm = region.hello(5);
        assertEquals(0x9D02, center.swOf(0x42, 0, 0, cat(u32(5), u16(DATE), sm)));
        // region and branch are still on the same epoch: they keep paying each other
        transfer(region, branch, 100);
        long v0 = SyncCardTest.value(center, region, branch);
        int behind = 4;
        for (int target : new int[] {4, 3, 5, 6}) {
            while (behind < target) {
                SyncCardTest.advance(center, ++date, null);
                behind++;
            }
            SyncCardTest.SyncRun r = SyncCardTest.syncOk(center, region);
            SyncCardTest.report("center->region " + behind + " behind", r);
            byte[] st = region.status();
            assertEquals(center.status()[Constants.ST_CURRENT_KEY], st[Constants.ST_CURRENT_KEY]);
            assertEquals(date, SyncCardTest.d16(st, Constants.ST_KEY_DATE));
            assertEquals(v0, SyncCardTest.value(center, region, branch));
            transfer(region, center, 1);
            v0 = SyncCardTest.value(center, region, branch);
            // put the region back 'behind' epochs behind for the next round
            behind = 0;
        }
        // seven behind: too old even for the archive (9D25 at 72, no BAD_KEY on the bank)
        for (int i = 0; i < 7; i++) {
            SyncCardTest.advance(center, ++date, null);
        }
        SyncCardTest.SyncRun r = SyncCardTest.sync(center, region, SyncCardTest.FEED, false);
        assertEquals(0x9D25, r.sw);
        assertEquals(2, r.step);
        assertEquals(0, center.status()[Constants.ST_BAD_KEY]);
    }

    @Test
    void branchSyncsUserThroughArchiveKeys() throws Exception {
        PCard center = center(dir, "center", 1, 0, 1_000_000, 0);
        PCard region = issueNew(center, dir, "region", Constants.ROLE_REGION, 0, 1_000_000);
        PCard branch = issueNew(center, dir, "branch", Constants.ROLE_BRANCH, 0, 1_000_000);
        PCard user = issueNew(center, dir, "user", Constants.ROLE_USER, 100, 10_000);
        int date = DATE;
        for (int i = 0; i < 5; i++) {
            SyncCardTest.advance(center, ++date, null);
        }
        SyncCardTest.syncOk(center, region);
        SyncCardTest.syncOk(region, branch);
        SyncCardTest.SyncRun r = SyncCardTest.syncOk(branch, user);
        SyncCardTest.report("branch->user 5 behind (NK=5)", r);
        assertEquals(center.status()[Constants.ST_CURRENT_KEY], user.status()[Constants.ST_CURRENT_KEY]);
        assertEquals(5, branch.status()[Constants.ST_CURRENT_KEY] - 3);
    }

    @Test
    void tornCenterAdvanceKeepsKeysConsistent() throws Exception {
        PCard center0 = center(dir, "center", 1, 0, 1_000_000, 0);
        PCard region0 = issueNew(center0, dir, "region", Constants.ROLE_REGION, 0, 1_000_000);
        for (int i = 0; i < 4; i++) {
            SyncCardTest.advance(center0, DATE + 1 + i, null); // archive full: rotation drops keys from now on
        }
        for (int k = 1; ; k++) {
            Path d = dir.resolve("adv" + k);
            Files.createDirectories(d);
            PCard center = copy(center0, d, "center");
            PCard region = copy(region0, d, "region");
            byte before = center.status()[Constants.ST_CURRENT_KEY];
            center.verify(4, APPROVAL);
            center.card.armTear(k);
            boolean torn;
            try {
                center.raw(apdu(0x80, 0, 0, cat(u16(DATE + 10), new byte[] {0}, new byte[4])));
                torn = false;
            } catch (PowerLoss pl) {
                torn = true;
            }
            center.reinsert();
            byte after = center.status()[Constants.ST_CURRENT_KEY];
            assertTrue(after == before || after == (byte) (before + 1), "k " + k);
            // region is 4 or 5 behind: syncs through the archive either way
            SyncCardTest.SyncRun r = SyncCardTest.sync(center, region, SyncCardTest.FEED, false);
            assertEquals(0x9000, r.sw, "k " + k + " step " + r.step);
            assertEquals(after, region.status()[Constants.ST_CURRENT_KEY]);
            if (!torn) {
                break;
            }
        }
    }
}
