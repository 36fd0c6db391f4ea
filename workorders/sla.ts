/**
 * Service levels of work orders (issue 21), as data: how soon after a dispatch the responder must accept it and be
 * on site. A check belongs to one dispatch (its dispatchedAt): a reassignment starts new checks and the old ones
 * find nothing to do. Pure: the gateway keeps the timers (a PostgreSQL job queue) and acts on a missed check.
 */
import type { WorkOrderState, WorkOrderType } from './lifecycle.ts';

export const SLA_CHECKS = ['accept', 'on_site'] as const;
export type SlaCheck = (typeof SLA_CHECKS)[number];

export interface SlaTarget {
  /** seconds after the dispatch */
  withinS: number;
  /** when missed, dispatch to the next on-duty responder (the supervisor is alerted either way) */
  escalate: boolean;
}

export type SlaTargets = Readonly<Record<WorkOrderType, Partial<Record<SlaCheck, SlaTarget>>>>;

/**
 * The centre's defaults: an emergency is accepted within 5 min (else the next responder gets it) and reached within
 * 30 min; a service visit is accepted within 30 min and made within 4 h. Enquiries and complaints are answered at
 * the desk and have no field SLA.
 */
export const DEFAULT_SLA: SlaTargets = {
  emergency: { accept: { withinS: 300, escalate: true }, on_site: { withinS: 1800, escalate: false } },
  service: { accept: { withinS: 1800, escalate: false }, on_site: { withinS: 4 * 3600, escalate: false } },
  enquiry: {},
  complaint: {},
};

export const SLA_LABELS: Record<SlaCheck, { zh: string; en: string }> = {
  accept: { zh: '接单超时', en: 'not accepted in time' },
  on_site: { zh: '到场超时', en: 'not on site in time' },
};

export interface SlaDeadline {
  check: SlaCheck;
  dueAt: Date;
  /** the dispatch this check belongs to (ISO) */
  dispatchedAt: string;
}

/** The checks a dispatch starts: one per target of the order's type, due so long after the dispatch. */
export function slaDeadlines(order: { type: WorkOrderType; dispatchedAt: Date | null }, targets: SlaTargets = DEFAULT_SLA): SlaDeadline[] {
  if (!order.dispatchedAt) return [];
  const at = order.dispatchedAt;
  return SLA_CHECKS.flatMap((check) => {
    const t = targets[order.type]?.[check];
    return t ? [{ check, dueAt: new Date(at.getTime() + t.withinS * 1000), dispatchedAt: at.toISOString() }] : [];
  });
}

/** The states an order may still be in when the check is missed. */
const BEFORE: Record<SlaCheck, readonly WorkOrderState[]> = {
  accept: ['dispatched'],
  on_site: ['dispatched', 'accepted'],
};

/** Whether the check of that dispatch is missed: the order is still on that dispatch and has not got that far. */
export function slaMissed(order: { state: WorkOrderState; dispatchedAt: Date | null }, check: SlaCheck, dispatchedAt: string): boolean {
  if (!order.dispatchedAt || order.dispatchedAt.toISOString() !== dispatchedAt) return false; // reassigned or back in the pool
  return BEFORE[check].includes(order.state);
}

/**
 * The targets with an override (WORK_ORDER_SLA) on top: `{"emergency":{"accept":{"withinS":120}}}` changes one
 * number and keeps the rest; `{"service":{"on_site":null}}` drops a check. Every problem is listed.
 */
export function resolveSla(override: unknown, base: SlaTargets = DEFAULT_SLA): { targets: SlaTargets; problems: string[] } {
  const problems: string[] = [];
  if (override === undefined || override === null || override === '') return { targets: base, problems };
  let o = override;
  if (typeof o === 'string') {
    try {
      o = JSON.parse(o);
    } catch {
      return { targets: base, problems: ['WORK_ORDER_SLA is not JSON'] };
    }
  }
  if (!o || typeof o !== 'object' || Array.isArray(o)) return { targets: base, problems: ['WORK_ORDER_SLA must be a JSON object keyed by work-order type'] };
  const out: Record<string, Partial<Record<SlaCheck, SlaTarget>>> = {};
  for (const [type, checks] of Object.entries(base)) out[type] = { ...checks };
  for (const [type, checks] of Object.entries(o as Record<string, unknown>)) {
    if (!(type in base)) {
      problems.push(`WORK_ORDER_SLA: unknown work-order type ${JSON.stringify(type)} (expected ${Object.keys(base).join(', ')})`);
      continue;
    }
    if (!checks || typeof checks !== 'object' || Array.isArray(checks)) {
      problems.push(`WORK_ORDER_SLA.${type} must be an object of checks (${SLA_CHECKS.join(', ')})`);
      continue;
    }
    for (const [check, t] of Object.entries(checks as Record<string, unknown>)) {
      const where = `WORK_ORDER_SLA.${type}.${check}`;
      if (!(SLA_CHECKS as readonly string[]).includes(check)) {
        problems.push(`${where}: unknown check (expected ${SLA_CHECKS.join(', ')})`);
        continue;
      }
      if (t === null) {
        delete out[type]![check as SlaCheck];
        continue;
      }
      const prev = out[type]![check as SlaCheck];
      const v = t as { withinS?: unknown; escalate?: unknown };
      const withinS = v.withinS ?? prev?.withinS;
      const escalate = v.escalate ?? prev?.escalate ?? false;
      if (typeof withinS !== 'number' || !Number.isFinite(withinS) || withinS <= 0 || withinS > 7 * 86400) problems.push(`${where}.withinS must be a number of seconds above 0 and at most 7 days`);
      else if (typeof escalate !== 'boolean') problems.push(`${where}.escalate must be true or false`);
      else out[type]![check as SlaCheck] = { withinS, escalate };
    }
  }
  return { targets: problems.length ? base : (out as SlaTargets), problems };
}
