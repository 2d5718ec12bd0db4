package org.purse.jc;

/** Stands in for a transient array in the image; resolved to a fresh, registered, cleared array. */
final class TransientMarker implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    final int kind;
    final int length;
    final byte event;
    final AppletRecord owner;

    TransientMarker(int kind, int length, byte event, AppletRecord owner) {
        this.kind = kind;
        this.length = length;
        this.event = event;
        this.owner = owner;
    }
}
