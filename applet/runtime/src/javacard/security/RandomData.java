package javacard.security;

import org.purse.jc.crypto.RandomImpl;

/** Random number generation (JavaCard 3.0.4 classic API). */
public abstract class RandomData {

    public static final byte ALG_PSEUDO_RANDOM = 1;
    public static final byte ALG_SECURE_RANDOM = 2;

    protected RandomData() {
    }

    public static final RandomData getInstance(byte algorithm) throws CryptoException {
        if (algorithm != ALG_PSEUDO_RANDOM && algorithm != ALG_SECURE_RANDOM) {
            CryptoException.throwIt(CryptoException.NO_SUCH_ALGORITHM);
        }
        return new RandomImpl(algorithm);
    }

    public abstract void generateData(byte[] buffer, short offset, short length) throws CryptoException;

    public abstract void setSeed(byte[] buffer, short offset, short length);
}
