package org.purse.jc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.purse.jc.EngineTestSupport.*;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Power loss at every persistent write of a command (INS 07: 7 writes, 3 of them in a transaction). */
class TearEngineTest {
    @TempDir
    Path dir;

    /** Expected state after a tear before write k: writes 1..k-1 done, the transaction all or nothing. */
    private static void check(byte[] st, int k) {
        int v = 9;
        assertEquals(k > 1 ? v : 0, arr(st, 0), "w1 arr[0], k=" + k);
        assertEquals(k > 2 ? v : 0, a(st), "w2 a, k=" + k);
        boolean tx = k > 5;
        assertEquals(tx ? v : 0, st[2], "w3 b, k=" + k);
        assertEquals(tx ? v : 0, s(st), "w4 static s, k=" + k);
        for (int i = 1; i <= 4; i++) {
            assertEquals(tx ? v : 0, arr(st, i), "w5 arr[" + i + "], k=" + k);
        }
        assertEquals(k > 6 ? v : 0, sarr0(st), "w6 sarr[0], k=" + k);
        for (int i = 5; i <= 7; i++) {
            assertEquals(k > 7 ? v : 0, arr(st, i), "w7 atomic arrayCopy arr[" + i + "], k=" + k);
        }
    }

    @Test
    void tearAtEveryWrite() throws Exception {
        for (int k = 1; k <= 8; k++) {
            Path sub = dir.resolve("k" + k);
            java.nio.file.Files.createDirectories(sub);
            Card card = newCard(sub);
            card.powerOn();
            ok(card, select());
            card.armTear(k);
            if (k <= 7) {
                assertThrows(PowerLoss.class, () -> card.transmit(apdu(0x07, 0, 9)));
                assertFalse(card.isPowered(), "card left powered off");
                assertEquals(k - 1, card.last().persistentWrites);
            } else {
                ok(card, apdu(0x07, 0, 9));
            }
            // the same card object, powered up again
            card.powerOn();
            ok(card, select());
            check(state(card), k);
            // the image on disk (saved after the tear)
            Card again = Card.load(sub.resolve("card.img"));
            again.powerOn();
            ok(again, select());
            check(state(again), k);
        }
    }

    @Test
    void tearIsOneShotAndOnlyForNextCommand() throws Exception {
        Card card = newCard(dir);
        card.powerOn();
        ok(card, select());
        card.armTear(100); // more than the command writes: nothing happens
        ok(card, apdu(0x07, 0, 9));
        ok(card, apdu(0x07, 0, 8)); // not armed any more
        assertEquals(8, state(card)[2]);
    }

    @Test
    void tearDuringPinCheckKeepsDecrement() throws Exception {
        Card card = newCard(dir);
        card.powerOn();
        ok(card, select());
        ok(card, apdu(0x09, 0, 0, new byte[] {1, 2}, -1));
        // check inside transaction: write 1 = field a (tx), write 2 = try counter (non atomic)
        card.armTear(3); // no third write: the command completes
        ok(card, apdu(0x09, 2, 0, new byte[] {5, 5}, 0));
        assertEquals(2, state(card)[26]);
        card.armTear(2); // power lost when the counter is decremented: nothing decremented
        assertThrows(PowerLoss.class, () -> card.transmit(apdu(0x09, 2, 0, new byte[] {5, 5}, 0)));
        card.powerOn();
        ok(card, select());
        assertEquals(2, state(card)[26]);
    }

    @Test
    void countersPerCommandAndCumulative() throws Exception {
        Card card = newCard(dir);
        Counters t0 = card.total();
        assertEquals(0, t0.apdus);
        card.powerOn();
        ok(card, select());
        Counters c = card.last();
        assertEquals(1, c.apdus);
        // select() writes the 'selects' counter field
        assertEquals(1, c.persistentWrites);
        ok(card, apdu(0x07, 0, 9));
        c = card.last();
        assertEquals(7, c.persistentWrites);
        assertEquals(1 + 2 + 1 + 2 + 4 + 2 + 3, c.bytesWritten);
        assertEquals(1, c.transactions);
        assertEquals(0, c.cryptoOps);
        state(card);
        assertEquals(0, card.last().persistentWrites, "reads and transient writes are not counted");
        Counters tot = card.total();
        assertEquals(3, tot.apdus);
        assertEquals(8, tot.persistentWrites);
        assertEquals(1, tot.transactions);
        assertTrue(tot.toJson().contains("\"persistentWrites\":8"));
        assertEquals(2, tot.minus(c).apdus);
        // survives reload
        Card again = Card.load(dir.resolve("card.img"));
        assertEquals(8, again.total().persistentWrites);
    }
}
