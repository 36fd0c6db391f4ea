/**
 * Part 7c: SMS (issue 21). The transport SMS_TRANSPORT names (an SMSC over SMPP, a GSM modem, or off), the service
 * that applies the centre's rules and stores every message, and the notifier that decides who is told what. The
 * transport connects in the background: Anxin starts, and alarms flow, whether or not the SMSC answers.
 */
import { ModemSender, SmppSender, type SmsSender } from '../../sms/index.js';
import { startNotifier } from '../notify/notifier.js';
import { SmsService, parseQuietHours } from '../notify/sms-service.js';
import type { Db } from '../store/db.js';
import type { JobQueue } from '../store/jobs.js';
import type { WorkOrderService } from '../workorders/work-order-service.js';
import { Stops, type Part, type PartContext } from './part.js';

export interface SmsPart extends Part {
  sms: SmsService;
  /** the HTTP part is listening on this port (the responders' links use it when PUBLIC_URL is not set) */
  listening(port: number): void;
}

function transport(cfg: PartContext['cfg']): SmsSender | undefined {
  if (cfg.smsTransport === 'smpp') return new SmppSender({ host: cfg.smppHost!, port: cfg.smppPort, systemId: cfg.smppSystemId!, password: cfg.smppPassword!, source: cfg.smsSource });
  if (cfg.smsTransport === 'modem') return new ModemSender({ path: cfg.modemPath!, baudRate: cfg.modemBaud });
  return undefined;
}

export async function startSms({ cfg, log, bus, metrics, health, summary }: PartContext, d: { db: Db; jobs?: JobQueue; workOrders?: WorkOrderService }): Promise<SmsPart> {
  const stops = new Stops(log);
  return stops.starting(async () => {
    const sender = transport(cfg);
    const sms = new SmsService(
      d.db,
      sender,
      bus,
      d.jobs,
      { ratePerHour: cfg.smsRatePerHour, quietHours: parseQuietHours(cfg.smsQuietHours), timeZone: cfg.timezone, locale: 'zh-CN' },
      { inc: (labels) => metrics.sms.inc(labels) },
      log.child({ part: 'sms' }),
    );
    await sms.start();
    // an order's SMS list follows its receipts live (a receipt may come after the order's last change)
    stops.add(
      'sms push',
      bus.on('sms.changed', ({ message: m }) => {
        bus.emit('ws.push', { to: { roles: ['agent', 'supervisor', 'admin'] }, message: { type: 'sms', sms: { id: m.id, direction: m.direction, state: m.state, workOrderId: m.workOrderId, alarmId: m.alarmId, elderId: m.elderId } } });
      }),
    );
    stops.add('sms', () => sms.stop());
    // the responders' links: PUBLIC_URL, else this server as bound (HTTP_PORT=0 is known only once the HTTP part listens)
    let port = cfg.httpPort;
    const publicUrl = () => cfg.publicUrl ?? `http://${cfg.httpHost === '0.0.0.0' || cfg.httpHost === '::' ? 'localhost' : cfg.httpHost}:${port}`;
    if (sender && !cfg.publicUrl) log.warn('PUBLIC_URL is not set: the links texted to responders point at this machine (%s); set it to the address their phones reach', publicUrl());
    stops.add('notifier', startNotifier({ db: d.db, bus, sms, workOrders: d.workOrders, timeZone: cfg.timezone, log: log.child({ part: 'notify' }), publicUrl, linkTtlH: cfg.responderLinkTtlH }));
    if (sender) health.register('sms', () => ({ state: sender.state === 'up' ? 'up' : 'degraded', detail: `${sender.transport} ${sender.state}` }));
    summary.push(`SMS          ${cfg.smsTransport === 'off' ? 'off (SMS_TRANSPORT=smpp or modem to send)' : cfg.smsTransport === 'smpp' ? `SMPP ${cfg.smppHost}:${cfg.smppPort}` : `modem ${cfg.modemPath}`}`);
    return { sms, listening: (p: number) => void (port = p), stop: () => stops.stop() };
  });
}
