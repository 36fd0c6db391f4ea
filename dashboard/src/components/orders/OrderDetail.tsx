/**
 * One work order: what it is, for whom, who has it, its result and follow-up, its timeline (who did what, when),
 * and only the actions GET /api/work-orders/:id allows in its state. Reloads on every pushed change of the order.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { fmtDuration, fmtTime, t } from '../../i18n';
import { allowedOf, onOrderChange, orderActionLabel, orderActorName, orderSms, smsStateLabel, type SmsRow, orderDetail, orderErrorText, orderEventLabel, orderStateLabel, orderTypeLabel, orderAgeS, responderText, useDirectory, type OrderAction } from '../../orders';
import { startCall } from '../../calls';
import { actorName, elderName, ensureElder, errorText, onWs, openFile } from '../../session';
import { notify, store, useNow, useStore } from '../../store';
import type { WorkOrder, WorkOrderDetail, WorkOrderEvent } from '../../types';
import { LongText } from '../LongText';
import { ActionDialog } from './OrderDialogs';

export function OrderDetail({ id, onClose, onChanged }: { id: number; onClose: () => void; onChanged: (o: WorkOrder) => void }) {
  const [detail, setDetail] = useState<WorkOrderDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [dialog, setDialog] = useState<OrderAction | null>(null);
  /** the order changed and its allowed actions are being asked again: none are offered meanwhile */
  const [stale, setStale] = useState(false);
  const reload = useRef<() => void>(() => undefined);
  const dir = useDirectory();
  useStore((s) => s.elders);
  const tz = useStore((s) => s.config.timezone);
  const now = useNow();

  useEffect(() => {
    let alive = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    setDetail(null);
    setError(null);
    setDialog(null);
    // only the latest answer counts (two reloads in flight may answer out of order)
    let seq = 0;
    const load = () => {
      const mine = ++seq;
      return orderDetail(id)
        .then((d) => {
          if (!alive || mine !== seq) return;
          setDetail(d);
          setStale(false);
          if (d.order.elderId !== null) void ensureElder(d.order.elderId);
        })
        .catch((e: unknown) => alive && mine === seq && setError(orderErrorText(e)));
    };
    reload.current = () => {
      clearTimeout(timer);
      void load();
    };
    void load();
    const off = onOrderChange((o) => {
      if (o.id !== id) return;
      // the pushed row first (the state at once), then the timeline and the allowed actions
      setDetail((d) => (d ? { ...d, order: { ...d.order, ...o } } : d));
      setStale(true);
      clearTimeout(timer);
      timer = setTimeout(() => void load(), 150);
    });
    return () => {
      alive = false;
      clearTimeout(timer);
      off();
    };
  }, [id]);

  // back online after a drop: read the order again (its pushes may have been missed)
  const connection = useStore((s) => s.connection);
  const wasOnline = useRef(connection === 'online');
  useEffect(() => {
    if (connection === 'online' && !wasOnline.current) reload.current();
    wasOnline.current = connection === 'online';
  }, [connection]);

  if (!detail) {
    return (
      <section class="box order-detail" data-testid="order-detail" data-order-id={id}>
        <div class="detail-head">
          <h2>{t('order.detailTitle', { id })}</h2>
          <button type="button" class="btn ghost small" onClick={onClose}>
            ×
          </button>
        </div>
        <p class={error ? 'form-error' : 'muted'}>{error ?? t('common.loading')}</p>
      </section>
    );
  }
  const o = detail.order;
  const name = o.elderId !== null ? (elderName(o.elderId) ?? t('order.elderN', { id: o.elderId })) : '—';
  const actions = allowedOf(detail);
  return (
    <section class={`box order-detail p${o.priority}`} data-testid="order-detail" data-order-id={o.id} data-state={o.state} aria-label={t('order.detailTitle', { id: o.id })}>
      <div class="detail-head">
        <h2>{t('order.detailTitle', { id: o.id })}</h2>
        <button type="button" class="btn ghost small" onClick={onClose} aria-label={t('common.dismiss')} data-testid="order-detail-close">
          ×
        </button>
      </div>
      <div class="order-tags">
        <span class={`otype t-${o.type}`}>{orderTypeLabel(o.type)}</span>
        <span class={`ostate s-${o.state}`} data-testid="order-state">
          {orderStateLabel(o.state)}
        </span>
        <span class="muted">P{o.priority}</span>
        <span class="timer" title={t('order.age')}>
          {fmtDuration(orderAgeS(o, now))}
        </span>
      </div>
      <h3 class="order-title" data-testid="order-title">
        {o.title}
      </h3>
      {o.description && <LongText text={o.description} lines={4} class="order-desc" />}
      <dl class="order-facts">
        <dt>{t('order.elder')}</dt>
        <dd data-testid="order-elder">
          {name}
          {o.elderId !== null && (
            <button
              type="button"
              class="btn ghost small"
              onClick={() => {
                openFile({ alarmId: o.alarmId ?? undefined, elderId: o.elderId ?? undefined, reason: 'click' });
                store.set({ view: 'desk' });
              }}
              data-testid="order-open-file"
            >
              {t('order.openFile')}
            </button>
          )}
        </dd>
        {o.alarmId !== null && (
          <>
            <dt>{t('order.alarm')}</dt>
            <dd>#{o.alarmId}</dd>
          </>
        )}
        <dt>{t('order.responder')}</dt>
        <dd data-testid="order-responder">{responderText(o, dir)}</dd>
        <dt>{t('order.received')}</dt>
        <dd>{fmtTime(o.receivedAt, tz, true)}</dd>
        {o.result && (
          <>
            <dt>{t('order.result')}</dt>
            <dd data-testid="order-result">
              <LongText text={o.result} lines={4} />
            </dd>
          </>
        )}
        {o.satisfaction !== null && (
          <>
            <dt>{t('order.satisfaction')}</dt>
            <dd data-testid="order-satisfaction" data-value={o.satisfaction}>
              <span class="stars-show" aria-label={t('order.starsN', { n: o.satisfaction })}>
                {'★'.repeat(o.satisfaction)}
                <span class="off">{'★'.repeat(5 - o.satisfaction)}</span>
              </span>
              {o.followUpComment ? ` ${o.followUpComment}` : ''}
            </dd>
          </>
        )}
        {o.dueFollowUpAt && o.state === 'replied' && (
          <>
            <dt>{t('order.followUpDue')}</dt>
            <dd>{fmtTime(o.dueFollowUpAt, tz, true)}</dd>
          </>
        )}
        {o.cancelReason && (
          <>
            <dt>{t('order.reason')}</dt>
            <dd>{o.cancelReason}</dd>
          </>
        )}
      </dl>
      <div class="order-actions" role="toolbar" aria-label={t('order.actions')} data-testid="order-actions">
        {!stale && actions.length === 0 && <span class="muted">{t('order.noActions')}</span>}
        {!stale && actions.map((a) => (
          <button type="button" key={a} class={`btn ${a === 'cancel' ? 'ghost danger-text' : a === actions[0] ? 'primary' : ''}`} onClick={() => setDialog(a)} data-testid={`order-action-${a.replace('_', '-')}`}>
            {orderActionLabel(a)}
          </button>
        ))}
      </div>
      {!stale && o.state === 'replied' && o.elderId !== null && (
        // 回访: the follow-up call, from here (click-to-call: the agent's phone first, then the elder)
        <button type="button" class="btn" onClick={() => void startCall({ elderId: o.elderId! }, elderName(o.elderId!) ?? undefined).catch((e: unknown) => notify('error', errorText(e)))} data-testid="order-call-elder">
          {t('order.callFollowUp')}
        </button>
      )}
      <h3 class="sub">{t('order.timeline')}</h3>
      <ol class="order-timeline" data-testid="order-timeline">
        {detail.timeline.map((ev) => (
          <li key={ev.id} data-action={ev.action} data-testid="order-event">
            <time>{fmtTime(ev.at, tz, true)}</time>
            <span class="ev-body">
              <strong>{orderEventLabel(ev.action)}</strong>
              {ev.toState && ev.fromState !== ev.toState && <span class="muted"> → {orderStateLabel(ev.toState)}</span>}
              <small class="muted"> · {orderActorName(ev.actor, dir, actorName)}</small>
              <EventDetail ev={ev} />
            </span>
          </li>
        ))}
      </ol>
      <OrderSms orderId={o.id} reload={detail} />
      {dialog && (
        <ActionDialog
          order={o}
          act={dialog}
          onCancel={() => setDialog(null)}
          onDone={(u) => {
            setDialog(null);
            setDetail((d) => (d ? { ...d, order: u } : d));
            setStale(true);
            reload.current();
            onChanged(u);
          }}
        />
      )}
    </section>
  );
}

/** What the action carried: the responder, the result, the reason, the score, the note; as text. */
function EventDetail({ ev }: { ev: WorkOrderEvent }) {
  const dir = useDirectory();
  const d = ev.detail as Record<string, unknown>;
  const str = (k: string) => (typeof d[k] === 'string' && d[k] ? (d[k] as string) : null);
  const num = (k: string) => (typeof d[k] === 'number' ? (d[k] as number) : null);
  const lines: string[] = [];
  if (ev.action === 'dispatch' || ev.action === 'reassign') {
    const r = responderText({ stationId: num('stationId'), staffId: num('staffId') }, dir);
    lines.push(r === '—' && ev.action === 'reassign' ? t('order.backToPool') : t('order.ev.to', { who: r }));
  }
  if (str('result')) lines.push(t('order.ev.result', { text: str('result')! }));
  // the system's own steps: a missed service level, and the reassignment it made
  if (ev.action === 'sla_overdue') lines.push(str('check') === 'on_site' ? t('order.sla.onSite') : t('order.sla.accept'));
  if (str('reason') === 'sla') lines.push(t('order.ev.slaReassign'));
  else if (str('reason')) lines.push(t('order.ev.reason', { text: str('reason')! }));
  if (str('via') === 'sms') lines.push(t('order.ev.viaSms'));
  if (str('via') === 'link') lines.push(t('order.ev.viaLink'));
  if (d.refused === true) lines.push(t('order.ev.refused'));
  if (num('satisfaction') !== null) lines.push(t('order.starsN', { n: num('satisfaction')! }));
  if (str('comment')) lines.push(t('order.ev.comment', { text: str('comment')! }));
  if (str('note')) lines.push(t('order.ev.note', { text: str('note')! }));
  if (!lines.length) return null;
  return (
    <span class="ev-detail">
      {lines.map((l, i) => (
        <span key={i}>{l}</span>
      ))}
    </span>
  );
}

/** The order's SMS (the dispatch to the responder, their replies) with each one's delivery state. */
function OrderSms({ orderId, reload }: { orderId: number; reload: unknown }) {
  const [rows, setRows] = useState<SmsRow[]>([]);
  const tz = useStore((s) => s.config.timezone);
  useEffect(() => {
    let alive = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    // only the latest answer counts: an earlier request answered late must not put "submitted" back over "delivered"
    let seq = 0;
    const load = () => {
      const mine = ++seq;
      return orderSms(orderId).then((r) => alive && mine === seq && setRows(r), () => undefined); // the order works without it
    };
    void load();
    // a receipt (delivered, failed) or a reply may come after the order's last change
    const off = onWs('sms', (m) => {
      if (m.sms.workOrderId !== orderId) return;
      clearTimeout(timer);
      timer = setTimeout(() => void load(), 150);
    });
    return () => {
      alive = false;
      clearTimeout(timer);
      off();
    };
  }, [orderId, reload]);
  if (!rows.length) return null;
  return (
    <>
      <h3 class="sub">{t('order.sms')}</h3>
      <ol class="order-timeline" data-testid="order-sms">
        {rows.map((m) => (
          <li key={m.id} data-testid="order-sms-row" data-state={m.state} data-direction={m.direction}>
            <time>{fmtTime(m.createdAt, tz, true)}</time>
            <span class="ev-body">
              <strong>{m.direction === 'out' ? t('order.smsTo', { number: m.number }) : t('order.smsFrom', { number: m.number })}</strong>
              <small class="muted">
                {' · '}
                {smsStateLabel(m.state)}
                {m.reason ? ` (${m.reason})` : ''}
              </small>
              <span class="ev-detail">
                <span>{m.body}</span>
              </span>
            </span>
          </li>
        ))}
      </ol>
    </>
  );
}
