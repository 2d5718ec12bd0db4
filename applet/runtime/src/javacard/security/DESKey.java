package javacard.security;

/** An 8, 16 or 24-byte DES / triple-DES key (JavaCard 3.0.4 classic API). */
public interface DESKey extends SecretKey {
    void setKey(byte[] keyData, short kOff) throws CryptoException, NullPointerException, ArrayIndexOutOfBoundsException;

    byte getKey(byte[] keyData, short kOff);
}
