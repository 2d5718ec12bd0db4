package org.purse.jc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.purse.jc.EngineTestSupport.*;

import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ApduEngineTest {
    @TempDir
    Path dir;
    Card card;

    @BeforeEach
    void setUp() throws Exception {
        card = newCard(dir);
        card.powerOn();
    }

    @Test
    void selectAndNoApplet() {
        assertEquals(0x6999, sw(card.transmit(apdu(0x01, 0, 0))), "nothing selected");
        byte[] unknown = {0x00, (byte) 0xA4, 0x04, 0x00, 0x05, 1, 2, 3, 4, 5};
        assertEquals(0x6A82, sw(card.transmit(unknown)));
        byte[] r = card.transmit(select());
        assertArrayEquals(new byte[] {0x5E, (byte) 0x90, 0x00}, r, "process() sees the SELECT with selectingApplet()");
        byte[] st = state(card);
        assertEquals(1, st[29]);
        // partial AID (first 6 bytes) selects too; the previous selection gets deselect()
        byte[] partial = {0x00, (byte) 0xA4, 0x04, 0x00, 0x06, (byte) 0xF0, 0x70, 0x75, 0x72, 0x73, 0x65};
        assertEquals(0x9000, sw(card.transmit(partial)));
        st = state(card);
        assertEquals(2, st[29]);
        assertEquals(1, st[31]);
        // unknown AID while an applet is selected: forwarded to it (JCRE behaviour), here INS A4 -> 6D00
        assertEquals(0x6D00, sw(card.transmit(unknown)));
        assertEquals(2, state(card)[29]);
        // reset deselects without calling deselect()
        card.reset();
        assertEquals(0x6999, sw(card.transmit(apdu(0x01, 0, 0))));
    }

    @Test
    void refusedSelection() {
        ok(card, select());
        ok(card, apdu(0x10, 0, 0));
        assertEquals(0x6999, sw(card.transmit(select())), "select() returned false");
        assertEquals(0x6999, sw(card.transmit(apdu(0x01, 0, 0))), "nothing selected afterwards");
        ok(card, select());
        byte[] st = state(card);
        assertEquals(3, st[29], "select() calls");
        assertEquals(1, st[31], "deselect() calls");
    }

    @Test
    void exceptionsToStatusWords() {
        ok(card, select());
        assertEquals(0x6F00, sw(card.transmit(apdu(0x0B, 1, 0))), "uncaught ArrayIndexOutOfBounds");
        assertEquals(0x6F00, sw(card.transmit(apdu(0x02, 2, 1))), "uncaught NullPointerException");
        assertEquals(0x6A88, sw(card.transmit(apdu(0x0E, 0x6A, 0x88))));
        assertEquals(0x6D00, sw(card.transmit(apdu(0x7F, 0, 0))));
        assertEquals(0x6881, sw(card.transmit(new byte[] {0x01, 0x01, 0, 0})), "logical channel");
        assertEquals(0x6700, sw(card.transmit(new byte[] {0, 1, 0, 0, 0, 0, 1, 5})), "extended length");
        assertEquals(0x6700, sw(card.transmit(new byte[] {0, 1, 0})));
        assertEquals(0x6700, sw(card.transmit(new byte[] {0, 1, 0, 0, 3, 1})), "Lc mismatch");
    }

    @Test
    void incomingAndOutgoing() {
        ok(card, select());
        byte[] data = {10, 20, 30, 40, 50};
        assertArrayEquals(data, ok(card, apdu(0x0A, 0, 0, data, 0)));
        assertArrayEquals(data, ok(card, apdu(0x0A, 1, 0, data, 0)), "sendBytesLong");
        byte[] big = ok(card, apdu(0x0A, 2, 0, new byte[0], 0));
        assertEquals(256, big.length);
        assertEquals((byte) 255, big[255]);
        byte[] p = ok(card, apdu(0x0D, 0, 0, new byte[0], 0));
        assertArrayEquals(new byte[] {1, 2, 3}, p, "install parameters");
        byte[] full = new byte[255];
        Arrays.fill(full, (byte) 0x33);
        assertArrayEquals(full, ok(card, apdu(0x0A, 0, 0, full, 0)), "Lc 255");
    }

    /**
     * The APDU buffer is zeroed before each command (the APDU class's contract: "zero out the APDU
     * buffer before each new message"), so what a command leaves in it (a failed packet open's
     * decrypted bytes: protocol.md 2.4) is never seen by the next, whatever applet that is.
     */
    @Test
    void bufferZeroedBeforeEachCommand() {
        ok(card, select());
        byte[] full = new byte[255];
        Arrays.fill(full, (byte) 0x33);
        ok(card, apdu(0x0A, 0, 0, full, 0));
        byte[] seen = ok(card, apdu(0x11, 0, 255, new byte[0], 255));
        assertArrayEquals(new byte[] {(byte) 0x80, 0x11, 0, (byte) 255, (byte) 255}, Arrays.copyOf(seen, 5));
        assertArrayEquals(new byte[250], Arrays.copyOfRange(seen, 5, 255), "the echo's data is gone");
        assertEquals(0x6984, sw(card.transmit(apdu(0x11, 1, 0))), "fills the buffer, then fails");
        // everything after the header, to the buffer's last byte
        assertArrayEquals(new byte[256], ok(card, apdu(0x11, 2, 0, new byte[0], 0)), "a failed command's bytes are gone");
        // and on a reselection (another applet's turn would begin the same way)
        ok(card, apdu(0x0A, 0, 0, full, 0));
        ok(card, select());
        assertArrayEquals(new byte[256], ok(card, apdu(0x11, 2, 0, new byte[0], 0)));
    }

    @Test
    void apduGetters() {
        ok(card, select());
        byte[] r = ok(card, apdu(0x0C, 0, 0, new byte[] {1, 2, 3}, 0));
        assertEquals(1, r[0], "T=1");
        assertEquals(0, r[1], "channel");
        assertEquals(0, r[2], "CLA 80 is proprietary");
        assertEquals(0, r[3]);
        assertEquals(0, r[4]);
        assertEquals(0, r[5], "STATE_INITIAL");
        assertEquals(2, r[6], "STATE_FULL_INCOMING");
        assertEquals(3, r[7]);
        assertEquals(5, r[8]);
        assertEquals(3, r[9]);
        assertEquals(0, r[10]);
        assertEquals(1, r[11]);
        assertEquals(1, r[12]);
        assertEquals(AID.length, r[13]);
        assertArrayEquals(AID, Arrays.copyOfRange(r, 14, 14 + AID.length));
        byte[] cmd = apdu(0x0C, 0, 0, new byte[] {1}, 0);
        cmd[0] = 0x1C; // ISO, chaining, secure messaging
        r = ok(card, cmd);
        assertEquals(1, r[2]);
        assertEquals(1, r[3]);
        assertEquals(1, r[4]);
    }

    @Test
    void atrs() {
        byte[] atr = card.atr();
        assertEquals(0x3B, atr[0]);
        int x = 0;
        for (int i = 1; i < atr.length; i++) {
            x ^= atr[i];
        }
        assertEquals(0, x, "TCK");
        assertEquals(1, atr[2] & 0x0F, "TD1 announces T=1");
        card.setT0(true);
        atr = card.atr();
        assertEquals(0x3B, atr[0]);
        assertEquals(atr.length - 2, atr[1] & 0x0F, "T=0: only historical bytes");
        assertEquals(0, atr[1] & 0xF0);
    }

    @Test
    void t0GetResponseAnd6Cxx() {
        card.setT0(true);
        ok(card, selectT0());
        byte[] data = {10, 20, 30, 40};
        byte[] r = card.transmit(apdu(0x0A, 0, 0, data, 0));
        assertArrayEquals(new byte[] {0x61, 0x04}, r);
        r = card.transmit(new byte[] {0x00, (byte) 0xC0, 0, 0, 2});
        assertArrayEquals(new byte[] {10, 20, 0x61, 0x02}, r);
        r = card.transmit(new byte[] {0x00, (byte) 0xC0, 0, 0, 5});
        assertArrayEquals(new byte[] {0x6C, 0x02}, r);
        r = card.transmit(new byte[] {0x00, (byte) 0xC0, 0, 0, 2});
        assertArrayEquals(new byte[] {30, 40, (byte) 0x90, 0x00}, r);
        // protocol seen by the applet
        r = card.transmit(apdu(0x0C, 0, 0, new byte[] {1}, 0));
        assertEquals(0x61, r[0] & 0xFF);
        r = card.transmit(new byte[] {0x00, (byte) 0xC0, 0, 0, r[1]});
        assertEquals(0, r[0], "PROTOCOL_T0");
        // case 2 with the right Le: data directly
        r = card.transmit(apdu(0x0A, 2, 16, new byte[0], 16));
        assertEquals(18, r.length);
        assertEquals(0x9000, sw(r));
        // case 2 with a wrong Le: 6Cxx, then the re-issued header gets the data (command not re-run)
        long writes = card.total().persistentWrites;
        r = card.transmit(apdu(0x0A, 2, 16, new byte[0], 10));
        assertArrayEquals(new byte[] {0x6C, 0x10}, r);
        r = card.transmit(apdu(0x0A, 2, 16, new byte[0], 16));
        assertEquals(18, r.length);
        assertEquals(15, r[15]);
        assertEquals(writes, card.total().persistentWrites);
        // 256 bytes: 6100 then GET RESPONSE Le=00
        r = card.transmit(apdu(0x0A, 2, 0, new byte[] {1}, 0));
        assertArrayEquals(new byte[] {0x61, 0x00}, r);
        r = card.transmit(new byte[] {0x00, (byte) 0xC0, 0, 0, 0});
        assertEquals(258, r.length);
        assertEquals(0x9000, sw(r));
        // no data: just the status word
        assertArrayEquals(new byte[] {0x6A, (byte) 0x88}, card.transmit(apdu(0x0E, 0x6A, 0x88)));
    }

    private static byte[] selectT0() {
        return select();
    }

    /** T=0 select: the applet answers 1 byte, so a case-3 SELECT gets 61 01. */
    private static byte[] ok(Card c, byte[] cmd) {
        byte[] r = c.transmit(cmd);
        if (c.atr()[1] == 0x05 && (r[0] & 0xFF) == 0x61) {
            r = c.transmit(new byte[] {0x00, (byte) 0xC0, 0, 0, r[1]});
        }
        assertEquals(0x9000, sw(r));
        return data(r);
    }

    private static byte[] state(Card c) {
        return ok(c, apdu(0x01, 0, 0, new byte[0], 0));
    }
}
