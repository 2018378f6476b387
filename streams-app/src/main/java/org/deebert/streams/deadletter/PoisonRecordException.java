package org.deebert.streams.deadletter;


/**
 * Why a record was dead-lettered as {@link DeadLetterCode#POISON_RECORD}: the classifier calls that held it never
 * returned, {@code strikes} times (the process or its stream thread died), so it is not classified again. Its
 * message goes into the dead-letter record's {@code __streams.errors.message} header.
 */
public final class PoisonRecordException extends RuntimeException {

    /** @param strikes how many classifier calls holding the record never returned */
    public PoisonRecordException(int strikes) {
        super("the process or its stream thread died " + strikes + " times while classifying this record (the last time"
                + " alone); not classified again", null, false, false);
    }
}
