// docs/cli.md is generated from the commander definitions; this test regenerates it and compares,
// so a flag added, renamed or re-described without `npm run docs:cli` fails here.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { program } from "../../src/cli/main.js";
import { cliReference } from "../../src/cli/reference.js";

const file = path.resolve(__dirname, "../../docs/cli.md");

describe("CLI reference (docs/cli.md)", () => {
  it("is what the commander definitions generate (fix: npm run build && npm run docs:cli)", () => {
    const want = cliReference(program());
    const have = fs.readFileSync(file, "utf8");
    if (have !== want) {
      const a = have.split("\n");
      const b = want.split("\n");
      const i = a.findIndex((l, k) => l !== b[k]);
      expect.fail(
        `docs/cli.md is stale from line ${i + 1}:\n  file:      ${a[i]}\n  generated: ${b[i]}\nFix: npm run build && npm run docs:cli`,
      );
    }
  });

  it("documents every argument and option of every command", () => {
    const p = program();
    const text = fs.readFileSync(file, "utf8");
    for (const c of p.commands) {
      if (c.name() === "help") continue;
      expect(text, `section of ${c.name()}`).toContain(`## mimic ${c.name()}\n`);
      for (const o of c.options) {
        if (o.long === "--help") continue;
        expect(o.description.trim().length, `${c.name()} ${o.flags} has no description`).toBeGreaterThan(0);
        expect(text, `${c.name()} ${o.flags}`).toContain(`\`${o.flags.replace(/\|/g, "\\|")}\``);
      }
      for (const a of c.registeredArguments) expect(a.description.trim().length, `${c.name()} <${a.name()}>`).toBeGreaterThan(0);
    }
  });
});
