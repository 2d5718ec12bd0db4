package org.purse.applet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import javax.crypto.Cipher;
import javax.crypto.spec.SecretKeySpec;
import org.purse.jc.Card;
import org.purse.jc.Counters;

/**
 * Host side of protocol.md for the card tests: APDU building, transport-channel crypto (CMAC, KDF,
 * packets with javax.crypto, checked against protocol.md 9) and the relay flows a host runs:
 * genesis, issuance, mint, transfer, resume.
 */
final class PurseCardTestSupport {
    static final byte[] AID = hex("F070757273650" + "1");
    static final String APPLET = "org.purse.applet.Purse";
    static final byte[] DEV_TK_AES = "purse-dev-transp".getBytes(StandardCharsets.US_ASCII);
    static final byte[] DEV_TK_TDES = "purse-dev-transport-3des".getBytes(StandardCharsets.US_ASCII);
    static final SecureRandom RNG = new SecureRandom();
    static final int DATE = 9500;
    static final String PIN = "1234";
    static final String TXKEY = "tx-secret";
    static final String CREATION = "creation-secret";
    static final String APPROVAL = "approval-secret";

    private PurseCardTestSupport() {
    }

    // ------------------------------------------------------------------ bytes

    static byte[] hex(String s) {
        s = s.replace(" ", "");
        byte[] b = new byte[s.length() / 2];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) Integer.parseInt(s.substring(2 * i, 2 * i + 2), 16);
        }
        return b;
    }

    static String hex(byte[] b) {
        StringBuilder sb = new StringBuilder();
        for (byte x : b) {
            sb.append(String.format("%02X", x & 0xFF));
        }
        return sb.toString();
    }

    static byte[] cat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] r = new byte[n];
        int o = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, r, o, p.length);
            o += p.length;
        }
        return r;
    }

    static byte[] u32(long v) {
        return new byte[] {(byte) (v >> 24), (byte) (v >> 16), (byte) (v >> 8), (byte) v};
    }

    static byte[] u16(int v) {
        return new byte[] {(byte) (v >> 8), (byte) v};
    }

    static long u32(byte[] b, int off) {
        return ((b[off] & 0xFFL) << 24) | ((b[off + 1] & 0xFFL) << 16) | ((b[off + 2] & 0xFFL) << 8) | (b[off + 3] & 0xFFL);
    }

    static byte[] name(String n) {
        byte[] b = new byte[8];
        Arrays.fill(b, (byte) 0x20);
        byte[] a = n.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(a, 0, b, 0, Math.min(8, a.length));
        return b;
    }

    static byte[] secret(String s) {
        byte[] b = new byte[17];
        byte[] a = s.getBytes(StandardCharsets.US_ASCII);
        b[0] = (byte) a.length;
        System.arraycopy(a, 0, b, 1, a.length);
        return b;
    }

    static byte[] rnd(int n) {
        byte[] b = new byte[n];
        RNG.nextBytes(b);
        return b;
    }

    // ------------------------------------------------------------------ APDUs

    static byte[] apdu(int ins, int p1, int p2, byte[] data) {
        if (data == null || data.length == 0) {
            return new byte[] {(byte) 0x80, (byte) ins, (byte) p1, (byte) p2, 0};
        }
        byte[] c = new byte[5 + data.length];
        c[0] = (byte) 0x80;
        c[1] = (byte) ins;
        c[2] = (byte) p1;
        c[3] = (byte) p2;
        c[4] = (byte) data.length;
        System.arraycopy(data, 0, c, 5, data.length);
        return c;
    }

    static byte[] selectApdu() {
        return cat(new byte[] {0x00, (byte) 0xA4, 0x04, 0x00, (byte) AID.length}, AID);
    }

    /** SUITE | oldest | RP (42's peer fields) from a SELECT answer (4.1). */
    static byte[] helloOf(byte[] sel) {
        assertTrue(sel.length == Constants.SELECT_RESP_LEN || sel.length == Constants.SELECT_BANK_RESP_LEN,
                "SELECT answer length");
        return cat(new byte[] {sel[Constants.ST_SUITE]}, Arrays.copyOfRange(sel, Constants.SEL_OLDEST,
                Constants.SELECT_RESP_LEN));
    }

    static int sw(byte[] r) {
        return ((r[r.length - 2] & 0xFF) << 8) | (r[r.length - 1] & 0xFF);
    }

    static byte[] data(byte[] r) {
        return Arrays.copyOf(r, r.length - 2);
    }

    /** A card plus the host's view of it. */
    static final class PCard {
        final Path path;
        Card card;
        String label;
        byte[] account;
        /** Counters summed over the commands of the current measurement. */
        Counters meas = new Counters();

        PCard(Path path, Card card, String label) {
            this.path = path;
            this.card = card;
            this.label = label;
        }

        byte[] raw(byte[] cmd) {
            byte[] r = card.transmit(cmd);
            meas = meas.plus(card.last());
            return r;
        }

        /** Transmit; returns the full response (data + SW). */
        byte[] send(int ins, int p1, int p2, byte[] data) {
            return raw(apdu(ins, p1, p2, data));
        }

        /** Transmit, require 9000, return the data. */
        byte[] ok(int ins, int p1, int p2, byte[] data) {
            byte[] r = send(ins, p1, p2, data);
            if (sw(r) != 0x9000) {
                fail(label + ": INS " + String.format("%02X", ins) + " -> " + String.format("%04X", sw(r)));
            }
            return data(r);
        }

        int swOf(int ins, int p1, int p2, byte[] data) {
            return sw(send(ins, p1, p2, data));
        }

        byte[] select() {
            byte[] r = raw(selectApdu());
            assertEquals(0x9000, sw(r), label + " select");
            return data(r);
        }

        byte[] status() {
            return ok(0x30, 0, 0, null);
        }

        /** AMOUNT | DATE of the last {@link #hello}: what this payee's 44 carries before P1. */
        byte[] ad = new byte[6];

        /**
         * SELECT as the payee of a transfer of amount (6.1 step 0): returns SUITE | oldest | RP, the
         * peer fields of the payer's 42, and remembers AMOUNT | DATE for {@link #ad(byte[])}.
         */
        byte[] hello(long amount) {
            ad = cat(u32(amount), u16(DATE));
            return helloOf(select());
        }

        /** 44's data: AMOUNT | DATE of the last hello, then the P1. */
        byte[] ad(byte[] p1) {
            return cat(ad, p1);
        }

        /** Row E's answer at 44 (hello, then AMOUNT | DATE | a zero P1 of the suite's length). */
        int payeeSw(long amount) {
            byte[] sel = hello(amount);
            int p1Len = sel[0] == Constants.SUITE_TDES3 ? Constants.PKT_P1_TDES : Constants.PKT_P1_AES;
            return swOf(0x44, 0, 0, ad(new byte[p1Len]));
        }

        byte[] pending() {
            return ok(0x32, 0, 0, null);
        }

        long balance() {
            return u32(status(), Constants.ST_BALANCE);
        }

        void verify(int ref, String secret) {
            ok(0x20, 0, ref, secret.getBytes(StandardCharsets.US_ASCII));
        }

        /** Persistent state as the host can see it (status + pending + exceptions). */
        String snapshot() {
            return hex(status()) + "/" + hex(pending()) + "/" + hex(ok(0x36, 0, 0, null));
        }

        /** Power cycle and select: what a pulled-and-reinserted card looks like. */
        void reinsert() {
            card.powerOff();
            card.powerOn();
            select();
        }
    }

    static PCard create(Path dir, String label, byte[] params) throws IOException {
        Path p = dir.resolve(label + ".img");
        PCard c = new PCard(p, Card.create(p, APPLET, AID, params), label);
        c.select();
        return c;
    }

    /** Copy of a card's saved image under a new name, loaded and selected. */
    static PCard copy(PCard src, Path dir, String label) throws IOException {
        src.card.save();
        Files.createDirectories(dir);
        Path p = dir.resolve(label + ".img");
        Files.copy(src.path, p, StandardCopyOption.REPLACE_EXISTING);
        PCard c = new PCard(p, Card.load(p), src.label);
        c.account = src.account;
        c.select();
        return c;
    }

    // ------------------------------------------------------------------ host crypto (protocol.md 2)

    static byte[] ecb(byte[] key, byte[] in, boolean enc) {
        try {
            Cipher c = key.length == 16 ? Cipher.getInstance("AES/ECB/NoPadding") : Cipher.getInstance("DESede/ECB/NoPadding");
            c.init(enc ? Cipher.ENCRYPT_MODE : Cipher.DECRYPT_MODE, new SecretKeySpec(key, key.length == 16 ? "AES" : "DESede"));
            return c.doFinal(in);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** in XOR the OFB keystream E(X), E(E(X)), ... of X = iv zero-padded to one block (JDK ECB, block by block). */
    static byte[] ofb(byte[] key, byte[] iv, byte[] in) {
        int b = key.length == 16 ? 16 : 8;
        byte[] x = Arrays.copyOf(iv, b);
        byte[] out = in.clone();
        for (int i = 0; i < out.length; i++) {
            if (i % b == 0) {
                x = ecb(key, x, true);
            }
            out[i] ^= x[i % b];
        }
        return out;
    }

    /** SP 800-38B dbl(): shift left one bit, XOR rb into the last byte if the top bit fell out. */
    static byte[] dbl(byte[] x, int rb) {
        byte[] r = new byte[x.length];
        int carry = (x[0] & 0x80) != 0 ? 1 : 0;
        for (int i = 0; i < x.length; i++) {
            r[i] = (byte) ((x[i] << 1) | (i + 1 < x.length ? (x[i + 1] & 0xFF) >> 7 : 0));
        }
        if (carry != 0) {
            r[x.length - 1] ^= (byte) rb;
        }
        return r;
    }

    /** CMAC's subkey K1 = dbl(E_K(0^b)). */
    static byte[] cmacK1(byte[] key) {
        int b = key.length == 16 ? 16 : 8;
        return dbl(ecb(key, new byte[b], true), b == 16 ? 0x87 : 0x1B);
    }

    /**
     * protocol.md 2.4: the packet mask of a MAC key, the CMAC subkey no packet MAC of its suite ends
     * with: K1 for AES, K2 = dbl(K1) for TDES.
     */
    static byte[] packetMask(byte[] kMac) {
        byte[] k1 = cmacK1(kMac);
        return k1.length == 16 ? k1 : dbl(k1, 0x1B);
    }

    /** protocol.md 2.4: the keystream's IV = (T | 00..) XOR the packet mask of the MAC key. */
    static byte[] packetIv(byte[] kMac, byte[] t) {
        byte[] iv = packetMask(kMac);
        for (int i = 0; i < t.length; i++) {
            iv[i] ^= t[i];
        }
        return iv;
    }

    static byte[] cmac(byte[] key, byte[] msg) {
        int b = key.length == 16 ? 16 : 8;
        byte[] k1 = cmacK1(key);
        byte[] k2 = dbl(k1, b == 16 ? 0x87 : 0x1B);
        int n = Math.max(1, (msg.length + b - 1) / b);
        boolean complete = msg.length > 0 && msg.length % b == 0;
        byte[] last = new byte[b];
        int lo = (n - 1) * b;
        System.arraycopy(msg, lo, last, 0, msg.length - lo);
        if (!complete) {
            last[msg.length - lo] = (byte) 0x80;
        }
        byte[] k = complete ? k1 : k2;
        for (int i = 0; i < b; i++) {
            last[i] ^= k[i];
        }
        byte[] st = new byte[b];
        for (int j = 0; j < n; j++) {
            for (int i = 0; i < b; i++) {
                st[i] ^= j == n - 1 ? last[i] : msg[j * b + i];
            }
            st = ecb(key, st, true);
        }
        return st;
    }

    static byte[] mac8(byte[] key, byte[] msg) {
        return Arrays.copyOf(cmac(key, msg), 8);
    }

    /**
     * A session's key (protocol.md 2.3): K_S = the last KL bytes of CBC(ak1, IV 0, tag | ctx | 00..)
     * over 16 + KL - block bytes (ctx = SID | k | RP); returns K_S | K_S, the (ENC, MAC) pair that
     * seal / open take (a session seals and opens under the one key). JDK CBC, not the applet's.
     */
    static byte[] sessionKeys(byte[] ak1, byte tag, byte[] ctx) {
        int kl = ak1.length;
        int b = kl == 16 ? 16 : 8;
        byte[] in = Arrays.copyOf(cat(new byte[] {tag}, ctx), 16 + kl - b);
        try {
            Cipher c = kl == 16 ? Cipher.getInstance("AES/CBC/NoPadding") : Cipher.getInstance("DESede/CBC/NoPadding");
            c.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(ak1, kl == 16 ? "AES" : "DESede"),
                    new javax.crypto.spec.IvParameterSpec(new byte[b]));
            byte[] out = c.doFinal(in);
            byte[] k = Arrays.copyOfRange(out, out.length - kl, out.length);
            return cat(k, k);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** SP 800-108 counter mode (the transport keys); returns K_ENC | K_MAC (2 * key length). */
    static byte[] kdf(byte[] ki, String label, byte[] ctx) {
        int outLen = 2 * ki.length;
        byte[] out = new byte[0];
        for (int i = 1; out.length < outLen; i++) {
            out = cat(out, cmac(ki, cat(new byte[] {(byte) i}, label.getBytes(StandardCharsets.US_ASCII), new byte[] {0},
                    ctx, u16(outLen * 8))));
        }
        return Arrays.copyOf(out, outLen);
    }

    /** protocol.md 2.4: HDR | P XOR OFB(K_ENC, (T | 00..) XOR mask(K_MAC)) | T, T = MAC8(K_MAC, HDR | P). */
    static byte[] seal(int type, int keynum, byte[] sid, byte[] ks, byte[] body) {
        int kl = ks.length / 2;
        byte[] kEnc = Arrays.copyOf(ks, kl);
        byte[] kMac = Arrays.copyOfRange(ks, kl, 2 * kl);
        int b = kl == 16 ? 16 : 8;
        byte[] hdr = cat(new byte[] {(byte) type, (byte) keynum}, sid);
        int plen = ((body.length + 1 + b - 1) / b) * b;
        byte[] pt = Arrays.copyOf(body, plen);
        pt[body.length] = (byte) 0x80;
        byte[] t = mac8(kMac, cat(hdr, pt));
        return cat(hdr, ofb(kEnc, packetIv(kMac, t), pt), t);
    }

    static byte[] open(byte[] pkt, byte[] ks, int bodyLen) {
        int kl = ks.length / 2;
        byte[] kEnc = Arrays.copyOf(ks, kl);
        byte[] kMac = Arrays.copyOfRange(ks, kl, 2 * kl);
        byte[] t = Arrays.copyOfRange(pkt, pkt.length - 8, pkt.length);
        byte[] pt = ofb(kEnc, packetIv(kMac, t), Arrays.copyOfRange(pkt, 8, pkt.length - 8));
        if (!Arrays.equals(mac8(kMac, cat(Arrays.copyOf(pkt, 8), pt)), t)) {
            return null;
        }
        return Arrays.copyOf(pt, bodyLen);
    }

    // ------------------------------------------------------------------ flows

    /** Transport channel as the host (genesis): returns the transport key set after checking CC. */
    static byte[][] hostAuth(PCard blank, byte[] tk) {
        byte[] rh = rnd(8);
        byte[] r = blank.ok(0x10, 0, 0, rh);
        byte[] rc = Arrays.copyOf(r, 8);
        byte[] ks = kdf(tk, "PURSE TK", cat(rh, rc));
        byte[] kMac = Arrays.copyOfRange(ks, tk.length, 2 * tk.length);
        assertArrayEquals(mac8(kMac, cat(new byte[] {1}, rh, rc)), Arrays.copyOfRange(r, 8, 16), "CC");
        byte[] hc = mac8(kMac, cat(new byte[] {2}, rh, rc));
        return new byte[][] {ks, hc, rc};
    }

    static byte[] g1(int suite, String issuerId, String nm, long min, long max, int limit, int firstKey) {
        return cat(new byte[] {(byte) suite}, hex(issuerId), name(nm), hex("0978"), new byte[] {2}, u32(min), u32(max),
                u16(DATE), new byte[] {(byte) limit, (byte) firstKey}, secret(PIN), secret(TXKEY), secret(CREATION),
                secret(APPROVAL));
    }

    /** Genesis (5.3) with the host as authenticator; returns the G2 body. */
    static byte[] genesis(PCard blank, byte[] tk, byte[] g1body) {
        byte[][] a = hostAuth(blank, tk);
        byte[] pkt = seal(0x11, 0, Arrays.copyOf(a[2], 6), a[0], g1body);
        byte[] g2 = blank.ok(0x12, 0, 0, cat(a[1], pkt));
        byte[] body = open(g2, a[0], 20);
        assertNotNull(body, "G2 MAC");
        assertEquals(0x12, g2[0]);
        assertEquals(0, body[0]);
        blank.account = Arrays.copyOfRange(body, 1, 9);
        return body;
    }

    static PCard center(Path dir, String label, int suite, long min, long max, int firstKey) throws IOException {
        PCard c = create(dir, label, suite == 2 ? new byte[] {0} : new byte[0]);
        genesis(c, suite == 2 ? DEV_TK_TDES : DEV_TK_AES, g1(suite, "100000", label, min, max, 10, firstKey));
        return c;
    }

    static byte[] issueReq(byte[] tk, int role, String nm, long min, long max, String pin, String txkey) {
        return cat(new byte[] {(byte) tk.length}, tk, new byte[] {(byte) role, 0}, name(nm), u32(min), u32(max), u16(DATE),
                new byte[] {10}, secret(pin), txkey == null ? new byte[17] : secret(txkey));
    }

    /** Issuance (5.4): issuer card authenticates the blank card; the host only relays. Returns the account. */
    static byte[] issue(PCard issuer, PCard blank, byte[] tk, byte[] req) {
        issuer.verify(1, PIN);
        if (issuer.status()[Constants.ST_ROLE] == Constants.ROLE_CENTER) {
            issuer.verify(4, APPROVAL);
        }
        byte[] rh = issuer.ok(0x14, 0, 0, req);
        byte[] rccc = blank.ok(0x10, 0, 0, rh);
        byte[] hcI1 = issuer.ok(0x16, 0, 0, rccc);
        byte[] i2 = blank.ok(0x12, 0, 0, hcI1);
        byte[] acc = issuer.ok(0x18, 0, 0, i2);
        blank.account = acc;
        return acc;
    }

    static PCard issueNew(PCard issuer, Path dir, String label, int role, long min, long max) throws IOException {
        boolean tdes = issuer.status()[Constants.ST_SUITE] == 2;
        PCard c = create(dir, label, new byte[0]);
        issue(issuer, c, DEV_TK_AES, issueReq(DEV_TK_AES, role, label, min, max, PIN, TXKEY));
        return c;
    }

    static long mint(PCard center, long amount) {
        center.verify(3, CREATION);
        return u32(center.ok(0x1A, 0, 0, cat(u32(amount), u16(DATE))), 0);
    }

    /** Packets seen on the wire of one transfer (for replay tests). */
    static final class Wire {
        byte[] p1;
        byte[] p2p3;
        byte[] p4;
        byte[] ack;
        byte[] tid;
    }

    /** Full transfer (6.1: the payee's SELECT, then five APDUs), relayed exactly as the host does; holder secrets verified first. */
    static Wire transfer(PCard payer, PCard payee, long amount) {
        byte[] st = payer.status();
        if (st[Constants.ST_ROLE] == Constants.ROLE_CENTER) {
            payer.verify(4, APPROVAL);
        }
        if (amount > u32(st, Constants.ST_MIN_TRANS)) {
            payer.verify(1, PIN);
        }
        if (amount > u32(st, Constants.ST_MAX_TRANS)) {
            payer.verify(2, TXKEY);
        }
        Wire w = new Wire();
        byte[] sm = payee.hello(amount);
        w.p1 = payer.ok(0x42, 0, 0, cat(u32(amount), u16(DATE), sm));
        w.tid = Arrays.copyOfRange(w.p1, 2, 8);
        w.p2p3 = payee.ok(0x44, 0, 0, payee.ad(w.p1));
        w.p4 = payer.ok(0x46, 0, 0, w.p2p3);
        w.ack = payee.ok(0x48, 0, 0, w.p4);
        payer.ok(0x4A, 0, 0, w.ack);
        return w;
    }

    /** Host resume logic of protocol.md 6.4 for one payer/payee pair; returns a description of what it did. */
    static String resume(PCard payer, PCard payee) {
        byte[] a = payer.pending();
        byte[] b = payee.pending();
        boolean outPending = a[Constants.PD_OUT_STATE] == 1;
        byte[] tOut = Arrays.copyOfRange(a, Constants.PD_OUT_TID, Constants.PD_OUT_TID + 6);
        boolean inExpecting = b[Constants.PD_IN_STATE] == 1;
        byte[] tIn = Arrays.copyOfRange(b, Constants.PD_IN_TID, Constants.PD_IN_TID + 6);
        if (outPending) {
            if (inExpecting && Arrays.equals(tOut, tIn)) {
                byte[] p4 = payer.ok(0x50, 0, 0, tOut);
                byte[] ack = payee.ok(0x48, 0, 0, p4);
                payer.ok(0x4A, 0, 0, ack);
                return "p4";
            }
            int kind = outcomeKind(b, tOut);
            if (kind != 0) {
                byte[] o = payee.ok(0x52, 0, 0, tOut);
                payer.ok(0x4A, 0, 0, o);
                return kind == 1 ? "ack" : "nack";
            }
            return "unknown";
        }
        if (inExpecting && Arrays.equals(Arrays.copyOfRange(b, Constants.PD_IN_ACCOUNT, Constants.PD_IN_ACCOUNT + 8),
                payer.account)) {
            payee.ok(0x4C, 1, 0, tIn);
            return "abort";
        }
        return "none";
    }

    static int outcomeKind(byte[] pending, byte[] tid) {
        int n = pending[Constants.PD_OUTCOME_COUNT];
        for (int i = 0; i < n; i++) {
            int o = Constants.PD_OUTCOMES + 7 * i;
            if (Arrays.equals(Arrays.copyOfRange(pending, o, o + 6), tid)) {
                return pending[o + 6];
            }
        }
        return 0;
    }

    /** A field of an object of the card's image, declared in its class or above (reflection only). */
    static Object field(Object o, String name) throws ReflectiveOperationException {
        for (Class<?> k = o.getClass(); k != null; k = k.getSuperclass()) {
            try {
                java.lang.reflect.Field f = k.getDeclaredField(name);
                f.setAccessible(true);
                return f.get(o);
            } catch (NoSuchFieldException e) {
                // declared higher up
            }
        }
        throw new NoSuchFieldException(name);
    }

    /** The live applet object (Purse) of a card's image: its EEPROM as a fault would reach it. */
    static Object applet(PCard c) throws ReflectiveOperationException {
        java.util.List<?> apps = (java.util.List<?>) field(field(c.card, "img"), "applets");
        return field(apps.get(0), "applet");
    }

    /** The persistent OUT ("out") or IN ("in") slot of a card, as the EEPROM holds it. */
    static byte[] slot(PCard c, String which) throws ReflectiveOperationException {
        return (byte[]) field(field(applet(c), "slots"), which);
    }

    /**
     * protocol.md 6.3: a slot in use holds its K_S; a slot that is none holds no key (its K_S bytes
     * zero), whatever write a tear stopped at. Checks both slots of c.
     */
    static void slotKeysKept(PCard c, String what) throws ReflectiveOperationException {
        for (String which : new String[] {"out", "in"}) {
            byte[] s = slot(c, which);
            boolean zero = true;
            for (int i = Slots.S_KS; i < Slots.S_KS + Slots.KS_LEN; i++) {
                zero &= s[i] == 0;
            }
            if (s[Slots.S_STATE] == Constants.SLOT_NONE) {
                assertTrue(zero, what + ": " + c.label + " " + which + " is none but keeps a K_S");
            } else {
                assertTrue(!zero, what + ": " + c.label + " " + which + " in use without its K_S");
            }
        }
    }

    /**
     * Value held by a set of cards as protocol.md 6.4's invariant counts it: balances + amounts of
     * OUT = PENDING(T) whose T is not ACKed in any given card's outcomes + exception entries.
     */
    static long value(PCard... cards) {
        long v = 0;
        for (PCard c : cards) {
            v += c.balance();
            byte[] p = c.pending();
            if (p[Constants.PD_OUT_STATE] == 1) {
                byte[] t = Arrays.copyOfRange(p, Constants.PD_OUT_TID, Constants.PD_OUT_TID + 6);
                boolean acked = false;
                for (PCard o : cards) {
                    if (outcomeKind(o.pending(), t) == 1) {
                        acked = true;
                    }
                }
                if (!acked) {
                    v += u32(p, Constants.PD_OUT_AMOUNT);
                }
            }
            byte[] ex = c.ok(0x36, 0, 0, null);
            for (int i = 0; i + 24 <= ex.length; i += 24) {
                v += u32(ex, i + 6);
            }
        }
        return v;
    }
}
