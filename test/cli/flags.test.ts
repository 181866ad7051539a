// Number flags: a bad value is a usage error that names the flag, the value and the range a user
// can type (no "[-Infinity, Infinity]").
import { describe, expect, it } from "vitest";
import { floatFlag, intFlag, UsageError } from "../../src/cli/common.js";

describe("floatFlag / intFlag", () => {
  it("name the flag, the value and the range as a user reads it", () => {
    expect(() => floatFlag("every-sec", "abc")).toThrow(/^--every-sec must be a number, got 'abc'$/);
    expect(() => floatFlag("warmup-epochs", "-1", 0)).toThrow(/^--warmup-epochs must be a number >= 0, got '-1'$/);
    expect(() => floatFlag("blr", "2", 0, 1)).toThrow(/^--blr must be a number in \[0, 1\], got '2'$/);
    expect(() => floatFlag("x", "NaN")).toThrow(UsageError);
    expect(() => floatFlag("x", "")).toThrow(UsageError); // Number('') is 0: an empty value is not a number
    expect(() => floatFlag("x", " ")).toThrow(UsageError);
    expect(floatFlag("every-sec", "0.5")).toBe(0.5);
    expect(() => intFlag("steps", "")).toThrow(/^--steps must be an integer >= 1, got ''$/);
    expect(() => intFlag("seed", " ", 0)).toThrow(UsageError);
  });
});
