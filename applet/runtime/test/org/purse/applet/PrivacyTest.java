package org.purse.applet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.purse.applet.PurseCardTestSupport.*;

import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Privacy (protocol.md 12.9): SET_PRIVACY and the per-transfer SIG in place of the account. */
class PrivacyTest {
    @TempDir
    Path dir;

    PCard center;
    PCard branch;
    PCard alice;
    PCard bob;

    @BeforeEach
    void world() throws Exception {
        center = center(dir, "center", 1, 0, 1_000_000, 0);
        PCard region = issueNew(center, dir, "region", Constants.ROLE_REGION, 0, 1_000_000);
        branch = issueNew(center, dir, "branch", Constants.ROLE_BRANCH, 0, 1_000_000);
        alice = issueNew(center, dir, "alice", Constants.ROLE_USER, 100, 10_000);
        bob = issueNew(center, dir, "bob", Constants.ROLE_USER, 100, 10_000);
        mint(center, 100_000);
        transfer(center, region, 100_000);
        transfer(region, branch, 50_000);
    }

    static void assertSig(byte[] id, byte[] account) {
        assertEquals(0xF0, id[0] & 0xF0, "SIG first nibble F");
        assertFalse(Arrays.equals(id, account));
    }

    @Test
    void setPrivacyNeedsPinUserRoleAndEmptyPassbook() {
        assertEquals(0x9D13, alice.swOf(0x8C, 1, 0, null));
        branch.verify(1, PIN);
        assertEquals(0x9D12, branch.swOf(0x8C, 1, 0, null));
        alice.verify(1, PIN);
        assertEquals(0x6A86, alice.swOf(0x8C, 2, 0, null));
        assertEquals(0x6A86, alice.swOf(0x8C, 1, 1, null));
        alice.ok(0x8C, 1, 0, null);
        assertEquals(Constants.FLAG_PRIVATE, alice.status()[Constants.ST_FLAGS]);
        alice.ok(0x8C, 0, 0, null);
        assertEquals(0, alice.status()[Constants.ST_FLAGS]);
        // once the passbook holds an entry: "sync first"
        transfer(branch, bob, 1000);
        bob.verify(1, PIN);
        assertEquals(0x6985, bob.swOf(0x8C, 1, 0, null));
        assertEquals(0, bob.status()[Constants.ST_FLAGS]);
    }

    @Test
    void privateSendsSig() {
        alice.verify(1, PIN);
        alice.ok(0x8C, 1, 0, null);
        // payee private: branch sees a SIG, different per transfer
        Wire w1 = transfer(branch, alice, 5000);
        Wire w2 = transfer(branch, alice, 3000);
        assertEquals(8000, alice.balance());
        branch.verify(1, PIN);
        int n = branch.status()[Constants.ST_PB_COUNT];
        byte[] last2 = branch.ok(0x34, n - 2, 2, null);
        byte[] id1 = Arrays.copyOf(last2, 8);
        byte[] id2 = Arrays.copyOfRange(last2, 42, 50);
        assertSig(id1, alice.account);
        assertSig(id2, alice.account);
        assertNotEquals(hex(id1), hex(id2));
        assertArrayEquals(w2.tid, Arrays.copyOfRange(last2, 42 + Constants.PB_TID, 42 + Constants.PB_TID + 6));
        // alice's own passbook names the real branch account
        alice.verify(1, PIN);
        assertArrayEquals(branch.account, Arrays.copyOf(alice.ok(0x34, 0, 1, null), 8));
        // payer private: bob sees a SIG; the pending slots carried the SIG (GET_PENDING of the payer shows bob)
        transfer(alice, bob, 1500);
        bob.verify(1, PIN);
        byte[] c = bob.ok(0x34, 0, 1, null);
        assertSig(Arrays.copyOf(c, 8), alice.account);
        assertEquals(Constants.PB_TYPE_CREDIT, c[Constants.PB_TYPE]);
        assertEquals(6500, alice.balance());
        assertEquals(1500, bob.balance());
    }

    @Test
    void privatePayeeNackRefunds() {
        alice.verify(1, PIN);
        alice.ok(0x8C, 1, 0, null);
        branch.verify(1, PIN);
        byte[] sm = alice.hello(2000);
        byte[] p1 = branch.ok(0x42, 0, 0, cat(u32(2000), u16(DATE), sm));
        byte[] p2p3 = alice.ok(0x44, 0, 0, alice.ad(p1));
        branch.ok(0x46, 0, 0, p2p3);
        byte[] tid = Arrays.copyOfRange(p1, 2, 8);
        byte[] pd = branch.pending();
        assertSig(Arrays.copyOfRange(pd, Constants.PD_OUT_ACCOUNT, Constants.PD_OUT_ACCOUNT + 8), alice.account);
        byte[] nack = alice.ok(0x4C, 1, 0, tid);
        branch.ok(0x4A, 0, 0, nack);
        assertEquals(50_000, branch.balance());
        assertEquals(0, alice.balance());
    }
}
