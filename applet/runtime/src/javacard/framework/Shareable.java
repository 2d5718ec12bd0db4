package javacard.framework;

public interface Shareable {
}
