package org.deebert.streams.topology;

import java.util.ArrayList;
import java.util.List;
import org.deebert.streams.classifier.Classification;
import org.deebert.streams.classifier.ClassifyRequest;
import org.deebert.streams.classifier.TextClassifier;
import org.deebert.streams.exit.ExitSetting;
import org.deebert.streams.exit.ShadowTrace;

/**
 * A stand-in for the DeeBERT classifier in topology tests: no model, but its exit layer depends on S the
 * way a real one's does (larger S, earlier exit), so a test can see which S a batch was classified with.
 * S >= 0.3 exits at layer 1, 0 < S < 0.3 at layer 3, S = 0 at layer 4 (of 4). A text containing "boom"
 * makes the whole call throw, like a model failure; one containing "crash" makes it throw {@link SimulatedDeath}, an
 * {@link Error} that nothing in the processor catches, like a death of the process inside the call. Label: "spam" if the text contains "buy", else "ham".
 * Built with {@code textPair = true} it plays a sentence-pair model: it then wants a text pair for every text,
 * and looks at both texts.
 *
 * <p><b>Shadow rows</b> ({@link #classify} with a shadow flag set): the row gets the
 * same {@link Classification} as without the flag, plus a {@link ShadowTrace} over its 4 off-ramps that depends
 * on the text only: every off-ramp predicts the final label, except that for a text containing "tricky" off-ramps
 * 1..3 predict the other label (so it disagrees with the full model wherever it exits early); entropies
 * {@link #SHADOW_ENTROPIES} (for S > 0.2 every row would exit at layer 1, for S <= 0.05 a tricky row reaches
 * layer 4 and agrees); divergences {@link #SHADOW_DIVERGENCES} (+Infinity at layer 1). The trace is not kept
 * consistent with the exit layer of the Classification above (that one follows {@link #exitLayerFor}); the budget
 * controller reads only the trace. Rows without the flag, and calls without flags, carry no trace.
 */
final class FakeClassifier implements TextClassifier {

    private final boolean textPair;

    FakeClassifier() {
        this(false);
    }

    FakeClassifier(boolean textPair) {
        this.textPair = textPair;
    }

    static final String MODEL = "fake-model";

    /** Stands for a death inside a classifier call (a native crash, OutOfMemoryError): nothing catches it. */
    static final class SimulatedDeath extends Error {
        SimulatedDeath() {
            super("simulated death inside a classifier call");
        }
    }
    static final double DEFAULT_S = 0.05;

    /** Sizes of the batches passed to {@link #classify}, in call order. */
    final List<Integer> batchSizes = new ArrayList<>();
    boolean closed;
    /** Wall-clock ms every {@link #classify} call takes (a real model takes hundreds of ms per batch). */
    long delayMs;

    /** Entropies (nats) of the 4 off-ramps in every shadow trace. */
    static final double[] SHADOW_ENTROPIES = {0.2, 0.1, 0.05, 0.01};
    /** Divergences (nats) of the 4 off-ramps in every shadow trace. */
    static final double[] SHADOW_DIVERGENCES = {Double.POSITIVE_INFINITY, 0.1, 0.05, 0.01};
    /** A text containing this has off-ramps 1..3 disagreeing with the full model in its shadow trace. */
    static final String TRICKY = "tricky";

    /** Shadow flags passed to {@link #classify}, in call order (null = none). */
    final List<boolean[]> shadowFlags = new ArrayList<>();

    static int exitLayerFor(double s) {
        return s >= 0.3 ? 1 : s > 0 ? 3 : 4;
    }

    @Override
    public boolean textPair() {
        return textPair;
    }

    @Override
    public List<Classification> classify(ClassifyRequest request) {
        List<String> texts = request.texts();
        List<String> textPairs = request.textPairs();
        boolean[] shadow = request.shadow();
        if (shadow != null && shadow.length != texts.size()) {
            throw new IllegalArgumentException(texts.size() + " texts but " + shadow.length + " shadow flags");
        }
        shadowFlags.add(shadow == null ? null : shadow.clone());
        List<Classification> out = classifyTexts(texts, textPairs, request.setting());
        if (shadow == null) {
            return out;
        }
        List<Classification> withTraces = new ArrayList<>(out.size());
        for (int i = 0; i < out.size(); i++) {
            Classification c = out.get(i);
            if (!shadow[i]) {
                withTraces.add(c);
                continue;
            }
            boolean tricky = texts.get(i).contains(TRICKY) || (textPairs != null && textPairs.get(i).contains(TRICKY));
            withTraces.add(new Classification(c.labelIndex(), c.label(), c.probabilities(), c.exitLayer(), c.numLayers(),
                    c.entropy(), c.exitScore(), c.numTokens(), shadowTrace(c.labelIndex(), tricky)));
        }
        return withTraces;
    }

    /** Pairs are checked and joined, so the single-text rules below see both texts. */
    private List<Classification> classifyTexts(List<String> texts, List<String> textPairs, ExitSetting setting) {
        if ((textPairs != null) != textPair) {
            throw new IllegalArgumentException("text pairs " + (textPairs == null ? "missing" : "unexpected"));
        }
        if (textPairs == null) {
            return classifySingle(texts, setting);
        }
        List<String> both = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            both.add(texts.get(i) + " | " + textPairs.get(i));
        }
        return classifySingle(both, setting);
    }

    private List<Classification> classifySingle(List<String> texts, ExitSetting setting) {
        batchSizes.add(texts.size());
        if (delayMs > 0) {
            try {
                Thread.sleep(delayMs);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        List<Classification> out = new ArrayList<>();
        for (String t : texts) {
            if (t.contains("crash")) {
                throw new SimulatedDeath();
            }
            if (t.contains("boom")) {
                throw new IllegalStateException("simulated model failure");
            }
            int label = t.contains("buy") ? 1 : 0;
            float[] p = label == 1 ? new float[] {0.1f, 0.9f} : new float[] {0.9f, 0.1f};
            out.add(new Classification(label, labels().get(label), p, exitLayerFor(setting.threshold()), 4, 0.325, 0.325, 7));
        }
        return out;
    }

    /**
     * @param finalLabel the full model's (last off-ramp's) label index
     * @param tricky     whether off-ramps 1..3 predict the other label
     * @return the trace a shadow row of this classifier carries
     */
    static ShadowTrace shadowTrace(int finalLabel, boolean tricky) {
        int early = tricky ? 1 - finalLabel : finalLabel;
        return new ShadowTrace(new int[] {early, early, early, finalLabel}, SHADOW_ENTROPIES.clone(),
                SHADOW_DIVERGENCES.clone());
    }

    @Override
    public List<String> labels() {
        return List.of("ham", "spam");
    }

    @Override
    public int numLayers() {
        return 4;
    }

    @Override
    public String modelName() {
        return MODEL;
    }

    @Override
    public String modelVersion() {
        return "0.0.1";
    }

    @Override
    public ExitSetting recommendedSetting() {
        return ExitSetting.entropy(DEFAULT_S);
    }

    @Override
    public void close() {
        closed = true;
    }
}
