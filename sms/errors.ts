/** The error a transport's send() rejects with. The message holds codes only, never a number or a text. */
import type { SmsSendFailure } from './port.ts';

export class SmsSendError extends Error implements SmsSendFailure {
  constructor(
    readonly code: string,
    readonly final: boolean,
    detail?: string,
  ) {
    super(`sms send failed: ${code}${detail ? ` (${detail})` : ''}`);
    this.name = 'SmsSendError';
  }
}
