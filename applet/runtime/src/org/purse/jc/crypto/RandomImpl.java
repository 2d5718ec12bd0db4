package org.purse.jc.crypto;

import java.io.Serializable;

import javacard.security.CryptoException;
import javacard.security.RandomData;
import org.purse.jc.CryptoConfig;
import org.purse.jc.Mem;

/**
 * RandomData for both ALG_SECURE_RANDOM and ALG_PSEUDO_RANDOM: bytes come from
 * {@link CryptoConfig} (a SecureRandom, or a deterministic stream when a test seed is set).
 */
public final class RandomImpl extends RandomData implements Serializable {

    private static final long serialVersionUID = 1L;

    private final byte algorithm;

    public RandomImpl(byte algorithm) {
        if (algorithm != ALG_PSEUDO_RANDOM && algorithm != ALG_SECURE_RANDOM) {
            CryptoException.throwIt(CryptoException.NO_SUCH_ALGORITHM);
        }
        this.algorithm = algorithm;
    }

    byte algorithm() {
        return algorithm;
    }

    public void generateData(byte[] buffer, short offset, short length) {
        Bytes.check(buffer, offset, length);
        byte[] r = new byte[length];
        CryptoConfig.nextBytes(r, 0, length);
        Bytes.out(buffer, offset, r, 0, length);
        Mem.countCrypto();
        Mem.count("random.calls", 1);
        Mem.count("random.bytes", length);
    }

    public void setSeed(byte[] buffer, short offset, short length) {
        Bytes.check(buffer, offset, length);
        CryptoConfig.addSeed(Bytes.copy(buffer, offset, length));
    }
}
