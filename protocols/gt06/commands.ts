/**
 * GT06 commands as the gateway sends them (protocols.md §2.6): 0x80 online commands carrying a server flag the
 * device echoes in its 0x15/0x21 response, so the response finds its command. The command texts are the Concox
 * SMS-style ones; §2.6 notes the exact set is model-specific [?], which is why each is plain data below.
 */
import { Type, type TObject } from '@sinclair/typebox';
import { CommandError, type CommandCodec } from '../message.js';
import { gt06Command } from './encoder.js';

export const GT06_COMMANDS = ['WHERE', 'SOS', 'TIMER', 'RESET', 'FALLDOWN'] as const;
export type Gt06CommandType = (typeof GT06_COMMANDS)[number];

/** parameter description per command, for API docs and forms */
export const GT06_COMMAND_PARAMS: Record<Gt06CommandType, Record<string, string>> = {
  WHERE: {},
  SOS: { numbers: 'array of 1 to 3 phone numbers (optional +, 3..20 digits)' },
  TIMER: { seconds: 'integer 10..18000: position upload interval' },
  RESET: {},
  FALLDOWN: { on: 'boolean: fall detection on or off' },
};

/** Server flag `AX` + 0 + the command's number: the 0x15/0x21 response's flag names the command it answers. */
const FLAG_BASE = 0x41580000;
export const gt06ServerFlag = (type: Gt06CommandType): number => FLAG_BASE + GT06_COMMANDS.indexOf(type) + 1;

/** The command a response's server flag answers, or undefined for a flag we did not send. */
export function commandOfFlag(flag: number): Gt06CommandType | undefined {
  const i = flag - FLAG_BASE - 1;
  return i >= 0 && i < GT06_COMMANDS.length ? GT06_COMMANDS[i] : undefined;
}

const PHONE = /^\+?\d{3,20}$/;

/** Each command's parameters (besides `type`) as the encoder below checks them, for GET /api/protocols and forms. */
export const GT06_COMMAND_SCHEMAS: Readonly<Record<Gt06CommandType, TObject>> = {
  WHERE: Type.Object({}, { additionalProperties: false }),
  SOS: Type.Object(
    { numbers: Type.Array(Type.String({ pattern: PHONE.source }), { minItems: 1, maxItems: 3, description: GT06_COMMAND_PARAMS.SOS.numbers }) },
    { additionalProperties: false },
  ),
  TIMER: Type.Object({ seconds: Type.Integer({ minimum: 10, maximum: 18000, description: GT06_COMMAND_PARAMS.TIMER.seconds }) }, { additionalProperties: false }),
  RESET: Type.Object({}, { additionalProperties: false }),
  FALLDOWN: Type.Object({ on: Type.Boolean({ description: GT06_COMMAND_PARAMS.FALLDOWN.on }) }, { additionalProperties: false }),
};

/** Locate, SOS numbers, upload interval and reset (GT06 has no "find"). */
export const GT06_COMMON_COMMANDS: readonly Gt06CommandType[] = ['WHERE', 'SOS', 'TIMER', 'RESET'];

/** The command text (ASCII, ending in `#`); throws CommandError naming the bad field. */
export function gt06CommandText(command: Record<string, unknown>): string {
  switch (command.type as Gt06CommandType) {
    case 'WHERE':
      return 'WHERE#';
    case 'RESET':
      return 'RESET#';
    case 'SOS': {
      const n = command.numbers;
      if (!Array.isArray(n) || n.length < 1 || n.length > 3 || !n.every((x) => typeof x === 'string' && PHONE.test(x))) {
        throw new CommandError('numbers: 1 to 3 phone numbers (optional +, 3..20 digits)', 'numbers');
      }
      return `SOS,A,${n.join(',')}#`;
    }
    case 'TIMER': {
      const s = command.seconds;
      if (!Number.isInteger(s) || (s as number) < 10 || (s as number) > 18000) throw new CommandError('seconds: an integer 10..18000', 'seconds');
      return `TIMER,${s}#`;
    }
    case 'FALLDOWN':
      if (typeof command.on !== 'boolean') throw new CommandError('on: true or false', 'on');
      return `FALLDOWN,${command.on ? 'ON' : 'OFF'}#`;
    default:
      throw new CommandError(`not a GT06 command: ${String(command.type)} (one of ${GT06_COMMANDS.join(', ')})`, 'type');
  }
}

export const gt06CommandCodec: CommandCodec = {
  typeSchema: Type.Union(
    GT06_COMMANDS.map((c) => Type.Literal(c)),
    { description: 'GT06 command (protocols.md §2.6): WHERE (locate), SOS (numbers), TIMER (upload interval), RESET, FALLDOWN (fall detection)' },
  ),
  // none of these takes over or silences the tracker
  dangerous: {},
  encode(command) {
    const text = gt06CommandText(command);
    const flag = gt06ServerFlag(command.type as Gt06CommandType);
    return gt06Command(text, flag, flag & 0xffff);
  },
  keyword: (command) => String(command.type),
  risk: () => ({ dangerous: false, monitor: false }),
};
