package org.purse.jc;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * vpcd wire format: every message is a 2-byte big-endian length followed by that many
 * payload bytes. Used by {@link VpcdClient} (and by tests that play the vpcd side).
 */
public final class VpcdFraming {

    private final DataInputStream in;
    private final OutputStream out;

    public VpcdFraming(InputStream in, OutputStream out) {
        this.in = new DataInputStream(in);
        this.out = out;
    }

    /** Reads one message; null on a clean end of stream before a new message. */
    public byte[] read() throws IOException {
        int hi = in.read();
        if (hi < 0) {
            return null;
        }
        int lo = in.read();
        if (lo < 0) {
            throw new EOFException("vpcd: connection closed inside a length prefix");
        }
        int len = (hi << 8) | lo;
        byte[] payload = new byte[len];
        in.readFully(payload);
        return payload;
    }

    /** Writes one message as a single TCP write. */
    public void write(byte[] payload) throws IOException {
        if (payload.length > 0xFFFF) {
            throw new IOException("vpcd: message too long: " + payload.length);
        }
        byte[] frame = new byte[payload.length + 2];
        frame[0] = (byte) (payload.length >> 8);
        frame[1] = (byte) payload.length;
        System.arraycopy(payload, 0, frame, 2, payload.length);
        out.write(frame);
        out.flush();
    }
}
