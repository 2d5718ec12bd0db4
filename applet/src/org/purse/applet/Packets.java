/*
 * purse: packet seal / open, encrypt-then-MAC (docs/protocol.md 2.4).
 * PACKET = HDR(8) | C | T(8); HDR = TYPE | KEYNUM | SID(6);
 * C = CBC(K_ENC, IV, BODY | 80 | 00..); IV = ECB(K_ENC, HDR | 00..); T = MAC8(K_MAC, HDR | C).
 */
package org.purse.applet;

import javacard.framework.JCSystem;
import javacard.framework.Util;
import javacard.security.Key;

/** Stateless over {@link CryptoSuite}; open() never throws on a bad packet, it returns false. */
public final class Packets {

    private static final short T_IN = (short) 0;    // HDR | 00.. (IV input); seal: the header
    private static final short T_IV = (short) 16;   // IV; seal: zeros
    static final short TMP_LEN = (short) 64;

    private final CryptoSuite cs;
    private final byte[] tmp;

    /** scratch: transient, >= TMP_LEN; used only within one seal/open (Purse shares it). */
    public Packets(CryptoSuite cs, byte[] scratch) {
        this.cs = cs;
        tmp = scratch;
    }

    /** Padded body length: ISO 9797-1 method 2 (always at least one pad byte). */
    public static short paddedLen(short bodyLen, short block) {
        return (short) ((short) ((short) (bodyLen / block) + 1) * block);
    }

    /** 8 + pad(bodyLen + 1) + 8. */
    public static short packetLen(short bodyLen, short block) {
        return (short) (Constants.HDR_LEN + paddedLen(bodyLen, block) + Constants.MAC_LEN);
    }

    /** IV = ECB(kEnc, HDR | 00..) into tmp[T_IV]; the header is read from hdr[hdrOff]. */
    private void makeIv(Key kEnc, short b, byte[] hdr, short hdrOff) {
        Util.arrayFillNonAtomic(tmp, T_IN, b, (byte) 0);
        Util.arrayCopyNonAtomic(hdr, hdrOff, tmp, T_IN, Constants.HDR_LEN);
        cs.encryptBlock(kEnc, tmp, T_IN, tmp, T_IV);
    }

    /** Writes HDR | C | T at out[outOff]; returns the packet length. body may alias nothing in out. */
    public short seal(byte type, byte keynum, byte[] sid, short sidOff, Key kEnc, Key kMac,
                      byte[] body, short bodyOff, short bodyLen, byte[] out, short outOff) {
        short b = CryptoSuite.blockLen(CryptoSuite.suiteOf(kEnc));
        short padLen = paddedLen(bodyLen, b);
        // CBC with IV 0 over X0 | BODY | pad, X0 = HDR | 00.. (one block), gives ECB(X0) | C = IV | C:
        // the packet IV costs no doFinal of its own. X0 at out[outOff], the body right after it.
        short x = (short) (outOff + b);
        Util.arrayCopyNonAtomic(body, bodyOff, out, x, bodyLen);
        out[(short) (x + bodyLen)] = Constants.PAD_BYTE;
        Util.arrayFillNonAtomic(out, (short) (x + bodyLen + 1), (short) (padLen - bodyLen - 1), (byte) 0);
        Util.arrayFillNonAtomic(out, outOff, b, (byte) 0);
        Util.arrayCopyNonAtomic(sid, sidOff, out, (short) (outOff + Constants.HDR_OFF_SID), Constants.SID_LEN);
        out[(short) (outOff + Constants.HDR_OFF_TYPE)] = type;
        out[(short) (outOff + Constants.HDR_OFF_KEYNUM)] = keynum;
        Util.arrayCopyNonAtomic(out, outOff, tmp, T_IN, Constants.HDR_LEN);
        Util.arrayFillNonAtomic(tmp, T_IV, b, (byte) 0);
        cs.cbcEncrypt(kEnc, tmp, T_IV, out, outOff, (short) (b + padLen), out, outOff);
        // C into place right after the 8-byte header (AES: 8 bytes down), the header over the IV
        short c = (short) (outOff + Constants.HDR_LEN);
        Util.arrayCopyNonAtomic(out, x, out, c, padLen);
        Util.arrayCopyNonAtomic(tmp, T_IN, out, outOff, Constants.HDR_LEN);
        cs.mac8(kMac, out, outOff, (short) (Constants.HDR_LEN + padLen), out, (short) (c + padLen));
        Util.arrayFillNonAtomic(tmp, (short) 0, TMP_LEN, (byte) 0);
        return (short) (Constants.HDR_LEN + padLen + Constants.MAC_LEN);
    }

    /**
     * Checks length, type, keynum, sid, MAC (constant time), padding and exact body length;
     * decrypts C in place in pkt (one pass; the packet's C is spent) and copies the body into bodyOut
     * (exactly bodyLen bytes written). Returns true only if everything holds; bodyOut content
     * undefined on false. bodyOut must not overlap pkt, except exactly at C (bodyOut == pkt,
     * bodyOutOff == pktOff + 8).
     */
    public boolean open(byte type, byte keynum, byte[] sid, short sidOff, Key kEnc, Key kMac,
                        byte[] pkt, short pktOff, short pktLen, short bodyLen, byte[] bodyOut, short bodyOutOff) {
        short b = CryptoSuite.blockLen(CryptoSuite.suiteOf(kEnc));
        if (bodyLen < 0 || pktLen != packetLen(bodyLen, b)) {
            return false;
        }
        if (pkt[(short) (pktOff + Constants.HDR_OFF_TYPE)] != type) {
            return false;
        }
        if (pkt[(short) (pktOff + Constants.HDR_OFF_KEYNUM)] != keynum) {
            return false;
        }
        if (Util.arrayCompare(pkt, (short) (pktOff + Constants.HDR_OFF_SID), sid, sidOff, Constants.SID_LEN) != 0) {
            return false;
        }
        short padLen = paddedLen(bodyLen, b);
        short c = (short) (pktOff + Constants.HDR_LEN);
        if (!cs.mac8Verify(kMac, pkt, pktOff, (short) (Constants.HDR_LEN + padLen), pkt, (short) (c + padLen))) {
            return false;
        }
        makeIv(kEnc, b, pkt, pktOff);
        // one decrypt pass, in place (the received packet is spent): C becomes BODY | 80 | 00..
        cs.cbcDecrypt(kEnc, tmp, T_IV, pkt, c, padLen, pkt, c);
        // padding: the body ends exactly at bodyLen, then 80, then zeros
        short end = (short) (c + bodyLen);
        byte bad = (byte) (pkt[end] ^ Constants.PAD_BYTE);
        for (short i = (short) (end + 1); i < (short) (c + padLen); i++) {
            bad |= pkt[i];
        }
        boolean ok = bad == (byte) 0;
        if (ok) {
            Util.arrayCopyNonAtomic(pkt, c, bodyOut, bodyOutOff, bodyLen);
        }
        Util.arrayFillNonAtomic(tmp, (short) 0, TMP_LEN, (byte) 0);
        return ok;
    }
}
