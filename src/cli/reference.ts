// The CLI reference (docs/cli.md), generated from the commander definitions so that it cannot
// drift from them: scripts/cli-reference.mjs writes it, test/cli/reference.test.ts regenerates it
// and compares. Every argument and option of every command is listed, hidden aliases included.
import type { Argument, Command, Option } from "commander";

/** A table cell: pipes escaped, newlines folded. */
function cell(s: string): string {
  return s.replace(/\|/g, "\\|").replace(/\s*\n\s*/g, " ");
}

function defaultOf(v: unknown): string {
  if (v === undefined) return "";
  if (typeof v === "string") return `\`${v}\``;
  return `\`${JSON.stringify(v)}\``;
}

function argumentRow(a: Argument): string {
  const name = `${a.required ? "<" : "["}${a.name()}${a.variadic ? "..." : ""}${a.required ? ">" : "]"}`;
  const what = [a.description, a.required ? "(required)" : ""].filter(Boolean).join(" ");
  return `| \`${cell(name)}\` | ${cell(what)} | ${cell(defaultOf(a.defaultValue))} |`;
}

function optionRow(o: Option): string {
  const notes: string[] = [];
  if (o.mandatory) notes.push("(required)");
  if (o.argChoices) notes.push(`one of: ${o.argChoices.map((c) => `\`${c}\``).join(", ")}`);
  if (o.hidden) notes.push("(hidden alias, kept for one release)");
  const what = [o.description, ...notes].filter(Boolean).join(" ");
  return `| \`${cell(o.flags)}\` | ${cell(what)} | ${cell(defaultOf(o.defaultValue))} |`;
}

/** The markdown of one command: description, usage, arguments, options. */
function commandSection(parent: string, c: Command): string {
  const lines = [`## ${parent} ${c.name()}`, "", c.description(), "", "```", `${parent} ${c.name()} ${c.usage()}`, "```", ""];
  const args = c.registeredArguments;
  if (args.length) lines.push("| argument | what | default |", "|---|---|---|", ...args.map(argumentRow), "");
  const opts = c.options.filter((o) => o.long !== "--help");
  if (opts.length) lines.push("| option | what | default |", "|---|---|---|", ...opts.map(optionRow), "");
  return lines.join("\n");
}

/** docs/cli.md for a program: a header, a table of contents, one section per command. */
export function cliReference(program: Command): string {
  const name = program.name();
  const cmds = program.commands.filter((c) => c.name() !== "help");
  const head = [
    `# \`${name}\` command-line reference`,
    "",
    "Generated from the commands' definitions by `npm run docs:cli` (scripts/cli-reference.mjs);",
    "test/cli/reference.test.ts fails when this file is out of date. `mimic <command> --help` prints",
    "the same. Exit codes: 0 success, 1 the work failed (or some inputs did), 2 bad arguments.",
    "With `--json`, stdout carries only JSON; progress and human summaries go to stderr.",
    "",
    ...cmds.map((c) => `- [\`${name} ${c.name()}\`](#${name}-${c.name()}): ${c.description()}`),
    "",
  ];
  return `${[head.join("\n"), ...cmds.map((c) => commandSection(name, c))].join("\n").trimEnd()}\n`;
}
