import { test } from "node:test";
import { smokeCases } from "../helpers/bench-smoke.js";

/** The benchmarks of operations at smoke size: backups and restores, failover, monitoring. */
for (const [title, body] of smokeCases(["backup", "failover", "monitoring"])) test(title, body);
