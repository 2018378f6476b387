/**
 * Dead letters: why a record could not be classified ({@link org.deebert.streams.deadletter.DeadLetterCode}),
 * the headers that carry the reason beside the original bytes
 * ({@link org.deebert.streams.deadletter.DeadLetterHeaders}), the records written to the dead-letter topic
 * ({@link org.deebert.streams.deadletter.DeadLetterRecords}) and the Kafka Streams exception handlers that route
 * undecodable or failing records there instead of stopping the stream. The codes are listed, one row each, in
 * the dead-letter code table of docs/dead-letters.md, which a test (DeadLetterCodeDocsTest) keeps true.
 */
package org.deebert.streams.deadletter;
