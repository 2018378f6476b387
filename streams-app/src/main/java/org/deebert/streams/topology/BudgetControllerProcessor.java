package org.deebert.streams.topology;

import org.deebert.streams.control.ControlMessages;
import org.deebert.streams.control.ControllerStatus;
import org.deebert.streams.control.ExitSettingInForce;
import org.deebert.streams.control.ThresholdReader;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import org.apache.kafka.streams.processor.Cancellable;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.deebert.streams.budget.Budget;
import org.deebert.streams.budget.ThresholdChooser;
import org.deebert.streams.budget.ThresholdDecision;
import org.deebert.streams.exit.ExitSetting;
import org.deebert.streams.exit.ShadowTrace;
import org.deebert.streams.schema.ShadowSample;
import org.deebert.streams.schema.ThresholdControl;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The budget controller: keeps a sliding window of shadow samples (by count and age, from the budget in force)
 * and, once a second, asks {@link ThresholdChooser} for the S to hold; a new S is written to the control topic,
 * keyed by the model name, with author {@value #AUTHOR}, the budget (label guard included) unchanged and the
 * window's figures in the reason. Every instance then applies it through the threshold global store, and the
 * compacted topic is the audit trail.
 *
 * <p><b>One controller at a time, surviving its instance.</b> Shadow samples are keyed by model name, so all of
 * a model's samples land in one partition of the shadow-sample topic, and Kafka Streams gives that partition's
 * task, and with it this processor, to exactly one instance. When that instance dies the task moves to another
 * one, which restores the window from the store's changelog and carries on. Under exactly-once, a decision's
 * control record is committed in the same transaction as the samples it read.
 *
 * <p>After lowering S the controller waits until half its window is new before it raises S again (and so does
 * an instance that has just taken the controller over): the samples that made it lower S would otherwise talk
 * it straight back up, and S would flap at the edge of the budget.
 *
 * <p>With no budget in force the controller only empties its window: a new budget starts from fresh samples.
 */
public final class BudgetControllerProcessor implements Processor<String, ShadowSample, String, ThresholdControl> {

    /** {@code changed_by} of the controller's control messages. */
    public static final String AUTHOR = ControlMessages.CONTROLLER_AUTHOR;
    /** How often the controller decides (wall clock). */
    static final Duration DECISION_INTERVAL = Duration.ofSeconds(1);
    /**
     * How long the controller waits for its own last decision to come back through the global store before it
     * decides again; without it, it would write the same S once a second while the control topic catches up.
     */
    static final Duration ECHO_TIMEOUT = Duration.ofSeconds(10);

    private static final Logger LOG = LoggerFactory.getLogger(BudgetControllerProcessor.class);

    private final String windowStoreName;
    private final String configuredInstanceId;
    private final String thresholdStoreName;
    private final String modelName;
    private final List<String> labels;
    private final ExitSetting modelCardSetting;
    private final String controlChild;

    private ProcessorContext<String, ThresholdControl> context;
    private KeyValueStore<Long, ShadowSample> store;
    private ThresholdReader thresholds;
    private StreamObserver observer = StreamObserver.NONE;
    private String instanceId;
    private Cancellable punctuator;
    /** The window in arrival order, mirrored in the store (key = sequence number). */
    private final Deque<Entry> window = new ArrayDeque<>();
    private long nextSequence;
    /** S of the last decision written and not yet seen in the global store; NaN when none. */
    private double pendingThreshold = Double.NaN;
    private long pendingSinceMs;
    /**
     * Samples added since this controller last lowered S (0 after a takeover): S may rise again only once half
     * the window is new, so the samples that made it lower S cannot talk it straight back up.
     */
    private long samplesSinceLower;

    private record Entry(long key, long sampledAtMs, ShadowTrace trace) {
    }

    /**
     * @param windowStoreName    the changelogged window store connected to this processor
     * @param thresholdStoreName the threshold global store (the budget and S in force)
     * @param modelName          the model served here (the key of its samples and control messages)
     * @param labels             its label names in logit order (a budget's label guard names one of them)
     * @param modelCardSetting   the setting in force without a control message
     * @param controlChild       the sink node of the control topic
     * @param instanceId         this instance's id, named in the reasons of its decisions; null for the
     *                           application id
     */
    public BudgetControllerProcessor(String windowStoreName, String thresholdStoreName, String modelName,
                                     List<String> labels, ExitSetting modelCardSetting, String controlChild,
                                     String instanceId) {
        this.configuredInstanceId = instanceId;
        this.windowStoreName = windowStoreName;
        this.thresholdStoreName = thresholdStoreName;
        this.modelName = modelName;
        this.labels = List.copyOf(labels);
        this.modelCardSetting = modelCardSetting;
        this.controlChild = controlChild;
    }

    @Override
    public void init(ProcessorContext<String, ThresholdControl> context) {
        this.context = context;
        store = context.getStateStore(windowStoreName);
        thresholds = new ThresholdReader(context.getStateStore(thresholdStoreName), modelName, modelCardSetting);
        observer = StreamObserver.from(context.appConfigs());
        instanceId = configuredInstanceId == null ? context.applicationId() : configuredInstanceId;
        long last = -1;
        List<Long> undecodable = new ArrayList<>();
        try (KeyValueIterator<Long, ShadowSample> it = store.all()) {
            while (it.hasNext()) {
                var kv = it.next();
                last = kv.key;
                if (kv.value == null) {
                    undecodable.add(kv.key); // the serde logged it: one sample fewer
                    continue;
                }
                window.addLast(new Entry(kv.key, kv.value.getSampledAt().toEpochMilli(), ShadowSamples.toTrace(kv.value)));
            }
        }
        undecodable.forEach(store::delete);
        nextSequence = last + 1;
        if (!window.isEmpty()) {
            LOG.info("Budget controller for model {} took over on instance {} with {} samples restored", modelName,
                    instanceId, window.size());
        }
        punctuator = context.schedule(DECISION_INTERVAL, PunctuationType.WALL_CLOCK_TIME, this::decide);
    }

    @Override
    public void process(Record<String, ShadowSample> record) {
        ShadowSample sample = record.value();
        if (sample == null || !modelName.equals(record.key())) {
            return; // undecodable (logged by the serde), or another model's
        }
        Budget budget = thresholds.current().budget();
        if (budget == null) {
            return; // sampled under a budget that has since been cleared
        }
        ShadowTrace trace;
        try {
            trace = ShadowSamples.toTrace(sample);
        } catch (IllegalArgumentException e) {
            LOG.warn("Skipping a malformed shadow sample for model {}: {}", modelName, e.getMessage());
            return;
        }
        long key = nextSequence++;
        store.put(key, sample);
        window.addLast(new Entry(key, sample.getSampledAt().toEpochMilli(), trace));
        samplesSinceLower++;
        trim(budget, context.currentSystemTimeMs());
    }

    /** Drops samples beyond the budget's count and age limits, from the window and the store. */
    private void trim(Budget budget, long nowMs) {
        while (!window.isEmpty() && (window.size() > budget.windowEvents()
                || window.peekFirst().sampledAtMs() < nowMs - budget.windowMs())) {
            store.delete(window.removeFirst().key());
        }
    }

    private void decide(long nowMs) {
        ExitSettingInForce inForce = thresholds.current();
        Budget budget = inForce.budget();
        if (budget == null) {
            if (!window.isEmpty()) {
                for (Entry e : window) {
                    store.delete(e.key());
                }
                window.clear();
            }
            pendingThreshold = Double.NaN;
            observer.controllerDecided(null);
            return;
        }
        trim(budget, nowMs);
        double current = inForce.setting().threshold();
        if (!Double.isNaN(pendingThreshold)) {
            if (current != pendingThreshold && nowMs - pendingSinceMs < ECHO_TIMEOUT.toMillis()) {
                return; // our last decision has not come back through the control topic yet
            }
            pendingThreshold = Double.NaN;
        }
        List<ShadowTrace> traces = new ArrayList<>(window.size());
        for (Entry e : window) {
            traces.add(e.trace());
        }
        boolean mayRaise = samplesSinceLower >= traces.size() / 2;
        // The store only holds budgets the validator accepted against these labels, so the guard's label is known.
        ThresholdDecision decision = ThresholdChooser.decide(traces, budget, labels, inForce.setting().policy(),
                current, mayRaise);
        boolean changes = decision.action() != ThresholdDecision.Action.HOLD && decision.threshold() != current;
        observer.controllerDecided(status(decision, budget, changes, current));
        if (!changes) {
            return;
        }
        String reason = decision.reason() + " (instance " + instanceId + ")";
        ThresholdControl message = ControlMessages.budgetSetting(modelName, inForce.setting().policy(),
                decision.threshold(), budget, AUTHOR, reason, Instant.ofEpochMilli(nowMs));
        context.forward(new Record<>(modelName, message, nowMs), controlChild);
        pendingThreshold = decision.threshold();
        pendingSinceMs = nowMs;
        if (decision.threshold() < current) {
            samplesSinceLower = 0;
        }
        LOG.info("Budget controller for model {} moved S from {} to {} nats: {}", modelName, current,
                decision.threshold(), reason);
    }

    /** The window's figures at the S that will be in force: the decision's S when it moves, else the current one. */
    private static ControllerStatus status(ThresholdDecision decision, Budget budget, boolean changes,
                                           double current) {
        ThresholdDecision.GuardFigures g = decision.guard();
        ControllerStatus.Guard guard = g == null ? null : changes
                ? new ControllerStatus.Guard(g.label(), g.maxRecallLoss(), g.samples(), g.recallLoss(), g.upperBound())
                : new ControllerStatus.Guard(g.label(), g.maxRecallLoss(), g.samples(),
                        share(g.missedAtCurrent(), g.samples()), g.upperBoundAtCurrent());
        return changes
                ? new ControllerStatus(decision.samples(), decision.disagreement(), decision.upperBound(),
                        decision.threshold(), budget.maxDisagreement(), guard)
                : new ControllerStatus(decision.samples(), share(decision.disagreementsAtCurrent(), decision.samples()),
                        decision.upperBoundAtCurrent(), current, budget.maxDisagreement(), guard);
    }

    private static double share(long count, int samples) {
        return samples == 0 ? 0 : (double) count / samples;
    }

    @Override
    public void close() {
        if (punctuator != null) {
            punctuator.cancel();
        }
        // The task moved away or the instance stops: another instance's controller takes over.
        observer.controllerDecided(null);
    }
}
