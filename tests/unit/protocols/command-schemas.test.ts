/**
 * The protocol catalogue's command parameter schemas (GET /api/protocols): every command keyword of every protocol
 * has one, a valid example passes both the schema and the protocol's own encoder, and what the encoder refuses the
 * schema refuses too, so a form built from the schema never offers what the device would not be sent.
 */
import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { protocolInfo } from '../../../gateway/http/protocols.js';
import { PROTOCOL_MODULES, protocolModule } from '../../../protocols/index.js';
import type { CommandCodec } from '../../../protocols/message.js';

/** One valid parameter set per command keyword. */
const VALID: Record<string, Record<string, Record<string, unknown>>> = {
  watch: {
    CR: {},
    UPLOAD: { seconds: 600 },
    SOS: { numbers: ['13800138000', '+8613900139000', ''] },
    SOS1: { number: '13800138000' },
    SOS2: { number: '13800138001' },
    SOS3: { number: '13800138002' },
    CENTER: { number: '02161234567' },
    FIND: {},
    POWEROFF: {},
    RESET: {},
    LZ: { language: 1, timezone: '+8' },
    FALLDOWN: { alarmOn: true, callOn: false },
    LSSET: { level: 3, variant: '+6' },
    hrtstart: { interval: 600 },
    MESSAGE: { text: '按时吃药' },
    PHB: { entries: [{ number: '13800138000', name: '儿子' }] },
    PHB2: { entries: [{ number: '13800138001', name: '女儿' }] },
    APPLOCK: { setting: 'DW-1' },
    REMOVE: { on: true },
    custom: { content: 'WORK,6-9,11-13' },
  },
  gt06: {
    WHERE: {},
    SOS: { numbers: ['13800138000', '13900139000'] },
    TIMER: { seconds: 60 },
    RESET: {},
    FALLDOWN: { on: false },
  },
};

/** Parameters the encoder refuses: the schema must refuse them as well. */
const INVALID: Record<string, [string, Record<string, unknown>][]> = {
  watch: [
    ['UPLOAD', { seconds: 30 }],
    ['UPLOAD', { seconds: 60.5 }],
    ['UPLOAD', {}],
    ['SOS', { numbers: ['13800138000', ''] }],
    ['SOS', { numbers: ['1380013800a', '', ''] }],
    ['SOS1', { number: '12' }],
    ['FALLDOWN', { alarmOn: 'yes', callOn: false }],
    ['LSSET', { level: 9, variant: '+8' }],
    ['hrtstart', { interval: 100 }],
    ['MESSAGE', { text: '' }],
    ['PHB', { entries: [] }],
    ['APPLOCK', { setting: 'DW1' }],
    ['custom', { content: 'A[B]' }],
  ],
  gt06: [
    ['SOS', { numbers: [] }],
    ['SOS', { numbers: ['1', '2', '3', '4'] }],
    ['TIMER', { seconds: 9 }],
    ['TIMER', { seconds: 18001 }],
    ['FALLDOWN', { on: 'on' }],
  ],
};

const encode = (codec: CommandCodec, type: string, params: Record<string, unknown>) =>
  codec.encode({ type, ...params }, { identifier: codec === protocolModule('gt06')!.commandCodec ? '864717003664467' : '8800000015' });

describe('command parameter schemas', () => {
  it('every command keyword of every protocol has a parameter schema and an example here', () => {
    for (const m of PROTOCOL_MODULES) {
      for (const type of m.commands) {
        expect(m.commandSchemas?.[type], `${m.name} ${type} schema`).toBeDefined();
        expect(VALID[m.name]?.[type], `${m.name} ${type} example`).toBeDefined();
      }
    }
  });

  for (const m of PROTOCOL_MODULES.filter((p) => p.commands.length)) {
    it(`${m.name}: the schema and the encoder accept each valid example`, () => {
      for (const type of m.commands) {
        const params = VALID[m.name]![type]!;
        expect(Value.Check(m.commandSchemas![type]!, params), `${type} ${JSON.stringify([...Value.Errors(m.commandSchemas![type]!, params)])}`).toBe(true);
        expect(() => encode(m.commandCodec!, type, params), type).not.toThrow();
      }
    });

    it(`${m.name}: what the encoder refuses, the schema refuses`, () => {
      for (const [type, params] of INVALID[m.name]!) {
        expect(() => encode(m.commandCodec!, type, params), `${type} ${JSON.stringify(params)}`).toThrow();
        expect(Value.Check(m.commandSchemas![type]!, params), `${type} ${JSON.stringify(params)}`).toBe(false);
      }
    });
  }

  it('the catalogue marks the everyday commands common and the dangerous ones dangerous', () => {
    const watch = protocolInfo(protocolModule('watch')!);
    const common = watch.commands.filter((c) => c.common).map((c) => c.type);
    expect(common.sort()).toEqual(['CR', 'FIND', 'RESET', 'SOS', 'UPLOAD']);
    expect(watch.commands.find((c) => c.type === 'POWEROFF')).toMatchObject({ dangerous: true, why: expect.stringContaining('POWEROFF') });
    expect(watch.commands.find((c) => c.type === 'custom')?.dangerous).toBe(true);
    expect(watch.commands.find((c) => c.type === 'UPLOAD')).toMatchObject({
      dangerous: false,
      params: { type: 'object', properties: { seconds: { type: 'integer', minimum: 60, maximum: 65535 } }, required: ['seconds'] },
    });
    const gt06 = protocolInfo(protocolModule('gt06')!);
    expect(gt06.commands.filter((c) => c.common).map((c) => c.type).sort()).toEqual(['RESET', 'SOS', 'TIMER', 'WHERE']);
  });

  it('Contact ID offers its vendors and zone names as settings; the phone protocol registers by number', () => {
    const cid = protocolInfo(protocolModule('contactid')!);
    expect(cid.settings).toMatchObject({ properties: { vendor: { anyOf: expect.arrayContaining([{ const: 'climax', type: 'string' }]) }, zoneNames: { type: 'object' } } });
    const settings = protocolModule('contactid')!.settingsSchema!;
    expect(Value.Check(settings, { vendor: 'climax', zoneNames: { '003': '厨房烟感' } })).toBe(true);
    expect(Value.Check(settings, { vendor: 'acme' })).toBe(false);
    expect(Value.Check(settings, { zoneNames: { '3': '厨房' } })).toBe(false);
    expect(protocolInfo(protocolModule('phone')!)).toMatchObject({ identifierIsPhone: true, defaultKind: 'one_key_caller', commands: [], settings: null });
  });
});
