package org.purse.applet;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.JarURLConnection;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Enumeration;
import java.util.TreeMap;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

import org.junit.jupiter.api.Test;

/**
 * Keeps the applet from growing between measurements with Oracle's converter, which is not in CI:
 * the JVM bytecode of org.purse.applet (sum of the Code attributes' code_length over all methods of
 * all classes, as javac --release 7 builds them) must stay under BUDGET. The converter's CAP load
 * size follows it closely (docs/real-cards.md section 4: load ~ 1.076 x bytecode + 255 B, within 212 B at
 * seven measured points); 18 KB of load size is about 16,690 B of bytecode (with that margin).
 */
class CodeSizeTest {
    /**
     * The applet as merged with the runtime-cost CryptoSuite (engines kept per key, 25,627 B) plus
     * the batched BAD_CARD_ADD (admin 84 / 86 / 88 P1 01 and BankFiles.addBatch, +1,226 B), the
     * packet IV folded into the seal's CBC pass (+68 B) and open's single in-place decrypt pass
     * (-117 B): 26,804 B; the work map (+5 B) and fail()'s per-INS flag table (Purse.endsSession,
     * +52 B): 26,861 B. The size cuts in the install, personalisation, admin, key, bank-file,
     * balance and arithmetic code (shared helpers, merged near-duplicates): 25,777 B; with the
     * running sync digest 25,759 B; the sync and crypto cuts (shared throws, merged INVALIDATE / P6
     * header code): 25,506 B; the third round of cuts (one 4A / 7A handler, one 4C 01 path, Passbook
     * entries built from the slot layout, fields read directly, most used locals first): 24,916 B;
     * the SIV packets (OFB keystream through the encrypt engine, no packet IV, no decrypt engines,
     * no CBC helpers): 24,520 B; 74 in two halves (P1 01 / 02, so no APDU of a sync exceeds ~300 ms
     * on a J3H145) and 44 without its balance check: 24,629 B; the BAD_CARD duplicate index (32 hash
     * chains: lookup, relink on remove, batch linking; the single ADD now a batch of one): 24,939 B;
     * the bank-only code in whole classes, so that the user-card applet can stub them (Issuer: the
     * issuer side of Personalisation and Profile.allocateAccount and the genesis parts of
     * personalise; BankSync: the bank side of Sync and Money32.interest; SET_PRIVACY into Purse):
     * 25,203 B; the bank-only parts of the shared classes moved into them (the bank INS dispatched
     * by Issuer, the bank's key export / sync window / P6 slot into BankSync, account numbering and
     * a bank role's part of personalisation and of a key roll into Issuer) and Constants / WorkMap
     * as interfaces: 25,140 B; shared ends of the settling transactions (Slots.settleIn / closeIn /
     * closeOut), Transfer.ownShort, the G1 keys into Issuer, fewer Issuer constructor arguments:
     * 24,930 B; one key set per session (the handshake keys are the session's: no second KDF nor
     * key load; a step from a slot ends the live session): 24,789 B; the key set by one CBC pass
     * and K_INT's fixed-length CBC-MAC (sessionKeys, mac8Fixed; the session's SP 800-108 code
     * gone, the transport's inlined): 24,819 B; 78 answering the STATUS after its SACK: 24,837 B;
     * a transfer's P3 folded into its P2 (one packet less to seal and open): 24,821 B; the
     * balance check and seal sharing one tag(): 24,786 B; a sync's S2 folded into its P5 and an
     * admin op's A3 into its A2 (protocol 4.0): 24,545 B; the passbook digest a SHA-256 the host
     * sends (no PASSBOOK_FEED, no running digest): 24,056 B; a bank card's SELECT answering its
     * files' header (no READ_BAD_CARDS in a sync): 24,120 B; the balance record last checked kept
     * in RAM (a repeated check compares instead of MACing): 24,214 B; K_INT with an engine of its
     * own, initialised at personalisation and kept across resets: 24,307 B; held engines for K_INT and
     * the session's application key (marks in EEPROM, the balance copy's flag in its compare):
     * 24,414 B, load size 26,624 B; one session key for the MAC and the keystream (protocol 5.0):
     * 24,335 B, load size 26,535 B; its keystream IV masked by the MAC key's CMAC subkey (protocol
     * 6.0): 24,376 B, load size 26,588 B; a slot's state and K_S first, set by one logged write in
     * the transaction that opens (state and key) or settles (zeros) it, and OUT's passbook index and
     * packet length staged with its session copy; an admin session's SEQ stopped before it wraps:
     * 24,399 B, load size 26,586 B; the TDES keystream IV masked by K2, the subkey no TDES packet
     * MAC ends with (protocol 7.0; dbl() by block length): 24,410 B, load size 26,597 B; Admin's
     * packet open inlined (Handshake.openS gone): 24,390 B, load size 26,567 B; a sync's clear and
     * BAD_KEY reset writing only bytes not already 0 (Passbook.zero): 24,406 B, load size 26,591 B.
     * No growth past it; lowered as the applet shrinks towards 16,690 B.
     */
    static final int BUDGET = 24_408;

    /**
     * The user-card applet (src with the stub of src-user for Issuer and without Admin, BankFiles
     * and BankSync), the desk jar's variants/user/ classes: USER_BUDGET likewise. 17,977 B of
     * bytecode at its first converter measurement, load size 20,094 B; with the bank-only parts of
     * the shared classes moved into the bank-only ones (and so out of it) 16,747 B, load size
     * 18,687 B (ant cap-user; docs/real-cards.md section 4, its own load / bytecode ratio: 1.116);
     * with the cuts above (and the G1 keys out of it) 16,485 B, load size 18,419 B; one key set per
     * session: 16,350 B, load size 18,261 B; the key set by one CBC pass: 16,386 B, load size
     * 18,314 B; 78 answering the STATUS after its SACK: 16,404 B; P3 folded into P2: 16,380 B; one Balance.tag(): 16,345 B;
     * S2 folded into P5 and A3 into A2: 16,259 B; the SHA-256 passbook digest: 16,149 B; the
     * SELECT tail's stub: 16,159 B; the balance record kept in RAM: 16,253 B, load size 18,198 B; K_INT's own
     * engine: 16,346 B, load size 18,309 B; held engines for K_INT and the session's application
     * key: 16,453 B, load size 18,428 B; one session key (protocol 5.0): 16,383 B, load size
     * 18,348 B; the masked keystream IV (6.0): 16,424 B, load size 18,401 B; the slots' state and
     * K_S set together, OUT's tail staged with its session copy: 16,454 B, load size 18,414 B; the
     * TDES IV masked by K2 (7.0): 16,465 B, load size 18,425 B; Handshake.openS, which only Admin
     * called, inlined there: 16,413 B, load size 18,367 B; Passbook.zero: 16,429 B, load size
     * 18,391 B.
     * No growth past it; lowered as it stays within 18 KB of load size (about 16,520 B).
     */
    static final int USER_BUDGET = 16_431;

    @Test
    void appletBytecodeWithinBudget() throws IOException, URISyntaxException {
        within("org/purse/applet/", BUDGET, "applet");
    }

    @Test
    void userAppletBytecodeWithinBudget() throws IOException, URISyntaxException {
        within("variants/user/org/purse/applet/", USER_BUDGET, "user-card applet");
    }

    private static void within(String prefix, int budget, String what) throws IOException, URISyntaxException {
        TreeMap<String, Integer> perClass = new TreeMap<>();
        URL u = CodeSizeTest.class.getClassLoader().getResource(prefix + "Purse.class");
        assertTrue(u != null, what + " classes not on the class path");
        int pl = prefix.length();
        if (u.getProtocol().equals("jar")) {
            JarFile jar = ((JarURLConnection) u.openConnection()).getJarFile();
            Enumeration<JarEntry> en = jar.entries();
            while (en.hasMoreElements()) {
                JarEntry e = en.nextElement();
                String n = e.getName();
                if (n.startsWith(prefix) && n.endsWith(".class") && n.indexOf('/', pl) < 0) {
                    try (InputStream in = jar.getInputStream(e)) {
                        perClass.put(n.substring(pl), codeLength(in.readAllBytes()));
                    }
                }
            }
        } else {
            Path dir = Paths.get(u.toURI()).getParent();
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*.class")) {
                for (Path p : ds) {
                    perClass.put(p.getFileName().toString(), codeLength(Files.readAllBytes(p)));
                }
            }
        }
        int total = 0;
        for (int v : perClass.values()) {
            total += v;
        }
        assertTrue(perClass.size() >= 15, "found only " + perClass.keySet());
        assertTrue(total <= budget, what + " JVM bytecode is " + total + " B, over the budget of " + budget
                + " B (docs/real-cards.md section 4): " + perClass);
        System.out.println(what + " JVM bytecode " + total + " B (budget " + budget + " B)");
    }

    @Test
    void codeLengthCountsEveryMethod() throws IOException {
        // a class with methods must count > 0; the parser must not silently skip code
        try (InputStream in = CodeSizeTest.class.getClassLoader().getResourceAsStream("org/purse/applet/Bcd.class")) {
            assertTrue(codeLength(in.readAllBytes()) > 100);
        }
    }

    /** Sum of code_length of every Code attribute (JVMS 4.7.3) in one class file. */
    static int codeLength(byte[] cls) throws IOException {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(cls));
        if (in.readInt() != 0xCAFEBABE) {
            throw new IOException("not a class file");
        }
        in.skipBytes(4);
        int n = in.readUnsignedShort();
        String[] utf = new String[n];
        for (int i = 1; i < n; i++) {
            int tag = in.readUnsignedByte();
            switch (tag) {
                case 1:
                    utf[i] = in.readUTF();
                    break;
                case 7: case 8: case 16: case 19: case 20:
                    in.skipBytes(2);
                    break;
                case 15:
                    in.skipBytes(3);
                    break;
                case 5: case 6:
                    in.skipBytes(8);
                    i++;
                    break;
                case 3: case 4: case 9: case 10: case 11: case 12: case 17: case 18:
                    in.skipBytes(4);
                    break;
                default:
                    throw new IOException("constant pool tag " + tag);
            }
        }
        in.skipBytes(6);
        in.skipBytes(2 * in.readUnsignedShort());
        int fields = in.readUnsignedShort();
        for (int i = 0; i < fields; i++) {
            in.skipBytes(6);
            skipAttributes(in);
        }
        int methods = in.readUnsignedShort();
        int total = 0;
        for (int i = 0; i < methods; i++) {
            in.skipBytes(6);
            int attrs = in.readUnsignedShort();
            for (int j = 0; j < attrs; j++) {
                String name = utf[in.readUnsignedShort()];
                int len = in.readInt();
                if ("Code".equals(name)) {
                    in.skipBytes(4);
                    int code = in.readInt();
                    total += code;
                    in.skipBytes(len - 8);
                } else {
                    in.skipBytes(len);
                }
            }
        }
        return total;
    }

    private static void skipAttributes(DataInputStream in) throws IOException {
        int attrs = in.readUnsignedShort();
        for (int j = 0; j < attrs; j++) {
            in.skipBytes(2);
            in.skipBytes(in.readInt());
        }
    }
}
