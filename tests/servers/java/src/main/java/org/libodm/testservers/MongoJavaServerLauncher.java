package org.libodm.testservers;

import java.util.concurrent.CountDownLatch;

import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.ServerVersion;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;

/**
 * Runs mongo-java-server (in-memory backend) on 127.0.0.1 until killed.
 *
 * Usage: java -cp mongo-java-server-launcher.jar \
 *            org.libodm.testservers.MongoJavaServerLauncher PORT [3.6|4.0|5.0]
 *
 * The optional second argument selects the MongoDB version the server reports
 * (default: the library's default). Only loopback is ever bound.
 */
public final class MongoJavaServerLauncher {

    private MongoJavaServerLauncher() {
    }

    public static void main(String[] args) throws InterruptedException {
        if (args.length < 1 || args.length > 2) {
            System.err.println("usage: MongoJavaServerLauncher PORT [3.6|4.0|5.0]");
            System.exit(2);
        }
        int port;
        try {
            port = Integer.parseInt(args[0]);
        } catch (NumberFormatException e) {
            System.err.println("invalid port: " + args[0]);
            System.exit(2);
            return;
        }
        if (port < 1 || port > 65535) {
            System.err.println("port out of range: " + port);
            System.exit(2);
        }

        MemoryBackend backend = new MemoryBackend();
        if (args.length == 2) {
            switch (args[1]) {
                case "3.6": backend.version(ServerVersion.MONGO_3_6); break;
                case "4.0": backend.version(ServerVersion.MONGO_4_0); break;
                case "5.0": backend.version(ServerVersion.MONGO_5_0); break;
                default:
                    System.err.println("unknown server version: " + args[1]);
                    System.exit(2);
            }
        }

        MongoServer server = new MongoServer(backend);
        server.bind("127.0.0.1", port);

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                server.shutdownNow();
            } finally {
                stopped.countDown();
            }
        }, "mongo-java-server-shutdown"));

        System.err.println("mongo-java-server listening on " + server.getConnectionString());
        stopped.await();
    }
}
