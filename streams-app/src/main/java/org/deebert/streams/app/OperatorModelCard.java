package org.deebert.streams.app;

import java.io.UncheckedIOException;
import java.util.List;
import org.deebert.streams.model.ModelCard;

/**
 * The model card the {@code control} commands check a message against before writing it, read from the configured
 * {@code model.dir} of the operator's settings. An operator's machine may have no model directory, or another
 * model's: then nothing is checked here, a note says what, and the service checks on arrival.
 */
final class OperatorModelCard {

    private OperatorModelCard() {
    }

    /**
     * The labels of {@code model}, from the model card in the configured {@code model.dir}, so the CLI checks a
     * budget's protected label before writing; empty (unknown), with a note, when there is no readable card for
     * that model: the service is then the one to check.
     */
    static List<String> labelsOrUnknown(AppSettings settings, String model) {
        ModelCard card = cardOrNull(settings, model, "the protected label");
        return card == null ? List.of() : card.labels();
    }

    /**
     * The model card of {@code model} in the configured {@code model.dir}, so the CLI checks a patience, a
     * per-layer list, label names or a protected label against it before writing. An operator's machine may
     * have no model directory: then null, with a note naming what goes unchecked ({@code checked}), and the
     * service is the one to check (label-conditional thresholds are then refused: their names cannot be
     * checked).
     */
    static ModelCard cardOrNull(AppSettings settings, String model, String checked) {
        try {
            ModelCard card = ModelCard.read(settings.modelDir());
            if (card.name().equals(model)) {
                return card;
            }
            System.err.println("Note: the model card in " + settings.modelDir() + " is for " + card.name()
                    + ", not " + model + "; " + checked + " is checked by the service only");
        } catch (UncheckedIOException | IllegalArgumentException e) {
            System.err.println("Note: no readable model card in " + settings.modelDir()
                    + "; " + checked + " is checked by the service only");
        }
        return null;
    }
}
