/** The barrel the gateway imports: both transports satisfy the SmsSender port. */
import { describe, expect, it } from 'vitest';
import { ModemSender, SmppSender, SmsSendError, type SmsSender } from '../../../sms/index.ts';

describe('sms/index', () => {
  it('exports both transports as SmsSender', () => {
    const senders: SmsSender[] = [
      new SmppSender({ host: '127.0.0.1', port: 1, systemId: 'a', password: 'b', source: '1069' }),
      new ModemSender({ path: '/dev/null' }),
    ];
    expect(senders.map((s) => [s.transport, s.state])).toEqual([['smpp', 'down'], ['modem', 'down']]);
    expect(new SmsSendError('x', true)).toBeInstanceOf(Error);
  });

  it('refuses a number that is not one, as final, before touching the link', async () => {
    const s = new SmppSender({ host: '127.0.0.1', port: 1, systemId: 'a', password: 'b', source: '1069' });
    await expect(s.send({ to: 'abc', text: 'x', ref: 'r' })).rejects.toMatchObject({ code: 'invalid-number', final: true });
  });
});
