package org.purse.applet;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The protocol test vectors, tests/vectors/protocol.json (written by scripts/protocol_vectors.py,
 * read by the Rust tests too), through a minimal JSON reader: objects, arrays, strings without
 * escapes beyond \" \\ \/ \n and \ u, integers, true/false/null. Enough for that file; anything
 * else is an error, so a file the reader does not understand fails the tests instead of being
 * half read. The build passes the path as the system property purse.vectors.
 */
final class Vectors {
    private final String s;
    private int i;

    private Vectors(String s) {
        this.s = s;
    }

    static Path path() {
        String p = System.getProperty("purse.vectors");
        return p != null ? Path.of(p) : Path.of("..", "tests", "vectors", "protocol.json");
    }

    /** The whole file as nested Map / List / String / Long / Boolean. */
    static Map<String, Object> load() {
        try {
            Vectors r = new Vectors(Files.readString(path(), StandardCharsets.UTF_8));
            Object v = r.value();
            r.ws();
            if (r.i != r.s.length()) {
                throw r.error("trailing data");
            }
            return obj(v);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + path().toAbsolutePath() + ": " + e, e);
        }
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> obj(Object o) {
        if (!(o instanceof Map)) {
            throw new IllegalStateException("not an object: " + o);
        }
        return (Map<String, Object>) o;
    }

    @SuppressWarnings("unchecked")
    static List<Object> list(Object o) {
        if (!(o instanceof List)) {
            throw new IllegalStateException("not an array: " + o);
        }
        return (List<Object>) o;
    }

    /** m[key] as a string; missing or not a string is an error. */
    static String str(Map<String, Object> m, String key) {
        Object o = m.get(key);
        if (!(o instanceof String)) {
            throw new IllegalStateException("no string \"" + key + "\" in " + m.keySet());
        }
        return (String) o;
    }

    /** The objects of the array m[key]. */
    static List<Map<String, Object>> objs(Map<String, Object> m, String key) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Object o : list(m.get(key))) {
            out.add(obj(o));
        }
        return out;
    }

    /** The element of the array m[key] whose field `field` is `value`. */
    static Map<String, Object> find(Map<String, Object> m, String key, String field, String value) {
        for (Map<String, Object> o : objs(m, key)) {
            if (value.equals(o.get(field))) {
                return o;
            }
        }
        throw new IllegalStateException("no " + key + " with " + field + " = " + value);
    }

    private IllegalStateException error(String what) {
        return new IllegalStateException(path() + ": " + what + " at offset " + i);
    }

    private void ws() {
        while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
            i++;
        }
    }

    private void expect(char c) {
        ws();
        if (i >= s.length() || s.charAt(i) != c) {
            throw error("expected '" + c + "'");
        }
        i++;
    }

    private Object value() {
        ws();
        if (i >= s.length()) {
            throw error("unexpected end");
        }
        char c = s.charAt(i);
        if (c == '{') {
            Map<String, Object> m = new LinkedHashMap<>();
            i++;
            ws();
            if (s.charAt(i) == '}') {
                i++;
                return m;
            }
            do {
                ws();
                String k = string();
                expect(':');
                if (m.put(k, value()) != null) {
                    throw error("duplicate key " + k);
                }
                ws();
            } while (s.charAt(i++) == ',');
            if (s.charAt(i - 1) != '}') {
                throw error("expected '}'");
            }
            return m;
        }
        if (c == '[') {
            List<Object> l = new ArrayList<>();
            i++;
            ws();
            if (s.charAt(i) == ']') {
                i++;
                return l;
            }
            do {
                l.add(value());
                ws();
            } while (s.charAt(i++) == ',');
            if (s.charAt(i - 1) != ']') {
                throw error("expected ']'");
            }
            return l;
        }
        if (c == '"') {
            return string();
        }
        if (c == '-' || Character.isDigit(c)) {
            int j = i;
            i++;
            while (i < s.length() && Character.isDigit(s.charAt(i))) {
                i++;
            }
            return Long.parseLong(s.substring(j, i));
        }
        for (String w : new String[] {"true", "false", "null"}) {
            if (s.startsWith(w, i)) {
                i += w.length();
                return w.equals("null") ? null : Boolean.valueOf(w.equals("true"));
            }
        }
        throw error("unexpected '" + c + "'");
    }

    private String string() {
        if (s.charAt(i) != '"') {
            throw error("expected a string");
        }
        StringBuilder b = new StringBuilder();
        for (i++; ; i++) {
            if (i >= s.length()) {
                throw error("unterminated string");
            }
            char c = s.charAt(i);
            if (c == '"') {
                i++;
                return b.toString();
            }
            if (c == '\\') {
                char e = s.charAt(++i);
                if (e == 'u') {
                    b.append((char) Integer.parseInt(s.substring(i + 1, i + 5), 16));
                    i += 4;
                } else if (e == 'n') {
                    b.append('\n');
                } else if (e == '"' || e == '\\' || e == '/') {
                    b.append(e);
                } else {
                    throw error("escape \\" + e);
                }
            } else {
                b.append(c);
            }
        }
    }
}
