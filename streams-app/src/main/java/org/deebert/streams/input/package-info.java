/**
 * Input formats: how a record of the input topic becomes the {@code TextEvent} the rest of the topology
 * validates, buffers and classifies. {@link org.deebert.streams.input.InputFormat} names the formats
 * ({@code text-event}, {@code avro}, {@code json}, {@code string}); {@link org.deebert.streams.input.InputSettings}
 * reads {@code input.format}, the {@code input.field.*} mapping ({@link org.deebert.streams.input.FieldPath}, dotted
 * paths into nested records and objects) and {@code output.include.text};
 * {@link org.deebert.streams.input.InputDecoders} builds the value deserializer of a format, and
 * {@link org.deebert.streams.input.RecordFallbacks} fills what a record's value did not say (the id from the key or
 * the record's coordinates, the event time from the record timestamp). A value that does not fit its mapping throws
 * {@link org.deebert.streams.input.InputFieldException}, which the dead-letter handlers turn into a code. Depends only
 * on {@code registry} and the generated schema classes.
 */
package org.deebert.streams.input;
