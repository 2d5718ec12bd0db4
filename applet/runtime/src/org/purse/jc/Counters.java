package org.purse.jc;

import java.util.Map;
import java.util.TreeMap;

/**
 * Engine counters; cumulative (Card.total()) or per command (Card.last()).
 *
 * <p>The fixed fields are the persistence and traffic counters; {@link #ops} holds the per-
 * operation counts a real-card cost model needs (docs/runtime.md "Operation counters"), by name:
 * {@code setKey.AES}, {@code cipher.init.AES_CBC}, {@code cipher.doFinal.AES_CBC},
 * {@code cipher.update.AES_CBC}, {@code cipher.blocks.AES_CBC}, {@code mac.init.X},
 * {@code mac.final.X}, {@code mac.blocks.X}, {@code random.calls}, {@code random.bytes},
 * {@code digest.calls.SHA256}, {@code digest.bytes.SHA256}, {@code arrayCompare.calls},
 * {@code arrayCompare.bytes}, {@code tx.begin}. Names absent from the map are 0.
 */
public final class Counters implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    public long apdus;
    public long persistentWrites;
    public long bytesWritten;
    public long transactions;
    /** Calls that complete a crypto operation (doFinal, sign/verify, generateData, digest). */
    public long cryptoOps;
    /** Command APDU bytes received (header, Lc, data, Le). */
    public long bytesIn;
    /** Response APDU bytes sent (data + SW1 SW2). */
    public long bytesOut;
    /** Operation counts by name (null in images saved before the counters existed). */
    public TreeMap<String, Long> ops = new TreeMap<>();

    private TreeMap<String, Long> opsMap() {
        if (ops == null) {
            ops = new TreeMap<>();
        }
        return ops;
    }

    public long op(String name) {
        Long v = opsMap().get(name);
        return v == null ? 0 : v;
    }

    void count(String name, long n) {
        opsMap().merge(name, n, Long::sum);
    }

    public Counters copy() {
        Counters c = new Counters();
        c.add(this);
        return c;
    }

    public Counters minus(Counters o) {
        Counters c = copy();
        c.apdus -= o.apdus;
        c.persistentWrites -= o.persistentWrites;
        c.bytesWritten -= o.bytesWritten;
        c.transactions -= o.transactions;
        c.cryptoOps -= o.cryptoOps;
        c.bytesIn -= o.bytesIn;
        c.bytesOut -= o.bytesOut;
        for (Map.Entry<String, Long> e : o.opsMap().entrySet()) {
            c.count(e.getKey(), -e.getValue());
        }
        return c;
    }

    public Counters plus(Counters o) {
        Counters c = copy();
        c.add(o);
        return c;
    }

    void add(Counters o) {
        apdus += o.apdus;
        persistentWrites += o.persistentWrites;
        bytesWritten += o.bytesWritten;
        transactions += o.transactions;
        cryptoOps += o.cryptoOps;
        bytesIn += o.bytesIn;
        bytesOut += o.bytesOut;
        for (Map.Entry<String, Long> e : o.opsMap().entrySet()) {
            count(e.getKey(), e.getValue());
        }
    }

    public String toJson() {
        StringBuilder sb = new StringBuilder();
        sb.append("{\"apdus\":").append(apdus)
                .append(",\"persistentWrites\":").append(persistentWrites)
                .append(",\"bytesWritten\":").append(bytesWritten)
                .append(",\"transactions\":").append(transactions)
                .append(",\"cryptoOps\":").append(cryptoOps)
                .append(",\"bytesIn\":").append(bytesIn)
                .append(",\"bytesOut\":").append(bytesOut)
                .append(",\"ops\":{");
        boolean first = true;
        for (Map.Entry<String, Long> e : opsMap().entrySet()) {
            if (e.getValue() == 0) {
                continue;
            }
            if (!first) {
                sb.append(',');
            }
            first = false;
            sb.append('"').append(e.getKey()).append("\":").append(e.getValue());
        }
        return sb.append("}}").toString();
    }

    @Override
    public String toString() {
        return toJson();
    }
}
