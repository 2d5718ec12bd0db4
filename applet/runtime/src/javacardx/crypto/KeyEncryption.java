package javacardx.crypto;

/**
 * Keys whose key data is delivered encrypted (JavaCard 3.0.4 classic API). Declared for API
 * compatibility; KeyBuilder of this runtime builds no key implementing it.
 */
public interface KeyEncryption {
    void setKeyCipher(Cipher keyCipher);

    Cipher getKeyCipher();
}
