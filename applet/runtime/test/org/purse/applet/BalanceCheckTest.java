package org.purse.applet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.purse.applet.PurseCardTestSupport.*;

import java.lang.reflect.Field;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.purse.jc.Counters;

/**
 * The balance record's CHECK (protocol.md 3) against EEPROM faults, with the RAM copy of the
 * record last checked: a record or account altered under a card whose copy is warm is refused
 * exactly as one altered while it was unpowered, and the copy saves the MACs it should. And
 * the held engines of K_INT and of the session's application key: not initialised again after a
 * power cycle or a reload of the card's image; on a card that lost one, its first use fails
 * (6985, nothing written) and the next initialises it.
 */
class BalanceCheckTest {
    @TempDir
    Path dir;

    PCard center;
    PCard alice;
    PCard bob;

    @BeforeEach
    void world() throws Exception {
        center = center(dir, "center", 1, 0, 1_000_000, 0);
        PCard region = issueNew(center, dir, "region", Constants.ROLE_REGION, 0, 1_000_000);
        PCard branch = issueNew(center, dir, "branch", Constants.ROLE_BRANCH, 0, 1_000_000);
        alice = issueNew(center, dir, "alice", Constants.ROLE_USER, 100, 10_000);
        bob = issueNew(center, dir, "bob", Constants.ROLE_USER, 100, 10_000);
        mint(center, 100_000);
        transfer(center, region, 5_000);
        transfer(region, branch, 5_000);
        transfer(branch, alice, 5_000);
    }

    private static byte[] record(PCard c) throws ReflectiveOperationException {
        return (byte[]) field(field(applet(c), "bal"), "record");
    }

    private static byte[] profile(PCard c) throws ReflectiveOperationException {
        return (byte[]) field(field(applet(c), "prof"), "data");
    }

    /** The payer's first money step (42) after a hello from bob: its SW. */
    private int pay(long amount) {
        byte[] sm = bob.hello(amount);
        return alice.swOf(0x42, 0, 0, cat(u32(amount), u16(DATE), sm));
    }

    private void tamperedIsRefused(byte[] arr, int off, boolean warm) {
        transfer(alice, bob, 50); // alice's record checked and sealed: her copy is warm
        if (!warm) {
            alice.reinsert();
        }
        String before = alice.snapshot();
        arr[off] ^= 0x01;
        assertEquals(0x9D11, pay(50), warm ? "warm copy" : "after a power cycle");
        assertEquals(0x9D11, pay(50), "and again");
        arr[off] ^= 0x01;
        assertEquals(before, alice.snapshot(), "nothing written while refused");
        assertEquals(0x9000, pay(50), "the restored record is accepted");
        transfer(alice, bob, 50);
        assertEquals(5_000 - 100, alice.balance());
        assertEquals(100, bob.balance());
    }

    @Test
    void amountAlteredUnderAWarmCopyIsRefused() throws Exception {
        tamperedIsRefused(record(alice), Constants.BAL_AMOUNT + 3, true);
    }

    @Test
    void amountAlteredWhileUnpoweredIsRefused() throws Exception {
        tamperedIsRefused(record(alice), Constants.BAL_AMOUNT + 3, false);
    }

    @Test
    void checkAlteredUnderAWarmCopyIsRefused() throws Exception {
        tamperedIsRefused(record(alice), Constants.BAL_CHECK + 7, true);
    }

    @Test
    void accountAlteredUnderAWarmCopyIsRefused() throws Exception {
        tamperedIsRefused(profile(alice), Profile.OFF_ACCOUNT + 7, true);
    }

    /** A full transfer from a freshly powered payer: one Cipher.init, for the session key K_S. */
    private void oneInit(PCard payer) {
        payer.reinsert();
        payer.meas = new Counters();
        transfer(payer, bob, 50);
        assertEquals(1, payer.meas.op("cipher.init.AES_CBC"), "no init for K_INT nor AK1");
    }

    @Test
    void heldEnginesKeepTheirKeysAcrossPowerCyclesAndReloads() throws Exception {
        oneInit(alice);
        PCard reloaded = copy(alice, dir.resolve("reload"), "alice");
        oneInit(reloaded);
        assertEquals(5_000 - 100, reloaded.balance());
    }

    @Test
    void heldEngineThatLostItsInitFailsOnceThenIsInitialised() throws Exception {
        Object cs = field(field(applet(alice), "bal"), "cs");
        Object engine = ((Object[]) field(cs, "held"))[0];
        Field key = engine.getClass().getDeclaredField("key");
        key.setAccessible(true);
        key.set(engine, null); // as a card that does not keep a Cipher's key across a reset
        alice.reinsert();
        String before = alice.snapshot();
        assertEquals(0x6985, pay(50), "the first use fails");
        assertEquals(before, alice.snapshot(), "nothing written");
        alice.meas = new Counters();
        transfer(alice, bob, 50);
        assertEquals(2, alice.meas.op("cipher.init.AES_CBC"), "K_INT's engine initialised again");
        oneInit(alice);
        assertEquals(5_000 - 100, alice.balance());
    }

    /**
     * An older record put back (a rollback of the EEPROM, or an aborted transaction's undo while
     * the copy holds the newer one) gets the full MAC: it is a record this card sealed, so it is
     * accepted as it always was (rollback is the passbook's and the counters' business, not CHECK's).
     */
    @Test
    void olderRecordIsMacedAgainNotTrustedFromTheCopy() throws Exception {
        byte[] rec = record(alice);
        byte[] old = rec.clone();
        transfer(alice, bob, 50);
        System.arraycopy(old, 0, rec, 0, rec.length);
        alice.meas = new Counters();
        assertEquals(0x9000, pay(50));
        long macd = alice.meas.op("cipher.doFinal.AES_CBC");
        alice.reinsert();
        alice.meas = new Counters();
        assertEquals(0x9000, pay(50));
        assertEquals(alice.meas.op("cipher.doFinal.AES_CBC"), macd, "the same cost as a cold check");
        // warm: the copy now holds this record, so the next 42 costs one doFinal less
        alice.meas = new Counters();
        assertEquals(0x9000, pay(50));
        assertEquals(macd - 1, alice.meas.op("cipher.doFinal.AES_CBC"));
    }
}
