// Colour only on a terminal, and never with --no-color or NO_COLOR (https://no-color.org).
import picocolors from 'picocolors';
import type { CommandIO } from '../io.js';

export type Colors = ReturnType<typeof picocolors.createColors>;

export function colorsFor(isTTY: boolean, io: CommandIO, colorFlag: boolean | undefined): Colors {
  const noColorEnv = io.env.NO_COLOR !== undefined && io.env.NO_COLOR !== '';
  return picocolors.createColors(isTTY && colorFlag !== false && !noColorEnv);
}

export function stdoutColors(io: CommandIO, colorFlag: boolean | undefined): Colors {
  return colorsFor(io.stdoutIsTTY, io, colorFlag);
}

export function stderrColors(io: CommandIO, colorFlag: boolean | undefined): Colors {
  return colorsFor(io.stderrIsTTY, io, colorFlag);
}
