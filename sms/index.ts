/** The SMS transports behind the SmsSender port (issue 21), for the gateway to pick one by configuration. */
export type * from './port.ts';
export { SmsSendError } from './errors.ts';
export { SmppSender, type SmppOptions } from './smpp/client.ts';
export { ModemSender, type ModemOptions } from './modem/modem.ts';
