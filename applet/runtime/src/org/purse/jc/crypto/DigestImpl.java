package org.purse.jc.crypto;

import java.io.Serializable;
import java.security.NoSuchAlgorithmException;

import javacard.security.CryptoException;
import javacard.security.MessageDigest;
import org.purse.jc.Mem;

/**
 * Message digests over java.security.MessageDigest (SHA-1, MD5, SHA-224/256/384/512). The JCA
 * object is transient: after deserialization (= power-up) the digest starts afresh, which is
 * what a card reset does to a MessageDigest.
 */
public final class DigestImpl extends MessageDigest implements Serializable {

    private static final long serialVersionUID = 1L;

    private final byte algorithm;
    private transient java.security.MessageDigest md;

    public static boolean supported(byte algorithm) {
        return jcaName(algorithm) != null;
    }

    private static String jcaName(byte algorithm) {
        switch (algorithm) {
            case ALG_SHA: return "SHA-1";
            case ALG_MD5: return "MD5";
            case ALG_SHA_224: return "SHA-224";
            case ALG_SHA_256: return "SHA-256";
            case ALG_SHA_384: return "SHA-384";
            case ALG_SHA_512: return "SHA-512";
            default: return null;
        }
    }

    public DigestImpl(byte algorithm) {
        if (!supported(algorithm)) {
            CryptoException.throwIt(CryptoException.NO_SUCH_ALGORITHM);
        }
        this.algorithm = algorithm;
    }

    private java.security.MessageDigest md() {
        if (md == null) {
            try {
                md = java.security.MessageDigest.getInstance(jcaName(algorithm));
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }
        return md;
    }

    public byte getAlgorithm() {
        return algorithm;
    }

    public byte getLength() {
        return (byte) md().getDigestLength();
    }

    public short doFinal(byte[] inBuff, short inOffset, short inLength, byte[] outBuff, short outOffset) {
        Bytes.check(inBuff, inOffset, inLength);
        int n = md().getDigestLength();
        Bytes.check(outBuff, outOffset, n);
        md.update(inBuff, inOffset, inLength);
        byte[] h = md.digest(); // also resets
        Bytes.out(outBuff, outOffset, h, 0, n);
        Mem.countCrypto();
        Mem.count("digest.calls." + jcaName(algorithm).replace("-", ""), 1);
        Mem.count("digest.bytes." + jcaName(algorithm).replace("-", ""), inLength);
        return (short) n;
    }

    public void update(byte[] inBuff, short inOffset, short inLength) {
        Bytes.check(inBuff, inOffset, inLength);
        md().update(inBuff, inOffset, inLength);
        Mem.count("digest.updates." + jcaName(algorithm).replace("-", ""), 1);
        Mem.count("digest.updateBytes." + jcaName(algorithm).replace("-", ""), inLength);
        Mem.count("digest.bytes." + jcaName(algorithm).replace("-", ""), inLength);
    }

    public void reset() {
        md().reset();
    }
}
