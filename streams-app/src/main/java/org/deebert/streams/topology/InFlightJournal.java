package org.deebert.streams.topology;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Remembers on local disk which input records are being classified right now, so that a record whose
 * classification kills the process (a native crash in TensorFlow, an {@code OutOfMemoryError} with
 * {@code -XX:+ExitOnOutOfMemoryError}, an operator's kill -9 at the wrong moment) or its stream thread is known
 * after the restart. Under exactly-once the restarted service re-reads the same uncommitted records, so without
 * this a record that kills the process would kill every restart (a crash loop).
 *
 * <p>How it is used ({@link BatchingClassifyProcessor}): before each classifier call, {@link #begin} writes the
 * call's records with one more strike than they had; after the call, {@link #end} deletes the file. A file found
 * at start therefore lists the records of a call that never returned, each with the number of such calls it was
 * in. The processor classifies a record with one strike alone (so the next death, if any, names it alone), and
 * dead-letters a record with {@value #POISON_STRIKES} strikes as {@code POISON_RECORD} without classifying it.
 * A poison record thus costs at most two restarts, and the batch-mates of the first death are classified one at
 * a time, not dead-lettered.
 *
 * <p>The file lives outside Kafka Streams' task directories ({@code <state.dir>/deebert-in-flight/<application.id>/
 * partition-<p>}), which Kafka Streams may wipe after an unclean shutdown. It is plain text, one record per line
 * ({@code strikes TAB partition TAB offset TAB topic}), written to a temporary file and moved into place, and not
 * transactional: it must survive exactly the crashes that abort the transaction. Not fsync'ed: it is for process
 * deaths, after which the operating system still holds the write; a host crash may lose it (then the record is
 * classified again, as without the journal). A partition that moves to another instance leaves its journal
 * behind: the guarantee needs the restart to happen where the crash did (a restarted container with its state
 * directory, or a named instance with static membership).
 */
public final class InFlightJournal {

    /** Deaths during calls that held a record, the last with the record alone, after which it is dead-lettered. */
    public static final int POISON_STRIKES = 2;
    private static final Logger LOG = LoggerFactory.getLogger(InFlightJournal.class);

    /**
     * Where an input record was read from.
     *
     * @param topic     input topic
     * @param partition its partition
     * @param offset    its offset
     */
    public record Coordinates(String topic, int partition, long offset) {
    }

    private final Path file;
    private final Map<Coordinates, Integer> strikes;
    private boolean open;
    /** Set after a write failed (a read-only or full disk): classification goes on, unprotected, with one ERROR line. */
    private boolean broken;

    private InFlightJournal(Path file, Map<Coordinates, Integer> strikes) {
        this.file = file;
        this.strikes = strikes;
    }

    /**
     * @param stateDir      Kafka Streams' {@code state.dir}
     * @param applicationId the application id
     * @param partition     the input partition of the task
     * @return the journal file of that task
     */
    public static Path file(Path stateDir, String applicationId, int partition) {
        return stateDir.resolve("deebert-in-flight").resolve(applicationId).resolve("partition-" + partition);
    }

    /**
     * Opens a task's journal and reads what a dead predecessor left: the records of its unfinished call.
     *
     * @param file the journal file ({@link #file})
     * @return the journal
     * @throws UncheckedIOException when the directory cannot be created
     */
    public static InFlightJournal open(Path file) {
        Map<Coordinates, Integer> strikes = new HashMap<>();
        try {
            Files.createDirectories(file.getParent());
            if (Files.exists(file)) {
                for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                    String[] f = line.split("\t", 4);
                    if (f.length == 4) {
                        try {
                            strikes.put(new Coordinates(f[3], Integer.parseInt(f[1]), Long.parseLong(f[2])),
                                    Integer.parseInt(f[0]));
                        } catch (NumberFormatException e) {
                            // A line cut short by the crash: that record is classified as if never journaled.
                        }
                    }
                }
                LOG.warn("Found {} records of a classifier call that never returned (the process or its stream thread "
                        + "died); they are classified one at a time, and a record in such a call for the {}th time is "
                        + "dead-lettered as POISON_RECORD", strikes.size(), POISON_STRIKES);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the in-flight journal " + file, e);
        }
        return new InFlightJournal(file, strikes);
    }

    /**
     * @param record an input record
     * @return how many classifier calls that held it never returned (0 for most records)
     */
    public int strikes(Coordinates record) {
        return strikes.getOrDefault(record, 0);
    }

    /**
     * Records a classifier call's records, each with one more strike, before the call.
     *
     * @param records the call's records (records without coordinates are left out by the caller)
     */
    public void begin(List<Coordinates> records) {
        if (broken) {
            return;
        }
        StringBuilder text = new StringBuilder(records.size() * 48);
        for (Coordinates c : records) {
            text.append(strikes(c) + 1).append('\t').append(c.partition()).append('\t').append(c.offset())
                    .append('\t').append(c.topic()).append('\n');
        }
        Path temporary = file.resolveSibling(file.getFileName() + ".tmp");
        try {
            Files.writeString(temporary, text, StandardCharsets.UTF_8);
            Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            fail(e);
            return;
        }
        open = true;
    }

    /**
     * The call returned (with results or an exception): its records are no longer suspects.
     *
     * @param records the call's records
     */
    public void end(List<Coordinates> records) {
        records.forEach(strikes::remove);
        if (open) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException e) {
                fail(e);
            }
            open = false;
        }
    }

    private void fail(IOException e) {
        broken = true;
        LOG.error("Cannot write the in-flight journal {} ({}): classification goes on, but a record that kills the "
                + "process is no longer recognised after the restart", file, e.toString());
    }

    /** Forgets a record without classifying it (it was dead-lettered). */
    public void forget(Coordinates record) {
        strikes.remove(record);
    }

    /** @return whether any record still has a strike */
    public boolean hasSuspects() {
        return !strikes.isEmpty();
    }
}
