package dev.laconic.tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;

/**
 * Where the arithmetic runs: a named provider of {@link Ops} (and, optionally, of extensions a device
 * offers beyond single ops, e.g. a whole-model decode step). This is the one place a backend is
 * chosen: the CLI's entry point (or a library user) calls {@link #named} once with the
 * {@code --backend} flag and passes the result down; nothing below asks what backend it runs on.
 *
 * <p>Backends are found with {@link ServiceLoader}: the kernels module registers {@code cpu} (the
 * Vector API kernels), the optional tornado module (built only with {@code -Ptornado}) registers
 * {@code tornado}. A provider's constructor must be cheap and must not touch its runtime: the
 * runtime is started on the first {@link #ops()}.
 */
public interface Backend {
    /** System property read when no backend name is given. */
    String PROPERTY = "laconic.backend";
    /** The backend used when neither a name nor the property is given. */
    String DEFAULT = "cpu";
    /** Backends Laconic knows of, for the message when one is asked for that is not in this build. */
    List<String> KNOWN = List.of("cpu", "tornado");
    /** Why tornado is missing from this build, and how to get it. */
    String HOW_TO_BUILD_TORNADO = "the tornado backend is not in this build of Laconic: build it with the TornadoVM "
            + "profile (./mvnw -Ptornado -DskipTests package; ./laconic does this when TORNADOVM_HOME is set), "
            + "then run with TORNADOVM_HOME pointing at a TornadoVM SDK (see tornado/README.md)";

    /** The name users type: {@code cpu}, {@code tornado}. */
    String name();

    /** The ops of this backend (started on first call; the same instance afterwards). */
    Ops ops();

    /** An optional capability of this backend beyond {@link Ops} (e.g. a device decoder); empty by default. */
    default <T> Optional<T> extension(Class<T> type) { return Optional.empty(); }

    /**
     * The backend called {@code name} (case and surrounding blanks ignored); null: the {@value #PROPERTY}
     * property, else {@value #DEFAULT}. Unknown names end in an {@link IllegalArgumentException}, a known
     * backend missing from this build in an {@link IllegalStateException} saying how to get it.
     */
    static Backend named(String name) {
        String n = (name != null ? name : System.getProperty(PROPERTY, DEFAULT)).strip().toLowerCase(Locale.ROOT);
        Backend b = Registry.find(n);
        if (b != null) return b;
        if (n.equals("tornado")) throw new IllegalStateException(HOW_TO_BUILD_TORNADO);
        if (KNOWN.contains(n))
            throw new IllegalStateException("the " + n + " backend is not in this build of Laconic (found: " + String.join(", ", Registry.names()) + ")");
        throw new IllegalArgumentException("unknown backend '" + n + "': choose " + String.join(" or ", KNOWN));
    }

    /** The providers ServiceLoader finds, loaded once: each backend (and so its device) exists once per JVM. */
    final class Registry {
        private static List<Backend> all;

        private Registry() {}

        static synchronized Backend find(String name) {
            for (Backend b : all()) if (b.name().equals(name)) return b;
            return null;
        }

        static synchronized List<String> names() {
            List<String> names = new ArrayList<>();
            for (Backend b : all()) names.add(b.name());
            return names;
        }

        private static List<Backend> all() {
            if (all == null) {
                List<Backend> found = new ArrayList<>();
                try {
                    for (Backend b : ServiceLoader.load(Backend.class, Backend.class.getClassLoader())) found.add(b);
                } catch (ServiceConfigurationError | LinkageError e) {
                    throw new IllegalStateException("a backend of this build failed to load: " + e.getMessage(), e);
                }
                all = List.copyOf(found);
            }
            return all;
        }
    }
}
