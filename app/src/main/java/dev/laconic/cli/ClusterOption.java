package dev.laconic.cli;

import dev.laconic.cluster.ClusterBackend;
import dev.laconic.cluster.ClusterOptions;
import dev.laconic.compression.generation.GenerationBackend;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code --cluster HOST:PORT[,...]}: the commands that generate (eval, compress rl/tldr/tldr-data, generate --in) hand
 * their chunks to the workers there; without it (and without {@code -Dlaconic.cluster}) everything runs in this
 * process and no port is opened.
 */
public final class ClusterOption {
    @Option(names = "--cluster", paramLabel = "HOST:PORT[,...]", defaultValue = "${sys:" + ClusterOptions.PROPERTY + ":-}",
            description = "decode on the Laconic workers at these addresses (see `worker`); same samples, bit for bit (default: in this "
                    + "process; or -D" + ClusterOptions.PROPERTY + ")")
    String cluster;

    @Mixin Access access;

    @Option(names = "--cluster-shared", paramLabel = "DIR", description = "full fine-tuning with --cluster: a directory every machine "
            + "sees at the same path (shared storage), where each policy version's weights are written (default: the temporary directory, "
            + "for workers on this machine)")
    Path shared;

    /** The cluster's name and secret: a member or trainer with others is not let in. */
    public static final class Access {
        @Option(names = "--cluster-name", defaultValue = ClusterOptions.DEFAULT_NAME, description = "cluster name (default: ${DEFAULT-VALUE})")
        String name;

        @Option(names = "--cluster-secret", paramLabel = "SECRET", defaultValue = "${env:" + ClusterOptions.SECRET_ENV + ":-}",
                description = "shared secret every member and trainer must give (default: $" + ClusterOptions.SECRET_ENV + ", else none)")
        String secret;

        ClusterOptions options(List<String> members, String bind, String publicAddress, Integer port, Path shared) {
            return new ClusterOptions(members, name, secret, bind, publicAddress, port, shared);
        }
    }

    /** The backend to generate with: this process, or a connection to the cluster (closed by the caller). */
    public Backend open(PrintStream err) {
        if (cluster == null || cluster.isBlank()) return new Backend(GenerationBackend.IN_PROCESS, null);
        ClusterBackend c = ClusterBackend.connect(access.options(ClusterOptions.parseMembers(cluster), null, null, null, shared), err);
        return new Backend(c, c);
    }

    /** A generation backend and what to close after it. */
    public record Backend(GenerationBackend generation, AutoCloseable connection) implements AutoCloseable {
        @Override
        public void close() throws Exception {
            if (connection != null) connection.close();
        }
    }
}
