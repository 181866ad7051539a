// `--size` means the same on every command: WIDTHxHEIGHT or N for N x N (mining: square only).
import { describe, expect, it } from "vitest";
import { parseSize, UsageError } from "../../src/cli/common.js";
import { parseMineConfig } from "../../src/cli/mine.js";

describe("--size", () => {
  it("takes WIDTHxHEIGHT or N, each side in 16..4096", () => {
    expect(parseSize("size", "320x240")).toEqual([320, 240]);
    expect(parseSize("size", "224")).toEqual([224, 224]);
    for (const bad of ["", "x", "224x", "native", "8", "5000x16", "-3"]) expect(() => parseSize("size", bad), bad).toThrow(UsageError);
  });

  it("mine takes N or NxN and refuses a non-square size", () => {
    expect(parseMineConfig("default", { size: "112" }).size).toBe(112);
    expect(parseMineConfig("default", { size: "112x112" }).size).toBe(112);
    expect(() => parseMineConfig("default", { size: "320x240" })).toThrow(/square/);
  });
});
