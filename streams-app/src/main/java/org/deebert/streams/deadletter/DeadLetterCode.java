package org.deebert.streams.deadletter;

import org.deebert.streams.input.InputFieldException;
import org.deebert.streams.registry.WireFormatException;

/**
 * Why a record went to the dead-letter topic; written as the UTF-8 value of the {@value #HEADER} header,
 * next to Kafka Streams' own {@code __streams.errors.*} headers (which name the exception, not a code).
 */
public enum DeadLetterCode {
    /** The TextEvent's {@code id} is empty or blank. */
    MISSING_ID,
    /** The record has no value (null bytes) on the input topic. */
    NULL_VALUE,
    /** The TextEvent's {@code text}, or the {@code text_pair} a sentence-pair model needs, has no visible character ({@code EmptyText}). */
    EMPTY_TEXT,
    /** The TextEvent's {@code text} or {@code text_pair} is longer than {@code max.text.chars}. */
    TEXT_TOO_LONG,
    /** The model classifies sentence pairs (model card {@code input.text_pair}) but the TextEvent has no {@code text_pair}. */
    MISSING_TEXT_PAIR,
    /** The model classifies single texts but the TextEvent has a {@code text_pair} (even an empty one). */
    UNEXPECTED_TEXT_PAIR,
    /** The value bytes are not in the Confluent wire format (no 0x00 + schema id header). */
    NOT_WIRE_FORMAT,
    /** The schema id in the value header is unknown to the Schema Registry. */
    UNKNOWN_SCHEMA_ID,
    /** The Avro body does not decode with its writer schema into a TextEvent. */
    UNDECODABLE_AVRO,
    /**
     * A length or item count in the Avro body claims more than the record could hold (a body cut short inside a
     * value, or a hostile one such as a 27-byte record claiming a 2 GiB string); found before anything is
     * allocated for it.
     */
    LENGTH_EXCEEDS_RECORD,
    /**
     * The process or its stream thread died twice while classifying this record, the second time with the
     * record alone ({@link org.deebert.streams.topology.InFlightJournal}): it is not classified again, so that the pipeline gets past it.
     */
    POISON_RECORD,
    /**
     * A field the input mapping requires ({@code input.field.text}, or {@code input.field.id} when set) is absent
     * from the {@code avro} or {@code json} value, or null; the message names the path.
     */
    FIELD_MISSING,
    /** A mapped field of an {@code avro} or {@code json} value (or a value on its path) has the wrong type; the message names the path. */
    FIELD_TYPE,
    /** The value of the {@code json} format is not valid UTF-8 JSON, or is JSON but not an object. */
    UNDECODABLE_JSON,
    /** The value of the {@code string} format is not valid UTF-8. */
    UNDECODABLE_TEXT,
    /** The classifier threw for this record, even when classified alone. */
    CLASSIFIER_FAILURE,
    /** Any other failure while deserializing a record. */
    DESERIALIZATION_FAILURE,
    /** Any other failure while processing a record. */
    PROCESSING_FAILURE;

    /** Name of the record header that carries the code. */
    public static final String HEADER = "deebert.error.code";

    /**
     * @param reason why a wire-format conversion failed
     * @return the matching code; DESERIALIZATION_FAILURE for reasons that have no code of their own
     */
    public static DeadLetterCode of(WireFormatException.Reason reason) {
        return switch (reason) {
            case NOT_WIRE_FORMAT -> NOT_WIRE_FORMAT;
            case UNKNOWN_SCHEMA_ID -> UNKNOWN_SCHEMA_ID;
            case UNDECODABLE_AVRO -> UNDECODABLE_AVRO;
            case LENGTH_EXCEEDS_RECORD -> LENGTH_EXCEEDS_RECORD;
            default -> DESERIALIZATION_FAILURE;
        };
    }

    /**
     * @param reason why an input value did not fit its format or field mapping
     * @return the matching code
     */
    public static DeadLetterCode of(InputFieldException.Reason reason) {
        return switch (reason) {
            case FIELD_MISSING -> FIELD_MISSING;
            case FIELD_TYPE -> FIELD_TYPE;
            case UNDECODABLE_JSON -> UNDECODABLE_JSON;
            case UNDECODABLE_TEXT -> UNDECODABLE_TEXT;
        };
    }
}
