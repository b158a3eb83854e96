package dev.laconic.bench;

import dev.laconic.tensor.Backend;
import picocli.CommandLine.Option;

/**
 * {@code --backend cpu|tornado}, the one option that picks where a command computes: every command
 * that computes mixes it in, calls {@link #backend()} once at its entry and passes the result down.
 * It lives here, in the lowest module with commands (bench decode and bench train), so that the app's
 * commands and bench's share this one class. The default is the {@value Backend#PROPERTY} system
 * property, else {@value Backend#DEFAULT}; --help shows the value in effect.
 */
public final class BackendOption {
    @Option(names = "--backend", paramLabel = "cpu|tornado", defaultValue = "${sys:" + Backend.PROPERTY + ":-" + Backend.DEFAULT + "}",
            description = "kernels: cpu (Vector API) or tornado (TornadoVM, a GPU; needs TORNADOVM_HOME, see tornado/README.md); "
                    + "default: the laconic.backend system property, else cpu (now: ${DEFAULT-VALUE})")
    String name;

    /** The name as given (null when this option was made outside picocli: then the property, else cpu, is meant). */
    public String name() {
        return name != null ? name : System.getProperty(Backend.PROPERTY, Backend.DEFAULT);
    }

    /** The backend the option names ({@link Backend#named}): a missing or unknown one ends in one clear line. */
    public Backend backend() {
        return Backend.named(name);
    }
}
