package org.deebert.streams.topology;

import org.deebert.streams.deadletter.DeadLetterCode;
import org.deebert.streams.deadletter.ReservedHeaders;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Set;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * Which input headers an output record carries (settings {@code headers.forward} and
 * {@code headers.forward.max}).
 *
 * <p>Reserved headers never pass: ours ({@value #OWN_PREFIX}*, e.g. {@value DeadLetterCode#HEADER}) and Kafka
 * Streams' dead-letter headers ({@value #STREAMS_ERRORS_PREFIX}*). Both only mean something when this service
 * (or Kafka Streams) wrote them; copied from an input they would let a producer mark a classified record as
 * failed, or carry a stale code from a re-fed dead-letter record. Of the other headers, {@link Mode#ALL}
 * forwards every one, {@link Mode#NONE} none, {@link Mode#ALLOW_LIST} only those named; at most
 * {@code max} are forwarded, in input order, so one input with thousands of headers cannot make every output
 * record as large.
 *
 * @param mode      which non-reserved headers pass
 * @param allowList the header names that pass in {@link Mode#ALLOW_LIST} mode (exact, case-sensitive, as Kafka
 *                  header names are); empty otherwise
 * @param max       most headers forwarded per record (>= 0); later ones are dropped
 */
public record HeaderForwarding(Mode mode, Set<String> allowList, int max) {

    /** Prefix of the headers this service writes (dead-letter code); defined in {@link ReservedHeaders}. */
    public static final String OWN_PREFIX = ReservedHeaders.OWN_PREFIX;
    /** Prefix of Kafka Streams' dead-letter headers (KIP-1034); defined in {@link ReservedHeaders}. */
    public static final String STREAMS_ERRORS_PREFIX = ReservedHeaders.STREAMS_ERRORS_PREFIX;
    /** Default of {@code headers.forward.max}. */
    public static final int DEFAULT_MAX = 64;
    /** Forward every non-reserved header, up to {@value #DEFAULT_MAX}. */
    public static final HeaderForwarding DEFAULTS = new HeaderForwarding(Mode.ALL, Set.of(), DEFAULT_MAX);

    /** Which non-reserved input headers an output record carries. */
    public enum Mode {
        /** Every one (setting value {@code all}). */
        ALL,
        /** None (setting value {@code none}). */
        NONE,
        /** Those named in the allow-list (setting value: the comma-separated names). */
        ALLOW_LIST
    }

    /** @throws IllegalArgumentException if a value is out of range or the allow-list does not fit the mode */
    public HeaderForwarding {
        if (mode == null) {
            throw new IllegalArgumentException("headers.forward mode is missing");
        }
        allowList = allowList == null ? Set.of() : Set.copyOf(allowList);
        if ((mode == Mode.ALLOW_LIST) == allowList.isEmpty()) {
            throw new IllegalArgumentException("headers.forward: an allow-list goes with, and only with, mode ALLOW_LIST");
        }
        if (max < 0) {
            throw new IllegalArgumentException("headers.forward.max must be >= 0, got " + max);
        }
    }

    /**
     * Parses the two settings.
     *
     * @param forward {@code all}, {@code none} (either in any case) or a comma-separated list of header names
     * @param max     most headers forwarded per record (>= 0)
     * @return the policy
     * @throws IllegalArgumentException if {@code forward} is blank, names a reserved header or {@code max} is negative
     */
    public static HeaderForwarding parse(String forward, int max) {
        String value = forward == null ? "" : forward.trim();
        if (value.isEmpty()) {
            throw new IllegalArgumentException("headers.forward must be all, none or a comma-separated list of header names");
        }
        switch (value.toLowerCase(Locale.ROOT)) {
            case "all":
                return new HeaderForwarding(Mode.ALL, Set.of(), max);
            case "none":
                return new HeaderForwarding(Mode.NONE, Set.of(), max);
            default:
                Set<String> names = new LinkedHashSet<>();
                Arrays.stream(value.split(",")).map(String::trim).filter(n -> !n.isEmpty()).forEach(names::add);
                for (String name : names) {
                    if (isReserved(name)) {
                        throw new IllegalArgumentException("headers.forward cannot forward the reserved header " + name);
                    }
                }
                return new HeaderForwarding(Mode.ALLOW_LIST, names, max);
        }
    }

    /**
     * @param key a header name
     * @return whether it is ours or Kafka Streams' error header, which no input may set on an output
     */
    public static boolean isReserved(String key) {
        return ReservedHeaders.isReserved(key);
    }

    /**
     * @param input the input record's headers (not modified)
     * @return the input's headers without the reserved ones, for its dead-letter record (which then gets fresh
     *         reserved headers of its own); no cap: a dead-letter record keeps everything needed to replay it
     */
    public static Headers withoutReserved(Headers input) {
        return ReservedHeaders.withoutReserved(input);
    }

    /**
     * @param input the input record's headers (not modified)
     * @return the headers its output record carries; {@link Result#dropped()} counts the headers that would
     *         have passed but exceeded {@code max}
     */
    public Result forOutput(Headers input) {
        RecordHeaders out = new RecordHeaders();
        int kept = 0;
        int dropped = 0;
        if (input != null && mode != Mode.NONE) {
            for (Header h : input) {
                if (isReserved(h.key()) || (mode == Mode.ALLOW_LIST && !allowList.contains(h.key()))) {
                    continue;
                }
                if (kept < max) {
                    out.add(h);
                    kept++;
                } else {
                    dropped++;
                }
            }
        }
        return new Result(out, dropped);
    }

    /**
     * The headers of one output record.
     *
     * @param headers the headers to forward
     * @param dropped how many forwardable headers were dropped because of {@code headers.forward.max}
     */
    public record Result(Headers headers, int dropped) {
    }
}
