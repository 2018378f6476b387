package org.deebert.streams.model;

import java.util.Locale;

import org.deebert.streams.exit.ExitPolicy;
import org.deebert.streams.exit.ExitSetting;

/**
 * Which of the model card's exit settings the service starts from, before any control message: the
 * card's {@code recommended_threshold} (the default, {@link #RECOMMENDED}) or the setting that
 * {@code python -m deebert_export calibrate} recorded for one policy under {@code calibrated}. Spelled
 * {@code recommended} or {@code calibrated:<policy>} (e.g. {@code calibrated:patience}) in the
 * {@code exit.setting} setting.
 *
 * @param calibratedPolicy null for the recommended setting, else the policy whose calibrated setting is used
 */
public record StartingSetting(ExitPolicy calibratedPolicy) {

    /** The card's {@code recommended_threshold}: the behaviour before {@code exit.setting} existed. */
    public static final StartingSetting RECOMMENDED = new StartingSetting(null);

    private static final String CALIBRATED_PREFIX = "calibrated:";

    /**
     * @param text {@code recommended} or {@code calibrated:<policy>} with policy {@code entropy},
     *             {@code divergence} or {@code patience} (case-insensitive, surrounding blanks ignored)
     * @return the parsed choice
     * @throws IllegalArgumentException if the text is neither form or names an unknown policy
     */
    public static StartingSetting parse(String text) {
        String t = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
        if (t.equals("recommended")) {
            return RECOMMENDED;
        }
        if (t.startsWith(CALIBRATED_PREFIX)) {
            String policy = t.substring(CALIBRATED_PREFIX.length()).trim();
            try {
                return new StartingSetting(ExitPolicy.fromText(policy));
            } catch (IllegalArgumentException e) {
                // an unknown policy: the message below names the known ones
            }
        }
        throw new IllegalArgumentException("must be recommended or calibrated:<policy> with policy entropy, "
                + "divergence or patience, got '" + text + "'");
    }

    /**
     * @param card the model card
     * @return the card's setting this choice names, validated for the card's number of layers
     * @throws IllegalArgumentException if the card lacks the calibrated setting for the policy, or the
     *     setting is invalid (see {@link ModelCard#recommendedSetting()} and {@link ModelCard#calibratedSetting(ExitPolicy)})
     */
    public ExitSetting resolve(ModelCard card) {
        return calibratedPolicy == null ? card.recommendedSetting() : card.calibratedSetting(calibratedPolicy);
    }

    /** @return the settings-file spelling: {@code recommended} or {@code calibrated:<policy>} */
    @Override
    public String toString() {
        return calibratedPolicy == null ? "recommended" : CALIBRATED_PREFIX + calibratedPolicy.text();
    }
}
