package org.deebert.streams.benchmark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.deebert.streams.registry.AvroLengthBounds;
import org.deebert.streams.registry.SchemaRegistryClient;
import org.deebert.streams.registry.SpecificAvroSerde;
import org.deebert.streams.schema.TextEvent;
import org.deebert.streams.topology.InFlightJournal;

/**
 * What the service's fault guards cost per event, beside what they protect: the length check every input body
 * passes before Avro decodes it ({@link AvroLengthBounds}, in µs per record, next to the whole decode) and the
 * in-flight journal written before and deleted after each classifier call ({@link InFlightJournal}, in µs per
 * call of {@code --batch} records). Compare with the classifier's own time per event (milliseconds, see
 * {@code ClassifierBenchmark}).
 *
 * <pre>
 *   java -cp CP org.deebert.streams.benchmark.GuardCostBenchmark TEST_JSONL [--limit N] [--batch B] [--rounds R]
 * </pre>
 * Events are the first N texts of a JSON-lines split ({@code text} field). The registry is a stand-in holding the
 * {@code TextEvent} schema under id 1 (no HTTP in the timed loop, as in the service once the id is cached). The
 * journal is written to a temporary directory. Prints one line per round; the first rounds include JIT warm-up.
 */
public final class GuardCostBenchmark {

    private GuardCostBenchmark() {
    }

    /**
     * @param args TEST_JSONL [--limit N (256)] [--batch B (32)] [--rounds R (5)]
     * @throws IOException if the split or the temporary directory cannot be read or written
     */
    public static void main(String[] args) throws IOException {
        Path split = Path.of(args[0]);
        int limit = 256;
        int batch = 32;
        int rounds = 5;
        for (int i = 1; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--limit" -> limit = Integer.parseInt(args[i + 1]);
                case "--batch" -> batch = Integer.parseInt(args[i + 1]);
                case "--rounds" -> rounds = Integer.parseInt(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        SchemaRegistryClient registry = new SchemaRegistryClient() {
            @Override
            public int register(String subject, Schema schema) {
                return 1;
            }

            @Override
            public Schema getById(int id) {
                return TextEvent.getClassSchema();
            }
        };
        SpecificAvroSerde<TextEvent> serde = new SpecificAvroSerde<>(TextEvent.class, registry, false);
        ObjectMapper json = new ObjectMapper();
        List<byte[]> records = new ArrayList<>();
        long bytes = 0;
        for (String line : Files.readAllLines(split)) {
            if (records.size() >= limit) {
                break;
            }
            JsonNode row = json.readTree(line);
            TextEvent e = TextEvent.newBuilder().setId("e-" + records.size()).setText(row.path("text").asText())
                    .setEventTime(Instant.EPOCH).setAttributes(Map.of("source", "benchmark")).build();
            byte[] framed = serde.serializer().serialize("text-events", e);
            records.add(framed);
            bytes += framed.length;
        }
        System.out.printf("%d records, mean %.0f bytes; journal calls of %d records%n", records.size(),
                (double) bytes / records.size(), batch);
        Path dir = Files.createTempDirectory("deebert-guard-cost");
        InFlightJournal journal = InFlightJournal.open(InFlightJournal.file(dir, "benchmark", 0));
        List<InFlightJournal.Coordinates> call = new ArrayList<>();
        for (int i = 0; i < batch; i++) {
            call.add(new InFlightJournal.Coordinates("text-events", 0, 1_000_000L + i));
        }
        Schema schema = TextEvent.getClassSchema();
        int passes = Math.max(1, 200_000 / records.size());
        for (int round = 1; round <= rounds; round++) {
            long t0 = System.nanoTime();
            for (int p = 0; p < passes; p++) {
                for (byte[] r : records) {
                    AvroLengthBounds.check(schema, r, 5, r.length - 5);
                }
            }
            long t1 = System.nanoTime();
            for (int p = 0; p < passes; p++) {
                for (byte[] r : records) {
                    serde.deserializer().deserialize("text-events", r);
                }
            }
            long t2 = System.nanoTime();
            int calls = 2_000;
            for (int c = 0; c < calls; c++) {
                journal.begin(call);
                journal.end(call);
            }
            long t3 = System.nanoTime();
            double n = (double) passes * records.size();
            System.out.printf("round %d: length check %.2f us/record; whole decode incl. check %.2f us/record; "
                    + "journal %.1f us/call = %.2f us/event%n", round, (t1 - t0) / 1e3 / n, (t2 - t1) / 1e3 / n,
                    (t3 - t2) / 1e3 / calls, (t3 - t2) / 1e3 / calls / batch);
        }
    }
}
