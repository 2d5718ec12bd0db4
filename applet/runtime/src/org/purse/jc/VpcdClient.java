package org.purse.jc;

import java.io.IOException;
import java.io.PrintStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * The card side of vsmartcard's vpcd protocol: connects as a TCP client to the vpcd
 * IFD handler inside pcscd and serves its requests with a {@link Card}.
 *
 * <p>Connected = card inserted, closed = card removed. Every message is framed by
 * {@link VpcdFraming}; a 1-byte payload is a control code (power off/on, reset, get ATR),
 * anything longer is a C-APDU answered with the R-APDU.
 *
 * <p>Tearing (docs/desk.md): {@code IMAGE.tear} holds {@code k} or {@code k ins=XX}. While it
 * exists the tear stays armed: the card loses power at the k-th persistent write counted from
 * when it was armed, over the APDUs that write (only those with INS XX if given), so a SELECT
 * or a read before the writing command does not use it up. When it fires the file is deleted
 * and {@code IMAGE.tear.fired} says where (JSON: k, ins, the APDU header and its number since
 * arming). On {@link PowerLoss} the engine has already rolled back and saved; this client then
 * drops the connection without answering (the host sees the card removed) and reconnects after
 * {@link #reconnectDelayMillis} (re-inserted, fresh power-up).
 */
public final class VpcdClient {

    public static final byte CTRL_OFF = 0x00;
    public static final byte CTRL_ON = 0x01;
    public static final byte CTRL_RESET = 0x02;
    public static final byte CTRL_ATR = 0x04;

    private final Card card;
    private final Path tearFile;
    private final Path firedFile;
    /** the armed tear file's text (null: none), its write number, INS filter (-1: any) */
    private String armedText;
    private int armedK;
    private int armedIns = -1;
    /** writes counted towards armedK so far, and APDUs seen since arming */
    private int armedSeen;
    private int armedApdus;
    private final String host;
    private final int port;
    private final PrintStream log; // null = quiet

    /** retry interval while pcscd's vpcd does not listen yet */
    private long retryMillis = 100;
    /**
     * Pause between dropping the connection after a power loss and reconnecting, so that
     * pcscd's presence polling (every 400 ms) reliably sees the card absent.
     */
    private long reconnectDelayMillis = 1000;

    private final Object lock = new Object();
    private volatile boolean stopped;
    private Socket socket;
    private int connections;
    private long startNanos = System.nanoTime();

    public VpcdClient(Card card, Path image, String host, int port, PrintStream verboseLog) {
        this.card = card;
        this.tearFile = image == null ? null : image.resolveSibling(image.getFileName() + ".tear");
        this.firedFile = image == null ? null : image.resolveSibling(image.getFileName() + ".tear.fired");
        this.host = host;
        this.port = port;
        this.log = verboseLog;
    }

    public void setRetryMillis(long ms) { this.retryMillis = ms; }

    public void setReconnectDelayMillis(long ms) { this.reconnectDelayMillis = ms; }

    /** Number of connections made so far (1 after the first insertion). */
    public int connections() { return connections; }

    /**
     * Serves until {@link #stop()} is called: connect (retrying), serve, and on a dropped
     * connection (power loss or pcscd going away) connect again.
     */
    public void run() throws IOException {
        startNanos = System.nanoTime();
        while (!stopped) {
            Socket s = connect();
            if (s == null) {
                return; // stopped while waiting
            }
            boolean tore = false;
            try {
                tore = serve(s);
            } catch (IOException e) {
                if (!stopped) {
                    verbose("vpcd connection lost: " + e.getMessage());
                }
            } finally {
                closeSocket();
            }
            if (stopped) {
                return;
            }
            if (tore) {
                sleep(reconnectDelayMillis);
            } else {
                sleep(retryMillis);
            }
        }
    }

    /** Stops serving: closes the socket (card removed) and makes {@link #run()} return. */
    public void stop() {
        stopped = true;
        closeSocket();
    }

    /** The lock held while the card processes a command (the shutdown hook takes it too). */
    public Object cardLock() { return lock; }

    private Socket connect() {
        while (!stopped) {
            Socket s = new Socket();
            try {
                s.setTcpNoDelay(true);
                s.connect(new InetSocketAddress(host, port), 1000);
                synchronized (this) {
                    if (stopped) {
                        s.close();
                        return null;
                    }
                    socket = s;
                }
                connections++;
                if (log != null) {
                    verbose(String.format("inserted: connected to vpcd %s:%d (%.1f ms after run start%s)",
                            host, port, (System.nanoTime() - startNanos) / 1e6, sinceProcessStart()));
                }
                return s;
            } catch (ConnectException e) {
                closeQuietly(s);
            } catch (IOException e) {
                closeQuietly(s);
                verbose("connect: " + e.getMessage());
            }
            sleep(retryMillis);
        }
        return null;
    }

    /**
     * Serves one connection until EOF. Returns true if the connection was dropped because
     * the card lost power (tear).
     */
    private boolean serve(Socket s) throws IOException {
        VpcdFraming io = new VpcdFraming(s.getInputStream(), s.getOutputStream());
        while (!stopped) {
            quickAck(s);
            byte[] msg = io.read();
            if (msg == null) {
                verbose("removed: vpcd closed the connection");
                return false;
            }
            if (msg.length == 1) {
                control(io, msg[0]);
                continue;
            }
            if (msg.length == 0) {
                continue;
            }
            byte[] rapdu;
            long t0 = System.nanoTime();
            synchronized (lock) {
                if (stopped) {
                    return false;
                }
                boolean counted = false;
                try {
                    counted = armTearIfRequested(msg);
                    rapdu = card.transmit(msg);
                    if (counted) {
                        armedSeen += card.lastCommandWrites();
                    }
                } catch (PowerLoss e) {
                    if (counted) {
                        tearFired(msg);
                    }
                    verbose("> " + Redact.command(msg) + "  POWER LOSS: dropping the connection");
                    try {
                        card.powerOff();
                    } catch (RuntimeException ignored) {
                        // the engine is already rolled back and saved
                    }
                    abort(s);
                    return true;
                } catch (RuntimeException e) {
                    // the engine maps applet exceptions to 6F00 itself; this is an engine bug
                    System.err.println("desk: internal error on APDU " + Hex.of(msg) + ": " + e);
                    rapdu = new byte[] {(byte) 0x6F, 0x00};
                }
            }
            io.write(rapdu);
            if (log != null) {
                long us = (System.nanoTime() - t0) / 1000;
                verbose("> " + Redact.command(msg) + "  < " + Redact.response(msg, rapdu) + "  (" + us + " us)");
            }
        }
        return false;
    }

    /**
     * vpcd writes the length prefix and the payload in two send() calls; with Nagle on its
     * side and delayed ACKs on ours every command would wait ~40 ms for our ACK. Linux
     * clears TCP_QUICKACK after use, so it is set again before every read.
     */
    private boolean quickAckSupported = true;

    private void quickAck(Socket s) {
        if (!quickAckSupported) {
            return;
        }
        try {
            s.setOption(jdk.net.ExtendedSocketOptions.TCP_QUICKACK, Boolean.TRUE);
        } catch (UnsupportedOperationException | IOException e) {
            quickAckSupported = false;
        }
    }

    private void control(VpcdFraming io, byte code) throws IOException {
        switch (code) {
            case CTRL_OFF:
                synchronized (lock) { card.powerOff(); }
                verbose("power off");
                break;
            case CTRL_ON:
                synchronized (lock) { card.powerOn(); }
                verbose("power on");
                break;
            case CTRL_RESET:
                synchronized (lock) { card.reset(); }
                verbose("reset");
                break;
            case CTRL_ATR:
                byte[] atr;
                synchronized (lock) { atr = card.atr(); }
                io.write(atr); // polled by pcscd's presence check: not logged
                break;
            default:
                verbose("unknown vpcd control code " + (code & 0xFF) + " ignored");
        }
    }

    /**
     * Reads the tear file before an APDU: (re-)arms when its text changed, disarms when it is
     * gone. If the tear applies to this APDU, arms the card for the remaining writes and returns
     * true (the caller then counts the APDU's writes).
     */
    private boolean armTearIfRequested(byte[] apdu) {
        if (tearFile == null) {
            return false;
        }
        String text;
        try {
            text = new String(Files.readAllBytes(tearFile), StandardCharsets.US_ASCII).trim();
        } catch (NoSuchFileException e) {
            armedText = null;
            return false;
        } catch (IOException e) {
            System.err.println("desk: cannot read " + tearFile + ": " + e.getMessage());
            return false;
        }
        if (!text.equals(armedText)) {
            armedText = null;
            String[] parts = text.split("\\s+");
            int k;
            int ins = -1;
            try {
                k = Integer.parseInt(parts[0]);
                if (parts.length > 1) {
                    String p = parts[1].startsWith("ins=") ? parts[1].substring(4) : parts[1];
                    ins = Integer.parseInt(p, 16);
                }
            } catch (NumberFormatException e) {
                k = 0;
            }
            if (k < 1 || parts.length > 2 || ins > 0xFF) {
                System.err.println("desk: ignoring " + tearFile + ": expected `K` (K >= 1) or `K ins=XX`: " + text);
                try {
                    Files.deleteIfExists(tearFile); // consumed, so it is reported once
                } catch (IOException e) {
                    System.err.println("desk: cannot delete " + tearFile + ": " + e.getMessage());
                }
                return false;
            }
            armedText = text;
            armedK = k;
            armedIns = ins;
            armedSeen = 0;
            armedApdus = 0;
            verbose("tear armed: power loss at persistent write " + k
                    + (ins >= 0 ? String.format(" of INS %02X", ins) : ""));
        }
        armedApdus++;
        if (armedIns >= 0 && (apdu.length < 2 || (apdu[1] & 0xFF) != armedIns)) {
            return false;
        }
        card.armTear(armedK - armedSeen);
        return true;
    }

    /** The armed tear fired during {@code apdu}: record where, disarm. */
    private void tearFired(byte[] apdu) {
        StringBuilder hdr = new StringBuilder();
        for (int i = 0; i < Math.min(4, apdu.length); i++) {
            hdr.append(String.format("%02X", apdu[i] & 0xFF));
        }
        String json = String.format(
                "{\"k\":%d,\"ins\":%s,\"apdu_header\":\"%s\",\"apdu_length\":%d,"
                        + "\"apdu_number\":%d,\"write_in_apdu\":%d,\"unix_ms\":%d}%n",
                armedK, armedIns < 0 ? "null" : String.format("\"%02X\"", armedIns), hdr,
                apdu.length, armedApdus, armedK - armedSeen, System.currentTimeMillis());
        try {
            Path tmp = firedFile.resolveSibling("." + firedFile.getFileName() + ".tmp");
            Files.write(tmp, json.getBytes(StandardCharsets.US_ASCII));
            Files.move(tmp, firedFile, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            Files.deleteIfExists(tearFile);
        } catch (IOException e) {
            System.err.println("desk: cannot record the tear in " + firedFile + ": " + e.getMessage());
        }
        armedText = null;
        verbose("tear fired at write " + armedK + " (APDU " + armedApdus + " since arming, header " + hdr + ")");
    }

    /** Drops the connection with a TCP reset (no orderly shutdown): a card pulled mid-command. */
    private static void abort(Socket s) {
        try {
            s.setSoLinger(true, 0);
        } catch (IOException ignored) {
            // close anyway
        }
    }

    private void closeSocket() {
        Socket s;
        synchronized (this) {
            s = socket;
            socket = null;
        }
        closeQuietly(s);
    }

    private static void closeQuietly(Socket s) {
        if (s != null) {
            try {
                s.close();
            } catch (IOException ignored) {
                // nothing to do
            }
        }
    }

    private void sleep(long ms) {
        if (ms <= 0 || stopped) {
            return;
        }
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stopped = true;
        }
    }

    private static String sinceProcessStart() {
        try {
            long start = java.lang.management.ManagementFactory.getRuntimeMXBean().getStartTime();
            return ", " + (System.currentTimeMillis() - start) + " ms after JVM start";
        } catch (RuntimeException | LinkageError e) {
            return "";
        }
    }

    private void verbose(String line) {
        if (log != null) {
            log.println("desk[" + port + "]: " + line);
        }
    }

    /** Hex helpers (upper case, no separators). */
    static final class Hex {
        private Hex() {}

        static String of(byte[] b) {
            StringBuilder sb = new StringBuilder(b.length * 2);
            for (byte x : b) {
                sb.append(Character.forDigit((x >> 4) & 0xF, 16)).append(Character.forDigit(x & 0xF, 16));
            }
            return sb.toString().toUpperCase();
        }

        static byte[] parse(String s) {
            String t = s.replace(" ", "").replace(":", "");
            if (t.length() % 2 != 0) {
                throw new IllegalArgumentException("odd number of hex digits: " + s);
            }
            byte[] out = new byte[t.length() / 2];
            for (int i = 0; i < out.length; i++) {
                int hi = Character.digit(t.charAt(2 * i), 16);
                int lo = Character.digit(t.charAt(2 * i + 1), 16);
                if (hi < 0 || lo < 0) {
                    throw new IllegalArgumentException("not hex: " + s);
                }
                out[i] = (byte) ((hi << 4) | lo);
            }
            return out;
        }
    }
}
