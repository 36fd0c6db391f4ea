/** SMPP fields against sms.md's vectors C6–C8 (written by smpp@0.5.1, read by a separate decoder). */
import smpp from 'smpp';
import { describe, expect, it } from 'vitest';
import { readDeliver, submitParams } from '../../../sms/smpp/pdus.ts';
import { encodeUcs2 } from '../../../sms/ucs2.ts';

describe('SMPP PDUs', () => {
  it('C6: bind_transceiver with interface_version 0x34', () => {
    const p = new smpp.PDU('bind_transceiver', { system_id: 'anxin', password: 'secret', interface_version: 0x34, sequence_number: 1 });
    expect(p.toBuffer().toString('hex')).toBe('00000022000000090000000000000001616e78696e00736563726574000034000000');
  });

  it('C7: submit_sm 你好, UCS2, registered_delivery 1, and its resp', () => {
    const params = submitParams({ source: { digits: '10690000', ton: 0, npi: 0 }, dest: { digits: '8613800138000', ton: 1, npi: 1 }, body: encodeUcs2('你好') });
    const p = new smpp.PDU('submit_sm', { ...params, sequence_number: 2 });
    expect(p.toBuffer().toString('hex')).toBe(
      '0000003a00000004000000000000000200000031303639303030300001013836313338303031333830303000000000000001000800044f60597d',
    );
    const resp = new smpp.PDU(Buffer.from('0000001780000004000000000000000231413242334300', 'hex'));
    expect(resp.message_id).toBe('1A2B3C');
  });

  it('a part carries its UDH with esm_class 0x40', () => {
    const params = submitParams({ source: { digits: '1069', ton: 0, npi: 0 }, dest: { digits: '1', ton: 1, npi: 1 }, udh: Buffer.from('050003a70202', 'hex'), body: encodeUcs2('张') });
    expect(params.esm_class).toBe(0x40);
    expect((params.short_message as Buffer).toString('hex')).toBe('050003a702025f20');
  });

  it('C8: deliver_sm receipt → message id 1A2B3C delivered', () => {
    const hex =
      '000000a8000000050000000000000007000101383631333830303133383030300000003130363930303030000400000000000000006269643a314132423343207375623a30303120646c7672643a303031207375626d697420646174653a3235303131353038333020646f6e6520646174653a3235303131353038333120737461743a44454c49565244206572723a30303020746578743a001e0007314132423343000427000102';
    const p = new smpp.PDU(Buffer.from(hex, 'hex'));
    expect(readDeliver(p as unknown as Record<string, unknown>)).toEqual({ kind: 'receipt', messageId: '1A2B3C', state: 'delivered', err: '000' });
    // the same receipt without its TLVs: read from the text
    const noTlv = Buffer.from(hex.slice(0, hex.indexOf('001e0007')), 'hex');
    noTlv.writeUInt32BE(noTlv.length, 0);
    expect(readDeliver(new smpp.PDU(noTlv) as unknown as Record<string, unknown>)).toEqual({ kind: 'receipt', messageId: '1A2B3C', state: 'delivered', err: '000' });
  });
});
