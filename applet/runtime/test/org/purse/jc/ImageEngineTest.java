package org.purse.jc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.purse.jc.EngineTestSupport.*;

import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageEngineTest {
    @TempDir
    Path dir;

    @Test
    void createRefusesExistingFileAndListsApplets() throws Exception {
        Card c = newCard(dir);
        assertTrue(Files.exists(dir.resolve("card.img")));
        assertThrows(FileAlreadyExistsException.class, () -> newCard(dir));
        List<String> info = c.appletInfo();
        assertEquals(List.of("F07075727365EE org.purse.testapplets.TxApplet"), info);
        assertEquals(info, Card.load(dir.resolve("card.img")).appletInfo());
    }

    /** An applet variant (the desk jar's variants/NAME/ classes) is recorded in the image header. */
    @Test
    void variantIsRecordedInTheImage() throws Exception {
        Path img = dir.resolve("user.img");
        byte[] aid = {(byte) 0xF0, 0x70, 0x75, 0x72, 0x73, 0x65, 0x01};
        Card c = Card.create(img, "org.purse.applet.Purse", aid, new byte[0], "user");
        assertEquals("user", c.variant());
        byte[] all = Files.readAllBytes(img);
        assertEquals("PURSEJCV", new String(all, 0, 8, java.nio.charset.StandardCharsets.US_ASCII));
        assertEquals(4, all[8]);
        assertEquals("user", new String(all, 9, 4, java.nio.charset.StandardCharsets.US_ASCII));
        assertEquals("user", Card.load(img).variant());
        // a normal card keeps the old header
        Card n = newCard(dir);
        assertEquals(null, n.variant());
        assertEquals("PURSEJC1", new String(Files.readAllBytes(dir.resolve("card.img")), 0, 8,
                java.nio.charset.StandardCharsets.US_ASCII));
        // a variant name that is not one (it becomes a resource path) or a cut header: refused
        byte[] bad = all.clone();
        bad[9] = '.';
        bad[10] = '.';
        bad[11] = '/';
        Files.write(dir.resolve("bad.img"), bad);
        assertThrows(java.io.IOException.class, () -> Card.load(dir.resolve("bad.img")));
        Files.write(dir.resolve("cut.img"), java.util.Arrays.copyOf(all, 10));
        assertThrows(java.io.IOException.class, () -> Card.load(dir.resolve("cut.img")));
        // no such variant of that class in the jar: nothing created
        assertThrows(IllegalArgumentException.class, () -> Card.create(dir.resolve("x.img"),
                "org.purse.testapplets.TxApplet", aid, new byte[0], "user"));
        assertTrue(!Files.exists(dir.resolve("x.img")));
    }

    @Test
    void reloadRestoresEverything() throws Exception {
        Card c = newCard(dir);
        c.powerOn();
        ok(c, select());
        ok(c, apdu(0x02, 0, 6));
        ok(c, apdu(0x03, 0, 4));
        ok(c, apdu(0x09, 0, 0, new byte[] {1, 2, 3}, -1));
        c.transmit(apdu(0x09, 1, 0, new byte[] {0}, -1)); // one wrong try
        ok(c, apdu(0x08, 0, 7, new byte[0], 0)); // transient values
        byte[] before = state(c);

        Card d = Card.load(dir.resolve("card.img"));
        d.powerOn();
        ok(d, select());
        byte[] after = state(d);
        before[24] = 0; // transient arrays come back cleared
        before[25] = 0;
        before[35] = 0;
        before[36] = 0;
        before[29] = (byte) (before[29] + 1); // one more select()
        assertArrayEquals(before, after);
        assertEquals(2, after[26], "PIN try counter persisted");
        // transient arrays are still transient (and uncounted) after load
        byte[] r = ok(d, apdu(0x08, 0, 5, new byte[0], 0));
        assertArrayEquals(new byte[] {2, 1, 0, 1}, r);
        assertEquals(0, d.last().persistentWrites);
        // static fields live in the image and are per card
        ok(d, apdu(0x02, 0, 11));
        Card e = Card.load(dir.resolve("card.img"));
        e.powerOn();
        ok(e, select());
        assertEquals(11, s(state(e)));
        Path other = dir.resolve("other");
        Files.createDirectories(other);
        Card f = newCard(other);
        f.powerOn();
        ok(f, select());
        assertEquals(0, s(state(f)), "statics are per card");
        assertEquals(11, s(state(e)));
    }

    @Test
    void commandWithoutWritesDoesNotRewriteImage() throws Exception {
        Card c = newCard(dir);
        c.powerOn();
        ok(c, select());
        Path img = dir.resolve("card.img");
        byte[] bytes = Files.readAllBytes(img);
        long mtime = Files.getLastModifiedTime(img).toMillis();
        state(c);
        assertArrayEquals(bytes, Files.readAllBytes(img));
        assertEquals(mtime, Files.getLastModifiedTime(img).toMillis());
    }

    private static String where(Class<?> k) throws Exception {
        return Path.of(k.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    }

    private static String classPath() throws Exception {
        java.net.URL app = ImageEngineTest.class.getClassLoader().getResource("org/purse/testapplets/TxApplet.class");
        String appDir = Path.of(app.toURI()).getParent().getParent().getParent().getParent().toString();
        return String.join(java.io.File.pathSeparator, where(Card.class), where(KillTarget.class),
                where(org.objectweb.asm.ClassReader.class), appDir);
    }

    @Test
    void killedProcessLeavesConsistentImage() throws Exception {
        newCard(dir);
        Path img = dir.resolve("card.img");
        ProcessBuilder pb = new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", classPath(),
                "org.purse.jc.KillTarget", img.toString());
        pb.redirectErrorStream(true);
        Process p = pb.start();
        // wait until the child has done some work
        java.io.InputStream out = p.getInputStream();
        int ch = out.read(); // child prints one char once it is running commands
        assertEquals('R', ch);
        Thread.sleep(700);
        p.destroyForcibly();
        p.waitFor(10, TimeUnit.SECONDS);
        Card c = Card.load(img);
        c.powerOn();
        ok(c, select());
        byte[] st = state(c);
        int v = st[2];
        assertTrue(v != 0, "child committed something");
        // every value written by one committed transaction is consistent
        assertEquals(v, (byte) a(st));
        assertEquals(v, (byte) s(st));
        for (int i = 0; i < 5; i++) {
            assertEquals(v, arr(st, i));
        }
        assertEquals(v, st[34]);
    }
}
