/**
 * Whether any connected MQTT client subscribes to a topic family (e.g. anxin/devices/+/events), so a publisher
 * can skip building a payload nobody receives. Only for QoS 0 publishes: those are never queued for offline
 * sessions, so live subscriptions are all that matter (MQTT 3.1.1 §3.3.1.2 / aedes: only QoS > 0 is stored).
 * Restored persistent sessions re-subscribe through the same 'subscribe' event, so they are counted too.
 */
import type { Aedes, Client } from 'aedes';

/** Whether a subscription filter can match some topic of `family` (a filter whose `+` levels stand for any id). */
export function filterCovers(filter: string, family: string): boolean {
  const f = filter.split('/');
  const t = family.split('/');
  // $-topics are not matched by wildcards in the first level (MQTT 3.1.1 §4.7.2)
  if (t[0]!.startsWith('$') !== f[0]!.startsWith('$') && (f[0] === '#' || f[0] === '+')) return false;
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] === '+' || t[i] === '+') continue;
    if (f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/** aedes keeps a client's live subscriptions here (filter → subscription); not in its type declarations */
const liveFilters = (client: Client): string[] => Object.keys((client as unknown as { subscriptions?: Record<string, unknown> }).subscriptions ?? {});

export class SubscriberInterest {
  /** clients with at least one filter covering the family (keyed by the object: a session taken over keeps its id) */
  private readonly clients = new Set<Client>();

  constructor(aedes: Aedes, private readonly family: string) {
    // A restored persistent session re-subscribes without a 'subscribe' event: 'clientReady' covers it.
    // Refused filters (granted 128) never enter client.subscriptions.
    aedes.on('subscribe', (_subs, client) => client && this.refresh(client));
    aedes.on('unsubscribe', (_topics, client) => client && this.refresh(client));
    aedes.on('clientReady', (client) => this.refresh(client));
    aedes.on('clientDisconnect', (client) => this.changed(() => this.clients.delete(client)));
  }

  /** called when `any` turns true or false (a cluster tells the other nodes: members.ts) */
  onChange?: (any: boolean) => void;

  private changed(edit: () => unknown): void {
    const was = this.any;
    edit();
    if (this.any !== was) this.onChange?.(this.any);
  }

  private refresh(client: Client): void {
    this.changed(() => {
      if (!client.closed && liveFilters(client).some((f) => filterCovers(f, this.family))) this.clients.add(client);
      else this.clients.delete(client);
    });
  }

  /** true when at least one connected client may receive a topic of the family */
  get any(): boolean {
    return this.clients.size > 0;
  }
}
