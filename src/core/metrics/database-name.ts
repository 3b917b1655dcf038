/** tusk's own metrics database, beside the application's, on the same cluster. */
export const METRICS_DATABASE = "tusk_metrics";
