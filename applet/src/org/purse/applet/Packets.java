/*
 * purse: packet seal / open, SIV: MAC over the plaintext, then OFB under it (docs/protocol.md 2.4).
 * PACKET = HDR(8) | C | T(8); HDR = TYPE | KEYNUM | SID(6); P = BODY | 80 | 00..;
 * T = MAC8(K_MAC, HDR | P); C = P XOR OFB(K_ENC, IV = (T | 00..) XOR M), M the CMAC subkey of K_MAC
 * that no packet MAC of the suite ends with (AES K1, TDES K2).
 */
package org.purse.applet;

import javacard.framework.Util;
import javacard.security.Key;

/** Stateless over {@link CryptoSuite}; open() never throws on a bad packet, it returns false. */
public final class Packets {

    private final CryptoSuite cs;

    public Packets(CryptoSuite cs) {
        this.cs = cs;
    }

    /** Padded body length: ISO 9797-1 method 2 (always at least one pad byte). */
    public static short paddedLen(short bodyLen, short block) {
        return (short) ((short) ((short) (bodyLen / block) + 1) * block);
    }

    /** 8 + pad(bodyLen + 1) + 8. */
    public static short packetLen(short bodyLen, short block) {
        return (short) (Constants.HDR_LEN + paddedLen(bodyLen, block) + Constants.MAC_LEN);
    }

    /** Writes HDR | C | T at out[outOff]; returns the packet length. body may alias nothing in out. */
    public short seal(byte type, byte keynum, byte[] sid, short sidOff, Key kEnc, Key kMac,
                      byte[] body, short bodyOff, short bodyLen, byte[] out, short outOff) {
        short b = CryptoSuite.blockLen(CryptoSuite.suiteOf(kEnc));
        short padLen = paddedLen(bodyLen, b);
        // HDR | P in place, T = MAC8 over them right after, then P XOR the keystream from T masked (AES K1, TDES K2)
        short c = (short) (outOff + Constants.HDR_LEN);
        out[(short) (outOff + Constants.HDR_OFF_TYPE)] = type;
        out[(short) (outOff + Constants.HDR_OFF_KEYNUM)] = keynum;
        Util.arrayCopyNonAtomic(sid, sidOff, out, (short) (outOff + Constants.HDR_OFF_SID), Constants.SID_LEN);
        Util.arrayCopyNonAtomic(body, bodyOff, out, c, bodyLen);
        out[(short) (c + bodyLen)] = Constants.PAD_BYTE;
        Util.arrayFillNonAtomic(out, (short) (c + bodyLen + 1), (short) (padLen - bodyLen - 1), (byte) 0);
        short t = (short) (c + padLen);
        cs.mac8(kMac, out, outOff, (short) (Constants.HDR_LEN + padLen), out, t);
        cs.stream(kEnc, kMac, out, t, out, c, padLen);
        return (short) (Constants.HDR_LEN + padLen + Constants.MAC_LEN);
    }

    /**
     * Checks length, type, keynum, sid; decrypts C in place in pkt (the packet is spent, also when
     * a later check fails); then MAC over HDR | P (constant time), padding and exact body length;
     * copies the body into bodyOut (exactly bodyLen bytes written). Returns true only if everything
     * holds; bodyOut content undefined on false. bodyOut must not overlap pkt, except exactly at C
     * (bodyOut == pkt, bodyOutOff == pktOff + 8).
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
        short t = (short) (c + padLen);
        // one keystream pass, in place: C becomes P = BODY | 80 | 00..
        cs.stream(kEnc, kMac, pkt, t, pkt, c, padLen);
        if (!cs.mac8Verify(kMac, pkt, pktOff, (short) (Constants.HDR_LEN + padLen), pkt, t)) {
            return false;
        }
        // padding: the body ends exactly at bodyLen, then 80, then zeros
        short end = (short) (c + bodyLen);
        byte bad = (byte) (pkt[end] ^ Constants.PAD_BYTE);
        for (short i = (short) (end + 1); i < t; i++) {
            bad |= pkt[i];
        }
        if (bad != (byte) 0) {
            return false;
        }
        Util.arrayCopyNonAtomic(pkt, c, bodyOut, bodyOutOff, bodyLen);
        return true;
    }
}
