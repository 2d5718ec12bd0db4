package org.purse.jc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The vpcd client against a fake vpcd (the pcscd side) played by this test: framing,
 * control codes, APDUs through a real Card with the hello applet, reconnect after the
 * host drops the connection, and tearing via IMAGE.tear.
 */
@Timeout(30)
class VpcdTest {

    static final String HELLO = "org.purse.hello.Hello";
    static final byte[] HELLO_AID = hex("F07075727365FF");
    static final byte[] SELECT = hex("00A4040007F07075727365FF00");
    static final byte[] COUNT = hex("8010000004");
    static final byte[] READ = hex("8012000004");

    @TempDir
    Path dir;

    Path image;
    Card card;
    ServerSocket server;
    VpcdClient client;
    Thread clientThread;
    final AtomicReference<Throwable> clientError = new AtomicReference<>();

    @BeforeEach
    void setUp() throws IOException {
        image = dir.resolve("hello.card");
        Card.create(image, HELLO, HELLO_AID, new byte[0]);
        card = Card.load(image);
        server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        server.setSoTimeout(10_000);
    }

    @AfterEach
    void tearDown() throws Exception {
        if (client != null) {
            client.stop();
        }
        if (clientThread != null) {
            clientThread.join(5000);
            assertFalse(clientThread.isAlive(), "client thread must end after stop()");
        }
        server.close();
        assertNull(clientError.get(), "client thread failed");
    }

    private void startClient(PrintStream log) {
        client = new VpcdClient(card, image, "127.0.0.1", server.getLocalPort(), log);
        client.setRetryMillis(20);
        client.setReconnectDelayMillis(50);
        clientThread = new Thread(() -> {
            try {
                client.run();
            } catch (Throwable t) {
                clientError.set(t);
            }
        }, "vpcd-client");
        clientThread.setDaemon(true);
        clientThread.start();
    }

    /** One connection from the card, seen from pcscd's side. */
    static final class Vpcd implements AutoCloseable {
        final Socket s;
        final VpcdFraming io;

        Vpcd(Socket s) throws IOException {
            this.s = s;
            s.setSoTimeout(10_000);
            this.io = new VpcdFraming(s.getInputStream(), s.getOutputStream());
        }

        void control(int code) throws IOException {
            io.write(new byte[] {(byte) code});
        }

        byte[] atr() throws IOException {
            control(VpcdClient.CTRL_ATR);
            return io.read();
        }

        byte[] transmit(byte[] capdu) throws IOException {
            io.write(capdu);
            return io.read();
        }

        @Override
        public void close() throws IOException {
            s.close();
        }
    }

    private Vpcd accept() throws IOException {
        return new Vpcd(server.accept());
    }

    @Test
    void powerOnAtrApduPowerOff() throws Exception {
        startClient(null);
        try (Vpcd v = accept()) {
            v.control(VpcdClient.CTRL_ON);
            byte[] atr = v.atr();
            assertNotNull(atr);
            assertArrayEquals(card.atr(), atr);
            assertEquals(0x3B, atr[0] & 0xFF, "direct convention ATR");

            byte[] r = v.transmit(SELECT);
            assertEquals("0100079000", hex(r), "SELECT hello: version 1.0, capabilities, 9000");

            assertEquals("000000019000", hex(v.transmit(COUNT)));
            assertEquals("000000029000", hex(v.transmit(COUNT)));
            assertEquals("000000029000", hex(v.transmit(READ)));

            byte[] data = hex("0102030405060708090A");
            byte[] echo = v.transmit(hex("802000000A0102030405060708090A0A"));
            assertEquals(hex(data) + "9000", hex(echo));

            assertEquals("6D00", hex(v.transmit(hex("80EE000000"))));

            v.control(VpcdClient.CTRL_RESET);
            assertArrayEquals(card.atr(), v.atr());
            v.control(VpcdClient.CTRL_OFF);
        }
        // persistent state reached the image on disk
        Card reloaded = Card.load(image);
        reloaded.powerOn();
        assertEquals("0100079000", hex(reloaded.transmit(SELECT)));
        assertEquals("000000029000", hex(reloaded.transmit(READ)));
    }

    @Test
    void reconnectsWhenHostDropsTheConnection() throws Exception {
        startClient(null);
        try (Vpcd v = accept()) {
            v.control(VpcdClient.CTRL_ON);
            assertEquals("0100079000", hex(v.transmit(SELECT)));
        }
        // pcscd closed: the card comes back by itself
        try (Vpcd v = accept()) {
            v.control(VpcdClient.CTRL_ON);
            assertNotNull(v.atr());
            assertEquals("0100079000", hex(v.transmit(SELECT)));
        }
        assertTrue(client.connections() >= 2);
    }

    @Test
    void connectRetriesUntilVpcdListens() throws Exception {
        int port = server.getLocalPort();
        server.close();
        startClientOnPort(port);
        Thread.sleep(200); // several refused attempts
        server = new ServerSocket(port, 1, InetAddress.getLoopbackAddress());
        server.setSoTimeout(10_000);
        try (Vpcd v = accept()) {
            v.control(VpcdClient.CTRL_ON);
            assertEquals("0100079000", hex(v.transmit(SELECT)));
        }
    }

    private void startClientOnPort(int port) {
        client = new VpcdClient(card, image, "127.0.0.1", port, null);
        client.setRetryMillis(20);
        clientThread = new Thread(() -> {
            try {
                client.run();
            } catch (Throwable t) {
                clientError.set(t);
            }
        }, "vpcd-client");
        clientThread.setDaemon(true);
        clientThread.start();
    }

    @Test
    void tearDropsTheConnectionRollsBackAndReinserts() throws Exception {
        ByteArrayOutputStream logBytes = new ByteArrayOutputStream();
        startClient(new PrintStream(logBytes, true, StandardCharsets.UTF_8));
        Path tear = image.resolveSibling(image.getFileName() + ".tear");
        try (Vpcd v = accept()) {
            v.control(VpcdClient.CTRL_ON);
            assertEquals("0100079000", hex(v.transmit(SELECT)));
            assertEquals("000000019000", hex(v.transmit(COUNT)));
            // 0x00000001 + 1 writes only the last byte; 0x000000FF + 1 would write two
            Files.writeString(tear, "1\n");
            v.io.write(COUNT);
            assertTrue(droppedWithoutAnswer(v), "power loss: the card drops the connection without answering");
        }
        assertFalse(Files.exists(tear), "IMAGE.tear is consumed");
        // re-inserted with a fresh power-up; the torn increment was rolled back
        try (Vpcd v = accept()) {
            v.control(VpcdClient.CTRL_ON);
            assertNotNull(v.atr());
            assertEquals("0100079000", hex(v.transmit(SELECT)));
            assertEquals("000000019000", hex(v.transmit(READ)));
            assertEquals("000000029000", hex(v.transmit(COUNT)));
        }
        Card reloaded = Card.load(image);
        reloaded.powerOn();
        reloaded.transmit(SELECT);
        assertEquals("000000029000", hex(reloaded.transmit(READ)));
        String log = logBytes.toString(StandardCharsets.UTF_8);
        assertTrue(log.contains("POWER LOSS"), log);
    }

    /** The card resets the connection (or closes it) instead of answering. */
    private static boolean droppedWithoutAnswer(Vpcd v) {
        try {
            return v.io.read() == null;
        } catch (java.net.SocketException e) {
            return true; // connection reset: the card was pulled mid-command
        } catch (IOException e) {
            return false;
        }
    }

    @Test
    void badTearFileIsIgnoredAndConsumed() throws Exception {
        startClient(null);
        Path tear = image.resolveSibling(image.getFileName() + ".tear");
        try (Vpcd v = accept()) {
            v.control(VpcdClient.CTRL_ON);
            assertEquals("0100079000", hex(v.transmit(SELECT)));
            Files.writeString(tear, "zero");
            assertEquals("000000019000", hex(v.transmit(COUNT)));
            assertFalse(Files.exists(tear));
        }
    }

    @Test
    void framingRoundTrip() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        VpcdFraming w = new VpcdFraming(new java.io.ByteArrayInputStream(new byte[0]), bytes);
        w.write(new byte[] {0x04});
        w.write(hex("00A40400"));
        assertEquals("0001040004" + "00A40400", hex(bytes.toByteArray()));
        VpcdFraming r = new VpcdFraming(new java.io.ByteArrayInputStream(bytes.toByteArray()), new ByteArrayOutputStream());
        assertEquals("04", hex(r.read()));
        assertEquals("00A40400", hex(r.read()));
        assertNull(r.read());
    }

    // ------------------------------------------------------------ Desk command line

    @Test
    void deskCreateAndInfo() throws Exception {
        Path img = dir.resolve("d.card");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream ps = new PrintStream(out, true, StandardCharsets.UTF_8);
        assertEquals(0, Desk.run(new String[] {"create", "--image", img.toString(), "--applet", HELLO,
                "--aid", "F07075727365FF"}, ps, ps));
        assertTrue(Files.exists(img));
        out.reset();
        assertEquals(0, Desk.run(new String[] {"info", "--image", img.toString()}, ps, ps));
        String json = out.toString(StandardCharsets.UTF_8).trim();
        assertTrue(json.startsWith("{") && json.endsWith("}"), json);
        assertTrue(json.contains("\"applets\":["), json);
        assertTrue(json.contains("\"counters\":{"), json);
        assertTrue(json.contains("\"lastApdu\":{"), json);
        // create refuses an existing image
        assertThrowsAny(() -> Desk.run(new String[] {"create", "--image", img.toString(), "--applet", HELLO,
                "--aid", "F07075727365FF"}, ps, ps), IOException.class);
    }

    @Test
    void deskUsageErrors() {
        PrintStream ps = new PrintStream(new ByteArrayOutputStream());
        assertThrowsAny(() -> Desk.run(new String[] {}, ps, ps), Desk.UsageException.class);
        assertThrowsAny(() -> Desk.run(new String[] {"fly"}, ps, ps), Desk.UsageException.class);
        assertThrowsAny(() -> Desk.run(new String[] {"run", "--image", "x"}, ps, ps), Desk.UsageException.class);
        assertThrowsAny(() -> Desk.run(new String[] {"run", "--image", "x", "--port", "no"}, ps, ps),
                Desk.UsageException.class);
        assertThrowsAny(() -> Desk.run(new String[] {"create", "--image", "x", "--applet", HELLO, "--aid", "F0"},
                ps, ps), Desk.UsageException.class);
        assertThrowsAny(() -> Desk.run(new String[] {"info", "--image", "x", "--bogus"}, ps, ps),
                Desk.UsageException.class);
    }

    interface Body {
        void run() throws Exception;
    }

    static void assertThrowsAny(Body body, Class<? extends Throwable> type) {
        try {
            body.run();
        } catch (Throwable t) {
            assertTrue(type.isInstance(t), "expected " + type.getSimpleName() + ", got " + t);
            return;
        }
        throw new AssertionError("expected " + type.getSimpleName());
    }

    // ------------------------------------------------------------ hex

    static byte[] hex(String s) {
        return VpcdClient.Hex.parse(s);
    }

    static String hex(byte[] b) {
        return b == null ? "null" : VpcdClient.Hex.of(b);
    }
}
