package dev.laconic.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The peers' class path comes from the file -Dlaconic.peers names; without it, one line says how to build them. */
class PeersTest {

    @Test
    void missingPeersAreOneLineThatSaysHowToBuildThem(@TempDir Path tmp) {
        for (String file : new String[]{null, "", tmp.resolve("peers.classpath").toString()}) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> Peers.classPath(file));
            assertEquals(1, e.getMessage().lines().count(), e.getMessage());
            assertTrue(e.getMessage().endsWith("build the peers: ./mvnw -pl bench/peers -am package"), e.getMessage());
        }
    }

    @Test
    void theFileHoldsTheClassPath(@TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("peers.classpath");
        Files.writeString(f, "/a/classes:/b.jar\n");
        assertEquals("/a/classes:/b.jar", Peers.classPath(f.toString()));
    }
}
