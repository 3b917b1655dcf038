import { test } from "node:test";
import { smokeCases } from "../helpers/bench-smoke.js";

/** The benchmarks of the data path and of HA across hosts at smoke size (the operations' benchmarks are in bench-smoke-ops.test.ts). */
for (const [title, body] of smokeCases(["startup", "vector", "host-loss"])) test(title, body);
