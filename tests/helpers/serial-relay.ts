/**
 * A wire between two serial ports that can lose bytes, for "the ACK was lost on the line" tests:
 *
 *   receiver (simulator) ⇄ pty pair 1 ⇄ SerialRelay ⇄ pty pair 2 ⇄ gateway
 *
 * Everything is forwarded as is, except that `dropAcks` ACK bytes (0x06) on their way back to the receiver
 * are swallowed. Both ports are opened with `serialport`, like the real ends.
 */
import { SerialPort } from 'serialport';

const ACK = 0x06;

async function openPort(path: string): Promise<SerialPort> {
  const p = new SerialPort({ path, baudRate: 19200, dataBits: 7, parity: 'even', stopBits: 1, autoOpen: false });
  await new Promise<void>((resolve, reject) => p.open((err) => (err ? reject(err) : resolve())));
  p.on('error', () => undefined);
  return p;
}

export class SerialRelay {
  /** ACKs still to swallow */
  dropAcks = 0;
  /** ACKs the gateway wrote, and how many of them were swallowed */
  acksSeen = 0;
  acksDropped = 0;

  private constructor(
    private readonly receiverSide: SerialPort,
    private readonly gatewaySide: SerialPort,
  ) {
    receiverSide.on('data', (chunk: Buffer) => gatewaySide.write(chunk));
    gatewaySide.on('data', (chunk: Buffer) => {
      const out: number[] = [];
      for (const b of chunk) {
        if (b === ACK) {
          this.acksSeen++;
          if (this.dropAcks > 0) {
            this.dropAcks--;
            this.acksDropped++;
            continue;
          }
        }
        out.push(b);
      }
      if (out.length) receiverSide.write(Buffer.from(out));
    });
  }

  /** `receiverPath`: the relay's end of the receiver's pty pair; `gatewayPath`: its end of the gateway's pair. */
  static async open(receiverPath: string, gatewayPath: string): Promise<SerialRelay> {
    return new SerialRelay(await openPort(receiverPath), await openPort(gatewayPath));
  }

  async close(): Promise<void> {
    for (const p of [this.receiverSide, this.gatewaySide]) {
      if (p.isOpen) await new Promise<void>((resolve) => p.close(() => resolve()));
    }
  }
}
