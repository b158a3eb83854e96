package dev.laconic.cluster;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * How to reach (or form) a Laconic cluster. Safe by default: members bind to 127.0.0.1 only, join by the listed
 * addresses (TCP/IP; no multicast, no cloud auto-detection, no phone-home), and a member or trainer whose cluster
 * name or secret differs is not let in.
 *
 * @param members       HOST:PORT of workers (a trainer connects to them; a worker joins them)
 * @param name          the cluster name
 * @param secret        a shared secret, or null; it becomes part of the cluster name as a SHA-256 digest, which
 *                      Hazelcast checks on every join and client connection (the digest travels unencrypted: on an
 *                      untrusted network run the cluster inside a VPN or SSH tunnels)
 * @param bind          the address members listen on; null: 127.0.0.1, or every interface with a public address
 * @param publicAddress the address other machines reach this member at (NAT, containers), or null
 * @param port          the member port, or null: 5701 and up (the next free one)
 * @param shared        full fine-tuning only: a directory every machine sees at the same path (NFS, ...) where the
 *                      trainer writes each policy version's weights; null: the system's temporary directory, which
 *                      only serves workers on this machine
 */
public record ClusterOptions(List<String> members, String name, String secret, String bind, String publicAddress, Integer port,
                             Path shared) {
    public static final String PROPERTY = "laconic.cluster", SECRET_ENV = "LACONIC_CLUSTER_SECRET", DEFAULT_NAME = "laconic";
    public static final int DEFAULT_PORT = 5701;

    public ClusterOptions {
        members = List.copyOf(members);
        for (String m : members) address(m);
        if (name == null || name.isBlank()) throw new IllegalArgumentException("cluster name: empty");
        if (secret != null && secret.isEmpty()) secret = null;
        if (port != null && (port < 1 || port > 65535)) throw new IllegalArgumentException("port must be in 1..65535, got " + port);
    }

    /** "HOST:PORT[,HOST:PORT...]" as a list; each entry checked. */
    public static List<String> parseMembers(String list) {
        List<String> out = new ArrayList<>();
        for (String s : list.split(",")) {
            String t = s.trim();
            if (t.isEmpty()) continue;
            address(t);
            out.add(t);
        }
        if (out.isEmpty()) throw new IllegalArgumentException("cluster: no HOST:PORT in \"" + list + "\"");
        return out;
    }

    private static void address(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        if (colon <= 0 || colon == hostPort.length() - 1)
            throw new IllegalArgumentException("cluster: \"" + hostPort + "\" is not HOST:PORT (e.g. 127.0.0.1:5701)");
        try {
            int p = Integer.parseInt(hostPort.substring(colon + 1));
            if (p < 1 || p > 65535) throw new NumberFormatException();
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("cluster: \"" + hostPort + "\" has no valid port (1..65535)");
        }
    }

    /** The name Hazelcast compares: the cluster name, and with a secret a digest of both. */
    String hazelcastName() {
        return secret == null ? name : name + "-" + Digests.sha256Hex((name + "\0" + secret).getBytes(java.nio.charset.StandardCharsets.UTF_8)).substring(0, 32);
    }
}
