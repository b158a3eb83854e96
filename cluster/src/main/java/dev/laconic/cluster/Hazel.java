package dev.laconic.cluster;

import com.hazelcast.client.config.ClientConfig;
import com.hazelcast.config.Config;
import com.hazelcast.config.ExecutorConfig;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.MapConfig;
import com.hazelcast.config.NetworkConfig;

/**
 * The one place where Hazelcast is configured, for the workers (members) and the trainer (a client). Everything that
 * could reach beyond the listed addresses is off: multicast, cloud auto-detection, phone-home, the REST and memcache
 * endpoints; members bind to 127.0.0.1 unless told otherwise; Hazelcast's own logging is off (Laconic prints one line
 * per join and leave).
 */
final class Hazel {
    /** The executor that runs chunks: one at a time per worker (a chunk uses every kernel thread). */
    static final String CHUNKS = "laconic.chunks";
    /** LoRA adapter tensors, one entry per (session, version, tensor). */
    static final String ADAPTERS = "laconic.adapters";
    /** Member attribute: the Laconic build ({@link Digests#build()}). */
    static final String BUILD = "laconic.build";
    static final String LOCALHOST = "127.0.0.1";

    private Hazel() {}

    static {
        System.setProperty("hazelcast.phone.home.enabled", "false");   // also read as a system property by both sides
        System.setProperty("hazelcast.logging.type", "none");
    }

    static Config member(ClusterOptions o) {
        Config c = new Config();
        c.setClusterName(o.hazelcastName());
        c.setProperty("hazelcast.phone.home.enabled", "false");
        c.setProperty("hazelcast.logging.type", "none");
        c.setProperty("hazelcast.health.monitoring.level", "OFF");
        c.setProperty("hazelcast.heartbeat.interval.seconds", "1");
        c.setProperty("hazelcast.max.no.heartbeat.seconds", "10");
        c.setProperty("hazelcast.merge.first.run.delay.seconds", "10");
        c.setProperty("hazelcast.merge.next.run.delay.seconds", "10");
        c.setProperty("hazelcast.wait.seconds.before.join", "1");
        NetworkConfig net = c.getNetworkConfig();
        net.setPort(o.port() != null ? o.port() : ClusterOptions.DEFAULT_PORT);
        net.setPortAutoIncrement(o.port() == null);
        String bind = o.bind() != null ? o.bind() : o.publicAddress() == null ? LOCALHOST : null;
        if (bind != null) {
            c.setProperty("hazelcast.socket.bind.any", "false");
            c.setProperty("hazelcast.local.localAddress", bind);
            net.getInterfaces().setEnabled(true).addInterface(bind);
        }
        if (o.publicAddress() != null) net.setPublicAddress(o.publicAddress());
        net.getRestApiConfig().setEnabled(false);
        net.getMemcacheProtocolConfig().setEnabled(false);
        JoinConfig join = net.getJoin();
        join.getMulticastConfig().setEnabled(false);
        join.getAutoDetectionConfig().setEnabled(false);
        join.getTcpIpConfig().setEnabled(true).setMembers(o.members());
        c.getJetConfig().setEnabled(false);
        c.getMemberAttributeConfig().setAttribute(BUILD, Digests.build());
        c.addExecutorConfig(new ExecutorConfig(CHUNKS).setPoolSize(1).setStatisticsEnabled(false));
        c.addMapConfig(new MapConfig(ADAPTERS).setBackupCount(1).setMaxIdleSeconds(3600));
        return c;
    }

    static ClientConfig client(ClusterOptions o) {
        ClientConfig c = new ClientConfig();
        c.setClusterName(o.hazelcastName());
        c.setProperty("hazelcast.logging.type", "none");
        c.setProperty("hazelcast.client.heartbeat.interval", "1000");
        c.setProperty("hazelcast.client.heartbeat.timeout", "10000");
        c.getNetworkConfig().setAddresses(o.members());
        c.getNetworkConfig().getAutoDetectionConfig().setEnabled(false);
        c.getConnectionStrategyConfig().getConnectionRetryConfig().setClusterConnectTimeoutMillis(30_000).setMaxBackoffMillis(2_000);
        c.getMetricsConfig().setEnabled(false);
        return c;
    }
}
