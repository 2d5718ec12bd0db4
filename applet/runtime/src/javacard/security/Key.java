package javacard.security;

/** Base interface of all keys (JavaCard 3.0.4 classic API). */
public interface Key {
    boolean isInitialized();

    void clearKey();

    byte getType();

    short getSize();
}
