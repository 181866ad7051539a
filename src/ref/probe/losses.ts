// CPU twins of the probe losses (float64, the oracle). The probe's CPU trainer runs the same code,
// so it lives in src/probe/losses.ts; re-exported here.
export * from "../../probe/losses.js";
