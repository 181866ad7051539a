// README.md is the front door: short, the two commands and the way to the tour and the CLI table
// on its first screen, and a CLI table that lists exactly the commands the CLI has.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { program } from "../../src/cli/main.js";

const readme = fs.readFileSync(path.resolve(__dirname, "../../README.md"), "utf8");
const lines = readme.split("\n");

describe("README.md", () => {
  it("is under 250 lines, with the two commands, the tour and the CLI table linked on the first screen", () => {
    expect(lines.length).toBeLessThan(250);
    const first = lines.slice(0, 40).join("\n");
    for (const s of ["npm run demo", "npm test", "(#a-tour-your-own-videos)", "(#cli)"]) expect(first, s).toContain(s);
    for (const h of ["## A tour: your own videos", "## CLI"]) expect(lines, h).toContain(h);
  });

  it("its CLI table lists every command, and only commands that exist", () => {
    const table = readme.slice(readme.indexOf("## CLI"), readme.indexOf("\n## ", readme.indexOf("## CLI") + 1));
    const listed = [...table.matchAll(/^\| `mimic ([a-z-]+)/gm)].map((m) => m[1]).sort();
    const real = program()
      .commands.map((c) => c.name())
      .filter((n) => n !== "help")
      .sort();
    expect(listed).toEqual(real);
  });
});
