/**
 * The live exit setting as the control topic carries it: building a control message and mapping its policy and
 * budget to and from Avro ({@link org.deebert.streams.control.ControlMessages}, the one place that does), validating
 * it ({@link org.deebert.streams.control.ControlMessageValidator}), the setting in force with its source and budget
 * ({@link org.deebert.streams.control.ExitSettingInForce}) and its serde in the threshold global store
 * ({@link org.deebert.streams.control.ExitSettingSerde}), reading it back
 * ({@link org.deebert.streams.control.ThresholdReader}), and what the budget controller saw at its last decision
 * ({@link org.deebert.streams.control.ControllerStatus}), and the operator's report of what is in force
 * ({@link org.deebert.streams.control.ControlStatusReport}) and of every decision still on the topic
 * ({@link org.deebert.streams.control.ControlHistory}, {@link org.deebert.streams.control.ControlHistoryReport}). Builds on {@code exit}, {@code budget} and
 * {@code model}; the topology's processors and the {@code control} CLI build on it.
 */
package org.deebert.streams.control;
