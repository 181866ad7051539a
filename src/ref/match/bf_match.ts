// CPU twin of shaders/match/bf_match.wgsl. Matching also runs it (backend "cpu"), so it lives in
// src/match/bf_match_cpu.ts; re-exported here under its twin name.
export * from "../../match/bf_match_cpu.js";
export { bfMatchCpu as bfMatchRef } from "../../match/bf_match_cpu.js";
