package org.deebert.streams.topology;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;
import org.deebert.streams.classifier.TextClassifier;
import org.deebert.streams.exit.ExitSetting;
import org.deebert.streams.model.StartingSetting;

/**
 * Lends one {@link TextClassifier} per stream thread to the classify processors of that thread's tasks.
 * A loaded model costs hundreds of MB and seconds to load, so tasks (one per input partition) on the
 * same thread share it; classifiers are not thread-safe, so threads never share one. The first
 * classifier is created eagerly to learn the model's identity (name, version, starting setting).
 * Thread-safe.
 */
public final class ClassifierPool implements AutoCloseable {

    private final Supplier<TextClassifier> factory;
    private final TextClassifier first;
    private final ExitSetting startingSetting;
    private final Deque<TextClassifier> idle = new ArrayDeque<>();
    private final Map<Thread, Lease> byThread = new java.util.HashMap<>();
    private boolean closed;

    /**
     * @param factory creates a classifier (loads the model); called once now and then at most once per
     *                stream thread
     * @throws RuntimeException whatever the factory throws for the first classifier
     */
    public ClassifierPool(Supplier<TextClassifier> factory) {
        this(factory, StartingSetting.RECOMMENDED);
    }

    /**
     * @param factory  creates a classifier (loads the model); called once now and then at most once per
     *                 stream thread
     * @param starting which of the model card's settings applies before any control message
     *                 ({@code exit.setting}); resolved now, so a card without it fails at startup
     * @throws IllegalArgumentException if the model card lacks the chosen setting (the classifier is closed)
     * @throws RuntimeException whatever the factory throws for the first classifier
     */
    public ClassifierPool(Supplier<TextClassifier> factory, StartingSetting starting) {
        this.factory = Objects.requireNonNull(factory, "factory");
        this.first = Objects.requireNonNull(factory.get(), "factory returned null");
        try {
            this.startingSetting = first.startingSetting(Objects.requireNonNull(starting, "starting"));
        } catch (RuntimeException e) {
            first.close();  // the caller gets no pool to close, so the loaded model would leak
            throw e;
        }
        idle.push(first);
    }

    /** A classifier lent to one stream thread; give it back with {@link ClassifierPool#release(Lease)}. */
    public static final class Lease {
        private final Thread owner;
        private final TextClassifier classifier;
        private int holders;

        private Lease(Thread owner, TextClassifier classifier) {
            this.owner = owner;
            this.classifier = classifier;
        }

        /** @return the classifier, for use on the owning thread only */
        public TextClassifier classifier() {
            return classifier;
        }
    }

    /**
     * @return the calling thread's classifier (created on its first call)
     * @throws IllegalStateException after {@link #close()}
     */
    public synchronized Lease acquire() {
        if (closed) {
            throw new IllegalStateException("classifier pool is closed");
        }
        Lease lease = byThread.get(Thread.currentThread());
        if (lease == null) {
            TextClassifier classifier = idle.isEmpty() ? factory.get() : idle.pop();
            lease = new Lease(Thread.currentThread(), classifier);
            byThread.put(Thread.currentThread(), lease);
        }
        lease.holders++;
        return lease;
    }

    /** Gives a lease back; the classifier goes idle (kept loaded for the next thread) when no task holds it. */
    public synchronized void release(Lease lease) {
        if (--lease.holders == 0) {
            byThread.remove(lease.owner);
            if (closed) {
                lease.classifier.close();
            } else {
                idle.push(lease.classifier);
            }
        }
    }

    /** @return the model name from the model card */
    public String modelName() {
        return first.modelName();
    }

    /** @return the model version from the model card */
    public String modelVersion() {
        return first.modelVersion();
    }

    /** @return the model card's recommended setting */
    public ExitSetting recommendedSetting() {
        return first.recommendedSetting();
    }

    /**
     * @return the setting in force before any control message and after a tombstone: the model card's
     *     recommended or calibrated setting, as chosen at construction ({@code exit.setting})
     */
    public ExitSetting startingSetting() {
        return startingSetting;
    }

    /** @return whether the model classifies sentence pairs (model card {@code input.text_pair}) */
    public boolean textPair() {
        return first.textPair();
    }

    /** @return number of transformer layers (= off-ramps) */
    public int numLayers() {
        return first.numLayers();
    }

    /** @return labels in logit order */
    public List<String> labels() {
        return first.labels();
    }

    /** Closes idle classifiers now and lent ones when they come back. */
    @Override
    public synchronized void close() {
        closed = true;
        while (!idle.isEmpty()) {
            idle.pop().close();
        }
    }
}
