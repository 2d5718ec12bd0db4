package org.purse.applet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.purse.applet.PurseCardTestSupport.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.purse.jc.Card;

/**
 * The user-card applet (applet/src-user: the bank-only classes stubbed) on desk cards created with
 * variant "user", next to full-applet bank cards: user cards pay, get paid and sync as before; the
 * bank-only commands answer 6D00; a blank user-applet card refuses genesis and bank-role issuance
 * with 6A81 and stays blank, with its transport tries, ready to be issued as a user.
 */
class UserAppletTest {
    @TempDir
    Path dir;
    PCard center;
    PCard branch;

    static PCard createUser(Path dir, String label) throws IOException {
        Path p = dir.resolve(label + ".img");
        PCard c = new PCard(p, Card.create(p, APPLET, AID, new byte[0], "user"), label);
        c.select();
        return c;
    }

    static PCard issueUser(PCard issuer, Path dir, String label) throws IOException {
        PCard c = createUser(dir, label);
        issue(issuer, c, DEV_TK_AES, issueReq(DEV_TK_AES, Constants.ROLE_USER, label, 100, 10_000, PIN, TXKEY));
        return c;
    }

    @BeforeEach
    void bank() throws Exception {
        center = center(dir, "center", 1, 0, 1_000_000, 0);
        branch = issueNew(center, dir, "branch", Constants.ROLE_BRANCH, 0, 1_000_000);
        mint(center, 1_000_000);
        PCard region = issueNew(center, dir, "region", Constants.ROLE_REGION, 0, 1_000_000);
        transfer(center, region, 200_000);
        transfer(region, branch, 100_000);
    }

    @Test
    void cardsRunTheUserClasses() throws Exception {
        PCard u = createUser(dir, "u");
        assertEquals("user", u.card.variant());
        assertEquals(null, center.card.variant());
        // the loaded Issuer is the stub: none of the full class's fields
        assertEquals(false, hasField(Class.forName("org.purse.applet.Issuer", false, loaderOf(u)), "prof"));
        assertEquals(true, hasField(Class.forName("org.purse.applet.Issuer", false, loaderOf(center)), "prof"));
        // and the user-card applet has no Admin, BankSync or BankFiles at all (nothing of it refers to them)
        ClassLoader jar = Card.class.getClassLoader();
        assertNotNull(jar.getResource("variants/user/org/purse/applet/Issuer.class"));
        for (String c : new String[] {"Admin", "BankSync", "BankFiles"}) {
            assertNull(jar.getResource("variants/user/org/purse/applet/" + c + ".class"), c);
        }
    }

    private static boolean hasField(Class<?> c, String name) {
        for (java.lang.reflect.Field f : c.getDeclaredFields()) {
            if (f.getName().equals(name)) {
                return true;
            }
        }
        return false;
    }

    private static ClassLoader loaderOf(PCard c) throws Exception {
        java.lang.reflect.Field f = Card.class.getDeclaredField("loader");
        f.setAccessible(true);
        return (ClassLoader) f.get(c.card);
    }

    @Test
    void variantSurvivesSaveAndLoad() throws Exception {
        PCard u = issueUser(center, dir, "alice");
        u.card.save();
        PCard again = new PCard(u.path, Card.load(u.path), "again");
        assertEquals("user", again.card.variant());
        again.select();
        again.verify(1, PIN);
        assertEquals(0x6D00, again.swOf(0x14, 0, 0, new byte[72]), "ISSUE_BEGIN after the reload");
        assertEquals(Constants.ROLE_USER, again.status()[Constants.ST_ROLE]);
        // a full-applet image still loads as the full applet
        center.card.save();
        assertEquals(null, Card.load(center.path).variant());
    }

    @Test
    void unknownVariantRefused() {
        assertThrows(IllegalArgumentException.class,
                () -> Card.create(dir.resolve("x.img"), APPLET, AID, new byte[0], "nosuch"));
        assertEquals(false, Files.exists(dir.resolve("x.img")));
    }

    @Test
    void transferBetweenUserCardsAndSyncWithAFullBank() throws Exception {
        PCard alice = issueUser(center, dir, "alice");
        PCard bob = issueUser(center, dir, "bob");
        transfer(branch, alice, 20_000);
        transfer(alice, bob, 500);
        transfer(bob, alice, 50);
        assertEquals(20_000 - 500 + 50, alice.balance());
        assertEquals(450, bob.balance());
        transfer(bob, branch, 100);
        SyncCardTest.SyncRun r = SyncCardTest.syncOk(branch, alice);
        assertEquals(0x9000, r.sw);
        assertEquals(0, alice.status()[Constants.ST_PB_COUNT], "the sync cleared the fed passbook");
        // SET_PRIVACY (8C) is a user-card command: kept in the user applet
        bob.verify(1, PIN);
        SyncCardTest.syncOk(branch, bob);
        bob.verify(1, PIN);
        bob.ok(0x8C, 1, 0, null);
        assertEquals(Constants.FLAG_PRIVATE, bob.status()[Constants.ST_FLAGS] & Constants.FLAG_PRIVATE);
    }

    @Test
    void bankCommandsAnswer6D00() throws Exception {
        PCard alice = issueUser(center, dir, "alice");
        alice.verify(1, PIN);
        // (7A, SYNC_BANK_ACK, is the handler 4A / 7A that both builds share)
        int[] bankIns = {0x14, 0x16, 0x18, 0x1A, 0x72, 0x76, 0x80, 0x82, 0x84, 0x86, 0x88, 0x8A};
        for (int ins : bankIns) {
            assertEquals(0x6D00, alice.swOf(ins, 0, 0, new byte[8]), String.format("INS %02X", ins));
        }
        // the same commands on a full-applet user card are known (another answer than 6D00)
        PCard full = issueNew(center, dir, "full", Constants.ROLE_USER, 100, 10_000);
        full.verify(1, PIN);
        for (int ins : bankIns) {
            assertNotEquals(0x6D00, full.swOf(ins, 0, 0, new byte[8]), String.format("INS %02X on the full applet", ins));
        }
    }

    @Test
    void genesisRefusedAndTheCardStaysBlank() throws Exception {
        PCard u = createUser(dir, "u");
        byte[] before = u.status();
        byte[][] a = hostAuth(u, DEV_TK_AES);
        byte[] pkt = seal(0x11, 0, Arrays.copyOf(a[2], 6), a[0], g1(1, "200000", "u", 0, 1000, 10, 0));
        assertEquals(0x6A81, u.swOf(0x12, 0, 0, cat(a[1], pkt)));
        assertArrayEquals(before, u.status(), "blank, transport tries unchanged");
        assertEquals(Constants.LIFE_BLANK, u.status()[Constants.ST_LIFE]);
        // still issuable as a user
        issue(center, u, DEV_TK_AES, issueReq(DEV_TK_AES, Constants.ROLE_USER, "u", 100, 10_000, PIN, TXKEY));
        assertEquals(Constants.ROLE_USER, u.status()[Constants.ST_ROLE]);
        assertEquals(Constants.LIFE_ACTIVE, u.status()[Constants.ST_LIFE]);
    }

    @Test
    void bankRoleIssuanceRefusedAndTheCardStaysBlank() throws Exception {
        PCard u = createUser(dir, "u");
        byte[] before = u.status();
        int[] roles = {Constants.ROLE_REGION, Constants.ROLE_BRANCH, Constants.ROLE_ADMIN};
        for (int role : roles) {
            center.verify(1, PIN);
            center.verify(4, APPROVAL);
            byte[] rh = center.ok(0x14, 0, 0, issueReq(DEV_TK_AES, role, "u", 0, 1000, PIN, TXKEY));
            byte[] rccc = u.ok(0x10, 0, 0, rh);
            byte[] hcI1 = center.ok(0x16, 0, 0, rccc);
            assertEquals(0x6A81, u.swOf(0x12, 0, 0, hcI1), "role " + role);
            assertArrayEquals(before, u.status(), "role " + role + ": blank, transport tries given back");
        }
        // the same I1 path for a user succeeds on that card afterwards
        issue(center, u, DEV_TK_AES, issueReq(DEV_TK_AES, Constants.ROLE_USER, "u", 100, 10_000, PIN, TXKEY));
        assertEquals(Constants.ROLE_USER, u.status()[Constants.ST_ROLE]);
        transfer(branch, u, 1_000);
        assertEquals(1_000, u.balance());
    }

    @Test
    void aWrongHostCryptogramStillCountsATry() throws Exception {
        // the refusal gives a try back only after HC and the packet's MAC held
        PCard u = createUser(dir, "u");
        byte tries = u.status()[Constants.ST_TK_TRIES];
        center.verify(1, PIN);
        center.verify(4, APPROVAL);
        byte[] rh = center.ok(0x14, 0, 0, issueReq(DEV_TK_AES, Constants.ROLE_BRANCH, "u", 0, 1000, PIN, TXKEY));
        byte[] rccc = u.ok(0x10, 0, 0, rh);
        byte[] hcI1 = center.ok(0x16, 0, 0, rccc);
        hcI1[0] ^= 1;
        assertEquals(0x9D03, u.swOf(0x12, 0, 0, hcI1));
        assertEquals(tries - 1, u.status()[Constants.ST_TK_TRIES]);
    }
}
