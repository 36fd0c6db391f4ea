/**
 * Commands to devices: sent at once when the device is online, otherwise queued with a time-to-live and
 * sent when it next connects; the device's echo is recorded as the result.
 *
 * Some commands can take over or silence a device (issue 15): raw `custom` text (which can carry MONITOR, IP,
 * APN, FACTORY, PW…) and POWEROFF. They are admin-only, need a reason, and are audited against the device and
 * the elder; MONITOR (covert listen-in) is refused for everyone unless ALLOW_MONITOR_COMMAND is on. A refused
 * command is never queued nor written to the device, and the refusal is audited too.
 */
import { protocolModule } from '../protocols/index.js';
import { CommandError, type CommandCodec, type CommandRisk, type DeviceMessage } from '../protocols/message.js';
import type { Bus } from './bus.js';
import { Forbidden, Invalid, invalidField } from './errors.js';
import type { Metrics } from './metrics.js';
import type { CommandEchoSink } from './pipeline.js';
import { audit } from './store/audit.js';
import { tx, type Db } from './store/db.js';
import { acknowledgeByKeyword, markFailed, markSent, pendingCommands, queueCommand, requeue, type DeviceCommand } from './store/commands.js';
import type { Device } from './store/devices.js';
import type { DeviceLink } from './transports/tcp.js';

export type { CommandRisk } from '../protocols/message.js';

/** The protocol's command codec (protocols/index.ts), or none when its devices take no commands. */
const codecOf = (protocol: string): CommandCodec | undefined => protocolModule(protocol)?.commandCodec;

/** Bytes for the device: addressed the way its last frame addressed us. */
const encodeFor = (codec: CommandCodec, conn: DeviceLink | undefined, device: Device, command: Record<string, unknown>) =>
  codec.encode(command, { identifier: device.identifier, lastFrame: conn?.lastFrame });

export type SessionLookup = (identifier: string) => DeviceLink | undefined;

/** Least length of the reason a dangerous command needs (after trimming). */
export const MIN_REASON_LENGTH = 4;

export interface SendOptions {
  /** who sends it; without one a dangerous command is refused */
  user?: { id: number; role: string };
  /** why; required (MIN_REASON_LENGTH+) for dangerous commands */
  reason?: string;
  ttlS?: number;
}

export interface CommandServiceOptions {
  /** ALLOW_MONITOR_COMMAND */
  allowMonitor?: boolean;
}

export class CommandService implements CommandEchoSink {
  /**
   * Scale-out (issue 24): asks the node holding the device's session to send what waits for it; resolves with how
   * many it sent, or null when no node holds it (the command stays queued for the device's next connection).
   */
  remote?: (device: Device) => Promise<number | null>;

  constructor(
    private readonly db: Db,
    private readonly sessions: SessionLookup,
    private readonly bus: Bus,
    private readonly metrics: Metrics,
    private readonly defaultTtlS: number,
    private readonly options: CommandServiceOptions = {},
  ) {}

  supports(protocol: string): boolean {
    return codecOf(protocol) !== undefined;
  }

  /**
   * Throws Forbidden or Invalid when this user may not send this command (role, MONITOR switch, reason): a refused
   * command is never queued nor written, and always audited.
   */
  private authorize(risk: CommandRisk, o: SendOptions): void {
    if (!risk.dangerous) return;
    if (o.user?.role !== 'admin') {
      throw new Forbidden('forbidden', `只有管理员可以发送此指令 / only an admin may send this command (${risk.why})`);
    }
    if (risk.monitor && !this.options.allowMonitor) {
      throw new Forbidden(
        'monitor_disabled',
        '本中心已关闭监听指令 / MONITOR (listen-in) is switched off at this centre; it can be enabled with ALLOW_MONITOR_COMMAND=true',
      );
    }
    if ((o.reason?.trim().length ?? 0) < MIN_REASON_LENGTH) {
      const message = `a reason of at least ${MIN_REASON_LENGTH} characters is required for this command (${risk.why})`;
      throw invalidField('body/reason', message);
    }
  }

  /**
   * Checks who may send it, validates, stores (with its audit rows, in one transaction), and sends now if the
   * device is online. A refused command is audited and throws before anything is queued or written.
   */
  async send(device: Device, command: Record<string, unknown>, o: SendOptions = {}): Promise<{ command: DeviceCommand; delivery: 'sent' | 'queued' }> {
    const codec = codecOf(device.protocol);
    if (!codec) throw new Invalid('unsupported', `devices of protocol ${device.protocol} take no commands here`);
    const risk = codec.risk(command);
    const keyword = codec.keyword(command);
    const actor = o.user ? `user:${o.user.id}` : 'anonymous';
    try {
      this.authorize(risk, o);
    } catch (e) {
      if (e instanceof Forbidden || e instanceof Invalid) {
        await audit(this.db, actor, 'device_command_refused', `device:${device.id}`, {
          type: command.type, keyword, refusal: e.code, role: o.user?.role ?? null, why: risk.why,
        });
      }
      throw e;
    }
    const conn = this.sessions(device.identifier);
    let bytes: Buffer;
    try {
      bytes = encodeFor(codec, conn, device, command);
    } catch (e) {
      if (e instanceof CommandError) throw invalidField(`body/${e.field ?? 'type'}`, e.message);
      throw e;
    }
    const reason = o.reason?.trim() || undefined;
    // The command and its audit rows commit together: nothing reaches the device unaudited.
    const row = await tx(this.db, async (c) => {
      const queued = await queueCommand(c, device.id, command, keyword, o.ttlS ?? this.defaultTtlS, { userId: o.user?.id, reason, dangerous: risk.dangerous, elderId: device.elderId });
      const detail = { commandId: queued.id, type: command.type, keyword, dangerous: risk.dangerous, ...(reason ? { reason } : {}), deviceId: device.id, elderId: device.elderId ?? null };
      await audit(c, actor, 'device_command', `device:${device.id}`, detail);
      if (risk.dangerous && device.elderId) await audit(c, actor, 'device_command', `elder:${device.elderId}`, detail);
      return queued;
    });
    // Marked sent before the write: a fast echo must find the command already in state 'sent'.
    if (conn?.open) {
      await markSent(this.db, row.id);
      if (conn.write(bytes)) {
        this.metrics.commands.inc({ protocol: device.protocol, state: 'sent' });
        return { command: { ...row, state: 'sent', sentAt: new Date() }, delivery: 'sent' };
      }
      await requeue(this.db, row.id);
    } else if (this.remote && ((await this.remote(device).catch(() => null)) ?? 0) > 0) {
      // sent by the node holding the session (its flush of everything queued, this command included)
      return { command: { ...row, state: 'sent', sentAt: new Date() }, delivery: 'sent' };
    }
    this.metrics.commands.inc({ protocol: device.protocol, state: 'queued' });
    return { command: row, delivery: 'queued' };
  }

  /** A device came online: send what waited for it (expired ones are marked so and skipped). */
  async flush(device: Device, conn: DeviceLink): Promise<number> {
    const codec = codecOf(device.protocol);
    if (!codec) return 0;
    let n = 0;
    for (const c of await pendingCommands(this.db, device.id)) {
      // Queued while MONITOR was allowed, switched off since (a restart): it must not go out now.
      if (codec.risk(c.command).monitor && !this.options.allowMonitor) {
        await markFailed(this.db, c.id, 'refused: MONITOR was switched off (ALLOW_MONITOR_COMMAND) before it could be sent');
        continue;
      }
      let bytes: Buffer;
      try {
        bytes = encodeFor(codec, conn, device, c.command);
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
    // PostgreSQL text cannot hold NUL: a device's bytes are kept with U+FFFD in its place (the fuzz bench sent one)
    const text = (t: string) => t.replaceAll('\u0000', '\uFFFD');
    const done = await acknowledgeByKeyword(this.db, device.id, text(msg.commandEcho.keyword), text([msg.commandEcho.keyword, ...msg.commandEcho.args].join(',')));
    if (!done) return;
    this.metrics.commands.inc({ protocol: device.protocol, state: 'acknowledged' });
    this.bus.emit('command.result', { deviceId: device.id, commandId: done.id, state: done.state, result: done.result ?? undefined });
  }
}
