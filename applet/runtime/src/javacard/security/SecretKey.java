package javacard.security;

/** Base interface of symmetric keys (JavaCard 3.0.4 classic API). */
public interface SecretKey extends Key {
}
