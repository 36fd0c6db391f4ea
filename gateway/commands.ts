/**
 * Commands to devices: sent at once when the device is online, otherwise queued with a time-to-live and
 * sent when it next connects; the device's echo is recorded as the result.
 */
import { parseWatchHeader, watchProtocol, WatchCommandError, type WatchCommand } from '../protocols/watch/index.js';
import type { DeviceMessage } from '../protocols/message.js';
import type { Bus } from './bus.js';
import { badField, ApiError } from './http/errors.js';
import type { Metrics } from './metrics.js';
import type { CommandEchoSink } from './pipeline.js';
import type { Db } from './store/db.js';
import { acknowledgeByKeyword, markSent, pendingCommands, queueCommand, requeue, type DeviceCommand } from './store/commands.js';
import type { Device } from './store/devices.js';
import type { DeviceLink } from './transports/tcp.js';

/** Per protocol: how a command is checked, addressed and named (the keyword the device echoes). */
interface CommandCodec {
  encode(conn: DeviceLink | undefined, device: Device, command: Record<string, unknown>): Buffer;
  keyword(command: Record<string, unknown>): string;
}

const watchCodec: CommandCodec = {
  encode(conn, device, command) {
    // Address the frame the way the watch addresses us (manufacturer, ZJ index); default 3G before first contact.
    const header = (conn?.lastFrame && parseWatchHeader(conn.lastFrame)) || { manufacturer: '3G', deviceId: device.identifier };
    return watchProtocol.encodeCommand({ ...header, ...(header.index ? { index: '0001' } : {}) }, command as unknown as WatchCommand);
  },
  keyword(command) {
    if (command.type === 'custom') return String(command.content ?? '').split(',')[0] ?? 'custom';
    return String(command.type);
  },
};

const CODECS: Record<string, CommandCodec> = { watch: watchCodec };

export type SessionLookup = (identifier: string) => DeviceLink | undefined;

export class CommandService implements CommandEchoSink {
  constructor(
    private readonly db: Db,
    private readonly sessions: SessionLookup,
    private readonly bus: Bus,
    private readonly metrics: Metrics,
    private readonly defaultTtlS: number,
  ) {}

  supports(protocol: string): boolean {
    return protocol in CODECS;
  }

  /** Validates, stores, and sends now if the device is online. */
  async send(device: Device, command: Record<string, unknown>, userId?: number, ttlS = this.defaultTtlS): Promise<{ command: DeviceCommand; delivery: 'sent' | 'queued' }> {
    const codec = CODECS[device.protocol];
    if (!codec) throw new ApiError(400, 'unsupported', `devices of protocol ${device.protocol} take no commands here`);
    const conn = this.sessions(device.identifier);
    let bytes: Buffer;
    try {
      bytes = codec.encode(conn, device, command);
    } catch (e) {
      if (e instanceof WatchCommandError) throw badField(`body/${e.field ?? 'type'}`, e.message);
      throw e;
    }
    const row = await queueCommand(this.db, device.id, command, codec.keyword(command), ttlS, userId);
    // Marked sent before the write: a fast echo must find the command already in state 'sent'.
    if (conn?.open) {
      await markSent(this.db, row.id);
      if (conn.write(bytes)) {
        this.metrics.commands.inc({ protocol: device.protocol, state: 'sent' });
        return { command: { ...row, state: 'sent', sentAt: new Date() }, delivery: 'sent' };
      }
      await requeue(this.db, row.id);
    }
    this.metrics.commands.inc({ protocol: device.protocol, state: 'queued' });
    return { command: row, delivery: 'queued' };
  }

  /** A device came online: send what waited for it (expired ones are marked so and skipped). */
  async flush(device: Device, conn: DeviceLink): Promise<number> {
    const codec = CODECS[device.protocol];
    if (!codec) return 0;
    let n = 0;
    for (const c of await pendingCommands(this.db, device.id)) {
      let bytes: Buffer;
      try {
        bytes = codec.encode(conn, device, c.command);
      } catch {
        continue;
      }
      await markSent(this.db, c.id);
      if (!conn.write(bytes)) {
        await requeue(this.db, c.id);
        break;
      }
      this.metrics.commands.inc({ protocol: device.protocol, state: 'sent' });
      n++;
    }
    return n;
  }

  async echo(msg: DeviceMessage, device: Device): Promise<void> {
    if (!msg.commandEcho) return;
    const done = await acknowledgeByKeyword(this.db, device.id, msg.commandEcho.keyword, [msg.commandEcho.keyword, ...msg.commandEcho.args].join(','));
    if (!done) return;
    this.metrics.commands.inc({ protocol: device.protocol, state: 'acknowledged' });
    this.bus.emit('command.result', { deviceId: device.id, commandId: done.id, state: done.state, result: done.result ?? undefined });
  }
}
