package org.purse.jc;

import java.util.ArrayList;
import java.util.HashMap;

/** Root object of a card image file. */
final class CardImage implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    final ArrayList<AppletRecord> applets = new ArrayList<>();
    /** class name -> static field name -> value, for every loaded applet class. */
    HashMap<String, HashMap<String, Object>> statics = new HashMap<>();
    Counters total = new Counters();
    Counters last = new Counters();
}
