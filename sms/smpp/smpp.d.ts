/**
 * Types for npm `smpp` 0.5.1 (it ships none): only what sms/smpp/ and simulators/smsc/ use (sms.md A8, A9).
 * PDU fields are dynamic (named after the command's parameters and TLVs), hence the index signature.
 */
declare module 'smpp' {
  import type { EventEmitter } from 'node:events';
  import type { Server as NetServer, Socket } from 'node:net';

  export interface PduFields {
    [key: string]: unknown;
  }

  export class PDU {
    constructor(command: string, params?: PduFields);
    constructor(buffer: Buffer);
    static maxLength: number;
    command: string;
    command_id: number;
    command_status: number;
    sequence_number: number;
    [key: string]: unknown;
    isResponse(): boolean;
    response(params?: PduFields): PDU;
    toBuffer(): Buffer;
  }

  export class Session extends EventEmitter {
    socket: Socket;
    server?: Server;
    send(pdu: PDU, responseCallback?: (resp: PDU) => void, sendCallback?: (pdu: PDU) => void): boolean;
    close(callback?: () => void): void;
    destroy(callback?: () => void): void;
    pause(): void;
    resume(): void;
    [command: string]: unknown;
  }

  export class Server extends NetServer {
    sessions: Session[];
  }

  export interface ConnectOptions {
    host?: string;
    port?: number;
    url?: string;
    tls?: boolean;
    auto_enquire_link_period?: number;
  }

  export function connect(options: ConnectOptions | string, listener?: () => void): Session;
  export function createServer(options: object, listener?: (session: Session) => void): Server;
  export function createServer(listener?: (session: Session) => void): Server;

  const smpp: {
    connect: typeof connect;
    createServer: typeof createServer;
    PDU: typeof PDU;
    Session: typeof Session;
  };
  export default smpp;
}
