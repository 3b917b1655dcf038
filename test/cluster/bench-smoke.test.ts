import { test } from "node:test";
import { smokeCases } from "../helpers/bench-smoke.js";

/** The benchmarks of the data path at smoke size (the operations' benchmarks are in bench-smoke-ops.test.ts). */
for (const [title, body] of smokeCases(["startup", "vector"])) test(title, body);
