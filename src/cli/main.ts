// The `mimic` command: one subcommand per file in src/cli/. Thin: parse flags into typed configs
// and call the library.
import { Command, CommanderError, Help } from "commander";
import { packageVersion } from "../version.js";
import { benchmarkCommand } from "./benchmark.js";
import { EXIT, UsageError } from "./common.js";
import { demoCommand } from "./demo.js";
import { doctorCommand } from "./doctor.js";
import { evalMiningCommand } from "./eval_mining.js";
import { matchCommand } from "./match.js";
import { mergeCommand, mineCommand } from "./mine.js";
import { probeCommand } from "./probe.js";
import { reconstructCommand } from "./reconstruct.js";
import { reportCommand } from "./report.js";
import { synthCommand } from "./synth.js";
import { trainCommand } from "./train.js";

export function program(): Command {
  const p = new Command("mimic")
    .description("mine multi-view image pairs from videos, pretrain MAE/CroCo encoders, probe depth and segmentation")
    .version(packageVersion())
    .showHelpAfterError()
    .exitOverride();
  // Subcommands, in pipeline order.
  p.addCommand(doctorCommand());
  p.addCommand(synthCommand());
  p.addCommand(evalMiningCommand());
  p.addCommand(matchCommand());
  p.addCommand(mineCommand());
  p.addCommand(mergeCommand());
  p.addCommand(trainCommand());
  p.addCommand(reconstructCommand());
  p.addCommand(probeCommand());
  p.addCommand(reportCommand());
  p.addCommand(demoCommand());
  p.addCommand(benchmarkCommand());
  for (const c of p.commands) helpConventions(c);
  return p;
}

/**
 * What every command's --help shares: a required option says so, and defaults print as the user
 * types them (--scenes 4, --objective croco), not as JSON strings ("4").
 */
function helpConventions(c: Command): void {
  for (const o of c.options) if (typeof o.defaultValue === "string" && o.defaultValue !== "") o.defaultValueDescription ??= o.defaultValue;
  const base = new Help();
  c.configureHelp({ optionDescription: (o) => `${o.mandatory ? "(required) " : ""}${base.optionDescription(o)}` });
}

export async function main(argv: string[]): Promise<void> {
  const p = program();
  for (const c of p.commands) c.exitOverride();
  try {
    await p.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version exit 0; parse errors exit 2.
      process.exitCode = e.exitCode === 0 ? EXIT.ok : EXIT.usage;
      return;
    }
    if (e instanceof UsageError) {
      console.error(`mimic: ${e.message}`);
      process.exitCode = EXIT.usage;
      return;
    }
    console.error(`mimic: ${(e as Error).message}`);
    if (process.env.MIMIC_DEBUG) console.error((e as Error).stack);
    process.exitCode = EXIT.failed;
  }
}
