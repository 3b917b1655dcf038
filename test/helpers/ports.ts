import { freePortSet } from "../../src/core/cluster/free-ports.js";

/** Distinct free loopback ports for every service of one test cluster. */
export const freePorts = freePortSet;
