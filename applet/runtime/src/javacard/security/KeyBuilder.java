package javacard.security;

import javacard.framework.JCSystem;
import org.purse.jc.crypto.SymKey;

/**
 * Key object factory (JavaCard 3.0.4 classic API). This runtime builds DES and AES keys only;
 * every other type answers CryptoException.NO_SUCH_ALGORITHM.
 */
public class KeyBuilder {

    public static final byte TYPE_DES_TRANSIENT_RESET = 1;
    public static final byte TYPE_DES_TRANSIENT_DESELECT = 2;
    public static final byte TYPE_DES = 3;
    public static final byte TYPE_RSA_PUBLIC = 4;
    public static final byte TYPE_RSA_PRIVATE = 5;
    public static final byte TYPE_RSA_CRT_PRIVATE = 6;
    public static final byte TYPE_DSA_PUBLIC = 7;
    public static final byte TYPE_DSA_PRIVATE = 8;
    public static final byte TYPE_EC_F2M_PUBLIC = 9;
    public static final byte TYPE_EC_F2M_PRIVATE = 10;
    public static final byte TYPE_EC_FP_PUBLIC = 11;
    public static final byte TYPE_EC_FP_PRIVATE = 12;
    public static final byte TYPE_AES_TRANSIENT_RESET = 13;
    public static final byte TYPE_AES_TRANSIENT_DESELECT = 14;
    public static final byte TYPE_AES = 15;
    public static final byte TYPE_KOREAN_SEED_TRANSIENT_RESET = 16;
    public static final byte TYPE_KOREAN_SEED_TRANSIENT_DESELECT = 17;
    public static final byte TYPE_KOREAN_SEED = 18;
    public static final byte TYPE_HMAC_TRANSIENT_RESET = 19;
    public static final byte TYPE_HMAC_TRANSIENT_DESELECT = 20;
    public static final byte TYPE_HMAC = 21;

    public static final short LENGTH_DES = 64;
    public static final short LENGTH_DES3_2KEY = 128;
    public static final short LENGTH_DES3_3KEY = 192;
    public static final short LENGTH_AES_128 = 128;
    public static final short LENGTH_AES_192 = 192;
    public static final short LENGTH_AES_256 = 256;

    private KeyBuilder() {
    }

    public static Key buildKey(byte keyType, short keyLength, boolean keyEncryption) throws CryptoException {
        if (keyEncryption) {
            // KeyEncryption-capable keys are not implemented by this runtime
            CryptoException.throwIt(CryptoException.NO_SUCH_ALGORITHM);
        }
        byte event;
        boolean aes;
        switch (keyType) {
            case TYPE_DES: aes = false; event = 0; break;
            case TYPE_DES_TRANSIENT_RESET: aes = false; event = JCSystem.CLEAR_ON_RESET; break;
            case TYPE_DES_TRANSIENT_DESELECT: aes = false; event = JCSystem.CLEAR_ON_DESELECT; break;
            case TYPE_AES: aes = true; event = 0; break;
            case TYPE_AES_TRANSIENT_RESET: aes = true; event = JCSystem.CLEAR_ON_RESET; break;
            case TYPE_AES_TRANSIENT_DESELECT: aes = true; event = JCSystem.CLEAR_ON_DESELECT; break;
            default:
                CryptoException.throwIt(CryptoException.NO_SUCH_ALGORITHM);
                return null;
        }
        if (aes) {
            if (keyLength != LENGTH_AES_128 && keyLength != LENGTH_AES_192 && keyLength != LENGTH_AES_256) {
                CryptoException.throwIt(CryptoException.NO_SUCH_ALGORITHM);
            }
            return new SymKey.Aes(keyType, keyLength, event);
        }
        if (keyLength != LENGTH_DES && keyLength != LENGTH_DES3_2KEY && keyLength != LENGTH_DES3_3KEY) {
            CryptoException.throwIt(CryptoException.NO_SUCH_ALGORITHM);
        }
        return new SymKey.Des(keyType, keyLength, event);
    }
}
