/** `gradlab presets`: the preset experiments with their descriptions. */
import { listPresets } from "../../experiment/config-file.ts";
import { presetsTable } from "../table.ts";
import { output } from "./common.ts";

/** The presets command's action. */
export function presetsCommand(): void {
  output(false).say(presetsTable(listPresets()));
}
