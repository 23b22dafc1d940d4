/** Label values of one series; every label of the metric must be given. */
export type LabelValues<L extends string> = Readonly<Record<L, string | number>>;

/** Arguments of a metric method: labels first when the metric has any. */
type WithLabels<L extends string, Rest extends unknown[]> = [L] extends [never] ? Rest : [labels: LabelValues<L>, ...Rest];

/** Only goes up (resets on restart): events, bytes. */
export interface Counter<L extends string = never> {
  inc(...args: WithLabels<L, [value?: number]>): void;
}

/** A value that goes up and down: term, counts by status. */
export interface Gauge<L extends string = never> {
  set(...args: WithLabels<L, [value: number]>): void;
  inc(...args: WithLabels<L, [value?: number]>): void;
  dec(...args: WithLabels<L, [value?: number]>): void;
  /** Forgets every series, for gauges set from a full recount (nodes by status: a status no node has any more must read 0, not its last value). */
  reset(): void;
}

/** A distribution of durations, in seconds (Prometheus' base unit). */
export interface Histogram<L extends string = never> {
  observe(...args: WithLabels<L, [seconds: number]>): void;
  /** Starts a clock; the returned function takes the labels (known only at the end, like an HTTP status), observes and returns the seconds. */
  startTimer(): (...args: WithLabels<L, []>) => number;
}
