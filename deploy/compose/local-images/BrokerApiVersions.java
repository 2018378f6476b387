import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;

/**
 * The Kafka stand-in image's {@code kafka-broker-api-versions.sh --bootstrap-server HOST:PORT}: exits 0 once
 * the broker answers a client request (describeCluster, 15 s timeout) and prints its node ids, else prints
 * the error and exits 1. Compiled by deploy/compose/build-local-images.sh against kafka-clients.
 */
public final class BrokerApiVersions {
    public static void main(String[] args) {
        if (args.length != 2 || !args[0].equals("--bootstrap-server")) {
            System.err.println("usage: kafka-broker-api-versions.sh --bootstrap-server HOST:PORT");
            System.exit(2);
        }
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, args[1]);
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
        try (Admin admin = Admin.create(p)) {
            var nodes = admin.describeCluster(new DescribeClusterOptions().timeoutMs(15_000)).nodes().get(20, TimeUnit.SECONDS);
            System.out.println("broker answers: nodes " + nodes.stream().map(n -> Integer.toString(n.id())).toList());
        } catch (Exception e) {
            System.err.println("broker does not answer: " + e);
            System.exit(1);
        }
    }
}
