package org.purse.jc;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * One per card (so applet statics are per card). Loads applet classes child-first from the
 * parent's resources and instruments them; platform and runtime classes are delegated.
 */
final class AppletLoader extends ClassLoader {
    static {
        registerAsParallelCapable();
    }

    final List<Class<?>> defined = new ArrayList<>();

    AppletLoader(ClassLoader parent) {
        super(parent);
    }

    static boolean isRuntime(String n) {
        return n.startsWith("java.") || n.startsWith("javax.") || n.startsWith("javacard.")
                || n.startsWith("javacardx.") || n.startsWith("org.purse.jc.") || n.startsWith("sun.")
                || n.startsWith("jdk.") || n.startsWith("org.objectweb.asm.") || n.startsWith("org.junit.")
                || n.startsWith("com.sun.");
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
        if (isRuntime(name)) {
            return super.loadClass(name, resolve);
        }
        synchronized (getClassLoadingLock(name)) {
            Class<?> c = findLoadedClass(name);
            if (c == null) {
                byte[] code;
                try (InputStream in = getParent().getResourceAsStream(name.replace('.', '/') + ".class")) {
                    if (in == null) {
                        throw new ClassNotFoundException(name);
                    }
                    code = in.readAllBytes();
                } catch (IOException e) {
                    throw new ClassNotFoundException(name, e);
                }
                byte[] out = Instrumenter.instrument(code);
                c = defineClass(name, out, 0, out.length);
                synchronized (defined) {
                    defined.add(c);
                }
            }
            if (resolve) {
                resolveClass(c);
            }
            return c;
        }
    }
}
