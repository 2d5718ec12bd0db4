package org.purse.jc;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/** Shared helpers of the engine tests. */
final class EngineTestSupport {
    static final byte[] AID = {(byte) 0xF0, 0x70, 0x75, 0x72, 0x73, 0x65, (byte) 0xEE};
    static final String APPLET = "org.purse.testapplets.TxApplet";

    private EngineTestSupport() {
    }

    static Card newCard(Path dir) throws IOException {
        return Card.create(dir.resolve("card.img"), APPLET, AID, new byte[] {1, 2, 3});
    }

    static byte[] select() {
        byte[] c = new byte[5 + AID.length];
        c[1] = (byte) 0xA4;
        c[2] = 0x04;
        c[4] = (byte) AID.length;
        System.arraycopy(AID, 0, c, 5, AID.length);
        return c;
    }

    static byte[] apdu(int ins, int p1, int p2) {
        return new byte[] {(byte) 0x80, (byte) ins, (byte) p1, (byte) p2};
    }

    static byte[] apdu(int ins, int p1, int p2, byte[] data, int le) {
        int n = 4 + (data.length > 0 ? 1 + data.length : 0) + (le >= 0 ? 1 : 0);
        byte[] c = new byte[n];
        c[0] = (byte) 0x80;
        c[1] = (byte) ins;
        c[2] = (byte) p1;
        c[3] = (byte) p2;
        int o = 4;
        if (data.length > 0) {
            c[o++] = (byte) data.length;
            System.arraycopy(data, 0, c, o, data.length);
            o += data.length;
        }
        if (le >= 0) {
            c[o] = (byte) le;
        }
        return c;
    }

    static int sw(byte[] r) {
        return ((r[r.length - 2] & 0xFF) << 8) | (r[r.length - 1] & 0xFF);
    }

    static byte[] data(byte[] r) {
        return Arrays.copyOf(r, r.length - 2);
    }

    static byte[] ok(Card c, byte[] cmd) {
        byte[] r = c.transmit(cmd);
        assertEquals(0x9000, sw(r), "SW of " + Card.hex(cmd));
        return data(r);
    }

    /** INS 01: the applet's observable state (37 bytes, layout in TxApplet.state). */
    static byte[] state(Card c) {
        return ok(c, apdu(0x01, 0, 0, new byte[0], 0));
    }

    static int a(byte[] st) {
        return (short) (((st[0] & 0xFF) << 8) | (st[1] & 0xFF));
    }

    static int s(byte[] st) {
        return (short) (((st[3] & 0xFF) << 8) | (st[4] & 0xFF));
    }

    static int arr(byte[] st, int i) {
        return st[5 + i];
    }

    static int sarr0(byte[] st) {
        return (short) (((st[21] & 0xFF) << 8) | (st[22] & 0xFF));
    }

    static Path tmp() throws IOException {
        return Files.createTempDirectory("purse-jc-test");
    }
}
