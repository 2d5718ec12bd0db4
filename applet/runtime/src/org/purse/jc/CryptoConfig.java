package org.purse.jc;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;

/**
 * Engine-level crypto settings of the virtual card (not part of the JavaCard API).
 *
 * <p>Randomness for {@code javacard.security.RandomData}: a {@link SecureRandom} by default. For
 * reproducible tests, {@link #setDeterministicSeed(long)} switches every RandomData of the JVM to
 * one deterministic stream (SHA-256 of seed and block counter); {@link #clearDeterministicSeed()}
 * switches back. The system property {@code purse.jc.randomSeed} (a decimal long), if set when
 * this class loads, sets the deterministic seed from the start. In deterministic mode
 * RandomData.setSeed is ignored, so the stream depends only on the seed and the call sequence.
 */
public final class CryptoConfig {

    /** System property read once at class initialisation. */
    public static final String SEED_PROPERTY = "purse.jc.randomSeed";

    private static final SecureRandom SECURE = new SecureRandom();

    private static boolean deterministic;
    private static long seed;
    private static long counter;
    private static final byte[] block = new byte[32];
    private static int blockUsed = 32;

    static {
        String p = System.getProperty(SEED_PROPERTY);
        if (p != null && p.trim().length() > 0) {
            setDeterministicSeed(Long.parseLong(p.trim()));
        }
    }

    private CryptoConfig() {
    }

    /** From now on all RandomData output is the deterministic stream of {@code seed}, from its start. */
    public static synchronized void setDeterministicSeed(long seedValue) {
        deterministic = true;
        seed = seedValue;
        counter = 0;
        blockUsed = block.length;
    }

    /** Back to SecureRandom. */
    public static synchronized void clearDeterministicSeed() {
        deterministic = false;
    }

    public static synchronized boolean isDeterministic() {
        return deterministic;
    }

    /** Fills dst[off..off+len) with random bytes (used by the RandomData implementation). */
    public static synchronized void nextBytes(byte[] dst, int off, int len) {
        if (!deterministic) {
            byte[] r = new byte[len];
            SECURE.nextBytes(r);
            System.arraycopy(r, 0, dst, off, len);
            return;
        }
        for (int i = 0; i < len; i++) {
            if (blockUsed == block.length) {
                refill();
            }
            dst[off + i] = block[blockUsed++];
        }
    }

    /** Supplements the SecureRandom's seed; ignored in deterministic mode. */
    public static synchronized void addSeed(byte[] material) {
        if (!deterministic) {
            SECURE.setSeed(material);
        }
    }

    private static void refill() {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update("purse.jc.random".getBytes(StandardCharsets.US_ASCII));
            sha.update(longBytes(seed));
            sha.update(longBytes(counter++));
            byte[] h = sha.digest();
            System.arraycopy(h, 0, block, 0, block.length);
            blockUsed = 0;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] longBytes(long v) {
        byte[] b = new byte[8];
        for (int i = 7; i >= 0; i--) {
            b[i] = (byte) v;
            v >>>= 8;
        }
        return b;
    }
}
