package org.purse.jc;

/** Thrown by the engine when an armed tear fires (the card lost power before a persistent write). */
public final class PowerLoss extends Error {
    private static final long serialVersionUID = 1L;

    public PowerLoss() {
        super("card power lost (tear)");
    }
}
