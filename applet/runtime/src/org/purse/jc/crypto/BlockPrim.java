package org.purse.jc.crypto;

import java.security.GeneralSecurityException;
import java.util.Arrays;

import javax.crypto.Cipher;
import javax.crypto.spec.SecretKeySpec;

/**
 * A raw single-block primitive (ECB, no padding) over javax.crypto, built from key bytes.
 * Not serializable: holders keep it in a transient field and rebuild it lazily.
 * An 8-byte DES key means single DES, 16 bytes 2-key TDES (K1,K2,K1), 24 bytes 3-key TDES.
 */
final class BlockPrim {
    final int blockSize;
    private final byte[] keyCopy;
    private final Cipher enc;
    private final Cipher dec;

    BlockPrim(boolean aes, byte[] key) {
        this.keyCopy = key.clone();
        try {
            SecretKeySpec spec;
            String transformation;
            if (aes) {
                spec = new SecretKeySpec(key, "AES");
                transformation = "AES/ECB/NoPadding";
                blockSize = 16;
            } else if (key.length == 8) {
                spec = new SecretKeySpec(key, "DES");
                transformation = "DES/ECB/NoPadding";
                blockSize = 8;
            } else {
                byte[] k3 = new byte[24];
                System.arraycopy(key, 0, k3, 0, key.length);
                if (key.length == 16) {
                    System.arraycopy(key, 0, k3, 16, 8);
                }
                spec = new SecretKeySpec(k3, "DESede");
                transformation = "DESede/ECB/NoPadding";
                blockSize = 8;
            }
            enc = Cipher.getInstance(transformation);
            enc.init(Cipher.ENCRYPT_MODE, spec);
            dec = Cipher.getInstance(transformation);
            dec.init(Cipher.DECRYPT_MODE, spec);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("JCE primitive unavailable", e);
        }
    }

    boolean sameKey(byte[] key) {
        return Arrays.equals(keyCopy, key);
    }

    /** Encrypts (or decrypts) one block in place at buf[off..off+blockSize). */
    void block(boolean encrypt, byte[] buf, int off) {
        try {
            int n = (encrypt ? enc : dec).doFinal(buf, off, blockSize, buf, off);
            if (n != blockSize) {
                throw new IllegalStateException("short block");
            }
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
