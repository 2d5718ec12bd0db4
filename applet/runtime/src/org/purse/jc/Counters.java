package org.purse.jc;

/** Engine counters; cumulative (Card.total()) or per command (Card.last()). */
public final class Counters implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    public long apdus;
    public long persistentWrites;
    public long bytesWritten;
    public long transactions;
    public long cryptoOps;

    public Counters copy() {
        Counters c = new Counters();
        c.apdus = apdus;
        c.persistentWrites = persistentWrites;
        c.bytesWritten = bytesWritten;
        c.transactions = transactions;
        c.cryptoOps = cryptoOps;
        return c;
    }

    public Counters minus(Counters o) {
        Counters c = new Counters();
        c.apdus = apdus - o.apdus;
        c.persistentWrites = persistentWrites - o.persistentWrites;
        c.bytesWritten = bytesWritten - o.bytesWritten;
        c.transactions = transactions - o.transactions;
        c.cryptoOps = cryptoOps - o.cryptoOps;
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
    }

    public String toJson() {
        return "{\"apdus\":" + apdus + ",\"persistentWrites\":" + persistentWrites + ",\"bytesWritten\":"
                + bytesWritten + ",\"transactions\":" + transactions + ",\"cryptoOps\":" + cryptoOps + "}";
    }

    @Override
    public String toString() {
        return toJson();
    }
}
