package org.purse.jc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.purse.jc.EngineTestSupport.*;

import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TransactionTest {
    @TempDir
    Path dir;
    Card card;

    @BeforeEach
    void setUp() throws Exception {
        card = newCard(dir);
        card.powerOn();
        ok(card, select());
    }

    private void assertWritten(byte[] st, int v) {
        assertEquals(v, a(st));
        assertEquals(v, st[2]);
        assertEquals(v, s(st));
        for (int i = 0; i < 5; i++) {
            assertEquals(v, arr(st, i), "arr[" + i + "]");
        }
        assertEquals(v, sarr0(st));
        assertEquals(v == 0 ? 0 : 1, st[23], "ref");
        assertEquals(1, st[32], "object array element");
        assertEquals(v, st[33], "static array element");
        assertEquals(v, st[34], "helper field");
    }

    private void assertPristine(byte[] st) {
        assertEquals(0, a(st));
        assertEquals(0, st[2]);
        assertEquals(0, s(st));
        for (int i = 0; i < 5; i++) {
            assertEquals(0, arr(st, i), "arr[" + i + "]");
        }
        assertEquals(0, sarr0(st));
        assertEquals(0, st[23], "ref");
        assertEquals(0, st[32], "object array element");
        assertEquals(0, st[33], "static array element");
        assertEquals(0, st[34], "helper field");
    }

    @Test
    void commitKeepsAllKindsOfWrites() {
        ok(card, apdu(0x02, 0, 5));
        assertEquals(1, card.last().transactions);
        assertWritten(state(card), 5);
    }

    @Test
    void abortRollsBackFieldsStaticsArraysAndArrayCopy() {
        ok(card, apdu(0x02, 1, 5));
        assertEquals(0, card.last().transactions);
        assertPristine(state(card));
    }

    @Test
    void uncaughtExceptionAbortsAndGives6F00() {
        assertEquals(0x6F00, sw(card.transmit(apdu(0x02, 2, 5))));
        assertPristine(state(card));
    }

    @Test
    void transactionOpenAtEndOfCommandIsAborted() {
        ok(card, apdu(0x02, 3, 5));
        assertPristine(state(card));
    }

    @Test
    void isoExceptionAbortsAndGivesItsSw() {
        assertEquals(0x6A80, sw(card.transmit(apdu(0x02, 4, 5))));
        assertPristine(state(card));
    }

    @Test
    void commitThenAbortKeepsCommitted() {
        ok(card, apdu(0x02, 0, 3));
        ok(card, apdu(0x02, 1, 9));
        assertWritten(state(card), 3);
    }

    @Test
    void nonAtomicWritesSurviveAbort() {
        ok(card, apdu(0x03, 0, 4));
        byte[] st = state(card);
        for (int i = 8; i < 16; i++) {
            assertEquals(4, arr(st, i), "arr[" + i + "]");
        }
        assertEquals(0, arr(st, 7), "atomic element write rolled back");
    }

    @Test
    void nestedBeginAndCommitWithoutBegin() {
        assertEquals(0x6401, sw(card.transmit(apdu(0x04, 0, 0))));
        assertEquals(0x6502, sw(card.transmit(apdu(0x05, 0, 0))));
        assertEquals(0x6502, sw(card.transmit(apdu(0x05, 1, 0))));
    }

    @Test
    void commitCapacityAndDepth() {
        byte[] r = ok(card, apdu(0x06, 0, 0, new byte[0], 0));
        int max = ((r[0] & 0xFF) << 8) | (r[1] & 0xFF);
        int unused = ((r[2] & 0xFF) << 8) | (r[3] & 0xFF);
        assertEquals(2048, max);
        assertEquals(2048, unused);
        assertEquals(0, r[4]);
        assertEquals(1, r[5]);
        int after = ((r[6] & 0xFF) << 8) | (r[7] & 0xFF);
        assertEquals(2048 - 2 - Tx.OVERHEAD, after);
        assertEquals(0, r[8]);
        // overflowing the commit buffer -> BUFFER_FULL (3); the field written in the loop is rolled back
        byte[] before = state(card);
        assertEquals(0x6603, sw(card.transmit(apdu(0x06, 1, 0))));
        assertEquals(a(before), a(state(card)));
    }

    @Test
    void transientArraysAreNotTransactionalNorCounted() {
        byte[] r = ok(card, apdu(0x08, 0, 7, new byte[0], 0));
        assertArrayEquals(new byte[] {2, 1, 0, 1}, r); // CLEAR_ON_DESELECT, CLEAR_ON_RESET, persistent, reset
        assertEquals(0, card.last().persistentWrites);
        byte[] st = state(card);
        assertEquals(7, st[24]);
        assertEquals(7, st[25]);
        assertEquals(1, st[35]);
        assertEquals(7, st[36]);
        // reselect clears CLEAR_ON_DESELECT only
        ok(card, select());
        st = state(card);
        assertEquals(0, st[24]);
        assertEquals(0, st[36]);
        assertEquals(7, st[25]);
        assertEquals(1, st[35]);
        // reset clears CLEAR_ON_RESET too
        ok(card, apdu(0x08, 0, 9, new byte[0], 0));
        card.reset();
        ok(card, select());
        st = state(card);
        assertEquals(0, st[24]);
        assertEquals(0, st[25]);
        assertEquals(0, st[35]);
    }

    @Test
    void ownerPinSemantics() {
        byte[] pin = {1, 2, 3, 4};
        ok(card, apdu(0x09, 0, 0, pin, -1));
        assertEquals(3, state(card)[26]);
        assertEquals(0x63C2, sw(card.transmit(apdu(0x09, 1, 0, new byte[] {1, 2, 3, 5}, -1))));
        assertEquals(0x63C1, sw(card.transmit(apdu(0x09, 1, 0, new byte[] {1, 2, 3}, -1))));
        ok(card, apdu(0x09, 1, 0, pin, -1));
        byte[] st = state(card);
        assertEquals(3, st[26]);
        assertEquals(1, st[27]);
        // reset() clears validated
        ok(card, apdu(0x09, 4, 0));
        assertEquals(0, state(card)[27]);
        ok(card, apdu(0x09, 1, 0, pin, -1));
        // validated flag is transient: cleared by card reset
        card.reset();
        ok(card, select());
        assertEquals(0, state(card)[27]);
        // block it
        for (int i = 2; i >= 0; i--) {
            assertEquals(0x63C0 | i, sw(card.transmit(apdu(0x09, 1, 0, new byte[] {9}, -1))));
        }
        assertEquals(0x63C0, sw(card.transmit(apdu(0x09, 1, 0, pin, -1))), "blocked PIN refuses the right value");
        ok(card, apdu(0x09, 3, 0));
        assertEquals(3, state(card)[26]);
        ok(card, apdu(0x09, 1, 0, pin, -1));
    }

    @Test
    void pinTriesAreNotRolledBackByAbort() {
        ok(card, apdu(0x09, 0, 0, new byte[] {1, 2, 3, 4}, -1));
        byte[] r = ok(card, apdu(0x09, 2, 0, new byte[] {7, 7, 7, 7}, 0));
        assertEquals(0, r[0]);
        byte[] st = state(card);
        assertEquals(2, st[26], "try counter decremented despite abort");
        assertEquals(0, a(st), "field written in the same transaction is rolled back");
        // a successful check inside an aborted transaction stays validated and resets the counter
        r = ok(card, apdu(0x09, 2, 0, new byte[] {1, 2, 3, 4}, 0));
        assertEquals(1, r[0]);
        st = state(card);
        assertEquals(3, st[26]);
        assertEquals(1, st[27]);
    }

    @Test
    void innerClassesAndTwoSlotFields() {
        assertArrayEquals(new byte[] {3, 0, 0, 0}, ok(card, apdu(0x0F, 1, 9, new byte[0], 0)), "aborted");
        assertArrayEquals(new byte[] {3, 0, 0, 0}, ok(card, apdu(0x0F, 2, 9, new byte[0], 0)), "new object aborted");
        assertArrayEquals(new byte[] {9, 9, 9, 0}, ok(card, apdu(0x0F, 0, 9, new byte[0], 0)), "committed");
    }
}
