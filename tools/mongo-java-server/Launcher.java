import de.bwaldvogel.mongo.MongoBackend;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;

/**
 * Local MongoDB wire-protocol server for development and tests, used only when neither mongod nor
 * ferretdb is installed. Usage: Launcher PORT [H2_FILE]. Without H2_FILE data lives in memory.
 */
public class Launcher {
  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    MongoBackend backend = args.length > 1 ? new H2Backend(args[1]) : new MemoryBackend();
    MongoServer server = new MongoServer(backend);
    server.bind("127.0.0.1", port);
    // shutdown() also closes the backend, which flushes the H2 file; runs on SIGTERM and SIGINT.
    Runtime.getRuntime().addShutdownHook(new Thread(server::shutdown));
    System.out.println("mongo-java-server listening on 127.0.0.1:" + port);
    Thread.currentThread().join();
  }
}
