package javacard.security;

/** A 16, 24 or 32-byte AES key (JavaCard 3.0.4 classic API). */
public interface AESKey extends SecretKey {
    void setKey(byte[] keyData, short kOff) throws CryptoException, NullPointerException, ArrayIndexOutOfBoundsException;

    byte getKey(byte[] keyData, short kOff);
}
